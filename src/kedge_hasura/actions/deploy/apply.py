"""`deploy`: apply pending migrations through Hasura's run_sql, record them as the Hasura CLI does,
then apply the metadata. Never half a batch, never twice, and `hasura migrate status` agrees.

For each batch of a database (see deploy.plan):
  1. catalog state: the batch's versions marked dirty (plus the fixes the ledger justified);
  2. one run_sql: the ledger prelude (advisory lock, ledger table, concurrent-deploy guard), each
     migration followed by its ledger row — all or nothing;
  3. catalog state: the versions marked clean.
A crash between 2 and 3 leaves dirty versions that the next deploy settles from the ledger. When
the answer to 2 is lost (connection reset, timeout), the ledger is read at once to learn whether
the batch committed. When the guard fires, another deploy applied those versions meanwhile: the
state is settled from the ledger and the database re-planned. When PostgreSQL rejects the batch,
nothing was committed; probe requests that always roll back locate the migration and statement.
Every write of catalog state goes through keeper.StateKeeper.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from kedge_hasura.actions.deploy import ledger as ledger_sql
from kedge_hasura.actions.deploy.keeper import BatchOutcome, StateKeeper, reconcile_state
from kedge_hasura.actions.deploy.metadata import MetadataReport, apply_metadata, read_applicable_metadata
from kedge_hasura.actions.deploy.migration_state import squashed_originals
from kedge_hasura.actions.deploy.outcome import ChangeLog
from kedge_hasura.actions.deploy.plan import (
    DatabasePlan,
    PlanOptions,
    Selection,
    Step,
    TransactionMode,
    plan_database,
)
from kedge_hasura.actions.deploy.seeds import SeedPlan, apply_seeds, plan_seeds, read_seed_ledger
from kedge_hasura.errors import (
    DeployInProgress,
    HasuraAPIError,
    HasuraBadResponse,
    HasuraError,
    HasuraPostgresError,
    HasuraUnreachable,
    KedgeError,
    MigrationFailed,
    ProjectError,
)
from kedge_hasura.findings import Finding
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.hasura.models import InconsistentObject
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations
from kedge_hasura.project.naming import migration_folder_name
from kedge_hasura.sql.statements import Statement, parse_sql
from kedge_hasura.words import plural

Progress = Callable[[str], None]
_LEGACY_STATE_SQL = "SELECT version::text, dirty::text FROM hdb_catalog.schema_migrations ORDER BY version"


@dataclass(frozen=True)
class DeployRequest:
    databases: tuple[str, ...] = ()  # empty: every database with migrations
    transaction: TransactionMode = "all"
    dry_run: bool = False
    strict: bool = False
    strict_order: bool = False
    allow_edited: bool = False
    skip_metadata: bool = False
    allow_inconsistent: bool = False
    track_untracked: bool = False
    allow_untracked: tuple[str, ...] = ()  # `schema.table` globs that may stay untracked
    selection: Selection | None = None  # a partial deploy (--version, --goto, --up); None: all pending
    with_seeds: bool = False  # apply seeds/<database>/*.sql last (deploy.seeds)
    reapply_changed_seeds: bool = False


class AppliedBatch(BaseModel):
    versions: list[int]
    seconds: float
    outside_transaction: bool = False


class DatabaseDeploy(BaseModel):
    plan: DatabasePlan
    applied: list[AppliedBatch] = []
    notes: list[str] = []


class DeployResult(BaseModel):
    """The result of `kedge-hasura deploy` (with --dry-run: the plan)."""

    endpoint: str
    server_version: str
    dry_run: bool
    databases: list[DatabaseDeploy]
    metadata: MetadataReport | None = None
    seeds: list[SeedPlan] = []  # with --with-seeds: per database, each seed file and what it got
    legacy_versions_copied: int = 0
    # Dry run: the metadata was checked against the schema the migrations build (and fits).
    metadata_checked: bool = False
    warnings: list[str] = []
    # Set when the deploy failed after changing the server (the result is what it did before).
    failed: bool = False

    @property
    def ok(self) -> bool:
        """False when tables of the managed schemas stay untracked and nothing allows it (exit 1)."""
        return self.metadata is None or not self.metadata.untracked_left

    @property
    def applied_count(self) -> int:
        return sum(len(batch.versions) for db in self.databases for batch in db.applied)

    @property
    def seeds_applied(self) -> int:
        return sum(len(plan.applied) for plan in self.seeds)


def deploy(
    project: Project,
    client: HasuraClient,
    request: DeployRequest,
    *,
    progress: Progress | None = None,
    metadata_check: Callable[[list[str]], list[Finding]] | None = None,
    locate: Callable[[InconsistentObject], str | None] | None = None,
) -> DeployResult:
    """Plan and (unless dry-run) apply pending migrations and the metadata.

    A dry run with `metadata_check` (the offline replay of `check`) also checks the metadata
    against the schema the migrations build, and fails as the deploy would. `locate` names the
    metadata file and line of an inconsistent object, for the error that lists them.

    Raises:
        ProjectError: the project or the plan is not safe to apply (each message says why).
        MigrationFailed: PostgreSQL rejected a batch; nothing of it was committed.
        SeedFailed: PostgreSQL rejected a seed before anything else was committed (else FailedAfterChanges).
        HasuraError: Hasura could not be reached or refused (state is left settled or dirty, never wrong).
        FailedAfterChanges: any of these (or Ctrl-C) after something was committed or recorded:
            what stays committed, recorded and pending, per database.
    """
    say = progress or (lambda message: None)
    databases = _databases(project, request)  # a wrong --database fails before any request
    result_warnings: list[str] = []
    # Metadata that cannot be applied is refused now, not after the migrations committed.
    metadata = (
        None if request.skip_metadata else read_applicable_metadata(project, warn=result_warnings.append)
    )
    info = client.version()
    options = PlanOptions(
        transaction=request.transaction,
        strict=request.strict,
        strict_order=request.strict_order,
        allow_edited=request.allow_edited,
        supports_no_transaction=client.supports_no_transaction(),
        server_version=info.version,
        selection=request.selection,
    )
    result = DeployResult(
        endpoint=client.endpoint, server_version=info.version, dry_run=request.dry_run, databases=[]
    )
    result.warnings.extend(result_warnings)
    keeper = StateKeeper.read(client)
    if keeper.state.migration_mode == "false":
        raise ProjectError(
            'migration mode is disabled on this server (settings.migration_mode is "false" in catalog state)',
            hint="enable it with `hasura migrate apply` settings, as the Hasura CLI requires it too",
        )
    unsaved_copy = False
    if not keeper.state.is_state_copy_completed:
        result.legacy_versions_copied = keeper.copy_legacy(say=say)
        unsaved_copy = not request.dry_run
    if request.with_seeds:  # read and refused (a changed seed) before anything is written
        result.seeds = [
            plan_seeds(
                m.database, project.seeds_of(m.database), read_seed_ledger(client, m.database),
                reapply_changed=request.reapply_changed_seeds,
            )
            for m in databases
        ]  # fmt: skip
    # After the legacy copy: it moves the recorded versions, it does not change them.
    log = ChangeLog(before={m.database: dict(keeper.state.versions(m.database)) for m in databases})
    try:
        _deploy_databases(client, keeper, databases, request, options, result, log, say)
        wrote_state = bool(log.planned)
        if unsaved_copy and not log.committed:  # no batch write carried it
            keeper.save_legacy_copy()
            wrote_state = True
        if wrote_state:  # a write may have undone another command's: checked against the ledger
            result.warnings += reconcile_state(keeper, log.ledgers, squashed_originals(project))
        if request.dry_run and not request.skip_metadata and metadata_check is not None:
            say("checking the metadata against the migrated schema (offline replay)")
            raise_for_metadata_findings(metadata_check([m.database for m in databases]))
            result.metadata_checked = True
        if metadata is not None:  # None with --skip-metadata
            say("applying metadata" if not request.dry_run else "comparing metadata")
            result.metadata = apply_metadata(
                project,
                client,
                metadata,
                databases=[m.database for m in databases],
                dry_run=request.dry_run,
                allow_inconsistent=request.allow_inconsistent,
                track_untracked=request.track_untracked,
                replaced=lambda: setattr(log, "metadata", "replaced"),
                locate=locate,
                allow_untracked=(*request.allow_untracked, *project.config.kedge.check.ignore_untracked),
            )
        # Last, as `hasura seed apply` runs after `migrate apply` and `metadata apply`.
        for seeds in result.seeds if not request.dry_run else []:
            log.seeds[seeds.database] = seeds.applied  # the same list: filled as each seed commits
            apply_seeds(client, seeds, say=say)
    except (KedgeError, KeyboardInterrupt) as exc:
        cause = exc if isinstance(exc, KedgeError) else None
        after = {m.database: keeper.state.versions(m.database) for m in databases}
        changed = log.failure(cause, after=after, state_unknown=keeper.uncertain)
        if changed is None:
            if log.planned and cause is not None and not isinstance(cause, HasuraUnreachable):
                # "Nothing changed" must hold for the server, not only for what this deploy meant
                # to write: a write of this deploy may have undone another deploy's record, which
                # the ledger puts back. (After changes, exit 5 asks for a new deploy, which does.)
                try:
                    for warning in reconcile_state(keeper, log.ledgers, squashed_originals(project)):
                        say(warning)
                except KedgeError:
                    pass  # the original failure stands; the next deploy settles from the ledger
            raise
        result.failed = True
        changed.partial = result
        raise changed from exc
    return result


def _deploy_databases(
    client: HasuraClient,
    keeper: StateKeeper,
    databases: Sequence[DatabaseMigrations],
    request: DeployRequest,
    options: PlanOptions,
    result: DeployResult,
    log: ChangeLog,
    say: Progress,
) -> None:
    for migrations in databases:
        say(f"planning {migrations.database}")
        # A real deploy first waits for any other deploy still applying a batch to this database.
        wait = None if request.dry_run else _lock_wait(client)
        ledger = ledger_sql.read_ledger(client, migrations.database, wait_for_deploys=wait)
        plan = plan_database(migrations, keeper.state, ledger, options)
        deployed = DatabaseDeploy(plan=plan)
        result.databases.append(deployed)
        result.warnings += plan.warnings
        if not request.dry_run and (plan.steps or plan.fixes):
            log.planned[plan.database] = [step.version for step in plan.steps]
            log.committed[plan.database] = []
            if not ledger.exists:
                ledger_sql.ensure_ledger(client, migrations.database)
            log.ledgers[plan.database] = set(ledger.entries)  # for the final check (reconcile_state)
            _apply_database(
                client, keeper, migrations, plan, options, say, deployed, log.committed[plan.database]
            )


def raise_for_metadata_findings(findings: Sequence[Finding]) -> None:
    """Refuse, as replace_metadata would, when the metadata does not fit the migrated schema.

    Raises:
        ProjectError: one line per finding, `file:line: message`, in details.
    """
    if not findings:
        return
    first = findings[0]
    raise ProjectError(
        "the metadata would be inconsistent after the pending migrations: "
        f"{plural(len(findings), 'problem')}, "
        f"e.g. {first.location() or 'metadata'}: {first.message}",
        hint="fix the metadata (or the migrations) and run the dry run again; "
        "`kedge-hasura check` shows the same findings",
        details={
            "findings": "\n".join(
                f"{finding.location() or 'metadata'}: {finding.code}: {finding.message}"
                for finding in findings
            )
        },
    )


def _databases(project: Project, request: DeployRequest) -> list[DatabaseMigrations]:
    # Analysed: a statement run_sql cannot run (COPY FROM STDIN) must stop the deploy before it starts.
    if not request.databases:
        return project.databases(None, analyze_sql=True)
    return [project.migrations_of(name, analyze_sql=True) for name in request.databases]


def _lock_wait(client: HasuraClient) -> float:
    """How long to wait for another deploy's batch: just under the request timeout, so the wait
    ends with PostgreSQL's lock_timeout (a clear message) rather than an unanswered request."""
    return max(0.5, client.timeout * 0.8)


