"""`rollback`: run down migrations through run_sql, newest first, all in one transaction.

Which down.sql undoes a version depends on what the server ran: when it applied the originals of a
squash, the last version is the original's (from the archive), not the squashed migration's, whose
down.sql would drop everything. State is marked dirty first, and the ledger rows are deleted in the
same transaction as the down SQL, so an interrupted rollback is settled like a deploy.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from kedge_hasura.actions.deploy import ledger as ledger_sql
from kedge_hasura.actions.deploy.apply import batch_sql, locate_failure, migration_failed
from kedge_hasura.actions.deploy.keeper import StateKeeper, reconcile_state
from kedge_hasura.actions.deploy.migration_state import squashed_originals, squashed_ranges
from kedge_hasura.actions.deploy.outcome import ChangeLog
from kedge_hasura.actions.deploy.plan import Step
from kedge_hasura.errors import (
    HasuraAPIError,
    HasuraBadResponse,
    HasuraPostgresError,
    HasuraUnreachable,
    KedgeError,
    ProjectError,
    UsageError,
)
from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.project.chain import expanded_originals
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations, Migration, scan_database_folder
from kedge_hasura.words import listing, verb


@dataclass(frozen=True)
class RollbackRequest:
    database: str | None = None
    steps: int | None = None
    to_version: int | None = None
    dry_run: bool = False


class RollbackResult(BaseModel):
    database: str
    versions: list[int]
    files: list[Path]
    dry_run: bool
    warnings: list[str] = []


def rollback(project: Project, client: HasuraClient, request: RollbackRequest) -> RollbackResult:
    """Undo applied versions (the newest N, or all after --to).

    Raises:
        UsageError: neither or both of steps/to, --to a version that is not applied (0 means
            all), or several databases and no --database.
        ProjectError: a version's down.sql is missing or empty, unknown locally, or state is dirty.
        MigrationFailed: PostgreSQL rejected a down migration; nothing was committed.
        FailedAfterChanges: a failure (or Ctrl-C) after the downs committed or the versions were
            left marked dirty: what is committed, recorded and pending.
    """
    if (request.steps is None) == (request.to_version is None):
        raise UsageError("give exactly one of --steps N and --to VERSION")
    migrations = _database(project, request.database)
    database = migrations.database
    state = CliState(client.get_catalog_state().cli_state)
    recorded = state.versions(database)
    dirty = sorted(v for v, is_dirty in recorded.items() if is_dirty)
    if dirty:
        raise ProjectError(
            f"{listing('version', dirty)} of {database} {verb(len(dirty), 'is', 'are')} dirty",
            hint="run `kedge-hasura deploy` first: it settles dirty versions from the ledger",
        )
    applied = sorted(recorded, reverse=True)
    if request.steps is not None:
        if request.steps < 1:
            raise UsageError("--steps must be at least 1")
        chosen = applied[: request.steps]
    else:
        # A version that is not applied (a typo, another branch's) would roll back everything
        # newer than it without a word; 0 is the explicit "roll back all".
        if request.to_version and request.to_version not in recorded:
            raise UsageError(
                f"--to {request.to_version}: not an applied version of {database}",
                hint="give an applied version (see `kedge-hasura state show`), or --to 0 to roll back all",
            )
        chosen = [v for v in applied if v > (request.to_version or 0)]
    steps = [_down_step(migrations, version, recorded) for version in chosen]
    result = RollbackResult(
        database=database, versions=chosen, files=[s.path for s in steps], dry_run=request.dry_run
    )
    if request.dry_run or not steps:
        return result
    log = ChangeLog(before={database: dict(recorded)}, planned={database: chosen})
    after = dict(recorded)  # the recorded state as far as a write is known to have been saved
    # The ledger as the rollback starts: versions that leave it are the ones whose downs committed.
    ledger = ledger_sql.read_ledger(client, database)
    known = {database: set(ledger.entries) if ledger.exists else None}
    try:
        # A read-modify-write of the state as it is now: writing back the state read above would
        # overwrite whatever a concurrent deploy recorded since (catalog state has no compare-and-swap).
        marked = client.update_cli_state(lambda cli: _mark_dirty(cli, database, chosen))
        after = marked.versions(database)
        try:
            client.run_sql(batch_sql(steps), source=database, check_metadata_consistency=False)
        except HasuraPostgresError as exc:
            # Nothing was committed: the versions are still applied.
            failed_step, statement = locate_failure(client, database, steps, exc)
            client.update_cli_state(lambda cli: _mark(cli, database, chosen, applied=True))
            after = dict(recorded)
            raise migration_failed(failed_step, statement, exc) from exc
        except (HasuraAPIError, HasuraBadResponse):
            # An error answer that does not say whether the downs ran. They delete their ledger
            # rows in the same transaction, so a chosen version still in the ledger proves they
            # did not commit: the marks are taken back (exit 3). Otherwise they stay dirty (5).
            if _still_in_ledger(client, database, chosen):
                client.update_cli_state(lambda cli: _mark(cli, database, chosen, applied=True))
                after = dict(recorded)
            raise
        log.committed[database] = chosen  # the downs, and the removal of their ledger rows
        marked = client.update_cli_state(lambda cli: _mark(cli, database, chosen, applied=False))
        # A write of this rollback may have undone a concurrent deploy's record (and a late write
        # of a deploy may record the versions rolled back): state made to agree with the ledger.
        result.warnings = reconcile_state(StateKeeper(client, marked), known, squashed_originals(project))
    except (KedgeError, KeyboardInterrupt) as exc:
        unknown = isinstance(exc, HasuraUnreachable) and exc.may_have_reached_server
        changed = log.failure(
            exc if isinstance(exc, KedgeError) else None, after={database: after}, state_unknown=unknown
        )
        if changed is None:
            if isinstance(exc, KedgeError) and not isinstance(exc, HasuraUnreachable):
                # A write of this rollback may have undone a concurrent deploy's record: repaired,
                # and said with the failure (which still changed nothing of its own).
                with contextlib.suppress(KedgeError):  # the original failure stands
                    warnings = reconcile_state(StateKeeper.read(client), known, squashed_originals(project))
                    if warnings:
                        exc.details["catalog state"] = "; ".join(warnings)
            raise
        raise changed from exc
    return result


def _still_in_ledger(client: HasuraClient, database: str, versions: list[int]) -> bool:
    try:
        entries = ledger_sql.read_ledger(client, database).entries
    except KedgeError:
        return False  # unknown: the dirty marks stay
    return any(version in entries for version in versions)


def _mark_dirty(cli: CliState, database: str, versions: list[int]) -> None:
    for version in versions:
        cli.set_version(database, version, dirty=True)


def _mark(cli: CliState, database: str, versions: list[int], *, applied: bool) -> None:
    for version in versions:
        if applied:
            cli.set_version(database, version, dirty=False)
        else:
            cli.remove_version(database, version)


def _database(project: Project, name: str | None) -> DatabaseMigrations:
    return project.require_database(name)


def _down_step(migrations: DatabaseMigrations, version: int, recorded: dict[int, bool]) -> Step:
    migration = _source_of(migrations, version, recorded)
    # The squashed migration's down.sql (not an original's) undoes every original of its squash,
    # which a server that ran them (and was pruned since) still has ledger rows for; a squash of an
    # earlier squash undoes that squash's originals too (project.chain).
    also_forget = [
        original.migration.version
        for squash in squashed_ranges(migrations)
        if version == squash.consolidated_version and migration.location.parent == migrations.directory
        for original in expanded_originals(migrations, migrations.directory / squash.archive)[:-1]
    ]
    down = migration.down
    if down is None or not down.parsed.statements:
        raise ProjectError(
            f"migration {migration.key} has no down.sql (or one without statements), "
            "so it cannot be rolled back",
            hint="write its down.sql, or roll back fewer versions",
        )
    return Step(
        version=version, name=migration.name, path=down.path, origin="migrations", direction="down",
        sql=down.text, sha256=down.sha256, also_forget=also_forget,
    )  # fmt: skip


def _source_of(migrations: DatabaseMigrations, version: int, recorded: dict[int, bool]) -> Migration:
    """The migration whose down.sql undoes what the server ran as `version`."""
    for squash in squashed_ranges(migrations):
        if version not in squash.versions:
            continue
        ran_originals = any(v in recorded for v in squash.versions[:-1])
        if version != squash.consolidated_version or ran_originals:
            folder = migrations.directory / squash.archive
            archived = scan_database_folder(migrations.database, folder).databases[migrations.database]
            original = archived.by_version(version)
            if original is not None:
                return original
    local = migrations.by_version(version)
    if local is None:
        raise ProjectError(
            f"version {version} is applied on the server but not in this project (nor in an archive)",
            hint="check out the branch that has it; nothing was rolled back",
        )
    return local
