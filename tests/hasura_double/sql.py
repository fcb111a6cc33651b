"""run_sql as Hasura runs it, on a real database, answering in Hasura's format (contract §2).

Hasura sends the whole `sql` string as ONE simple-protocol query inside one transaction
(`BEGIN ... COMMIT`, §2.3) and returns only the last statement's result, every value as text
(§2.5). We do the same through raw libpq (`psycopg.pq`, PQexec): no parameters, no type
conversion, no `%` interpretation. So `CREATE INDEX CONCURRENTLY` fails with 25001 by itself,
and a `COMMIT` inside the text ends the transaction early, exactly as through Hasura.

With `no_transaction` (servers ≥ 2.45.3, §2.7) the statements run one by one outside a
transaction; they are split with PostgreSQL's grammar (libpg_query, via kedge_hasura's parser).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg import pq

from kedge_hasura.sql.statements import parse_sql

from .qerr import QErr, parse_failed

# RunSQL.hs's heuristic: SQL matching this turns the metadata check on unless told otherwise (§2.4).
_CHECK_HEURISTIC = re.compile(r"\balter\b|\bdrop\b|\breplace\b|\bcreate function\b|\bcomment on\b", re.I)

Rows = list[list[str | None]]
BeforeCommit = Callable[["Session"], None]


@dataclass(frozen=True)
class RunSQLArgs:
    sql: str
    source: str
    cascade: bool
    read_only: bool
    check_metadata_consistency: bool
    no_transaction: bool

    @classmethod
    def parse(cls, args: Any, *, path: str = "$.args") -> RunSQLArgs:
        if not isinstance(args, dict):
            raise parse_failed("expected an object for run_sql arguments", path)
        sql = args.get("sql")
        if not isinstance(sql, str):
            raise parse_failed('key "sql" not found', path)
        read_only = args.get("read_only") is True
        check = args.get("check_metadata_consistency")
        if read_only:
            check = False  # read_only skips every metadata check (§2.4 step 1)
        elif not isinstance(check, bool):
            check = bool(_CHECK_HEURISTIC.search(sql))
        return cls(
            sql=sql,
            source=str(args.get("source", "default")),
            cascade=args.get("cascade") is True,
            read_only=read_only,
            check_metadata_consistency=check,
            no_transaction=args.get("no_transaction") is True,
        )


class Session:
    """One raw libpq connection for one run_sql (Hasura's pool resets sessions the same way)."""

    def __init__(self, conninfo: str):
        self._conn = pq.PGconn.connect(conninfo.encode())
        if self._conn.status != pq.ConnStatus.OK:
            message = self._conn.get_error_message()
            self._conn.finish()
            raise QErr(500, "unexpected", f"database connection error: {message.strip()}", path="$")
        # libpq prints notices to stderr by default ("there is no transaction in progress").
        self._conn.notice_handler = lambda result: None

    def close(self) -> None:
        self._conn.finish()

    def execute(self, sql: str) -> pq.abc.PGresult:
        """PQexec: the last statement's result; a failure keeps its result for `error_internal`."""
        return self._conn.exec_(sql.encode())

    def query(self, sql: str) -> Rows:
        """Rows of text from a catalog query run by the double itself (raises on failure)."""
        result = self.execute(sql)
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise QErr(500, "unexpected", f"double catalog query failed: {_field(result, 'MESSAGE_PRIMARY')}")
        return _rows(result)[1:]


def run_sql(
    conninfo: str,
    args: RunSQLArgs,
    *,
    honour_no_transaction: bool,
    before_commit: BeforeCommit | None = None,
) -> dict[str, Any]:
    """Run one run_sql; the answer body, or QErr (400 postgres-error) after a rollback."""
    session = Session(conninfo)
    try:
        if args.no_transaction and honour_no_transaction:
            return _run_statements(session, args.sql)
        mode = "READ ONLY" if args.read_only else "READ WRITE"
        _expect_ok(session.execute(f"BEGIN ISOLATION LEVEL READ COMMITTED {mode}"), args.sql)
        try:
            result = session.execute(args.sql)
            _raise_for_error(result, args.sql)
            if before_commit is not None:
                before_commit(session)
            _expect_ok(session.execute("COMMIT"), args.sql)  # deferred constraints fail here
        except QErr:
            session.execute("ROLLBACK")
            raise
        return _answer(result)
    finally:
        session.close()


def _run_statements(session: Session, sql: str) -> dict[str, Any]:
    # Outside a transaction: each statement commits on its own; the first failure stops the rest.
    last: dict[str, Any] = {"result_type": "CommandOk", "result": None}
    for statement in parse_sql(sql).statements:
        result = session.execute(statement.text)
        _raise_for_error(result, sql)
        last = _answer(result)
    return last


def _answer(result: pq.abc.PGresult) -> dict[str, Any]:
    if result.status == pq.ExecStatus.TUPLES_OK:
        return {"result_type": "TuplesOk", "result": _rows(result)}
    return {"result_type": "CommandOk", "result": None}


def _rows(result: pq.abc.PGresult) -> Rows:
    header: list[str | None] = [(result.fname(i) or b"").decode() for i in range(result.nfields)]
    rows: Rows = [header]
    for row in range(result.ntuples):
        values: list[str | None] = []
        for column in range(result.nfields):
            value = result.get_value(row, column)
            values.append(None if value is None else bytes(value).decode())
        rows.append(values)
    return rows


def _expect_ok(result: pq.abc.PGresult, sql: str) -> None:
    _raise_for_error(result, sql)


def _raise_for_error(result: pq.abc.PGresult, sql: str) -> None:
    if result.status in (pq.ExecStatus.COPY_IN, pq.ExecStatus.COPY_OUT, pq.ExecStatus.COPY_BOTH):
        raise QErr(400, "unexpected", "COPY to or from the client is not supported by run_sql")
    if result.status not in (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.BAD_RESPONSE):
        return
    # The shape of RunSQL.hs's raw SQL error (§2.6): `statement` is the WHOLE text that was sent.
    raise QErr(
        400,
        "postgres-error",
        "query execution failed",
        path="$.args",
        internal={
            "statement": sql,
            "prepared": False,
            "arguments": [],
            "error": {
                "exec_status": "FatalError",
                "message": _field(result, "MESSAGE_PRIMARY"),
                "status_code": _field(result, "SQLSTATE"),
                "hint": _field(result, "MESSAGE_HINT"),
                "description": _field(result, "MESSAGE_DETAIL"),
            },
        },
    )


def _field(result: pq.abc.PGresult, name: str) -> str | None:
    value = result.error_field(getattr(pq.DiagnosticField, name))
    return None if value is None else bytes(value).decode()