def _apply_database(
    client: HasuraClient,
    keeper: StateKeeper,
    migrations: DatabaseMigrations,
    plan: DatabasePlan,
    options: PlanOptions,
    say: Progress,
    deployed: DatabaseDeploy,
    committed: list[int],
) -> None:
    """Apply the plan's batches into `deployed`, adding each committed version to `committed` as
    soon as it is known."""
    database = plan.database
    steps = {step.version: step for step in plan.steps}
    pending_fixes = list(plan.fixes)
    for index, versions in enumerate(plan.batches):
        batch = [steps[v] for v in versions]
        say(f"{database}: applying batch {index + 1}/{len(plan.batches)} ({plural(len(batch), 'migration')})")
        keeper.mark_dirty(database, versions, pending_fixes)
        pending_fixes = []
        started = time.perf_counter()
        try:
            outcome = _run_batch(client, keeper, database, batch)
        except _CommittedDespite as despite:
            committed += versions  # the failure is reported with them as committed (exit 5)
            raise despite.error from None
        if outcome is BatchOutcome.CONCURRENT:
            deployed.notes.append(
                f"versions {', '.join(map(str, versions))} were applied meanwhile by another deploy; "
                "nothing was applied twice"
            )
            keeper.settle_from_ledger(database, versions)
            ledger = ledger_sql.read_ledger(client, database)
            replanned = plan_database(migrations, keeper.state, ledger, options)
            if replanned.steps:
                _apply_database(client, keeper, migrations, replanned, options, say, deployed, committed)
            return
        committed += versions
        deployed.applied.append(
            AppliedBatch(
                versions=versions,
                seconds=time.perf_counter() - started,
                outside_transaction=batch[0].outside_transaction,
            )
        )
        keeper.settle_committed(database, versions)
    if pending_fixes:
        keeper.settle_from_ledger(database, [fix.version for fix in pending_fixes])


