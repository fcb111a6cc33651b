"""An oracle for squash that shares nothing with squash's own comparator.

It replays the original migrations with `psql -v ON_ERROR_STOP=1` (one transaction per file,
unless the file holds its own BEGIN/COMMIT) on one database and the squashed up.sql on another,
then compares `pg_dump --schema-only` of both as text and every table's rows (count and an md5 of
the sorted row texts), leaving out what squash itself reported as frozen columns or
non-deterministic tables. Both databases come from the test session's server with what Hasura
gives a database (pgcrypto in public), like squash's scratch databases.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from kedge_hasura.pg.scratch import ScratchCluster

_DUMP_NOISE = re.compile(r"^(--.*|SET .*|SELECT pg_catalog\.set_config\(.*|\\(un)?restrict .*)$")
_OWN_TRANSACTION = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION)\s*;", re.IGNORECASE | re.MULTILINE)

_TABLES = """
SELECT n.nspname, c.relname,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind = 'r'
   AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'hdb_catalog')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
 GROUP BY n.nspname, c.relname
 ORDER BY 1, 2
"""

# Sequences with the table that owns them (serial / identity), to leave out those of tables squash
# reported as non-deterministic.
_SEQUENCES = """
SELECT n.nspname, c.relname, coalesce(tn.nspname || '.' || t.relname, '') AS owner
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
       AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  LEFT JOIN pg_class t ON t.oid = d.refobjid
  LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
 WHERE c.relkind = 'S'
   AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT IN ('information_schema', 'hdb_catalog')
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')
 ORDER BY 1, 2
"""


@dataclass
class OracleReport:
    """What the independent check found; `ok` when the schema dump and every compared table match."""

    schema_diff: str
    tables_compared: int
    row_differences: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.schema_diff and not self.row_differences

    def explain(self) -> str:
        parts = []
        if self.schema_diff:
            parts.append("pg_dump --schema-only differs:\n" + self.schema_diff)
        if self.row_differences:
            parts.append("rows differ: " + "; ".join(self.row_differences))
        return "\n".join(parts) or "(identical)"


def owns_transaction(up_sql: bytes) -> bool:
    """The file manages its own transaction (so psql must not wrap it in another)."""
    return bool(_OWN_TRANSACTION.search(up_sql.decode("utf-8", errors="replace")))


@contextmanager
def scratch(cluster: ScratchCluster, label: str) -> Iterator[str]:
    """A new database on the session server (from its Hasura-like template), dropped afterwards."""
    with cluster.database(f"oracle_{label}") as database:
        yield database.conninfo


def psql_file(cluster: ScratchCluster, conninfo: str, path: Path, *, single_transaction: bool) -> None:
    """Run one file with psql, stopping at the first error (raises with psql's message)."""
    command = [
        str(cluster.client_installation().binary("psql")),
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-v",
        "VERBOSITY=verbose",
    ]
    if single_transaction:
        command.append("--single-transaction")
    command += ["-f", str(path), "-d", conninfo]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ReplayFailed(f"psql failed on {path}:\n{done.stderr.strip()}")


class ReplayFailed(Exception):
    pass


def replay_originals(cluster: ScratchCluster, conninfo: str, up_files: Iterable[Path]) -> None:
    """Every file in order, each in a transaction of its own, by one psql process.

    One process (not one per file) because a psql start costs ~40 ms; `DISCARD ALL` between
    files gives each the fresh session settings it would have in a process of its own.
    """
    lines = []
    for path in up_files:
        own = owns_transaction(path.read_bytes())
        include = "\\i '" + str(path).replace("'", "''") + "'"
        lines += [include] if own else ["BEGIN;", include, "COMMIT;"]
        lines.append("DISCARD ALL;")
    with tempfile.NamedTemporaryFile("w", suffix=".psql", encoding="utf-8", delete=False) as driver:
        driver.write("\n".join(lines) + "\n")
    try:
        psql_file(cluster, conninfo, Path(driver.name), single_transaction=False)
    finally:
        Path(driver.name).unlink()


def schema_dump(cluster: ScratchCluster, conninfo: str) -> list[str]:
    """`pg_dump --schema-only`, without comments, SET lines, \\restrict lines and runs of blank lines."""
    done = subprocess.run(
        [str(cluster.client_installation().binary("pg_dump")), "--schema-only", "--no-owner", "-d", conninfo],
        capture_output=True,
        check=True,
    )
    lines: list[str] = []
    # bytes, split on \n only: a CR inside a function body must stay visible to the comparison
    for raw in done.stdout.decode("utf-8").split("\n"):
        if _DUMP_NOISE.match(raw) or (not raw.strip() and (not lines or not lines[-1].strip())):
            continue
        lines.append(raw)
    return lines


def row_digests(
    conninfo: str, *, frozen_columns: set[str], nondeterministic_tables: set[str]
) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """Per table "schema.table": (row count, md5 of the sorted row texts of the compared columns);
    per sequence "sequence schema.name": (last_value, is_called)."""
    digests: dict[str, tuple[int, str]] = {}
    excluded: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for schema, table, columns in connection.execute(_TABLES).fetchall():
            name = f"{schema}.{table}"
            if name in nondeterministic_tables:
                excluded.append(name)
                continue
            kept = [c for c in columns if f"{name}.{c}" not in frozen_columns]
            excluded += [f"{name}.{c}" for c in columns if f"{name}.{c}" in frozen_columns]
            row = sql.SQL("ROW({})::text").format(sql.SQL(", ").join(map(sql.Identifier, kept)))
            query = sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(r, E'\\n' ORDER BY r)), '')"
                " FROM (SELECT {} AS r FROM {}.{}) s"
            ).format(row, sql.Identifier(schema), sql.Identifier(table))
            count, digest = connection.execute(query).fetchone()  # type: ignore[misc]
            digests[name] = (int(count), str(digest))
        for schema, sequence, owner in connection.execute(_SEQUENCES).fetchall():
            name = f"{schema}.{sequence}"
            if owner in nondeterministic_tables:
                excluded.append(name)
                continue
            query = sql.SQL("SELECT last_value, is_called::text FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(sequence)
            )
            last_value, is_called = connection.execute(query).fetchone()  # type: ignore[misc]
            digests[f"sequence {name}"] = (int(last_value), str(is_called))
    return digests, excluded


