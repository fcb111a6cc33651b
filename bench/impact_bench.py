"""`kedge-hasura impact` between two consecutive commits of the shipped Kedge project, whole process.

A git repository is made under bench/.work/impact/repo with the shipped `hasura/` committed
twice: the second commit drops a column from a select permission and adds a migration with an
index. Timed, each a whole process (start-up, git export of the base, scratch server cold start,
both replays, both surfaces, comparison, JSON): `kedge-hasura impact --base HEAD~1 --head HEAD -o
json`, `kedge-hasura impact --print-schema student`, and as a baseline measured in the same run
`kedge-hasura check` (one scratch server, one replay). One untimed warm-up run, then --runs runs,
interleaved; medians and the impact/check ratio are printed. Target (issue 14): impact under 5 s
on a 2-core machine.

Run: .venv/bin/python bench/impact_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlib import load_average, machine

BENCH = Path(__file__).resolve().parent
REPO = BENCH / ".work" / "impact" / "repo"
KEDGE = Path(sys.prefix) / "bin" / "kedge-hasura"
SHIPPED = BENCH.parent / "hasura"
TARGET = 5.0


def git(*args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
                   cwd=REPO, check=True, capture_output=True)  # fmt: skip


def make_repo() -> Path:
    shutil.rmtree(REPO, ignore_errors=True)
    shutil.copytree(SHIPPED, REPO / "hasura")
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    users = REPO / "hasura/metadata/databases/default/tables/kedge_practice_users.yaml"
    users.write_text(
        users.read_text().replace("        - display_name\n        - email\n", "        - display_name\n", 1)
    )
    migration = REPO / "hasura/migrations/default/1800000000000_index_users_email"
    migration.mkdir()
    (migration / "up.sql").write_text("CREATE INDEX users_email_idx ON kedge_practice.users (email);\n")
    git("add", "-A")
    git("commit", "-q", "-m", "head")
    return REPO / "hasura"


def timed(argv: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    project = make_repo()
    impact = [str(KEDGE), "-o", "json", "impact", "--base", "HEAD~1", "--head", "HEAD"]
    schema = [str(KEDGE), "impact", "--print-schema", "student"]
    # Baseline in the same run: `check` also starts a scratch server and replays the project once.
    check = [str(KEDGE), "-o", "json", "check"]
    _, warm = timed(impact, project)
    document = json.loads(warm.stdout)
    assert warm.returncode == 1, warm.stderr  # the dropped column is breaking for student
    student = next(role for role in document["result"]["roles"] if role["role"] == "student")
    assert any(c["coordinate"].startswith("kedge_practice_users.email") for c in student["breaking"])
    times: dict[str, list[float]] = {"impact": [], "print-schema": [], "check (baseline)": []}
    for _ in range(args.runs):
        for name, argv in (("impact", impact), ("print-schema", schema), ("check (baseline)", check)):
            seconds, done = timed(argv, project)
            assert done.returncode in (0, 1), done.stderr
            times[name].append(seconds)
    print(f"machine: {machine()}; load average {load_average()}")
    for name, values in times.items():
        print(f"{name}: median {statistics.median(values):.2f} s over {len(values)} runs "
              f"(min {min(values):.2f}, max {max(values):.2f})")  # fmt: skip
    median = statistics.median(times["impact"])
    print(f"impact / check: {median / statistics.median(times['check (baseline)']):.2f}")
    print(f"target impact < {TARGET:.0f} s: {'met' if median < TARGET else 'not met'}")


if __name__ == "__main__":
    main()
