"""`status`: what the project's migrations look like on disk, and what the Hasura CLI would ignore."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from kedge_hasura.errors import UsageError
from kedge_hasura.project.findings import Finding, Severity
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


class DatabaseStatus(BaseModel):
    database: str
    directory: Path
    migrations: list[MigrationStatus]
    archives: list[Path]


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
    findings = [f for f in scan.findings if database is None or f.database in (None, database)]
    return StatusReport(
        project=project.root,
        config_version=project.config.version,
        layout=scan.layout,
        databases=databases,
        findings=findings,
    )
