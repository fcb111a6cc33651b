"""Cold start of a scratch PostgreSQL server, whole process, against the bare shell baseline.

kedge:    `python -c` that starts kedge-hasura's ScratchServer (initdb, watchdog, server, readiness),
          runs SELECT 1 through psycopg and stops it (server gone, folder deleted).
baseline: the same binaries driven by hand, as a shell script would: initdb, `pg_ctl start -w`,
          `psql -c 'SELECT 1'`, `pg_ctl stop -m immediate`, rm -rf.

Run: .venv/bin/python bench/cold_start.py [--runs 7] [--pg-version N]
Prints the median of each and the ratio kedge/baseline, measured in the same run (the machine is
shared and noisy, so only the ratio and medians are meaningful).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from benchlib import bare_server, quiet
from kedge_hasura.pg.binaries import choose_installation

KEDGE = """
import psycopg
from kedge_hasura.pg.binaries import choose_installation
from kedge_hasura.pg.server import ScratchServer
with ScratchServer(choose_installation(pg_version={major})) as server:
    with psycopg.connect(server.conninfo()) as connection:
        connection.execute("SELECT 1").fetchone()
"""


def run_kedge(major: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", KEDGE.format(major=major)], check=True)
    return time.perf_counter() - started


def run_baseline(bindir: str) -> float:
    started = time.perf_counter()
    with bare_server(bindir) as socket_folder:
        quiet([f"{bindir}/psql", "-h", socket_folder, "-U", "postgres", "-Atc", "SELECT 1"])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pg-version", type=int, default=None)
    args = parser.parse_args()
    installation = choose_installation(pg_version=args.pg_version)
    print(
        f"PostgreSQL {installation.version} ({installation.source}, {installation.bindir}); "
        f"{args.runs} runs each, interleaved"
    )
    kedge, baseline = [], []
    run_kedge(installation.major)  # warm the page cache for both
    for _ in range(args.runs):
        kedge.append(run_kedge(installation.major))
        baseline.append(run_baseline(str(installation.bindir)))
    k, b = statistics.median(kedge), statistics.median(baseline)
    print(
        f"kedge ScratchServer, whole process : median {k:.3f} s  (min {min(kedge):.3f}, max {max(kedge):.3f})"
    )
    spread = f"(min {min(baseline):.3f}, max {max(baseline):.3f})"
    print(f"baseline initdb+pg_ctl+psql        : median {b:.3f} s  {spread}")
    print(f"ratio kedge/baseline               : {k / b:.2f}")
    print(f"target: kedge under 1.5 s -> {'met' if k < 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
