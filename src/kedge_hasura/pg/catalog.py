"""Run catalog queries over psycopg, in one consistent read-only snapshot.

REPEATABLE READ READ ONLY gives all queries one snapshot, so a concurrent migration cannot produce
a half-old picture. The settings each call asks for (schemadiff's SESSION_SETTINGS) are applied
with SET LOCAL inside that transaction, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import psycopg

from kedge_hasura.errors import DatabaseError
from kedge_hasura.settings import redact


class PsycopgExecutor:
    """An `Executor` (schemadiff.snapshot) over one psycopg connection; use as a context manager."""

    def __init__(self, conninfo: str, *, label: str = "database"):
        self._conninfo = conninfo
        self._label = label
        self._applied: tuple[tuple[str, str], ...] = ()
        self._connection: psycopg.Connection[tuple[Any, ...]] | None = None
        self.query_count = 0

    def __enter__(self) -> Self:
        try:
            self._connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=15)
            self._connection.execute(b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except psycopg.Error as exc:
            raise DatabaseError(
                f"cannot read the schema of {self._label}: {redact(str(exc).strip())}",
                hint="check the connection URL and that the server is running",
            ) from None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def fetch_json(self, sql: str, *, session: Sequence[tuple[str, str]] = ()) -> Any:
        """Run a query that returns one row with one JSON value; return it parsed."""
        assert self._connection is not None, "use PsycopgExecutor as a context manager"
        self.query_count += 1
        try:
            if tuple(session) != self._applied:
                for name, value in session:
                    self._connection.execute("SELECT set_config(%s, %s, true)", (name, value))
                self._applied = tuple(session)
            row = self._connection.execute(sql.encode()).fetchone()
        except psycopg.Error as exc:
            raise DatabaseError(
                f"catalog query failed on {self._label}: {str(exc).strip()}",
                hint="kedge-hasura reads PostgreSQL 14 or newer; report this if the server is supported",
            ) from None
        return row[0] if row else None

    def fetch_json_batch(
        self, queries: dict[str, str], *, session: Sequence[tuple[str, str]] = ()
    ) -> dict[str, Any]:
        """Run each query in turn (all in this executor's single snapshot)."""
        return {name: self.fetch_json(sql, session=session) for name, sql in queries.items()}
