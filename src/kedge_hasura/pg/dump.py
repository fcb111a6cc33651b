"""Run pg_dump with pinned flags, and read the dependency facts squash needs from the catalog.

pg_dump must be at least as new as the server (it refuses otherwise); with a scratch server of our
own we use the same installation. Since the August 2025 minor releases, plain dumps begin
`\\restrict <random key>`: we pin the key when this pg_dump knows `--restrict-key`, so the text is
stable, and sql.pgdump strips those meta-commands anyway.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

from kedge_hasura.errors import ToolError
from kedge_hasura.pg.binaries import PgInstallation

RESTRICT_KEY = "kedgehasura"


@dataclass(frozen=True)
class DumpOptions:
    exclude_schemas: tuple[str, ...] = ()
    exclude_table_data: tuple[str, ...] = ()  # "schema.table" patterns whose rows are left out
    owners: bool = False
    data: bool = True
    rows_per_insert: int = 100


def dump(installation: PgInstallation, conninfo: str, options: DumpOptions) -> str:
    """A plain-format dump of the database as text (schema, and rows as multi-row INSERTs).

    Raises:
        ToolError: pg_dump is missing, too old for the server, or failed.
    """
    binary = installation.binary("pg_dump")
    argv = [
        str(binary),
        "--dbname", conninfo,
        "--format", "plain",
        "--no-tablespaces",
        "--no-security-labels",
        "--no-subscriptions",
        "--encoding", "UTF8",
    ]  # fmt: skip
    if _knows_option(binary, "--restrict-key"):
        argv += ["--restrict-key", RESTRICT_KEY]
    if not options.owners:
        argv.append("--no-owner")
    if options.data:
        # Explicit column lists survive column order differences; multi-row INSERTs are compact.
        argv += ["--column-inserts", "--rows-per-insert", str(options.rows_per_insert)]
    else:
        argv.append("--schema-only")
    for schema in options.exclude_schemas:
        argv += ["--exclude-schema", schema]
    for table in options.exclude_table_data:
        argv += ["--exclude-table-data", table]
    # Bytes, not text mode: text mode turns the CR of a CRLF inside a function body, a comment or
    # a string literal into LF, and the squashed migration would no longer build the same database.
    result = subprocess.run(argv, capture_output=True, check=False, env=_environment())
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ToolError(
            f"pg_dump ({installation.version}) failed: {message[-1] if message else 'no message'}",
            hint="pg_dump must be the same major version as the server or newer",
            details={"output": "\n".join(message[-10:])},
        )
    try:
        return result.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolError(f"pg_dump ({installation.version}) wrote text that is not UTF-8: {exc}") from None


@functools.cache
def _knows_option(binary: Path, option: str) -> bool:
    help_text = subprocess.run([str(binary), "--help"], capture_output=True, text=True, check=False).stdout
    return option in help_text


def _environment() -> dict[str, str]:
    import os

    # pg_dump reads PG* variables; a stray PGOPTIONS or PGDATABASE must not change what we dump.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")} | {"LC_ALL": "C"}


_FIRST_NORMAL_OBJECT_ID = 16384  # OIDs below this belong to PostgreSQL itself


def last_oid(conninfo: str) -> int:
    """The highest OID in use: objects created later (by the migrations) have higher ones.

    A scratch copy of a database keeps its OIDs, and the OID counter only grows, so on a copy of
    the state before the range this separates "existed before" from "created by the range".
    """
    query = (
        "SELECT greatest((SELECT max(oid) FROM pg_class), (SELECT max(oid) FROM pg_proc), "
        "(SELECT max(oid) FROM pg_type), (SELECT max(oid) FROM pg_namespace))::bigint"
    )
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(query.encode()).fetchone()
    return int(str(row[0])) if row else 0


def referenced_roles(conninfo: str, before_oid: int, *, owners: bool) -> list[str]:
    """Roles that objects created after `before_oid` grant to or name in policies (and, with
    `owners`, that own them): the roles a squashed migration needs wherever it runs.

    The bootstrap superuser and PostgreSQL's predefined pg_* roles are left out.
    """
    deptypes = "'a', 'r', 'o'" if owners else "'a', 'r'"
    query = f"""
        SELECT DISTINCT r.rolname
        FROM pg_shdepend s
        JOIN pg_roles r ON r.oid = s.refobjid
        WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND s.refclassid = 'pg_authid'::regclass AND s.deptype IN ({deptypes})
          AND s.objid > {int(before_oid)} AND r.oid <> 10 AND r.rolname NOT LIKE 'pg\\_%'
        ORDER BY 1
    """
    with psycopg.connect(conninfo) as connection:
        return [str(row[0]) for row in connection.execute(query.encode()).fetchall()]


def outside_dependencies(conninfo: str, before_oid: int) -> list[str]:
    """Objects that existed before the range (and are not PostgreSQL's) that new objects use.

    Examples: a table of a schema created by --pre-sql (a foreign key to auth.users), or a
    function of the pgcrypto extension that Hasura installs (public.gen_random_uuid()).
    """
    query = f"""
        SELECT DISTINCT pg_describe_object(d.refclassid, d.refobjid, 0)
        FROM pg_depend d
        WHERE d.objid > {int(before_oid)} AND d.refobjid <= {int(before_oid)}
          AND d.refobjid >= {_FIRST_NORMAL_OBJECT_ID} AND d.deptype IN ('n', 'a')
        ORDER BY 1
    """
    with psycopg.connect(conninfo) as connection:
        return [str(row[0]) for row in connection.execute(query.encode()).fetchall()]
