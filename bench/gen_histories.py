"""Full-size generated histories (tests/pg/histgen.py): squash time against a bare psql replay, and
the independent oracle (tests/pg/oracle.py) on the result.

Per history (a Shape from tests/pg/histgen.py, up to 2,000 migrations and hundreds of tables),
written under --work (default bench/.work/gen/, git-ignored), on ONE scratch server:
  replay   the originals replayed by psql into a fresh database (one transaction per file, one
           psql process: oracle.replay_originals), wall time
  squash   `kedge-hasura -o json squash` on a copy, a whole process, wall time (its own two
           replays, dump, verification); the ratio squash/replay is issue 11's "within 3x"
  oracle   pg_dump --schema-only of both sides and per-table row digests, excluding what squash
           reported as frozen or non-deterministic
Prints one markdown row per history and every failure below.

With --suite, the same for every CI case of tests/pg/test_generated_histories.py at its CI size.
The replay baseline is ONE psql process for all files on an already running server (each file in
its own transaction), so it is stricter than squash_bench.py's (initdb, server start, one psql
process per file).

Run: .venv/bin/python bench/gen_histories.py [--sizes 500,2000] [--seed 7] [--work DIR] [--suite]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.pg import oracle  # noqa: E402
from tests.pg.histgen import EVERYTHING, Shape, write_history  # noqa: E402

from benchlib import load_average, machine  # noqa: E402

KEDGE = Path(sys.executable).parent / "kedge-hasura"


def shapes(sizes: list[int], seed: int) -> dict[str, Shape]:
    out: dict[str, Shape] = {}
    for size in sizes:
        # Deterministic shapes (item 4's random row counts are covered in the test suite): the
        # time ratio means something only when squash can succeed.
        out[f"tables-{size}"] = Shape(
            seed=seed,
            migrations=size,
            schemas=("public", "app", "audit"),
            table_weight=2.5,
            renames=True,
            drops=True,
            views=True,
            data_migrations=True,
            enums=True,
            domains=True,
        )
        out[f"everything-{size}"] = EVERYTHING.only(seed=seed + 1, migrations=size)
    return out


def suite_shapes() -> dict[str, Shape]:
    """The CI cases of tests/pg/test_generated_histories.py, at their CI size."""
    from tests.pg.test_generated_histories import CASES, NONDETERMINISTIC

    return {**{name: shape for name, (shape, _) in CASES.items()}, **NONDETERMINISTIC}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="500,2000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / ".work" / "gen")
    parser.add_argument("--pg-version", type=int)
    parser.add_argument("--suite", action="store_true", help="the CI cases of the test suite instead")
    args = parser.parse_args(argv)

    from kedge_hasura import __version__
    from kedge_hasura.pg.binaries import choose_installation
    from kedge_hasura.pg.scratch import ScratchCluster

    installation = choose_installation(pg_version=args.pg_version)
    print(
        f"kedge-hasura {__version__}; PostgreSQL {installation.version}; {machine()}; load {load_average()}"
    )
    rows, details = [], []
    with ScratchCluster(installation=installation) as cluster:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HASURA_GRAPHQL_", "KEDGE_"))}
        env.update(KEDGE_SCRATCH_URL=cluster.conninfo("postgres"), NO_COLOR="1")
        chosen = suite_shapes() if args.suite else shapes([int(s) for s in args.sizes.split(",")], args.seed)
        for name, shape in chosen.items():
            print(f"... {name}", file=sys.stderr, flush=True)
            root = args.work / name
            shutil.rmtree(root, ignore_errors=True)
            history = write_history(root / "original", shape)
            files = [f / "up.sql" for f in history.folders]
            with cluster.database("gen_replay") as database:
                started = time.monotonic()
                oracle.replay_originals(cluster, database.conninfo, files)
                replay = time.monotonic() - started
                with __import__("psycopg").connect(database.conninfo) as connection:
                    tables = connection.execute(
                        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind IN ('r', 'p')"
                        " AND n.nspname IN ('public', 'app', 'audit', 'reporting')"
                    ).fetchone()[0]  # type: ignore[index]
            work = root / "work"
            shutil.copytree(history.root, work)
            started = time.monotonic()
            done = subprocess.run(
                [str(KEDGE), "-o", "json", "--project", str(work), "squash"],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            squash = time.monotonic() - started
            envelope = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
            result = envelope.get("result") or {}
            verdict = "-"
            if done.returncode == 0 and result:
                report = oracle.check_squash(cluster, files, Path(result["folder"]) / "up.sql", result)
                verdict = "identical" if report.ok else "DIFFERS"
                if not report.ok:
                    details.append(f"{name}: oracle: {report.explain()[:2000]}")
            else:
                error = envelope.get("error") or {}
                details.append(
                    f"{name}: squash exit {done.returncode}: {error.get('message') or done.stderr[-500:]}"
                )
            rows.append((name, len(files), tables, replay, squash, done.returncode, verdict))
    print("\n| history | migrations | tables | psql replay | squash | squash/replay | squash exit | oracle |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, count, tables, replay, squash, code, verdict in rows:
        print(
            f"| {name} | {count} | {tables} | {replay:.1f} s | {squash:.1f} s | {squash / replay:.1f}"
            f" | {code} | {verdict} |"
        )
    print()
    for line in details:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
