"""Full-size generated histories (tests/pg/histgen.py): squash time against a bare psql replay, and
the independent oracle (tests/pg/oracle.py) on the result.

Per history (a Shape from tests/pg/histgen.py, up to 2,000 migrations and hundreds of tables),
written under --work (default bench/.work/gen/, git-ignored), on ONE scratch server:
  bare     the bare sequential replay as a person scripts it, issue 11's baseline (squash_bench.py's
           run_replay): initdb, pg_ctl start, one `psql -1 -f` per up.sql, stop, rm -rf
  replay   the stricter baseline: the originals replayed by psql into a fresh database on the
           already running server (one transaction per file, ONE psql process for all files:
           oracle.replay_originals), wall time
  squash   `kedge-hasura -o json squash` on a copy, a whole process, wall time (its own two
           replays, dump, verification); the ratio squash/replay is issue 11's "within 3x"
  oracle   pg_dump --schema-only of both sides and per-table row digests, excluding what squash
           reported as frozen or non-deterministic
  dry run  `kedge-hasura -o json squash --dry-run` on the history itself, a whole process with its
           own scratch server (what a user runs; nothing written), --runs times, interleaved with
           the replay and, with --compare-ref, with the same command of that commit (its src/
           exported with `git archive`, as diff_bench.py --kedge-ref does); medians
Prints one markdown row per history and every failure below.

With --suite, the same for every CI case of tests/pg/test_generated_histories.py at its CI size.
Ratios are printed against both baselines: "bare" pays what squash pays too (a server start,
one client per file), "replay" pays neither.

Run: .venv/bin/python bench/gen_histories.py [--sizes 500,2000] [--seed 7] [--work DIR] [--suite]
     [--runs 3] [--compare-ref main]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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
from diff_bench import choose_kedge  # noqa: E402
from squash_bench import run_replay  # noqa: E402

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


Variant = tuple[list[str], dict[str, str] | None, str]  # argv, environment additions, label


def _variant(ref: str | None) -> Variant:
    kedge = choose_kedge(ref)  # one shared object that each call sets up: copy what it says
    return list(kedge.argv), dict(kedge.env) if kedge.env else None, kedge.label


def _dry_run(variant: Variant, project: Path, env: dict[str, str]) -> float:
    argv, extra, _ = variant
    run_env = {**env, **({"PYTHONPATH": extra["PYTHONPATH"]} if extra and "PYTHONPATH" in extra else {})}
    started = time.monotonic()
    done = subprocess.run(
        [*argv, "-o", "json", "--project", str(project), "squash", "--dry-run"],
        capture_output=True,
        env=run_env,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"squash --dry-run of {project} failed: {done.stderr[-800:]!r}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="500,2000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=REPO / "bench" / ".work" / "gen")
    parser.add_argument("--pg-version", type=int)
    parser.add_argument("--suite", action="store_true", help="the CI cases of the test suite instead")
    parser.add_argument("--runs", type=int, default=1, help="timed runs of the replay and the dry run")
    parser.add_argument("--compare-ref", default=None, help="also time this commit's squash --dry-run")
    args = parser.parse_args(argv)

    from kedge_hasura import __version__
    from kedge_hasura.pg.binaries import choose_installation
    from kedge_hasura.pg.scratch import ScratchCluster

    variants = {"work tree": _variant(None)}
    if args.compare_ref:
        variants[args.compare_ref] = _variant(args.compare_ref)
    installation = choose_installation(pg_version=args.pg_version)
    print(
        f"kedge-hasura {__version__}; PostgreSQL {installation.version}; {machine()}; load {load_average()}"
    )
    for name, (_, _, label) in variants.items():
        print(f"dry run {name}: {label}")
    rows, details = [], []
    with ScratchCluster(installation=installation) as cluster:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HASURA_GRAPHQL_", "KEDGE_"))}
        env["NO_COLOR"] = "1"
        url_env = {**env, "KEDGE_SCRATCH_URL": cluster.conninfo("postgres")}
        chosen = suite_shapes() if args.suite else shapes([int(s) for s in args.sizes.split(",")], args.seed)
        for name, shape in chosen.items():
            print(f"... {name}", file=sys.stderr, flush=True)
            root = args.work / name
            shutil.rmtree(root, ignore_errors=True)
            history = write_history(root / "original", shape)
            files = [f / "up.sql" for f in history.folders]
            replays: list[float] = []
            bares: list[float] = []
            dry: dict[str, list[float]] = {variant: [] for variant in variants}
            tables = 0
            for run in range(args.runs):
                with cluster.database("gen_replay") as database:
                    started = time.monotonic()
                    oracle.replay_originals(cluster, database.conninfo, files)
                    replays.append(time.monotonic() - started)
                    with __import__("psycopg").connect(database.conninfo) as connection:
                        tables = connection.execute(
                            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE c.relkind IN ('r', 'p')"
                            " AND n.nspname IN ('public', 'app', 'audit', 'reporting')"
                        ).fetchone()[0]  # type: ignore[index]
                bares.append(run_replay(installation.bindir, files).seconds)
                order = list(variants)
                order = order[run % len(order) :] + order[: run % len(order)]  # rotate every round
                for variant in order:
                    dry[variant].append(_dry_run(variants[variant], history.root, env))
            work = root / "work"
            shutil.copytree(history.root, work)
            started = time.monotonic()
            done = subprocess.run(
                [str(KEDGE), "-o", "json", "--project", str(work), "squash"],
                capture_output=True,
                text=True,
                env=url_env,
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
            replay = statistics.median(replays)
            bare = statistics.median(bares)
            medians = {variant: statistics.median(times) for variant, times in dry.items()}
            rows.append((name, len(files), tables, bare, replay, medians, squash, done.returncode, verdict))
    heads = "".join(f" dry run ({v}) | / bare | / replay |" for v in variants)
    tail = " squash (scratch URL) | / replay | exit | oracle |"
    print(f"\n| history | migrations | tables | bare replay | psql replay |{heads}{tail}")
    print("|---|---:|---:|---:|---:|" + "---:|---:|---:|" * len(variants) + "---:|---:|---:|---|")
    for name, count, tables, bare, replay, medians, squash, code, verdict in rows:
        cells = "".join(f" {m:.2f} s | {m / bare:.2f} | {m / replay:.1f} |" for m in medians.values())
        print(
            f"| {name} | {count} | {tables} | {bare:.2f} s | {replay:.2f} s |{cells} {squash:.1f} s"
            f" | {squash / replay:.1f} | {code} | {verdict} |"
        )
    print(f"\nmedians of {args.runs} run(s); load at the end {load_average()}")
    for line in details:
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
