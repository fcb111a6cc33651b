"""Run catalog queries over psycopg, in one consistent read-only snapshot.

REPEATABLE READ READ ONLY gives all queries one snapshot, so a concurrent migration cannot produce
a half-old picture. The settings each call asks for (schemadiff's SESSION_SETTINGS) are applied
with SET LOCAL inside that transaction, once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_loads

from kedge_hasura.errors import DatabaseError
from kedge_hasura.settings import redact


class PsycopgExecutor:
    """An `Executor` (schemadiff.snapshot) over one psycopg connection; use as a context manager."""

    def __init__(self, conninfo: str, *, label: str | None = None):
        self._conninfo = conninfo
        self._label = label or _database_label(conninfo)
        self._applied: tuple[tuple[str, str], ...] = ()
        self._connection: psycopg.Connection[tuple[Any, ...]] | None = None
        self.query_count = 0

    def __enter__(self) -> Self:
        try:
            self._connection = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=15)
            # JSON answers arrive as text and are parsed when used (see JsonAnswers).
            set_json_loads(_as_text, self._connection)
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
        return self.fetch_json_batch({"query": sql}, session=session)["query"]

    def fetch_json_batch(
        self, queries: dict[str, str], *, session: Sequence[tuple[str, str]] = ()
    ) -> Mapping[str, Any]:
        """Run the queries in this executor's single snapshot; the answers by name, parsed on access.

        They are sent at once in pipeline mode, so the server works on the next query while this
        process reads the answer to the previous one.
        """
        connection = self._connection
        assert connection is not None, "use PsycopgExecutor as a context manager"
        self.query_count += len(queries)
        try:
            if tuple(session) != self._applied:
                for name, value in session:
                    connection.execute("SELECT set_config(%s, %s, true)", (name, value))
                self._applied = tuple(session)
            with connection.pipeline():
                cursors = {name: connection.execute(sql.encode()) for name, sql in queries.items()}
                texts = {}
                for name, cursor in cursors.items():
                    row = cursor.fetchone()
                    texts[name] = row[0] if row else None
                    cursor.close()  # frees libpq's copy of the answer now, not at the end
        except psycopg.Error as exc:
            raise DatabaseError(
                f"catalog query failed on {self._label}: {str(exc).strip()}",
                hint=_query_failure_hint(exc, connection),
                details={"sqlstate": exc.sqlstate, "database": self._label},
            ) from None
        return JsonAnswers(texts)


class JsonAnswers(Mapping[str, Any]):
    """Answers kept as JSON text, each parsed when it is read, and released: read each one once.

    A 3,000-table snapshot is 10 MB of JSON and five times that once parsed; a caller that reads
    the answers one by one (build_snapshot) holds one parsed kind at a time and no text it has
    already used. A second read of the same answer is a bug in the caller and says so.
    """

    def __init__(self, texts: dict[str, str | None]):
        self._texts = texts
        self._read: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        if name in self._read:
            raise RuntimeError(f"the answer to catalog query {name!r} was already read (read each once)")
        text = self._texts[name]
        self._read.add(name)
        self._texts[name] = None
        return None if text is None else json.loads(text)

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


def _database_label(conninfo: str) -> str:
    try:
        name = conninfo_to_dict(conninfo).get("dbname")
    except psycopg.ProgrammingError:
        name = None
    return f"database {name}" if name else "the database"


# Catalog columns or functions missing: the one failure a server version explains.
_VERSION_SQLSTATES = frozenset({"42703", "42883", "42P01", "42704"})


def _query_failure_hint(exc: psycopg.Error, connection: psycopg.Connection[tuple[Any, ...]]) -> str:
    version = connection.info.server_version // 10000
    if exc.sqlstate in _VERSION_SQLSTATES and version < 14:
        return f"kedge-hasura reads PostgreSQL 14 or newer; this server is PostgreSQL {version}"
    return (
        f"a query kedge-hasura generated failed on PostgreSQL {version} (SQLSTATE {exc.sqlstate}): "
        "a bug in kedge-hasura; please report it with this message"
    )


def _as_text(data: bytes | str) -> str:
    return data.decode() if isinstance(data, bytes) else data
