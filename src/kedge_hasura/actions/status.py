"""`status`: what the project's migrations look like on disk, and what the Hasura CLI would ignore."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from kedge_hasura.errors import UsageError
from kedge_hasura.findings import Finding, Severity
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import Migration, SqlFile
from kedge_hasura.project.seeds import Seed
from kedge_hasura.settings import SettingsReport
from kedge_hasura.sql.statements import has_no_transaction_marker


class MigrationStatus(BaseModel):
    version: int
    name: str
    path: Path
    has_up: bool
    has_down: bool
    up_statements: int | None  # None: the file is too large to parse for a status
    down_statements: int | None
    no_transaction: bool
    up_sha256: str | None


class ServerVersion(BaseModel):
    """One version as the server sees it (status --server)."""

    version: int
    name: str | None
    state: str  # applied, pending, dirty, missing locally, archived (applied original of a squash)
    edited: bool = False
    in_ledger: bool = False


class SeedStatus(BaseModel):
    """A seed file (`hasura seed apply` runs them in this order, after the migrations)."""

    path: Path
    name: str  # the path inside the seeds folder, as `hasura seed apply` walks it
    statements: int | None  # None: too large to parse for a status (MAX_ANALYSED_SQL_BYTES)
    sha256: str


class DatabaseStatus(BaseModel):
    database: str
    directory: Path
    migrations: list[MigrationStatus]
    archives: list[Path]
    seeds: list[SeedStatus] = []
    server: list[ServerVersion] | None = None


class StatusReport(BaseModel):
    """The result of `kedge-hasura status`; `ok` is False when any finding is an error."""

    project: Path
    config_version: int
    layout: str
    databases: list[DatabaseStatus]
    findings: list[Finding]
    settings: SettingsReport | None = None  # with -v: which files supplied which settings

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
        up_statements=_statement_count(up),
        down_statements=_statement_count(down),
        no_transaction=bool(up and has_no_transaction_marker(up.text)),
        up_sha256=up.sha256 if up else None,
    )


def seed_status(seed: Seed) -> SeedStatus:
    return SeedStatus(
        path=seed.path, name=seed.name, statements=_statement_count(seed.file), sha256=seed.file.sha256
    )


def _statement_count(sql: SqlFile | None) -> int | None:
    """Statements in the file; None when it is too large to parse here (see MAX_ANALYSED_SQL_BYTES)."""
    if sql is None:
        return 0
    return len(sql.parsed.statements) if sql.analysable else None


def local_status(project: Project, *, database: str | None = None) -> StatusReport:
    """Scan the project's migrations and report them per database, with findings.

    Raises:
        ProjectError: metadata/databases/databases.yaml is unreadable; a seed file is not UTF-8.
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
            seeds=[seed_status(seed) for seed in project.seeds_of(name)],
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
    findings = list(report.findings)
    for database in report.databases:
        migrations = scan.databases[database.database]
        recorded = cli.versions(database.database)
        ledger = ledger_sql.read_ledger(client, database.database)
        state = compare_state(migrations, recorded)
        edited = set(edited_versions(migrations, state, ledger))
        # Archived originals are named by their archive's manifest; local folders win.
        names = {v: name for squash in state.squashes for v, name in squash.names.items()}
        names.update({m.version: m.name for m in migrations.migrations})
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
            findings.extend(_server_findings(database.database, version, label, version in edited))
        database.server = rows
    return report.model_copy(update={"findings": findings})


def _server_findings(database: str, version: int, state: str, edited: bool) -> list[Finding]:
    """What `deploy` would refuse (edited, dirty) or `deploy --strict` would (missing locally)."""
    found = []
    if edited:
        found.append(
            Finding(
                code="migration-edited-since-applied",
                severity=Severity.ERROR,
                message=f"{database}: migration {version} was edited after the server applied it",
                hint="restore the applied text (git log -p), or deploy --allow-edited if the edit is "
                "harmless",
                database=database,
                version=version,
            )
        )
    if state == "dirty":
        found.append(
            Finding(
                code="migration-dirty",
                severity=Severity.ERROR,
                message=f"{database}: migration {version} is dirty on the server (it started and did not "
                "finish)",
                hint="see `kedge-hasura state show`; mark it applied or unapplied once you know which it is",
                database=database,
                version=version,
            )
        )
    if state == "missing locally":
        found.append(
            Finding(
                code="migration-missing-locally",
                severity=Severity.WARNING,
                message=f"{database}: the server applied version {version}, which this project does not have",
                hint="pull the branch that added it; deploy --strict refuses until then",
                database=database,
                version=version,
            )
        )
    return found
