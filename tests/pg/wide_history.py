"""A history too big for any query that grows with the schema: 240 tables in five schemas (PostgreSQL's
100-argument limit stopped at 50; bench/squash_bench.py runs histories of 600 and more).

Names cover what quoting and keying must survive: reserved words, quotes, a dot, unicode, and
identifiers of exactly 63 bytes (PostgreSQL's limit; some multi-byte), plus one longer name that
PostgreSQL truncates. A few tables are wide (400 columns, and one at the 1,600-column maximum).
Each table gets `index % 4` rows, so the expected row counts are known without reading anything.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from .conftest import write_migration

SCHEMAS = ("public", "sales", "select", "Ünïcødé", "we.ird")
TABLES = 240
# table index → extra integer columns (3 + 1,597 = 1,600, the most a table can have)
WIDE = {7: 400, 111: 400, 222: 1597}
MIGRATIONS = 6
FIRST_VERSION = 1_700_000_000_000


def _table_name(index: int) -> str:
    if index % 50 == 1 and index < 400:
        return ("user", "order", "table", "from", "where", "select", "group", "limit")[index // 50 % 8]
    if index % 50 == 2:
        return f"long_{index:04}".ljust(63, "x")  # 63 bytes
    if index % 50 == 3:
        return "ü" * 29 + f"{index:05}"  # 58 + 5 = 63 bytes
    if index % 50 == 4:
        return f'we"ird {index}'
    if index % 50 == 5:
        return f"dotted.{index}"
    return f"t_{index:04}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tables() -> list[tuple[str, str, int]]:
    """(schema, table as stored, index) for every table of the history."""
    result = []
    for index in range(TABLES):
        schema = SCHEMAS[index % len(SCHEMAS)]
        result.append((schema, _table_name(index), index))
    return result


LONG_NAME = "z" * 70  # over the limit: PostgreSQL truncates it to 63 bytes (with a NOTICE)


def expected_counts() -> dict[str, int]:
    """`schema.table` → rows, from the generator alone."""
    counts = {f"{schema}.{name}": index % 4 for schema, name, index in tables()}
    counts["public." + "z" * 63] = 2
    return counts


def _create(schema: str, name: str, index: int) -> str:
    columns = ["id serial PRIMARY KEY", '"select" text NOT NULL', '"ü" integer']
    columns += [f"c{n:04} integer" for n in range(WIDE.get(index, 0))]
    relation = f"{_quote(schema)}.{_quote(name)}"
    rows = ", ".join(f"('row {r} of {index}', {r})" for r in range(index % 4))
    insert = f'INSERT INTO {relation} ("select", "ü") VALUES {rows};\n' if rows else ""
    return f"CREATE TABLE {relation} ({', '.join(columns)});\n{insert}"


def history_sql() -> list[str]:
    """The up.sql of each migration, in order."""
    schemas = "".join(f"CREATE SCHEMA IF NOT EXISTS {_quote(s)};\n" for s in SCHEMAS if s != "public")
    per = TABLES // MIGRATIONS
    chunks = [
        "".join(_create(*table) for table in tables()[start : start + per]) for start in range(0, TABLES, per)
    ]
    chunks[0] = schemas + chunks[0]
    chunks[-1] += f"CREATE TABLE public.{LONG_NAME} (id integer PRIMARY KEY);\n"
    chunks[-1] += f"INSERT INTO public.{LONG_NAME} VALUES (1), (2);\n"
    return chunks


DATABASES_YAML = """\
- name: default
  kind: postgres
  configuration:
    connection_info:
      database_url:
        from_env: HASURA_GRAPHQL_DATABASE_URL
  tables: []
"""


def write_project(root: Path) -> Path:
    """A Hasura project (config v3, database `default`) holding the history; returns `root`."""
    return write_hasura_project(root, history_sql())


def write_hasura_project(root: Path, ups: list[str]) -> Path:
    """A Hasura project (config v3, database `default`) with one migration per up.sql text."""
    (root / "metadata" / "databases").mkdir(parents=True)
    (root / "config.yaml").write_text(
        "version: 3\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n", encoding="utf-8"
    )
    (root / "metadata" / "version.yaml").write_text("version: 3\n", encoding="utf-8")
    (root / "metadata" / "databases" / "databases.yaml").write_text(DATABASES_YAML, encoding="utf-8")
    for number, up in enumerate(ups):
        write_migration(root / "migrations" / "default", FIRST_VERSION + number, f"tables_{number}", up)
    return root


def row_counts(conninfo: str) -> dict[str, int]:
    """`schema.table` → count(*), for every ordinary table outside the system schemas (psycopg only)."""
    with psycopg.connect(conninfo) as connection:
        tables = connection.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'hdb_catalog') "
            "AND n.nspname NOT LIKE 'pg\\_%'"
        ).fetchall()
        counts = {}
        for schema, name in tables:
            query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
            row = connection.execute(query).fetchone()
            assert row is not None
            counts[f"{schema}.{name}"] = int(row[0])
    return counts
