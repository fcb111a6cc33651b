"""`deploy --rehearse`: run the pending migrations on the real server in requests that never commit.

Each database's pending migrations go to Hasura in ONE run_sql, as a deploy sends them, but
framed so it can never commit:

    SET LOCAL lock_timeout = ...; SET LOCAL statement_timeout = ...;
    <every pending migration, in order>
    DO $kedge$ BEGIN RAISE EXCEPTION USING ERRCODE = 'P0K01', MESSAGE = '...'; END $kedge$;

run_sql wraps the text in one transaction (contract §2.3), so the sentinel's error rolls back
everything before it. When the sentinel's own error comes back (SQLSTATE and message), every
migration ran against today's data; any other error is a migration failing. Hasura reports the
whole text, not the failing statement (§2.6), so requests that stop earlier and end with the same
sentinel bisect to the migration and the statement, whose file and line are reported.
With `keep_going` the failing migration is left out and the rest rehearsed again, until the
sentinel answers; later failures are marked as possibly caused by the earlier ones.

Hasura decides whether `internal` (SQLSTATE, message) reaches the caller (§2.6). Without it the
sentinel cannot be told from a failure, so the rehearsal stops as inconclusive: nothing ran to
commit either way. Migrations that cannot run in one transaction (the no-transaction marker,
CREATE INDEX CONCURRENTLY, explicit BEGIN/COMMIT, ALTER TYPE ... ADD VALUE before PostgreSQL 12)
are left out and listed with the reason. Nothing writes catalog state or the ledger: the only
requests are read-only reads and the never-committing rehearsals.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from kedge_hasura.actions.deploy import ledger as ledger_sql
from kedge_hasura.actions.deploy.keeper import StateKeeper
from kedge_hasura.actions.deploy.plan import PlanOptions, Step, plan_database
from kedge_hasura.actions.deploy.seeds import plan_seeds, read_seed_ledger
from kedge_hasura.errors import HasuraError, HasuraPostgresError, HasuraUnreachable, UsageError
from kedge_hasura.findings import Finding, Severity
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations
from kedge_hasura.project.naming import migration_folder_name
from kedge_hasura.sql.statements import Statement, parse_sql
from kedge_hasura.words import plural

Progress = Callable[[str], None]
# Offline metadata check: databases → findings of the metadata against the replayed schema.
MetadataCheck = Callable[[list[str]], list[Finding]]
SENTINEL_MESSAGE = "kedge-hasura rehearsal: rolled back"
# A lock or statement timeout ends the rehearsal: retrying later migrations would wait again.
_TIMEOUTS = {"55P03": "lock_timeout", "57014": "statement_timeout"}
_UNSAFE_NEW_ENUM_VALUE = "55P04"
_MAX_TIMEOUT = 2_147_483  # seconds: INT_MAX milliseconds
_ENUM_IN_TRANSACTION = 120000  # ALTER TYPE ... ADD VALUE runs inside a transaction from PG 12


@dataclass(frozen=True)
class RehearseRequest:
    databases: tuple[str, ...] = ()  # empty: every database with migrations
    lock_timeout: float = 5.0  # seconds
    statement_timeout: float = 300.0  # seconds
    keep_going: bool = False
    allow_edited: bool = False
    with_seeds: bool = False  # rehearse the seeds a `deploy --with-seeds` would apply, after the migrations
    reapply_changed_seeds: bool = False


class RehearsalFailure(BaseModel):
    version: int
    name: str
    path: str
    line: int | None
    sqlstate: str | None
    message: str
    detail: str | None = None
    hint: str | None = None
    statement: str | None = None  # an excerpt of the failing statement
    possibly_caused_by_earlier: bool = False  # an earlier migration failed or was not rehearsed

    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class NotRehearsed(BaseModel):
    version: int
    name: str
    path: str
    reason: str


class DatabaseRehearsal(BaseModel):
    database: str
    server_version_num: int
    rehearsed: list[int] = []  # versions sent in the rehearsal
    seeds_rehearsed: list[str] = []  # seed files sent after them (--with-seeds)
    not_rehearsed: list[NotRehearsed] = []
    failures: list[RehearsalFailure] = []
    stopped: str | None = None  # why later migrations were not tried (a timeout)
    # Sequences whose position moved: nextval is never rolled back, in a rehearsal as anywhere.
    sequences_advanced: list[str] = []
    requests: int = 0  # run_sql rehearsal requests sent (each rolled back)
    seconds: float = 0.0


class RehearsalResult(BaseModel):
    """The result of `kedge-hasura deploy --rehearse`."""

    endpoint: str
    server_version: str
    lock_timeout: float
    statement_timeout: float
    databases: list[DatabaseRehearsal]
    metadata_checked: bool = False
    metadata_findings: list[Finding] = []

    @property
    def ok(self) -> bool:
        failing = any(f.severity is Severity.ERROR for f in self.metadata_findings)
        return not failing and not any(db.failures for db in self.databases)


def rehearse(
    project: Project,
    client: HasuraClient,
    request: RehearseRequest,
    *,
    metadata_check: MetadataCheck | None = None,
    progress: Progress | None = None,
) -> RehearsalResult:
    """Rehearse every pending migration of each database on the server, then check the metadata.

    Raises:
        UsageError: a timeout is not positive, or an unknown database.
        ProjectError: the migrations have errors, or the plan is not safe (as for deploy).
        HasuraError: the server could not be asked, or hides the errors a rehearsal needs.
    """
    for option, value in (
        ("--lock-timeout", request.lock_timeout),
        ("--statement-timeout", request.statement_timeout),
    ):
        # PostgreSQL takes whole milliseconds up to INT_MAX; nan and inf are not durations.
        if not 0.001 <= value <= _MAX_TIMEOUT:
            raise UsageError(
                f"{option} must be a number of seconds from 0.001 to {_MAX_TIMEOUT}, not {value}"
            )
    say = progress or (lambda message: None)
    databases = _databases(project, request)  # a wrong --database fails before any request
    info = client.version()
    options = PlanOptions(
        allow_edited=request.allow_edited,
        supports_no_transaction=True,  # not run here: listed as not rehearsed instead
        server_version=info.version,
    )
    # The keeper only reads here: a rehearsal never writes catalog state.
    keeper = StateKeeper.read(client)
    if not keeper.state.is_state_copy_completed:
        # As deploy plans: versions an old CLI recorded in hdb_catalog.schema_migrations count as
        # applied (copied in memory only, never saved).
        keeper.copy_legacy(say=say)
    state = keeper.state
    result = RehearsalResult(
        endpoint=client.endpoint,
        server_version=info.version,
        lock_timeout=request.lock_timeout,
        statement_timeout=request.statement_timeout,
        databases=[],
    )
    try:
        for migrations in databases:
            say(f"rehearsing {migrations.database}")
            ledger = ledger_sql.read_ledger(client, migrations.database)
            plan = plan_database(migrations, state, ledger, options)
            steps = plan.steps + (
                _seed_steps(project, client, plan.database, request) if request.with_seeds else []
            )
            result.databases.append(_rehearse_database(client, plan.database, steps, request, say))
    except HasuraUnreachable as exc:
        # Every request of a rehearsal is read-only or ends in the sentinel: say so, instead of
        # the generic "the SQL may have been applied".
        raise HasuraUnreachable(
            f"{exc.message}; a rehearsal's requests are read-only or end in a statement that always "
            "fails, so nothing of it was committed",
            may_have_reached_server=exc.may_have_reached_server,
            hint="run the rehearsal again",
        ) from exc
    if metadata_check is not None:
        say("checking the metadata against the migrated schema (offline replay)")
        result.metadata_findings = metadata_check([m.database for m in databases])
        result.metadata_checked = True
    return result


def _databases(project: Project, request: RehearseRequest) -> list[DatabaseMigrations]:
    # The one database-selection rule of every command (Project.databases), as deploy uses it.
    if not request.databases:
        return project.databases(None, analyze_sql=True)
    return [project.migrations_of(name, analyze_sql=True) for name in request.databases]


def _server_version_num(client: HasuraClient, database: str) -> int:
    rows = client.run_sql(
        "SELECT current_setting('server_version_num')", source=database, read_only=True,
        check_metadata_consistency=None,
    ).rows  # fmt: skip
    return int(rows[0][0] or 0) if rows else 0


def _rehearse_database(
    client: HasuraClient, database: str, steps: Sequence[Step], request: RehearseRequest, say: Progress
) -> DatabaseRehearsal:
    started = time.perf_counter()
    report = DatabaseRehearsal(database=database, server_version_num=_server_version_num(client, database))
    runnable: list[Step] = []
    skipped_before: set[int] = set()  # versions after a migration that was not rehearsed
    for step in steps:
        reason = _not_rehearsable(step, report.server_version_num)
        if reason is not None:
            report.not_rehearsed.append(
                NotRehearsed(version=step.version, name=step.name, path=str(step.path), reason=reason)
            )
        else:
            runnable.append(step)
            if report.not_rehearsed:
                skipped_before.add(step.version)
    report.rehearsed = [step.version for step in runnable if step.origin != "seed"]
    report.seeds_rehearsed = [step.name for step in runnable if step.origin == "seed"]
    if runnable:
        before = _sequences(client, database)
        try:
            _run_rehearsals(client, database, runnable, skipped_before, request, report, say)
        finally:
            after = _sequences(client, database)
            report.sequences_advanced = sorted(
                name for name, value in after.items() if before.get(name) != value
            )
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _sequences(client: HasuraClient, database: str) -> dict[str, str | None]:
    rows = client.run_sql(
        "SELECT format('%I.%I', schemaname, sequencename), last_value::text FROM pg_sequences",
        source=database, read_only=True, check_metadata_consistency=None,
    ).rows  # fmt: skip
    return {str(name): value for name, value in rows}


def _run_rehearsals(
    client: HasuraClient,
    database: str,
    runnable: list[Step],
    skipped_before: set[int],
    request: RehearseRequest,
    report: DatabaseRehearsal,
    say: Progress,
) -> None:
    rehearsal = _Rehearsal(client, database, request, report)
    remaining = list(runnable)
    start = 0  # migrations before this index are known to run (with the failed ones left out)
    while remaining:
        say(f"{database}: rehearsing {plural(len(remaining), 'migration')}")
        error = rehearsal.failure(remaining, len(remaining))
        if error is None:
            break
        index, statement, error = rehearsal.locate(remaining, start, error)
        step = remaining[index]
        if error.sqlstate == _UNSAFE_NEW_ENUM_VALUE and any(s.ends_batch for s in remaining[:index]):
            # A deploy commits after ALTER TYPE ... ADD VALUE; inside one rehearsal the new label
            # cannot be used yet. Not a failure of the migration: it is left out, and the rest goes on.
            if step.origin == "seed":
                report.seeds_rehearsed.remove(step.name)
            else:
                report.rehearsed.remove(step.version)
            report.not_rehearsed.append(
                NotRehearsed(
                    version=step.version, name=step.name, path=str(step.path),
                    reason="uses an enum label added by an earlier pending migration, which PostgreSQL "
                    "allows only after that one commits (a deploy commits it first)",
                )
            )  # fmt: skip
            skipped_before.update(s.version for s in remaining[index + 1 :])
            del remaining[index]
            start = index
            continue
        earlier = bool(report.failures) or step.version in skipped_before
        report.failures.append(_failure(step, statement, error, possibly_caused=earlier))
        if error.sqlstate in _TIMEOUTS:
            report.stopped = (
                f"{_TIMEOUTS[error.sqlstate]} reached at {_label(step)}: the later migrations were not tried"
            )
            break
        if not request.keep_going:
            if index + 1 < len(remaining):
                report.stopped = "stopped at the first failure (--keep-going rehearses the rest)"
            break
        del remaining[index]
        start = index


def _not_rehearsable(step: Step, server_version_num: int) -> str | None:
    """Why a migration cannot run inside the rehearsal's transaction, or None."""
    if step.outside_transaction:
        return f"{step.reasons[0]}: it cannot run inside the rehearsal's transaction"
    if step.alone:
        return f"{step.reasons[0]}: its own COMMIT would end the rehearsal's transaction"
    if step.ends_batch and server_version_num < _ENUM_IN_TRANSACTION:
        return "ALTER TYPE ... ADD VALUE cannot run inside a transaction before PostgreSQL 12"
    return None


