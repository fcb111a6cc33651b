"""`kedge-hasura deploy` against the official CLI's request pattern and raw psql, side by side.

Setup: ONE scratch PostgreSQL server (kedge-hasura's ScratchCluster). Per size N, a generated
config-v3 project in bench/.work/deploy/N/hasura with N pending migrations; each creates a table
in schema `bench` with a primary key, a second index and a default, and inserts 5 rows (the first
one also creates the schema). Every timed run gets a FRESH database (a template copy) and, for the
two HTTP contenders, a fresh Hasura test double (tests/hasura_double) on it, served from this
process on 127.0.0.1; requests are counted at the double (`faults.requests`, per operation). Its
catalog state is seeded (untimed) as on a server the Hasura CLI has used: `isStateCopyCompleted`
and `settings` set, no versions, so neither contender does the one-off legacy-state copy. Likewise,
for kedge the database already has kedge-hasura's (empty) ledger, as on a database it has deployed
to before; the untimed warm-up run deploys to a database without one, and its request count is
printed as the one-off cost of a first deploy (the ledger is created before the first dirty mark).

Timed, each a whole process from spawn to exit:
  kedge     `kedge-hasura deploy --skip-metadata` (the venv's console script; endpoint and admin
            secret from HASURA_GRAPHQL_ENDPOINT / HASURA_GRAPHQL_ADMIN_SECRET)
  official  the request pattern of `hasura migrate apply` on config v3 (contract §4.4), driven by
            kedge_hasura.hasura.HasuraClient in a Python subprocess (this file, `_official` mode):
            GET /v1/version, get_catalog_state, then per migration one run_sql of its up.sql
            (check_metadata_consistency false) and SetVersion = get_catalog_state + set_catalog_state
  psql      `psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f all.sql` of the same SQL, the
            migrations concatenated in order, straight to PostgreSQL (psql of the scratch server's
            installation)
The contenders are interleaved within each round; medians of --runs rounds are reported, with
ratios measured in the same run (the machine is shared and noisy: compare ratios). After every
run the database is checked (N tables in `bench`, 5·N rows) and, for the HTTP contenders, catalog
state must record the N versions clean.

Targets: kedge's requests per database constant in N and at most 8; at N=300 kedge's whole-process
time within 1.3x of raw psql.

Run: .venv/bin/python bench/deploy_bench.py [--sizes 1,17,300] [--runs 3] [--pg-version N]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work" / "deploy"
sys.path.insert(0, str(REPO))  # the test double lives in tests/hasura_double

ROWS = 5
# Catalog state of a server the Hasura CLI (or kedge-hasura) has used before: the legacy-state copy
# (contract §4.5), which both tools do once on a brand-new server, is already done.
SEEDED_STATE = {"isStateCopyCompleted": True, "settings": {"migration_mode": "true"}, "migrations": {}}
BASE_VERSION = 1_700_000_000_000
CONFIG = "version: 3\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n"
DATABASES = """\
- name: default
  kind: postgres
  configuration:
    connection_info:
      database_url:
        from_env: HASURA_GRAPHQL_DATABASE_URL
  tables: "!include default/tables/tables.yaml"