def reported_exclusions(result: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Frozen columns and non-deterministic tables from `squash -o json` (wherever the key sits)."""
    frozen = set(result.get("frozen_values") or [])
    tables: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("nondeterministic_tables", "non_deterministic_tables") and isinstance(value, list):
                    tables.update(str(v) for v in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(result)
    return frozen, tables


def check_squash(
    cluster: ScratchCluster,
    originals: list[Path],
    squashed_up: Path,
    result: dict[str, Any],
    *,
    pre_sql: Path | None = None,
) -> OracleReport:
    """Replay `originals` (up.sql files in order) and `squashed_up`; compare dumps and rows."""
    frozen, nondeterministic = reported_exclusions(result)
    with scratch(cluster, "orig") as original, scratch(cluster, "squashed") as squashed:
        if pre_sql is not None:
            psql_file(cluster, original, pre_sql, single_transaction=True)
            psql_file(cluster, squashed, pre_sql, single_transaction=True)
        replay_originals(cluster, original, originals)
        psql_file(
            cluster, squashed, squashed_up, single_transaction=not owns_transaction(squashed_up.read_bytes())
        )
        dump_a, dump_b = schema_dump(cluster, original), schema_dump(cluster, squashed)
        diff = "\n".join(difflib.unified_diff(dump_a, dump_b, "originals", "squashed", lineterm="", n=2))
        rows_a, excluded = row_digests(
            original, frozen_columns=frozen, nondeterministic_tables=nondeterministic
        )
        rows_b, _ = row_digests(squashed, frozen_columns=frozen, nondeterministic_tables=nondeterministic)
    differences = [
        f"{name}: {rows_a.get(name)} vs {rows_b.get(name)}"
        for name in sorted(set(rows_a) | set(rows_b))
        if rows_a.get(name) != rows_b.get(name)
    ]
    tables = sum(1 for name in rows_a if not name.startswith("sequence "))
    return OracleReport(diff, tables, differences, excluded)