class _Rehearsal:
    """Sends never-committing requests for one database and counts them."""

    def __init__(
        self, client: HasuraClient, database: str, request: RehearseRequest, report: DatabaseRehearsal
    ):
        self.client = client
        self.database = database
        self.request = request
        self.report = report

    def failure(
        self, steps: Sequence[Step], count: int, statements: int | None = None
    ) -> HasuraPostgresError | None:
        """Run the first `count` steps (the last one cut after `statements` statements); None when
        the sentinel answered, else the error of the migration that failed."""
        sql = rehearsal_sql(steps, count, statements, self.request)
        self.report.requests += 1
        try:
            self.client.run_sql(sql, source=self.database, check_metadata_consistency=False)
        except HasuraPostgresError as exc:
            if ledger_sql.is_sentinel(exc, SENTINEL_MESSAGE):
                return None
            if exc.sqlstate is None:
                raise HasuraError(
                    f"database {self.database}: the rehearsal failed, and Hasura hides the error's details "
                    "(no `internal` block), so a failing migration cannot be told from the rehearsal's own "
                    "rollback; nothing was committed",
                    hint="enable HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS (or dev mode) to rehearse",
                ) from exc
            return exc
        raise HasuraError(  # run_sql answered success: the sentinel did not run (cannot happen)
            f"database {self.database}: the rehearsal's final statement did not fail as it must",
            hint="report this: the server may not run run_sql in one transaction",
        )

    def locate(
        self, steps: Sequence[Step], start: int, error: HasuraPostgresError
    ) -> tuple[int, Statement | None, HasuraPostgresError]:
        """The index of the failing migration (bisection over prefixes; the first `start` run),
        its failing statement, and that statement's error."""
        low, high = start + 1, len(steps)
        while low < high:  # the smallest prefix that fails
            middle = (low + high) // 2
            found = self.failure(steps, middle)
            if found is not None:
                high, error = middle, found
            else:
                low = middle + 1
        statements = list(parse_sql(steps[low - 1].sql).statements)
        if not statements:
            return low - 1, None, error
        first, last = 1, len(statements)
        while first < last:
            middle = (first + last) // 2
            found = self.failure(steps, low, middle)
            if found is not None:
                last, error = middle, found
            else:
                first = middle + 1
        return low - 1, statements[first - 1], error


