"""Coverage: which planted differences `kedge-hasura diff`, migra and pg_dump+diff report.

Builds base, b and x of bench/schema_gen.py (N tables per --sizes, default 100) on one scratch
server of kedge-hasura's own ScratchCluster, then compares base → x (19 planted differences, one each of 19
kinds) and base → b (the 10 of the timing variant): 29 in all, as in the schema-diff notes §6.3.
A planted difference counts as detected when the tool's output names its object, at the level the
manifest gives (a column: the table and the column; a table: the table itself, not one of its
columns; anything else: the object's own name):
  kedge         a difference of `kedge-hasura -o json diff A B` whose id names it;
  migra         a statement of `migra --unsafe A B` (and with --with-privileges) naming it in its
                head (text after AS/USING/CHECK/DEFAULT/REFERENCES or "(" is ignored, so a view
                body mentioning the enum is not about the enum); migra changes an enum by
                recreating it and re-typing every column, so table-level plants do not count
                statements about a column;
  pg_dump+diff  a changed line of `diff -u` of two schema-only dumps naming it the same way
                ("attributable" lines, as the notes counted them: a line changed inside a CREATE
                TABLE or CREATE SEQUENCE block does not name its object).
Also counts output that no plant explains (noise, or a tool's collateral DDL). The manifests are
written to bench/.work/coverage/manifest_{x,b}.json (also: schema_gen.py --manifest).

Run: .venv/bin/python bench/diff_coverage.py [--sizes 100,1000] [--pg-version 15|18] [--kedge-ref REF]
     [--show-unexplained]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
import diff_bench
import schema_gen

TOOLS = ("kedge", "migra", "migra --with-privileges", "pg_dump+diff")
SHORT = {"kedge": "kedge", "migra": "migra", "migra --with-privileges": "migra+p", "pg_dump+diff": "pg_dump"}


def outputs(dbs: diff_bench.Databases, migra: Path, variant: str, n: int) -> dict[str, list[object]]:
    """Each tool's output for base → variant, as a list of differences / statements / lines."""
    base, other = dbs.url("base", n), dbs.url(variant, n)
    _, kedge = diff_bench.kedge_json(base, other)
    _, migra_text = diff_bench.migra_output(migra, base, other)
    _, privileges_text = diff_bench.migra_output(migra, base, other, "--with-privileges")
    out_dir = diff_bench.WORK / "coverage" / f"{variant}_{n}"
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "kedge": list(kedge),
        "migra": list(diff_bench.migra_statements(migra_text)),
        "migra --with-privileges": list(diff_bench.migra_statements(privileges_text)),
        "pg_dump+diff": [
            line
            for line in diff_bench.dump_diff_lines(dbs, base, other, out_dir)
            if line[1:].strip() not in ("", "--")  # blank and comment-rule lines carry nothing
        ],
    }


def names(tool: str, plant: dict[str, object], item: object) -> bool:
    if tool == "kedge":
        assert isinstance(item, dict)
        return diff_bench.kedge_names(plant, item)
    return diff_bench.sql_names(plant, str(item))


def score(
    plants: list[dict[str, object]], found: dict[str, list[object]]
) -> tuple[dict[str, set[str]], dict[str, list[object]]]:
    """Per tool: the ids of the plants it names, and its output no plant explains."""
    detected: dict[str, set[str]] = {}
    unexplained: dict[str, list[object]] = {}
    for tool, items in found.items():
        detected[tool] = {
            str(plant["id"]) for plant in plants if any(names(tool, plant, item) for item in items)
        }
        unexplained[tool] = [item for item in items if not any(names(tool, p, item) for p in plants)]
    return detected, unexplained


def report(dbs: diff_bench.Databases, migra: Path, n: int, *, show_unexplained: bool) -> bool:
    """Print the tables for one size; True when kedge found every planted difference."""
    totals = dict.fromkeys(TOOLS, 0)
    count = 0
    print(f"\n===== {n} tables")
    for variant in ("x", "b"):
        plants = schema_gen.manifest(variant, n)
        manifest_file = diff_bench.WORK / "coverage" / f"manifest_{variant}.json"
        manifest_file.parent.mkdir(parents=True, exist_ok=True)
        manifest_file.write_text(json.dumps(plants, indent=2) + "\n", encoding="utf-8")
        detected, unexplained = score(plants, outputs(dbs, migra, variant, n))
        print(f"\nbase → {variant}: {len(plants)} planted differences")
        print(f"{'id':<4} {'kind':<18} {'object':<34}" + "".join(f" {SHORT[t]:>7}" for t in TOOLS))
        for plant in plants:
            marks = "".join(f" {'✔' if plant['id'] in detected[tool] else '·':>7}" for tool in TOOLS)
            print(f"{plant['id']!s:<4} {plant['kind']!s:<18} {plant['object']!s:<34}{marks}")
        print("score: " + ", ".join(f"{tool} {len(detected[tool])}/{len(plants)}" for tool in TOOLS))
        print("output no plant explains: " + ", ".join(f"{tool} {len(unexplained[tool])}" for tool in TOOLS))
        if show_unexplained:
            for tool in TOOLS:
                for item in unexplained[tool][:15]:
                    text = diff_bench.describe_difference(item) if isinstance(item, dict) else item
                    print(f"  {tool}: {str(text).splitlines()[0][:140]}")
        for tool in TOOLS:
            totals[tool] += len(detected[tool])
        count += len(plants)
    print("\nmigra+p = migra --with-privileges; pg_dump = pg_dump×2 + diff -u, attributable lines only")
    print(
        f"all {count} at {n} tables (x + b, as the notes count them): "
        + ", ".join(f"{tool} {totals[tool]}/{count}" for tool in TOOLS)
    )
    return totals["kedge"] == count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100", help="comma-separated table counts (each at least 100)")
    parser.add_argument("--pg-version", type=int, default=None)
    parser.add_argument(
        "--kedge-ref", default=None, help="measure this commit's src/ instead of the work tree"
    )
    parser.add_argument("--show-unexplained", action="store_true", help="print output no plant explains")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    migra = diff_bench.ensure_migra()
    kedge = diff_bench.choose_kedge(args.kedge_ref)
    complete = True
    with diff_bench.scratch_databases(args.pg_version) as dbs:
        inst = dbs.installation
        print(f"machine: {benchlib.machine()}")
        print(f"server: PostgreSQL {inst.version} ({inst.source}), one scratch server")
        print(f"kedge-hasura: {kedge.label}")
        print(f"peers: {diff_bench.migra_versions()}; pg_dump {inst.version}")
        for n in sizes:
            complete &= report(dbs, migra, n, show_unexplained=args.show_unexplained)
    if not complete:
        raise SystemExit("kedge missed planted differences")


if __name__ == "__main__":
    main()
