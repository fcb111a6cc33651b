"""kedge-hasura on real public Hasura projects: status, squash (checked independently), check, deploy.

The projects are pinned in bench/real_histories.toml (repository, commit, project folder). Their
snapshots live outside this repository: --mirror DIR holds <owner>+<name>/repo, bare git
directories as the search tool's `fetch` writes them. Each project's folder is extracted with
`git archive <commit> <folder>` into --work (default: a temporary folder), never into this tree.

Per project, on ONE scratch PostgreSQL server (kedge-hasura's ScratchCluster, Hasura-like
databases with pgcrypto in public), each a whole `kedge-hasura` process with KEDGE_SCRATCH_URL:
  status    `kedge-hasura -o json status` (exit code)
  replay    the originals replayed with psql, one transaction per file (tests/pg/oracle.py):
            does the history replay sequentially at all? (first failing file, line and SQLSTATE)
  squash    `kedge-hasura -o json squash` on a copy: exit code, or the error's first line
  oracle    pg_dump --schema-only of the psql replay vs the squashed up.sql applied with psql,
            and per-table row digests, excluding what squash reported as frozen/non-deterministic
  --check   `squash --check` on the squashed copy, three times (must pass every time)
  check     `kedge-hasura -o json check` on the original (exit code, error findings)
  deploy    `kedge-hasura deploy` of the original to the Hasura test double (tests/hasura_double)
            on a fresh database
and prints one table row per project (markdown), plus the details of every failure below it.

Run: .venv/bin/python bench/real_histories.py --mirror /work/.mirror [--work DIR] [--only NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/pg/oracle.py and the test double in tests/hasura_double
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.pg import oracle  # noqa: E402

from benchlib import load_average, machine  # noqa: E402

KEDGE = Path(sys.executable).parent / "kedge-hasura"
PINS = Path(__file__).resolve().parent / "real_histories.toml"


@dataclass
class Row:
    name: str
    config: int
    migrations: int = 0
    status: str = "-"
    replays: str = "-"
    squash: str = "-"
    oracle: str = "-"
    squash_check: str = "-"
    check: str = "-"
    deploy: str = "-"
    seconds: float = 0.0
    replay_seconds: float | None = None
    squash_seconds: float | None = None
    details: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        return [
            self.name,
            str(self.config),
            str(self.migrations),
            self.status,
            self.replays,
            self.squash,
            self.oracle,
            self.squash_check,
            self.check,
            self.deploy,
            f"{self.replay_seconds:.1f} s" if self.replay_seconds is not None else "-",
            f"{self.squash_seconds:.1f} s" if self.squash_seconds is not None else "-",
            f"{self.seconds:.0f} s",
        ]


HEADER = [
    "project",
    "config",
    "migrations",
    "status",
    "replays sequentially",
    "squash",
    "oracle",
    "squash --check ×3",
    "check",
    "deploy (double)",
    "psql replay time",
    "squash time",
    "all steps",
]


def extract(mirror: Path, spec: dict[str, Any], work: Path) -> Path:
    """The pinned project folder, extracted from the local snapshot into `work`."""
    git_dir = mirror / spec["repo"].replace("/", "+") / "repo"
    target = work / spec["repo"].replace("/", "+")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "--git-dir", str(git_dir), "archive", spec["commit"], spec["project"]],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    project = target / spec["project"]
    if spec.get("config_from"):
        shutil.copy2(project / spec["config_from"], project / "config.yaml")
    return project


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under `root` and the sha256 of its bytes (to show a failed squash wrote nothing)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def database_folder(project: Path, config: int) -> Path:
    return project / "migrations" / "default" if config >= 3 else project / "migrations"


def originals(folder: Path) -> list[Path]:
    """up.sql files of the database, in version order (numeric, as the Hasura CLI orders them)."""
    versions = [p for p in folder.iterdir() if p.is_dir() and p.name.split("_", 1)[0].isdigit()]
    ordered = sorted(versions, key=lambda p: int(p.name.split("_", 1)[0]))
    return [p / "up.sql" for p in ordered if (p / "up.sql").is_file()]


def kedge(args: list[str], env: dict[str, str], timeout: float = 1800) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [str(KEDGE), *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    try:
        envelope = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    except json.JSONDecodeError:
        envelope = {}
    return done.returncode, envelope, done.stderr


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip() and not line.startswith(("Squashing", "Checking")):
            return line.strip()[:300]
    return ""


def error_text(envelope: dict[str, Any], stderr: str) -> str:
    error = envelope.get("error")
    if isinstance(error, dict):
        parts = [str(error.get("message", ""))]
        for key in ("file", "line", "sqlstate"):
            if error.get(key) is not None:
                parts.append(f"{key}={error[key]}")
        return "; ".join(parts)[:400]
    return first_line(stderr)


_SQLSTATE = re.compile(r"psql:(?P<file>[^:]+):(?P<line>\d+): ERROR:\s+(?P<state>[0-9A-Z]{5}): (?P<msg>.*)")


def replay_failure(message: str) -> str:
    match = _SQLSTATE.search(message)
    if match:
        return f"{match['file']}:{match['line']} SQLSTATE {match['state']}: {match['msg'][:200]}"
    return message.splitlines()[-1][:300] if message else "?"


def run_project(spec: dict[str, Any], cluster: Any, mirror: Path, work: Path, env: dict[str, str]) -> Row:
    name = spec["repo"]
    row = Row(name, int(spec["config"]))
    started = time.monotonic()
    project = extract(mirror, spec, work)
    files = originals(database_folder(project, row.config))
    row.migrations = len(files)

    code, envelope, stderr = kedge(["-o", "json", "--project", str(project), "status"], env)
    row.status = f"exit {code}"
    if code != 0:  # exit 1 is findings (in the JSON result), not a message on stderr
        findings = (envelope.get("result") or {}).get("findings") or []
        errors = sorted(
            {str(f.get("code")) for f in findings if isinstance(f, dict) and f.get("severity") == "error"}
        )
        row.details.append(f"status: exit {code}, error findings {errors[:8]} {error_text(envelope, stderr)}")

    with cluster.database("real_replay") as database:
        try:
            replay_started = time.monotonic()
            oracle.replay_originals(cluster, database.conninfo, files)
            row.replay_seconds = time.monotonic() - replay_started
            row.replays = "yes"
        except oracle.ReplayFailed as exc:
            row.replays = "no"
            row.details.append(f"replay: {replay_failure(str(exc))}")

    copy = project.parent / (project.name + "-squash")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(project, copy)
    before = tree_digest(copy)
    squash_started = time.monotonic()
    code, envelope, stderr = kedge(["-o", "json", "--project", str(copy), "squash"], env)
    row.squash_seconds = time.monotonic() - squash_started
    result = envelope.get("result") or {}
    untouched = tree_digest(copy) == before
    if code == 0 and result:
        frozen, tables = oracle.reported_exclusions(result)
        row.squash = (
            "ok"
            + (f", {len(frozen)} frozen" if frozen else "")
            + (f", {len(tables)} nondet" if tables else "")
        )
        diffs = [d for d in result.get("verification", {}).get("schema_differences", [])]
        if diffs:
            row.details.append(f"squash: accepted {len(diffs)} schema differences as equivalent")
        report = oracle.check_squash(cluster, files, Path(result["folder"]) / "up.sql", result)
        if report.ok:
            row.oracle = "identical"
        else:
            dumped = report.schema_diff.count("\n-") + report.schema_diff.count("\n+")
            row.oracle = f"DIFFERS ({dumped} dump lines, {len(report.row_differences)} tables' rows)"
            row.details.append("oracle: " + report.explain()[:3000])
        verdicts = []
        for _ in range(3):
            check_code, check_env, check_err = kedge(
                ["-o", "json", "--project", str(copy), "squash", "--check"], env
            )
            verdicts.append(check_code)
            if check_code != 0:
                row.details.append(f"squash --check: exit {check_code}: {error_text(check_env, check_err)}")
        row.squash_check = "/".join(str(c) for c in verdicts)
    else:
        row.squash = f"exit {code}" + (", project untouched" if untouched else ", PROJECT CHANGED")
        warnings = (envelope.get("warnings") or []) + ((envelope.get("error") or {}).get("warnings") or [])
        row.details.append(
            f"squash: {error_text(envelope, stderr)}" + (f" (warnings: {warnings})" if warnings else "")
        )
    shutil.rmtree(copy, ignore_errors=True)

    code, envelope, stderr = kedge(["-o", "json", "--project", str(project), "check"], env)
    row.check = f"exit {code}"
    if code != 0:
        findings = (envelope.get("result") or {}).get("findings") or []
        errors = [f for f in findings if isinstance(f, dict) and f.get("severity") == "error"]
        codes = sorted({str(f.get("code")) for f in errors})
        row.details.append(
            f"check: exit {code}, {len(errors)} error findings {codes[:8]} {error_text(envelope, stderr)}"
        )

    row.deploy = deploy(project, cluster, env, row)
    row.seconds = time.monotonic() - started
    return row


def deploy(project: Path, cluster: Any, env: dict[str, str], row: Row) -> str:
    """Deploy to the test double; when the metadata cannot be built, the migrations alone too."""
    code, reason = _deploy(project, cluster, env, [])
    if code == 0:
        return "exit 0"
    row.details.append(f"deploy: exit {code}: {reason}")
    code_only, reason_only = _deploy(project, cluster, env, ["--skip-metadata"])
    if code_only != 0:
        row.details.append(f"deploy --skip-metadata: exit {code_only}: {reason_only}")
    return f"exit {code} (--skip-metadata: exit {code_only})"


def _deploy(project: Path, cluster: Any, env: dict[str, str], extra: list[str]) -> tuple[int, str]:
    from tests.hasura_double import DoubleConfig, HasuraDouble

    secret = f"bench-{secrets.token_hex(8)}"
    with cluster.database("real_deploy") as database:
        config = DoubleConfig(database_url=database.conninfo, admin_secret=secret)
        with HasuraDouble(config) as double:
            local = dict(env, HASURA_GRAPHQL_ENDPOINT=double.url, HASURA_GRAPHQL_ADMIN_SECRET=secret)
            code, envelope, stderr = kedge(["-o", "json", "--project", str(project), "deploy", *extra], local)
    return code, error_text(envelope, stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mirror", type=Path, required=True, help="folder of <owner>+<name>/repo snapshots")
    parser.add_argument("--work", type=Path, help="scratch folder for the extracted projects")
    parser.add_argument("--only", action="append", default=[], help="repository (owner/name); repeatable")
    parser.add_argument("--pg-version", type=int)
    args = parser.parse_args(argv)

    from kedge_hasura import __version__
    from kedge_hasura.pg.binaries import choose_installation
    from kedge_hasura.pg.scratch import ScratchCluster

    specs = tomllib.loads(PINS.read_text(encoding="utf-8"))["project"]
    if args.only:
        specs = [s for s in specs if s["repo"] in args.only]
    work = args.work or Path(tempfile.mkdtemp(prefix="kedge-real-"))
    if REPO in work.resolve().parents or work.resolve() == REPO:
        raise SystemExit("--work must be outside this repository")
    installation = choose_installation(pg_version=args.pg_version)
    print(
        f"kedge-hasura {__version__}; PostgreSQL {installation.version}; {machine()}; load {load_average()}"
    )
    print(f"work folder: {work}\n")
    rows = []
    with ScratchCluster(installation=installation) as cluster:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HASURA_GRAPHQL_", "KEDGE_"))}
        env.update(KEDGE_SCRATCH_URL=cluster.conninfo("postgres"), NO_COLOR="1")
        for spec in specs:
            print(f"... {spec['repo']}", file=sys.stderr, flush=True)
            row = run_project(spec, cluster, args.mirror, work, env)
            rows.append(row)
            print("  | " + " | ".join(row.cells()) + " |", file=sys.stderr, flush=True)
            for line in row.details:
                print(f"  - {line[:500]}", file=sys.stderr, flush=True)
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    print()
    for row in rows:
        for line in row.details:
            print(f"- {row.name}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