def _run_batch(
    client: HasuraClient, keeper: StateKeeper, database: str, batch: Sequence[Step]
) -> BatchOutcome:
    """Run one batch.

    Raises:
        MigrationFailed: PostgreSQL rejected it (nothing committed; state settled).
        HasuraUnreachable: the outcome is unknown and the ledger could not be read (state dirty).
    """
    versions = [step.version for step in batch]
    if batch[0].outside_transaction:
        return _run_outside_transaction(client, keeper, database, batch[0])
    try:
        client.run_sql(batch_sql(batch), source=database, check_metadata_consistency=False)
    except HasuraPostgresError as exc:
        if ledger_sql.is_concurrent_deploy(exc):
            return BatchOutcome.CONCURRENT
        failure = locate_failure(client, database, batch, exc)
        keeper.settle_from_ledger(database, versions)
        raise migration_failed(failure[0], failure[1], exc) from exc
    except (HasuraAPIError, HasuraBadResponse) as exc:
        _settle_after_refusal(keeper, database, versions, exc)
        raise
    except HasuraUnreachable as exc:
        if not exc.may_have_reached_server:
            keeper.settle_from_ledger(database, versions)
            raise
        # The answer was lost. The batch may still be running: wait for kedge's lock (which it
        # holds until it ends), then the ledger says whether it committed.
        unknown = HasuraUnreachable(
            f"{exc.message}; whether the batch committed is unknown, so its versions stay marked dirty",
            may_have_reached_server=True,
            hint="run `kedge-hasura deploy` again: it settles dirty versions from the ledger first",
        )
        try:
            recorded = ledger_sql.read_ledger(client, database, wait_for_deploys=_lock_wait(client))
        except (HasuraError, DeployInProgress):  # still unknown: dirty is the safe state
            raise unknown from exc
        if all(v in recorded.entries for v in versions):
            return BatchOutcome.APPLIED
        keeper.settle_from_ledger(database, versions)
        raise HasuraUnreachable(
            f"{exc.message}; the batch did not commit (nothing was applied)",
            may_have_reached_server=True,
            hint="run `kedge-hasura deploy` again",
        ) from exc
    return BatchOutcome.APPLIED


