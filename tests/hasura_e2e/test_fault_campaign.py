"""The deploy fault campaign, with a fixed seed and fixed counts, so a regression is a number.

Each run starts a fresh double, injects one fault into a deploy, then deploys again without
faults, and counts. The faults, drawn by `random.Random(SEED)` from SCHEDULE: a 500 or a 401
answer to the nth request of an operation (the operation not performed), an answer held past the
client's timeout, a connection reset after the operation committed, a `kill -9` of a deploy
process at a random moment, and 4 deploy processes at once. Operations and their request numbers
come from a clean deploy's own requests, so "at every request" is a draw over all of them (the
full sweep over every request is `bench/fault_campaign.py`).

Every migration is written to be silent when run twice (`IF NOT EXISTS`) and logs its version in
`public.applied_log`, so "applied twice" is a count, not a crash. "Lost" counts the project's
versions that after the recovery deploy are not in the ledger, not recorded clean in catalog
state, or not in applied_log.
"""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from ..hasura_double import DoubleConfig, HasuraDouble
from .deploy_helpers import Cli, deploy_process, ledger_versions, sql_rows, versions, write_project

pytestmark = pytest.mark.pg

SEED = 20261205
SCHEDULE = ["500", "500", "401", "timeout", "drop", "drop", "kill", "concurrent"]
EXPECTED_FAULTS = 8  # every scheduled fault fires (a 500/401/timeout/drop at a request that happens)
BASE = 1700000000000
MIGRATIONS = [
    (BASE + 1, "log", "CREATE TABLE IF NOT EXISTS public.applied_log (version bigint NOT NULL);\n"),
    (BASE + 2, "alpha", "CREATE TABLE IF NOT EXISTS public.alpha (id integer PRIMARY KEY);\n"),
    # explicit BEGIN/COMMIT: its own batch, so a deploy has batch boundaries to fail between
    (BASE + 3, "beta", "BEGIN;\nCREATE TABLE IF NOT EXISTS public.beta (id integer PRIMARY KEY);\n"),
    (BASE + 4, "gamma", "CREATE TABLE IF NOT EXISTS public.gamma (id integer PRIMARY KEY);\n"),
    (BASE + 5, "delta", "CREATE TABLE IF NOT EXISTS public.delta (id integer PRIMARY KEY);\n"),
]


@dataclass
class Tally:
    runs: int = 0
    faults_injected: int = 0
    applied_twice: int = 0
    lost: int = 0

    def __str__(self) -> str:
        return (
            f"fault campaign (seed {SEED}): runs {self.runs}, faults injected {self.faults_injected}, "
            f"applied twice {self.applied_twice}, lost {self.lost}"
        )


def _project(root: Path) -> Path:
    migrations = []
    for version, name, up in MIGRATIONS:
        log = f"INSERT INTO public.applied_log VALUES ({version});\n"
        text = up + log + ("COMMIT;\n" if up.startswith("BEGIN;") else "")
        migrations.append((version, name, text, None))
    return write_project(root, migrations)


def _count(double: HasuraDouble, tally: Tally) -> None:
    expected = [version for version, *_ in MIGRATIONS]
    rows = sql_rows(double, "SELECT version::text, count(*)::text FROM public.applied_log GROUP BY 1")
    logged = {int(v or 0): int(n or 0) for v, n in rows}
    tally.applied_twice += sum(1 for n in logged.values() if n > 1)
    recorded = versions(double)
    ledger = set(ledger_versions(double))
    tally.lost += sum(
        1 for v in expected if v not in ledger or recorded.get(v) is not False or logged.get(v, 0) == 0
    )


def _clean_requests(cli: Cli, double: HasuraDouble, project: Path) -> Counter[str]:
    double.faults.reset_requests()
    assert cli.deploy(project).exit_code == 0
    return Counter({op: n for op, n in double.faults.requests.items() if op not in ("version", "healthz")})


def _in_process_fault(
    kind: str, rng: random.Random, cli: Cli, double: HasuraDouble, project: Path, ops: Counter[str]
) -> int:
    operation = rng.choice(sorted(ops))
    nth = rng.randint(1, ops[operation])
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
    run = cli.deploy(project, timeout=2.0 if kind == "timeout" else None)
    assert run.exit_code in (0, 3, 5), (kind, operation, nth, run)
    assert "Traceback" not in run.stderr, run  # and exit 4 (a bug) is excluded above
    fired = len(double.faults.fired)
    double.faults.clear()
    return fired


def _processes(kind: str, rng: random.Random, double: HasuraDouble, project: Path) -> int:
    if kind == "kill":
        process = deploy_process(double, project)
        time.sleep(rng.uniform(0.3, 2.5))  # start-up takes about a second: before, during, after
        process.kill()
        process.communicate(timeout=60)
        return 1
    processes = [deploy_process(double, project) for _ in range(4)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert double.admin_secret not in out + err
        assert "Traceback" not in err, err
        assert process.returncode == 0 or "another deploy" in err, (process.returncode, out, err)
    return 1


def test_the_fault_campaign_applies_nothing_twice_and_loses_nothing(
    pg_cluster: ScratchCluster, run_cli: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(SEED)
    schedule = rng.sample(SCHEDULE, len(SCHEDULE))
    tally = Tally()
    ops: Counter[str] = Counter()
    for index, kind in enumerate(["clean", *schedule]):
        secret = f"campaign-{secrets.token_hex(6)}"
        with (
            pg_cluster.database("campaign") as database,
            HasuraDouble(DoubleConfig(database_url=database.conninfo, admin_secret=secret)) as double,
        ):
            cli = Cli(run_cli, double)
            project = _project(tmp_path / f"run{index}")
            if kind == "clean":
                ops = _clean_requests(cli, double, project)  # what a deploy asks, and how often
            elif kind in ("kill", "concurrent"):
                tally.faults_injected += _processes(kind, rng, double, project)
            else:
                tally.faults_injected += _in_process_fault(kind, rng, cli, double, project, ops)
            recovery = cli.deploy(project)
            assert recovery.exit_code == 0, (kind, recovery)
            assert not cli.secrets_leaked()
            _count(double, tally)
            tally.runs += 1

    with capsys.disabled():
        print(f"\n{tally}")
    assert (tally.runs, tally.faults_injected, tally.applied_twice, tally.lost) == (
        len(SCHEDULE) + 1,
        EXPECTED_FAULTS,
        0,
        0,
    ), str(tally)
