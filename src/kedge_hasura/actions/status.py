"""`status`: what the project's migrations look like on disk, and what the Hasura CLI would ignore."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from kedge_hasura.errors import UsageError
from kedge_hasura.findings import Finding, Severity
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import Migration


class MigrationStatus(BaseModel):
    version: int
    name: str
    path: Path
    has_up: bool
    has_down: bool
    up_statements: int
    down_statements: int
    no_transaction: bool
    up_sha256: str | None


class ServerVersion(BaseModel):
    """One version as the server sees it (status --server)."""

    version: int
    name: str | None
    state: str  # applied, pending, dirty, missing locally, archived (applied original of a squash)
    edited: bool = False
    in_ledger: bool = False


class DatabaseStatus(BaseModel):
    database: str
    directory: Path
    migrations: list[MigrationStatus]
    archives: list[Path]
    server: list[ServerVersion] | None = None


class StatusReport(BaseModel):
    """The result of `kedge-hasura status`; `ok` is False when any finding is an error."""

    project: Path
    config_version: int
    layout: str
    databases: list[DatabaseStatus]
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not any(finding.severity is Severity.ERROR for finding in self.findings)


def migration_status(migration: Migration) -> MigrationStatus:
    up, down = migration.up, migration.down
    return MigrationStatus(
        version=migration.version,
        name=migration.name,
        path=migration.location,
        has_up=up is not None,
        has_down=down is not None,
        up_statements=len(up.parsed.statements) if up else 0,
        down_statements=len(down.parsed.statements) if down else 0,
        no_transaction=bool(up and up.parsed.has_no_transaction_marker),
        up_sha256=up.sha256 if up else None,
    )


def local_status(project: Project, *, database: str | None = None) -> StatusReport:
    """Scan the project's migrations and report them per database, with findings.

    Raises:
        ProjectError: metadata/databases/databases.yaml is unreadable.
        UsageError: `database` has no migrations folder.
    """
    scan = project.scan_migrations()
    if database is not None and database not in scan.databases:
        known = ", ".join(sorted(scan.databases)) or "none"
        raise UsageError(
            f"no migrations for database {database!r} (found: {known})",
            hint="check --database (KEDGE_DATABASE)",
        )
    databases = [
        DatabaseStatus(
            database=name,
            directory=entry.directory,
            migrations=[migration_status(m) for m in entry.migrations],
            archives=list(entry.archives),
        )
        for name, entry in sorted(scan.databases.items())
        if database is None or name == database
    ]
    findings = list(project.config.findings)
    findings += [f for f in scan.findings if database is None or f.database in (None, database)]
    return StatusReport(
        project=project.root,
        config_version=project.config.version,
        layout=scan.layout,
        databases=databases,
        findings=findings,
    )


def server_status(report: StatusReport, project: Project, client: HasuraClient) -> StatusReport:
    """Add each database's server side: applied, pending, dirty, missing locally, edited."""
    from kedge_hasura.actions.deploy import ledger as ledger_sql
    from kedge_hasura.actions.deploy.migration_state import compare_state
    from kedge_hasura.actions.deploy.plan import edited_versions
    from kedge_hasura.hasura.cli_state import CliState

    cli = CliState(client.get_catalog_state().cli_state)
    scan = project.scan_migrations()  # the one local_status made (cached)
    for database in report.databases:
        migrations = scan.databases[database.database]
        recorded = cli.versions(database.database)
        ledger = ledger_sql.read_ledger(client, database.database)
        state = compare_state(migrations, recorded)
        edited = set(edited_versions(migrations, state, ledger))
        names = {m.version: m.name for m in migrations.migrations}
        rows = []
        for version in sorted(set(state.local) | set(state.applied)):
            if version in state.dirty:
                label = "dirty"
            elif version in state.missing_locally:
                label = "missing locally"
            elif version in state.archived_applied:
                label = "archived"
            elif version in recorded:
                label = "applied"
            else:
                label = "pending"
            rows.append(
                ServerVersion(
                    version=version,
                    name=names.get(version),
                    state=label,
                    edited=version in edited,
                    in_ledger=version in ledger.entries,
                )
            )
        database.server = rows
    return report
