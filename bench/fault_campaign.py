"""The full deploy fault campaign: a fault at EVERY request of a deploy, kill -9 at random moments,
and rounds of 4 concurrent deploys; prints the counts (runs, faults injected, applied twice, lost).

The test tests/hasura_e2e/test_fault_campaign.py draws 10 faults from this space (seed fixed) and
runs in CI; this script walks all of it. Same project, same counting (that module's `_project`
and `_count`): each migration is silent when run twice and logs its version, so "applied twice"
is a count; "lost" is a project version that, after a fault-free recovery deploy, is missing
from the ledger, from catalog state (clean) or from the log.

For each operation of a clean deploy's requests (counted at the double) and each request number
n of it: a 500 and a 401 answer instead of the operation, a reset after it committed, and (with
--timeouts) an answer held past a 2 s client timeout. Then --kills runs that kill -9 a deploy
process after a random delay (seeded), and --concurrent rounds of 4 deploy processes at once.

Run: .venv/bin/python bench/fault_campaign.py [--seed 20261205] [--kills 20] [--concurrent 5] [--timeouts]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test double and the campaign's helpers live under tests/

from tests.hasura_double import DoubleConfig, HasuraDouble  # noqa: E402
from tests.hasura_e2e.deploy_helpers import Cli  # noqa: E402
from tests.hasura_e2e.test_fault_campaign import Tally, _count, _processes, _project  # noqa: E402

from kedge_hasura.cli import main  # noqa: E402
from kedge_hasura.pg.scratch import ScratchCluster  # noqa: E402


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Result(code, out.getvalue(), err.getvalue())


def _arm(double: HasuraDouble, kind: str, operation: str, nth: int) -> None:
    if kind == "500":
        double.faults.fail(operation, nth=nth)
    elif kind == "401":
        body = {
            "path": "$",
            "error": "invalid x-hasura-admin-secret/x-hasura-access-key",
            "code": "access-denied",
        }
        double.faults.fail(operation, nth=nth, status=401, body=body)
    elif kind == "timeout":
        double.faults.delay(operation, 3.0, nth=nth)
    else:
        double.faults.drop_connection_after(operation, nth=nth)


def main_campaign() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=5)
    parser.add_argument("--timeouts", action="store_true")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    tally = Tally()
    exits: Counter[str] = Counter()
    started = time.monotonic()
    with ScratchCluster() as cluster, TemporaryDirectory() as scratch:
        root = Path(scratch)

        def one(label: str, fault: object) -> None:
            with (
                cluster.database("campaign") as database,
                HasuraDouble(
                    DoubleConfig(database_url=database.conninfo, admin_secret=f"c-{secrets.token_hex(6)}")
                ) as double,
            ):
                cli = Cli(run_cli, double)
                project = _project(root / f"run{tally.runs}")
                if callable(fault):
                    fault(cli, double, project)
                recovery = cli.deploy(project)
                if recovery.exit_code != 0:
                    exits[f"recovery failed after {label}"] += 1
                if cli.secrets_leaked():
                    exits[f"secret printed in {label}"] += 1
                _count(double, tally)
                tally.runs += 1

        requests: Counter[str] = Counter()

        def clean(cli: Cli, double: HasuraDouble, project: Path) -> None:
            double.faults.reset_requests()
            cli.deploy(project)
            requests.update(
                {k: v for k, v in double.faults.requests.items() if k not in ("version", "healthz")}
            )

        one("clean", clean)
        kinds = ["500", "401", "drop", *(["timeout"] if options.timeouts else [])]
        for operation in sorted(requests):
            for nth in range(1, requests[operation] + 1):
                for kind in kinds:

                    def fault(
                        cli: Cli,
                        double: HasuraDouble,
                        project: Path,
                        k: str = kind,
                        o: str = operation,
                        n: int = nth,
                    ) -> None:
                        _arm(double, k, o, n)
                        run = cli.deploy(project, timeout=2.0 if k == "timeout" else None)
                        exits[f"{k} -> exit {run.exit_code}"] += 1
                        tally.faults_injected += len(double.faults.fired)
                        double.faults.clear()

                    one(f"{kind} at {operation} #{nth}", fault)
        for label, count in (("kill", options.kills), ("concurrent", options.concurrent)):
            for _ in range(count):

                def process_fault(cli: Cli, double: HasuraDouble, project: Path, k: str = label) -> None:
                    tally.faults_injected += _processes(k, rng, double, project)

                one(label, process_fault)
    print(f"requests of a clean deploy: {dict(sorted(requests.items()))}")
    for key, count in sorted(exits.items()):
        print(f"  {key}: {count}")
    print(f"{tally} (campaign in {time.monotonic() - started:.0f} s)")
    failed = (
        tally.applied_twice or tally.lost or any(k.startswith(("recovery failed", "secret")) for k in exits)
    )
    return 1 if failed or any(k.endswith("exit 4") for k in exits) else 0


if __name__ == "__main__":
    raise SystemExit(main_campaign())
