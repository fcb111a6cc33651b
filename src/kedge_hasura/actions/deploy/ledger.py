"""The ledger: a table in each target database that records, in the migration's own transaction,
which migrations kedge-hasura applied.

Catalog state (where the Hasura CLI records applied versions) lives in the metadata database and is
written by separate requests, so a crash between the SQL and the state write leaves them
disagreeing (contract §4.4, issue #7166). The ledger row is inserted by the same `run_sql` as the
migration: it exists exactly when the migration committed. Deploy uses it to settle dirty
versions, to refuse a batch a concurrent deploy already applied, and to spot migrations edited
after they were applied.

Every batch starts with the prelude: a transaction-level advisory lock (two deploys to one
database take turns), the ledger's creation if missing, and a guard that aborts the batch if any
of its versions is already in the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from kedge_hasura import __version__
from kedge_hasura.errors import DeployInProgress, HasuraPostgresError
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.sql.quoting import quote_literal

LEDGER_SCHEMA = "kedge_hasura"
LEDGER = f"{LEDGER_SCHEMA}.migration_ledger"
# One advisory lock key for every kedge-hasura deploy (advisory locks are per database).
_LOCK_KEY = 4_703_651_922_071_774
CONCURRENT_DEPLOY = "kedge-hasura: applied meanwhile by another deploy"
PROBE = "kedge-hasura probe"
# The SQLSTATE of kedge-hasura's never-committing requests (class P0, raise_exception, with a
# code of our own): matched together with the message, so no migration's own RAISE passes for it.
SENTINEL_SQLSTATE = "P0K01"
_MISSING = {"42P01", "3F000"}  # undefined table, undefined schema: no ledger yet
_LOCK_NOT_AVAILABLE = "55P03"
_CREATE_LEDGER = (
    f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA};\n"
    f"CREATE TABLE IF NOT EXISTS {LEDGER} (\n"
    "    version numeric(20) PRIMARY KEY,\n"
    "    name text NOT NULL,\n"
    "    up_sha256 text NOT NULL,\n"
    "    applied_at timestamptz NOT NULL DEFAULT now(),\n"
    "    tool_version text NOT NULL,\n"
    "    applied_by text NOT NULL\n"
    ");\n"
)


class LedgerEntry(BaseModel):
    version: int
    name: str
    up_sha256: str
    applied_by: str


class Ledger(BaseModel):
    exists: bool
    entries: dict[int, LedgerEntry] = {}


def read_ledger(client: HasuraClient, database: str, *, wait_for_deploys: float | None = None) -> Ledger:
    """The ledger of one database (read-only); `exists` False when kedge-hasura never deployed there.

    With `wait_for_deploys` (seconds), the read first takes kedge-hasura's deploy lock, so a batch
    still running on the server (whose answer this process lost) is waited for and then seen.

    Raises:
        DeployInProgress: another batch still held the lock after `wait_for_deploys` seconds.
    """
    sql = f"SELECT version::text, name, up_sha256, applied_by FROM {LEDGER} ORDER BY version"
    if wait_for_deploys is not None:
        sql = _wait_for_lock(wait_for_deploys) + sql
    try:
        result = client.run_sql(sql, source=database, read_only=True, check_metadata_consistency=None)
    except HasuraPostgresError as exc:
        if exc.sqlstate in _MISSING:
            return Ledger(exists=False)
        if exc.sqlstate == _LOCK_NOT_AVAILABLE:
            raise DeployInProgress(database, wait_for_deploys or 0) from exc
        if exc.sqlstate is None and not relation_exists(client, database, LEDGER):
            # A server that hides `internal` (HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS=false or
            # dev mode off, contract §2.6) sends no SQLSTATE: ask the catalog instead.
            return Ledger(exists=False)
        raise
    return Ledger(exists=True, entries=_entries(result.rows))


def relation_exists(client: HasuraClient, database: str, relation: str) -> bool:
    """Whether `relation` (schema.name) exists, asked in a way that cannot fail when it does not:
    the fallback for servers whose errors carry no SQLSTATE."""
    result = client.run_sql(
        f"SELECT to_regclass({quote_literal(relation)}) IS NOT NULL",
        source=database,
        read_only=True,
        check_metadata_consistency=None,
    )
    return result.rows == [["t"]]


def ensure_ledger(client: HasuraClient, database: str) -> None:
    """Create the ledger if it is missing (before the first dirty mark of a deploy).

    With the ledger in place before any version is marked dirty, a dirty version without a ledger
    row always means "never committed", even after a failure of the very first batch.
    """
    client.run_sql(prelude([]), source=database, check_metadata_consistency=False)


def _wait_for_lock(seconds: float) -> str:
    # A transaction-level lock: released when this request's transaction ends.
    milliseconds = max(1, int(seconds * 1000))
    return f"SET LOCAL lock_timeout = '{milliseconds}ms';\nSELECT pg_advisory_xact_lock({_LOCK_KEY});\n"


def _entries(rows: Sequence[Sequence[str | None]]) -> dict[int, LedgerEntry]:
    entries = {}
    for version, name, sha, applied_by in rows:
        entry = LedgerEntry(
            version=int(version or 0), name=name or "", up_sha256=sha or "", applied_by=applied_by or ""
        )
        entries[entry.version] = entry
    return entries


def prelude(versions: Sequence[int]) -> str:
    """SQL that opens every batch: lock, ledger table, and the concurrent-deploy guard."""
    guard = ""
    if versions:
        listed = ", ".join(str(v) for v in versions)
        guard = (
            "DO $kedge$ BEGIN\n"
            f"  IF EXISTS (SELECT 1 FROM {LEDGER} WHERE version IN ({listed})) THEN\n"
            f"    RAISE EXCEPTION '{CONCURRENT_DEPLOY}';\n"
            "  END IF;\n"
            "END $kedge$;\n"
        )
    return (
        "-- kedge-hasura: one deploy at a time on this database; the ledger records what committed.\n"
        f"SELECT pg_advisory_xact_lock({_LOCK_KEY});\n" + _CREATE_LEDGER + guard
    )


def record(version: int, name: str, up_sha256: str, *, applied_by: str = "deploy") -> str:
    """SQL inserting a ledger row (inside the migration's transaction)."""
    return (
        f"INSERT INTO {LEDGER} (version, name, up_sha256, tool_version, applied_by) VALUES "
        f"({version}, {quote_literal(name)}, {quote_literal(up_sha256)}, "
        f"{quote_literal(__version__)}, {quote_literal(applied_by)});\n"
    )


def forget(*versions: int) -> str:
    """SQL deleting ledger rows (inside the down migration's transaction)."""
    return f"DELETE FROM {LEDGER} WHERE version IN ({', '.join(str(v) for v in versions)});\n"


def probe() -> str:
    """A statement that always fails with a known message: ends a request that must not commit."""
    return sentinel(PROBE)


def sentinel(message: str) -> str:
    """A statement that always fails with SQLSTATE P0K01 and `message` (a literal without quotes)."""
    return (
        f"DO $kedge$ BEGIN RAISE EXCEPTION USING ERRCODE = '{SENTINEL_SQLSTATE}', "
        f"MESSAGE = {quote_literal(message)}; END $kedge$;\n"
    )


def is_sentinel(error: HasuraPostgresError, message: str) -> bool:
    """Whether `error` is our sentinel: its SQLSTATE and its message (absent when the server hides
    `internal`, contract §2.6: then it cannot be told from a real failure, and is not taken as one)."""
    return error.sqlstate == SENTINEL_SQLSTATE and error.pg_message == message


def is_probe(error: HasuraPostgresError) -> bool:
    return is_sentinel(error, PROBE)


def is_concurrent_deploy(error: HasuraPostgresError) -> bool:
    return CONCURRENT_DEPLOY in (error.pg_message or "")
