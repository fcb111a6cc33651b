"""`state show | mark-applied V | mark-unapplied V | prune`: inspect and repair recorded state.

Every change keeps catalog state (what `hasura migrate status` reads) and the ledger in step:
mark-applied records the version in both (the ledger row says `mark-applied`, since kedge-hasura did
not run its SQL), mark-unapplied removes it from both, prune drops the stale keys of squashed
originals once the server has all of them (the consolidated migration reuses the last version).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from kedge_hasura.actions.deploy import ledger as ledger_sql
from kedge_hasura.actions.deploy.migration_state import compare_state
from kedge_hasura.actions.deploy.outcome import Writes
from kedge_hasura.errors import UsageError
from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations


class VersionState(BaseModel):
    version: int
    name: str | None  # from the project (or its archives); None when unknown locally
    recorded: bool
    dirty: bool
    in_ledger: bool
    applied_by: str | None = None
    where: Literal["migrations", "archive", "unknown"]


class DatabaseStateReport(BaseModel):
    database: str
    versions: list[VersionState]
    ledger_exists: bool
    prunable: list[int] = []


class StateReport(BaseModel):
    databases: list[DatabaseStateReport]


class StateChange(BaseModel):
    action: str
    database: str
    versions: list[int]


def show_state(project: Project, client: HasuraClient, *, database: str | None = None) -> StateReport:
    """Per database: every version known to the server, the project or the ledger."""
    chosen = project.databases(database)  # a wrong --database fails before any request
    cli = CliState(client.get_catalog_state().cli_state)
    reports = []
    for migrations in chosen:
        name = migrations.database
        recorded = cli.versions(name)
        ledger = ledger_sql.read_ledger(client, name)
        compared = compare_state(migrations, recorded)
        names = {m.version: m.name for m in migrations.migrations}
        archived = _archived_names(migrations)
        versions = []
        for version in sorted(set(recorded) | set(names) | set(ledger.entries)):
            entry = ledger.entries.get(version)
            where: Literal["migrations", "archive", "unknown"] = (
                "migrations" if version in names else "archive" if version in archived else "unknown"
            )
            versions.append(
                VersionState(
                    version=version,
                    name=names.get(version) or archived.get(version),
                    recorded=version in recorded,
                    dirty=recorded.get(version, False),
                    in_ledger=entry is not None,
                    applied_by=entry.applied_by if entry else None,
                    where=where,
                )
            )
        prunable = [
            v for s in compared.squashes if all(x in recorded for x in s.versions) for v in s.versions[:-1]
        ]
        reports.append(
            DatabaseStateReport(
                database=name, versions=versions, ledger_exists=ledger.exists, prunable=prunable
            )
        )
    return StateReport(databases=reports)


def mark(
    project: Project, client: HasuraClient, *, database: str | None, version: int, applied: bool
) -> StateChange:
    """Record a version as applied (clean) or not applied, in catalog state and in the ledger.

    Raises:
        UsageError: an unknown database, marking applied a version the project does not have, or
            marking unapplied a version neither catalog state nor the ledger records.
    """
    migrations = project.require_database(database)
    name = migrations.database
    local = migrations.by_version(version)
    writes = Writes(name)
    command = f"kedge-hasura state {'mark-applied' if applied else 'mark-unapplied'} {version}"
    if applied:
        if local is None or local.up is None:
            raise UsageError(
                f"version {version} is not a migration of {name} in this project",
                hint="mark-applied records a local migration; check the version with `kedge-hasura status`",
            )
        with writes.guard(rerun=command):
            if version not in ledger_sql.read_ledger(client, name).entries:
                client.run_sql(
                    ledger_sql.prelude([])
                    + ledger_sql.record(version, local.name, local.up.sha256, applied_by="mark-applied"),
                    source=name,
                    check_metadata_consistency=False,
                )
                writes.done.append(f"the ledger records {version}")
            client.update_cli_state(lambda cli: cli.set_version(name, version, dirty=False))
    else:
        recorded = CliState(client.get_catalog_state().cli_state).versions(name)
        ledger = ledger_sql.read_ledger(client, name)
        if version not in recorded and version not in ledger.entries:
            raise UsageError(
                f"version {version} is not recorded as applied on {name}: nothing to mark unapplied",
                hint="check the version with `kedge-hasura state show`",
            )
        with writes.guard(rerun=command):
            client.update_cli_state(lambda cli: cli.remove_version(name, version))
            writes.done.append(f"catalog state no longer records {version}")
            if ledger.exists:
                client.run_sql(ledger_sql.forget(version), source=name, check_metadata_consistency=False)
    return StateChange(
        action="mark-applied" if applied else "mark-unapplied", database=name, versions=[version]
    )


def prune(project: Project, client: HasuraClient, *, database: str | None) -> StateChange:
    """Drop the keys of squashed originals (all but the last) where the server applied every one."""
    chosen = project.require_database(database)
    (target,) = show_state(project, client, database=chosen.database).databases
    if target.prunable:

        def remove(cli: CliState) -> None:
            for version in target.prunable:
                cli.remove_version(target.database, version)

        with Writes(target.database).guard(rerun="kedge-hasura state prune"):
            client.update_cli_state(remove)
    return StateChange(action="prune", database=target.database, versions=target.prunable)


def _archived_names(migrations: DatabaseMigrations) -> dict[int, str]:
    from kedge_hasura.project.manifest import read_manifest

    names = {}
    for folder in migrations.archives:
        for migration in read_manifest(folder).migrations:
            names[migration.version] = migration.name
    return names