"""


# -- the generated project ------------------------------------------------------------------------


def migration_sql(index: int) -> str:
    table = f"bench.t{index:04d}"
    head = "CREATE SCHEMA IF NOT EXISTS bench;\n" if index == 1 else ""
    return (
        f"{head}CREATE TABLE {table} (\n"
        "    id bigint PRIMARY KEY,\n"
        "    name text NOT NULL,\n"
        "    created_at timestamptz NOT NULL DEFAULT now()\n"
        ");\n"
        f"CREATE INDEX t{index:04d}_name_idx ON {table} (name);\n"
        f"INSERT INTO {table} (id, name) SELECT g, 'row ' || g FROM generate_series(1, {ROWS}) AS g;\n"
    )


def write_project(size: int) -> tuple[Path, Path]:
    """The project with `size` migrations, and the same SQL concatenated for psql."""
    root = WORK / str(size)
    shutil.rmtree(root, ignore_errors=True)
    project = root / "hasura"
    tables = project / "metadata" / "databases" / "default" / "tables"
    tables.mkdir(parents=True)
    (project / "config.yaml").write_text(CONFIG)
    (project / "metadata" / "version.yaml").write_text("version: 3\n")
    (project / "metadata" / "databases" / "databases.yaml").write_text(DATABASES)
    (tables / "tables.yaml").write_text("[]\n")
    parts = []
    for index in range(1, size + 1):
        sql = migration_sql(index)
        folder = project / "migrations" / "default" / f"{BASE_VERSION + index}_create_t{index:04d}"
        folder.mkdir(parents=True)
        (folder / "up.sql").write_text(sql)
        (folder / "down.sql").write_text(f"DROP TABLE bench.t{index:04d};\n")
        parts.append(sql)
    combined = root / "all.sql"
    combined.write_text("".join(parts))
    return project, combined


def versions_of(size: int) -> list[int]:
    return [BASE_VERSION + index for index in range(1, size + 1)]


# -- the official CLI's request pattern (runs in its own process) ---------------------------------


def official(project: Path) -> int:
    """`hasura migrate apply --database-name default` on config v3, request for request (§4.4)."""
    from kedge_hasura.hasura import HasuraClient
    from kedge_hasura.hasura.cli_state import CliState

    folders = sorted(
        (p for p in (project / "migrations" / "default").iterdir() if p.is_dir() and p.name[0].isdigit()),
        key=lambda p: int(p.name.split("_", 1)[0]),
    )
    with HasuraClient(
        base_url=os.environ["HASURA_GRAPHQL_ENDPOINT"],
        admin_secret=os.environ.get("HASURA_GRAPHQL_ADMIN_SECRET"),
    ) as client:
        client.version()
        applied = CliState(client.get_catalog_state().cli_state).versions("default")
        for folder in folders:
            version = int(folder.name.split("_", 1)[0])
            if version in applied:
                continue
            client.run_sql(
                (folder / "up.sql").read_text(), source="default", check_metadata_consistency=False
            )
            state = CliState(client.get_catalog_state().cli_state)  # SetVersion: read, edit, replace
            state.ensure_default_settings()
            state.set_version("default", version, dirty=False)
            client.set_catalog_state(state.data)
    return 0


# -- measuring --------------------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    requests: int | None
    by_operation: Counter[str] = field(default_factory=Counter)
    http_seconds: float | None = None  # kedge: time spent waiting for Hasura (its -v request lines)
    batch_seconds: float | None = None  # kedge: the slowest request, i.e. the batch's run_sql


@dataclass
class Results:
    samples: dict[tuple[int, str], list[Sample]] = field(default_factory=dict)
    first_deploy_requests: dict[int, int | None] = field(default_factory=dict)

    def add(self, size: int, tool: str, sample: Sample) -> None:
        self.samples.setdefault((size, tool), []).append(sample)

    def seconds(self, size: int, tool: str) -> float:
        return statistics.median(s.seconds for s in self.samples[(size, tool)])

    def median_of(self, size: int, tool: str, name: str) -> float | None:
        values = [getattr(s, name) for s in self.samples[(size, tool)] if getattr(s, name) is not None]
        return statistics.median(values) if values else None

    def requests(self, size: int, tool: str) -> int | None:
        counts = [s.requests for s in self.samples[(size, tool)] if s.requests is not None]
        return int(statistics.median(counts)) if counts else None


_REQUEST_LINE = re.compile(r"^\s*(?:GET|POST) \S+ (?:\d+|no answer) ([\d.]+)s$", re.MULTILINE)


def _timed(command: list[str], env: dict[str, str], stderr: list[str] | None = None) -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if stderr is not None:
        stderr.append(completed.stderr)
    if completed.returncode != 0:
        shown = " ".join(command[:3])
        raise SystemExit(
            f"{shown} ... failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    return elapsed


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HASURA_GRAPHQL_", "KEDGE_")) and k != "PGPASSWORD"
    }


def _check_database(conninfo: str, size: int) -> None:
    import psycopg

    with psycopg.connect(conninfo) as connection:
        tables = connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'bench'").fetchone()
        rows = 0
        for index in range(1, size + 1):
            row = connection.execute(f"SELECT count(*) FROM bench.t{index:04d}").fetchone()
            rows += int(row[0]) if row else 0
    if tables is None or int(tables[0]) != size or rows != ROWS * size:
        raise SystemExit(
            f"check failed: {tables} tables, {rows} rows in schema bench (expected {size}, {ROWS * size})"
        )


def run_http(
    cluster: object,
    size: int,
    project: Path,
    command: Callable[[Path], list[str]],
    *,
    seed_ledger: bool = False,
) -> Sample:
    from tests.hasura_double import DoubleConfig, HasuraDouble

    from kedge_hasura.hasura import HasuraClient
    from kedge_hasura.hasura.cli_state import CliState

    secret = f"bench-{secrets.token_hex(8)}"
    with cluster.database("deploybench") as database:  # type: ignore[attr-defined]
        config = DoubleConfig(database_url=database.conninfo, admin_secret=secret)
        with HasuraDouble(config) as double:
            env = _clean_env()
            env.update(HASURA_GRAPHQL_ENDPOINT=double.url, HASURA_GRAPHQL_ADMIN_SECRET=secret, NO_COLOR="1")
            with HasuraClient(base_url=double.url, admin_secret=secret) as client:
                client.set_catalog_state(SEEDED_STATE)  # a server the Hasura CLI has used (untimed)
                if seed_ledger:  # a database kedge-hasura has deployed to before (untimed)
                    from kedge_hasura.actions.deploy.ledger import ensure_ledger

                    ensure_ledger(client, "default")
            double.faults.reset_requests()
            chatter: list[str] = []
            seconds = _timed(command(project), env, chatter)
            by_operation = Counter(double.faults.requests)
            request_times = [float(t) for t in _REQUEST_LINE.findall(chatter[0])]
            with HasuraClient(base_url=double.url, admin_secret=secret) as client:
                recorded = CliState(client.get_catalog_state().cli_state).versions("default")
            if recorded != dict.fromkeys(versions_of(size), False):
                raise SystemExit(f"catalog state does not record the {size} versions clean")
        _check_database(database.conninfo, size)
    sample = Sample(seconds, sum(by_operation.values()), by_operation)
    if request_times:  # only kedge runs with -v
        sample.http_seconds, sample.batch_seconds = sum(request_times), max(request_times)
    return sample


def run_psql(cluster: object, size: int, combined: Path, psql: Path) -> Sample:
    with cluster.database("deploybench") as database:  # type: ignore[attr-defined]
        command = [
            str(psql),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "-f",
            str(combined),
        ]
        command += ["-d", database.conninfo]
        seconds = _timed(command, _clean_env())
        _check_database(database.conninfo, size)
    return Sample(seconds, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1,17,300", help="numbers of pending migrations (default 1,17,300)"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed rounds per size; medians are reported")
    parser.add_argument("--pg-version", type=int, default=None, help="PostgreSQL major of the scratch server")
    options = parser.parse_args(argv)
    sizes = [int(part) for part in options.sizes.split(",") if part.strip()]

    from kedge_hasura import __version__
    from kedge_hasura.pg.binaries import choose_installation
    from kedge_hasura.pg.scratch import ScratchCluster

    installation = choose_installation(pg_version=options.pg_version)
    psql = installation.bindir / "psql"
    kedge = Path(sys.executable).parent / "kedge-hasura"
    WORK.mkdir(parents=True, exist_ok=True)
    tools: dict[str, Callable[[Path], list[str]]] = {
        "kedge": lambda project: [str(kedge), "-v", "--project", str(project), "deploy", "--skip-metadata"],
        "official": lambda project: [
            sys.executable,
            str(Path(__file__).resolve()),
            "_official",
            str(project),
        ],
    }
    print(
        f"kedge-hasura {__version__} (work tree, {kedge}); PostgreSQL {installation.version} "
        f"({installation.bindir}); sizes {sizes}; median of {options.runs} run(s); fresh database per run",
        flush=True,
    )
    results = Results()
    # Context, not a contender: the whole-process floor of the CLI (start-up, imports, exit).
    floor = statistics.median(
        _timed([str(kedge), "--version"], _clean_env()) for _ in range(max(options.runs, 1))
    )
    with ScratchCluster(installation=installation) as cluster:
        for size in sizes:
            project, combined = write_project(size)
            # One untimed warm-up of each (page cache, template database, imports); kedge's is a
            # first deploy to its database.
            first = run_http(cluster, size, project, tools["kedge"])
            results.first_deploy_requests[size] = first.requests
            run_psql(cluster, size, combined, psql)
            for round_ in range(options.runs):
                order = ["kedge", "official", "psql"]
                order = order[round_ % 3 :] + order[: round_ % 3]  # interleaved, rotating
                for tool in order:
                    if tool == "psql":
                        sample = run_psql(cluster, size, combined, psql)
                    else:
                        sample = run_http(cluster, size, project, tools[tool], seed_ledger=tool == "kedge")
                    results.add(size, tool, sample)
                    print(
                        f"  N={size} round {round_ + 1} {tool}: {sample.seconds:.3f} s",
                        file=sys.stderr,
                        flush=True,
                    )
    return report(results, sizes, floor)


def report(results: Results, sizes: list[int], floor: float) -> int:
    print()
    header = (
        f"{'N':>5} | {'kedge req':>9} | {'official req':>12} | {'kedge s':>8} | {'official s':>10} | "
        f"{'psql s':>7} | {'official/kedge':>14} | {'kedge/psql':>10}"
    )
    print(header)
    print("-" * len(header))
    for size in sizes:
        kedge_s, official_s, psql_s = (results.seconds(size, t) for t in ("kedge", "official", "psql"))
        print(
            f"{size:>5} | {results.requests(size, 'kedge'):>9} | {results.requests(size, 'official'):>12} | "
            f"{kedge_s:>8.3f} | {official_s:>10.3f} | {psql_s:>7.3f} | {official_s / kedge_s:>13.1f}x | "
            f"{kedge_s / psql_s:>9.2f}x"
        )
    print()
    print("Where kedge's time goes (medians; from its -v request lines):")
    columns = ("batch run_sql s", "other requests s", "outside HTTP s", "batch/psql")
    print(f"{'N':>5} | " + " | ".join(columns))
    for size in sizes:
        total = results.seconds(size, "kedge")
        batch = results.median_of(size, "kedge", "batch_seconds") or 0.0
        http = results.median_of(size, "kedge", "http_seconds") or 0.0
        psql_s = results.seconds(size, "psql")
        values = (f"{batch:.3f}", f"{http - batch:.3f}", f"{total - http:.3f}", f"{batch / psql_s:.2f}x")
        print(f"{size:>5} | " + " | ".join(v.rjust(len(c)) for v, c in zip(values, columns, strict=True)))
    print(f"kedge-hasura --version (start-up floor of the CLI process): {floor:.3f} s")
    last = results.samples[(sizes[-1], "kedge")][-1].by_operation
    print(
        f"kedge's requests at N={sizes[-1]} by operation: "
        + ", ".join(f"{k} {v}" for k, v in sorted(last.items()))
    )
    kedge_requests = {results.requests(size, "kedge") for size in sizes}
    constant = len(kedge_requests) == 1
    at_most = max(r or 0 for r in kedge_requests) <= 8
    shown = sorted(r or 0 for r in kedge_requests)
    print(
        f"target: kedge's requests constant in N: {'met' if constant else 'NOT met'} ({shown}); "
        f"at most 8: {'met' if at_most else 'NOT met'}"
    )
    first = ", ".join(f"N={size}: {count}" for size, count in sorted(results.first_deploy_requests.items()))
    print(f"kedge's requests on a first deploy to a database (creates the ledger, once): {first}")
    if 300 in sizes:
        ratio = results.seconds(300, "kedge") / results.seconds(300, "psql")
        verdict = "met" if ratio <= 1.3 else "NOT met"
        print(f"target: at N=300 kedge within 1.3x of raw psql: {verdict} ({ratio:.2f}x)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "_official":
        sys.exit(official(Path(sys.argv[2])))
    sys.exit(main())