class _CommittedDespite(Exception):
    """The batch answered with an error, yet the ledger shows it committed."""

    def __init__(self, error: KedgeError):
        super().__init__(error.message)
        self.error = error


def _settle_after_refusal(
    keeper: StateKeeper, database: str, versions: Sequence[int], error: HasuraAPIError | HasuraBadResponse
) -> None:
    """An error answer other than PostgreSQL's (a 5xx, a proxy's page, a checked run_sql whose
    metadata check failed AFTER its commit, contract §2.4) does not say whether the text ran.
    The ledger rows commit with the migrations, so the ledger does: its versions become clean,
    the others leave catalog state as before the batch, and a failure that changed nothing
    stays exit 3. When the ledger cannot be read either, the dirty marks stay (exit 5).

    Raises:
        _CommittedDespite: the batch committed; the caller reports it as committed.
    """
    try:
        keeper.settle_from_ledger(database, versions)
    except HasuraError:
        return  # unknown: the dirty marks stay, and the failure says so
    recorded = keeper.state.versions(database)
    if all(recorded.get(version) is False for version in versions):
        raise _CommittedDespite(error)


def _run_outside_transaction(
    client: HasuraClient, keeper: StateKeeper, database: str, step: Step
) -> BatchOutcome:
    """A migration marked `-- hasura:no-transaction`: one request per statement, each committed
    on its own, so a failure can say exactly which statements committed before it.

    Raises:
        MigrationFailed: a statement failed. If it was the first, nothing ran and the version is
            removed from state; otherwise the version stays dirty (it half ran: a person decides).
    """
    statements = _statements(step)
    for index, statement in enumerate(statements):
        try:
            client.run_sql(
                statement.text, source=database, no_transaction=True, check_metadata_consistency=False
            )
        except HasuraPostgresError as exc:
            if index == 0:
                keeper.settle_from_ledger(database, [step.version])
                raise migration_failed(step, statement, exc) from exc
            raise migration_failed(step, statement, exc, committed=index) from exc
    client.run_sql(
        ledger_sql.prelude([]) + ledger_sql.record(step.version, step.name, step.sha256),
        source=database,
        check_metadata_consistency=False,
    )
    return BatchOutcome.APPLIED


