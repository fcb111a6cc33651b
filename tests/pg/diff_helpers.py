"""Helpers for the schema-comparator tests: build two databases from SQL and compare them.

Fixture scripts may include shared SQL with a line `-- include: <file>` (relative to the
fixtures/diff folder); the line is replaced by that file's text, recursively.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.schemadiff.compare import Difference, SchemaDiff, compare
from kedge_hasura.schemadiff.snapshot import Snapshot, read_snapshot

DIFF_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "diff"
_INCLUDE = re.compile(r"^--\s*include:\s*(\S+)\s*$", re.MULTILINE)

# The fields a fixture's expected.json states for each difference. "classification" may be
# omitted where it is null; it is always compared.
REDUCED_FIELDS = ("kind", "change", "field", "object", "severity", "classification")


def load_sql(path: Path, *, _depth: int = 0) -> str:
    """The text of a fixture script with its `-- include:` lines expanded."""
    if _depth > 5:
        raise ValueError(f"{path}: includes nested too deeply")
    text = path.read_text(encoding="utf-8")

    def expand(match: re.Match[str]) -> str:
        return load_sql(DIFF_FIXTURES / match.group(1), _depth=_depth + 1)

    return _INCLUDE.sub(expand, text)


def run_sql(conninfo: str, sql: str) -> None:
    """Run a whole script (several statements, simple query protocol, one implicit transaction)."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(sql.encode())


def snapshot_of(conninfo: str) -> Snapshot:
    with PsycopgExecutor(conninfo) as executor:
        return read_snapshot(executor)


def build_and_snapshot(cluster: ScratchCluster, sql: str, label: str = "diff") -> Snapshot:
    """Run `sql` on a fresh scratch database and snapshot it; the database is dropped afterwards."""
    with cluster.database(label) as database:
        run_sql(database.conninfo, sql)
        return snapshot_of(database.conninfo)


class SnapshotCache:
    """Snapshots by side and script text, for one cluster: many cases share side A (the bare base).

    Snapshots are immutable values and the comparator is pure, so reusing one is the same as
    building the database again. The side is part of the key, so a case whose two scripts are
    equal still compares two databases. Missing sides are built concurrently (two connections).
    """

    def __init__(self, cluster: ScratchCluster):
        self.cluster = cluster
        self._snapshots: dict[tuple[str, str], Snapshot] = {}

    def pair(self, a_sql: str, b_sql: str) -> tuple[Snapshot, Snapshot]:
        keys = [("a", a_sql), ("b", b_sql)]
        missing = [key for key in keys if key not in self._snapshots]
        if missing:
            with ThreadPoolExecutor(max_workers=len(missing)) as pool:
                built = list(pool.map(lambda key: build_and_snapshot(self.cluster, key[1], key[0]), missing))
            self._snapshots.update(zip(missing, built, strict=True))
        return self._snapshots[keys[0]], self._snapshots[keys[1]]


def diff_scripts(
    cluster: ScratchCluster, a_sql: str, b_sql: str, *, cache: SnapshotCache | None = None
) -> SchemaDiff:
    """Build database A from `a_sql` and B from `b_sql` on `cluster`; compare A (source) to B (target)."""
    cache = cache if cache is not None and cache.cluster is cluster else SnapshotCache(cluster)
    return compare(*cache.pair(a_sql, b_sql))


def explain(differences: list[Difference]) -> str:
    """The differences in full (with source and target), for assertion messages."""
    lines = [
        f"{d.kind} {d.change} {d.object} field={d.field} {d.severity.value} {d.classification or ''}: "
        f"{d.source!r} -> {d.target!r}"
        for d in differences
    ]
    return "reported:\n" + ("\n".join(lines) or "(nothing)")


def reduce(difference: Difference) -> dict[str, Any]:
    """A difference as the plain dict a fixture's expected.json states."""
    reduced: dict[str, Any] = {name: getattr(difference, name) for name in REDUCED_FIELDS}
    reduced["severity"] = difference.severity.value
    return reduced


def normalise_expected(expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Expected entries with every reduced field present ("classification" defaults to null)."""
    unknown = {key for entry in expected for key in entry} - set(REDUCED_FIELDS)
    if unknown:
        raise ValueError(f"unknown keys in expected.json: {sorted(unknown)}")
    return [{name: entry.get(name) for name in REDUCED_FIELDS} for entry in expected]


def read_expected(case: Path) -> list[dict[str, Any]]:
    return json.loads((case / "expected.json").read_text(encoding="utf-8"))


def case_folders() -> list[Path]:
    """Every fixture case: a folder under fixtures/diff with a.sql, b.sql and expected.json."""
    return sorted(p for p in DIFF_FIXTURES.iterdir() if p.is_dir() and (p / "expected.json").exists())
