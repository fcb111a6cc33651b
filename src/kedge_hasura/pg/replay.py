"""Replay SQL scripts (migrations) on a database in order, each as Hasura's `run_sql` would run it.

`run_sql` sends a migration's whole text as one simple-protocol query inside one transaction
(contract §2.3). We do the same: `BEGIN`, the text, `COMMIT`. So a `CREATE INDEX CONCURRENTLY`
fails here exactly as it fails through Hasura (SQLSTATE 25001), and a `COMMIT` inside a file ends
the transaction early here too. A script marked `-- hasura:no-transaction` runs statement by
statement outside a transaction, as `run_sql` with `no_transaction: true` does.

PostgreSQL does not say which statement of a multi-statement query failed. When the error carries
a position we map it to the line; otherwise we re-run the statements one at a time inside a
transaction that is rolled back, to find the first one that fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import psycopg

from kedge_hasura.errors import DatabaseError, MigrationFailed


@dataclass(frozen=True)
class StatementSpan:
    """Where one statement sits in its script: character offsets and 1-based line."""

    start: int
    end: int
    line: int
    is_transaction_control: bool = False


@dataclass(frozen=True)
class SqlScript:
    """One migration's SQL as replay needs it (built from the project's migrations by the caller)."""

    version: int
    name: str
    path: Path | None
    sql: str
    statements: tuple[StatementSpan, ...]
    outside_transaction: bool = False

    def line_at(self, char_offset: int) -> int:
        return self.sql.count("\n", 0, char_offset) + 1

    def statement_text(self, span: StatementSpan) -> str:
        return self.sql[span.start : span.end]


class StepStatus(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    NOT_RUN = "not-run"  # an earlier script failed


@dataclass(frozen=True)
class StepFailure:
    """Why a script failed: the server's error and where in the file."""

    sqlstate: str | None
    message: str
    line: int | None
    statement: str | None
    hint: str | None = None
    detail: str | None = None
    context: str | None = None


@dataclass(frozen=True)
class ReplayStep:
    version: int
    name: str
    path: Path | None
    status: StepStatus
    seconds: float = 0.0
    failure: StepFailure | None = None
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplayReport:
    steps: tuple[ReplayStep, ...]
    seconds: float
    notices: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(step.status is StepStatus.APPLIED for step in self.steps)

    @property
    def failed_step(self) -> ReplayStep | None:
        return next((step for step in self.steps if step.status is StepStatus.FAILED), None)

    def raise_for_failure(self, *, hint: str | None = None) -> None:
        """Raise `MigrationFailed` for the failed step, if any."""
        step = self.failed_step
        if step is None or step.failure is None:
            return
        failure = step.failure
        where = (
            f"{step.path}:{failure.line}" if step.path and failure.line else str(step.path or step.version)
        )
        raise MigrationFailed(
            f"migration {step.version}_{step.name} failed at {where}: {failure.message}",
            version=step.version,
            path=step.path,
            line=failure.line,
            sqlstate=failure.sqlstate,
            pg_message=failure.message,
            statement_excerpt=failure.statement,
            hint=hint or failure.hint,
            details={"detail": failure.detail, "context": failure.context},
        )


ProgressCallback = Callable[[int, int, SqlScript], None]