def rehearsal_sql(steps: Sequence[Step], count: int, statements: int | None, request: RehearseRequest) -> str:
    """The never-committing text: timeouts, the first `count` migrations, the sentinel."""
    parts = [
        "-- kedge-hasura: a rehearsal; the last statement always fails, so nothing commits.\n"
        f"SET LOCAL lock_timeout = '{_milliseconds(request.lock_timeout)}ms';\n"
        f"SET LOCAL statement_timeout = '{_milliseconds(request.statement_timeout)}ms';\n"
    ]
    for index, step in enumerate(steps[:count]):
        sql = step.sql
        if statements is not None and index == count - 1:
            parsed = list(parse_sql(step.sql).statements)
            sql = step.sql[: parsed[statements - 1].end] if statements else ""
        parts.append(f"-- kedge-hasura: rehearse {_label(step)}\n{sql}\n;\n")
    parts.append(ledger_sql.sentinel(SENTINEL_MESSAGE))
    return "".join(parts)


def _seed_steps(
    project: Project, client: HasuraClient, database: str, request: RehearseRequest
) -> list[Step]:
    """The seeds a `deploy --with-seeds` would apply, as steps rehearsed after the migrations.

    Raises:
        ProjectError: a seed changed since it was applied, without reapply_changed_seeds (as deploy).
    """
    plan = plan_seeds(
        database, project.seeds_of(database), read_seed_ledger(client, database),
        reapply_changed=request.reapply_changed_seeds,
    )  # fmt: skip
    return [
        Step(version=0, name=seed.file, path=Path(seed.path), origin="seed", sql=seed.sql, sha256=seed.sha256)
        for seed in plan.to_apply
    ]


def _label(step: Step) -> str:
    return f"seed {step.name}" if step.origin == "seed" else migration_folder_name(step.version, step.name)


def _milliseconds(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _failure(
    step: Step, statement: Statement | None, error: HasuraPostgresError, *, possibly_caused: bool
) -> RehearsalFailure:
    return RehearsalFailure(
        version=step.version,
        name=step.name,
        path=str(step.path),
        line=statement.line if statement is not None else None,
        sqlstate=error.sqlstate,
        message=error.pg_message or error.message,
        detail=error.pg_detail,
        hint=error.pg_hint,
        statement=statement.excerpt() if statement is not None else None,
        possibly_caused_by_earlier=possibly_caused,
    )