@dataclass(frozen=True)
class Probe:
    """A request that runs part of a batch and then always fails, so it can never commit: the
    first `migrations` of the batch, the last of them cut after `statements` statements (None:
    all of it)."""

    migrations: int
    statements: int | None = None


def batch_sql(batch: Sequence[Step], *, probe: Probe | None = None) -> str:
    """The batch's SQL: prelude, then each migration and its ledger row (with `probe`: see Probe)."""
    # The concurrent-deploy guard only makes sense for ups: a down removes ledger rows.
    guarded = [step.version for step in batch if step.direction == "up"]
    parts = [ledger_sql.prelude(guarded)]
    count = len(batch) if probe is None else probe.migrations
    for index, step in enumerate(batch[:count]):
        sql = step.sql
        if probe is not None and index == count - 1 and probe.statements is not None:
            statements = _statements(step)
            sql = step.sql[: statements[probe.statements - 1].end] if probe.statements else ""
        parts.append(
            f"-- kedge-hasura: {step.direction} {migration_folder_name(step.version, step.name)}\n{sql}\n;\n"
        )
        if probe is None:
            if step.direction == "up":
                parts.append(ledger_sql.record(step.version, step.name, step.sha256))
            else:
                parts.append(ledger_sql.forget(step.version, *step.also_forget))
    if probe is not None:
        parts.append(ledger_sql.probe())
    return "".join(parts)


def _statements(step: Step) -> list[Statement]:
    return list(parse_sql(step.sql).statements)


def locate_failure(
    client: HasuraClient, database: str, batch: Sequence[Step], error: HasuraPostgresError
) -> tuple[Step, Statement | None]:
    """The migration and statement that fail, found by probes that always roll back.

    Hasura reports the whole SQL, not the failing statement (contract §2.6). A probe sends the
    first k migrations followed by a statement that always fails: if the probe's own error comes
    back, those k succeed. Bisection finds the migration, then the statement inside it.
    """

    def fails(k: int, j: int | None = None) -> bool:
        try:
            client.run_sql(
                batch_sql(batch, probe=Probe(k, j)), source=database, check_metadata_consistency=False
            )
        except HasuraPostgresError as exc:
            return not ledger_sql.is_probe(exc)
        return False  # cannot happen: the probe always fails

    low, high = 1, len(batch)
    while low < high:  # smallest k whose prefix fails
        middle = (low + high) // 2
        if fails(middle):
            high = middle
        else:
            low = middle + 1
    step = batch[low - 1]
    statements = _statements(step)
    if not statements:
        return step, None
    first, last = 1, len(statements)
    while first < last:
        middle = (first + last) // 2
        if fails(low, middle):
            last = middle
        else:
            first = middle + 1
    return step, statements[first - 1]


def migration_failed(
    step: Step, statement: Statement | None, error: HasuraPostgresError, *, committed: int = 0
) -> MigrationFailed:
    """The error for a failed migration; `committed` statements of it ran before (no-transaction)."""
    line = statement.line if statement is not None else None
    excerpt = statement.excerpt() if statement is not None else None
    where = f"{step.path}:{line}" if line else str(step.path)
    if committed:
        outcome = (
            "it runs outside a transaction, and its first "
            f"{plural(committed, 'statement')} committed before this "
            f"one failed; version {step.version} is left dirty: complete or undo them by hand, then run "
            f"`kedge-hasura state mark-applied {step.version}` or `mark-unapplied {step.version}`"
        )
    else:
        outcome = "nothing from this batch was committed"
    return MigrationFailed(
        f"migration {migration_folder_name(step.version, step.name)} failed at {where}: "
        f"{error.pg_message or error.message}",
        version=step.version,
        path=step.path,
        line=line,
        sqlstate=error.sqlstate,
        pg_message=error.pg_message or error.message,
        statement_excerpt=excerpt,
        hint=(error.pg_hint + "; " if error.pg_hint else "") + outcome,
        details={"detail": error.pg_detail},
    )