def replay(
    conninfo: str,
    scripts: Sequence[SqlScript],
    *,
    on_script: ProgressCallback | None = None,
    seed: float | None = None,
) -> ReplayReport:
    """Apply `scripts` in order on the database at `conninfo`; stop at the first failure.

    `seed` (-1 to 1) seeds random() for the session first (`setseed`), so a replay that uses
    random() is repeatable, and two replays with different seeds differ where random() matters.

    Raises:
        DatabaseError: the database cannot be reached (a failing script is a result, not an error).
    """
    started = time.perf_counter()
    steps: list[ReplayStep] = []
    try:
        connection = psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to the scratch database: {str(exc).strip()}") from None
    notices: list[str] = []
    connection.add_notice_handler(
        lambda diag: (
            notices.append(f"{diag.severity or 'NOTICE'}: {diag.message_primary}")
            if diag.severity_nonlocalized in ("WARNING",)
            else None
        )
    )
    with connection:
        if seed is not None:
            connection.execute("SELECT setseed(%s)", (seed,))
        failed = False
        for position, script in enumerate(scripts):
            if failed:
                steps.append(ReplayStep(script.version, script.name, script.path, StepStatus.NOT_RUN))
                continue
            if on_script is not None:
                on_script(position, len(scripts), script)
            notices.clear()
            step_started = time.perf_counter()
            failure = _run_script(connection, script)
            seconds = time.perf_counter() - step_started
            status = StepStatus.FAILED if failure else StepStatus.APPLIED
            steps.append(
                ReplayStep(script.version, script.name, script.path, status, seconds, failure, tuple(notices))
            )
            failed = failure is not None
    return ReplayReport(steps=tuple(steps), seconds=time.perf_counter() - started)


def _run_script(connection: psycopg.Connection[tuple[object, ...]], script: SqlScript) -> StepFailure | None:
    if script.outside_transaction:
        for statement in script.statements:
            try:
                connection.execute(script.statement_text(statement).encode())
            except psycopg.Error as exc:
                return _failure(exc, script, statement)
        return None
    try:
        connection.execute(b"BEGIN")
        if script.sql.strip():
            # Bytes, not str: psycopg must not look for %s placeholders in migration text.
            connection.execute(script.sql.encode())
        connection.execute(b"COMMIT")
    except psycopg.Error as exc:
        _rollback(connection)
        span = _locate(connection, script, exc)
        return _failure(exc, script, span)
    finally:
        # Each run_sql may get another pooled connection: do not let SET leak into the next script.
        _reset_session(connection)
    return None


def _locate(
    connection: psycopg.Connection[tuple[object, ...]], script: SqlScript, error: psycopg.Error
) -> StatementSpan | None:
    """The statement that raised `error`, from its position or by re-running inside a rollback."""
    position = error.diag.statement_position
    if position:
        offset = int(position) - 1
        for span in script.statements:
            if span.start <= offset <= span.end:
                return StatementSpan(
                    span.start, span.end, script.line_at(offset), span.is_transaction_control
                )
        return StatementSpan(offset, offset, script.line_at(offset))
    if any(span.is_transaction_control for span in script.statements):
        return None  # re-running could commit part of the script
    try:
        connection.execute(b"BEGIN")
        for span in script.statements:
            try:
                connection.execute(script.statement_text(span).encode())
            except psycopg.Error as again:
                if again.sqlstate == error.sqlstate:
                    return span
                return None
        return None
    except psycopg.Error:
        return None
    finally:
        _rollback(connection)


def _failure(error: psycopg.Error, script: SqlScript, span: StatementSpan | None) -> StepFailure:
    diag = error.diag
    statement = None
    if span is not None:
        statement = " ".join(script.statement_text(span).split())[:200] or None
    return StepFailure(
        sqlstate=error.sqlstate,
        message=diag.message_primary or str(error).strip(),
        line=span.line if span else None,
        statement=statement,
        hint=_OUT_OF_RESOURCES_HINT if (error.sqlstate or "").startswith("53") else diag.message_hint,
        detail=diag.message_detail,
        context=diag.context,
    )


# SQLSTATE class 53 (disk full, out of memory, too many connections) is the scratch server's
# environment, not the migration: say so, or a user goes looking for a bug in their SQL.
_OUT_OF_RESOURCES_HINT = (
    "the scratch server ran out of resources, which is not a fault of this migration: with the "
    "server kedge-hasura starts, set KEDGE_SCRATCH_DIR to a folder with more free space (it uses "
    "/dev/shm when that has 2 GiB free, else the temporary folder); with --scratch-url, make room "
    "on that server"
)


def _rollback(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    with suppress(psycopg.Error):
        connection.execute(b"ROLLBACK")


def _reset_session(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    with suppress(psycopg.Error):
        connection.execute(b"RESET ALL")
