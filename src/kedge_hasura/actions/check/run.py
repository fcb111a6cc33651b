"""`check`: metadata and migration consistency checks for CI, offline and (with --online) live.

Offline, the migrations of each database are replayed on a scratch database and the metadata is
checked against what they build, as Hasura would check it when the metadata is applied. Online,
the server is asked for its inconsistencies, its metadata and its applied migrations. Every
problem is a finding with a code, a severity, a file and a line; findings are grouped into the
checks of `codes.CHECKS`, one JUnit test case each.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from kedge_hasura.actions.check import graphql_impact as check_impact
from kedge_hasura.actions.check import migrations as check_migrations
from kedge_hasura.actions.check import online as check_online
from kedge_hasura.actions.check import permissions as check_permissions
from kedge_hasura.actions.check import tables as check_tables
from kedge_hasura.actions.check.catalog import DatabaseCatalog
from kedge_hasura.actions.check.codes import (
    CHECKS,
    DATABASE_CHECKS,
    ONLINE_CHECKS,
    OPTIONAL_CHECKS,
    CheckFinding,
    FindingSink,
)
from kedge_hasura.actions.check.replay import Databases, ReplayOutcome, declared_databases, replay_databases
from kedge_hasura.errors import ProjectError, UsageError
from kedge_hasura.findings import Severity
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.bounds import OUTSIDE_CODE
from kedge_hasura.project.layout import Project
from kedge_hasura.project.metadata_model import MetadataProject, files_not_included, load_metadata_model
from kedge_hasura.project.migrations import MigrationScan, scan_migrations
from kedge_hasura.project.naming import migration_folder_name

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CheckOptions:
    """What to check and how strictly (the command's options and config.yaml's `kedge: check:`)."""

    database: str | None = None  # only this database (Hasura source)
    online: bool = False
    fail_on: Severity = Severity.ERROR
    ignore_untracked: tuple[str, ...] = ()  # "schema.table" globs
    ignore: tuple[str, ...] = ()  # finding codes to leave out
    now: datetime | None = None  # for "version in the future"; the current time when None
    impact_base: str | None = None  # with a revision, also the `impact` check against it


class CheckRun(BaseModel):
    """One check: `failed` when it has a finding at or above --fail-on."""

    name: str
    description: str
    status: Literal["passed", "failed", "skipped"]
    reason: str | None = None  # why it was skipped
    errors: int = 0
    warnings: int = 0
    infos: int = 0


class CheckReport(BaseModel):
    """The result of `kedge-hasura check`; `ok` is False when a finding reaches `fail_on`."""

    project: Path
    online: bool
    fail_on: Severity
    databases: list[str]
    checks: list[CheckRun]
    findings: list[CheckFinding]
    ignored: int = 0  # findings left out by `kedge: check: ignore` in config.yaml, or --ignore
    timings: dict[str, float] = {}  # seconds: load, scratch (server start), replay, checks, online, total

    @property
    def ok(self) -> bool:
        return not any(finding.severity.rank >= self.fail_on.rank for finding in self.findings)


@dataclass
class _Run:
    options: CheckOptions
    sink: FindingSink = field(default_factory=FindingSink)
    skipped: dict[str, str] = field(default_factory=dict)  # check → why it did not run at all
    ran: set[str] = field(default_factory=set)
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - started


def check_project(
    project: Project,
    *,
    cluster: Callable[[], ScratchCluster],
    hasura: Callable[[], HasuraClient] | None = None,
    options: CheckOptions | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """Run every check on the project; problems become findings, never exceptions.

    Raises:
        ToolError, DatabaseError: no scratch PostgreSQL could be used.
        MigrationFailed: a migration needs an extension the scratch server lacks.
        HasuraError: with `online`, the server could not be asked.
        UsageError: `--database` names a database the project does not have.
    """
    options = options or CheckOptions()
    say = progress or (lambda message: None)
    run = _Run(options)
    started = time.perf_counter()
    with run.timed("load"):
        databases = declared_databases(project, only=options.database)
        scan = scan_migrations(
            project.migrations_dir,
            config_version=project.config.version,
            declared_databases=databases.declared,
        )
        _require_known(options.database, databases, scan)
        replay, reasons = _with_migrations(databases, scan)
    # The replay runs in PostgreSQL while the metadata loads in Python: on two cores they overlap.
    with ThreadPoolExecutor(max_workers=1) as pool:
        replaying = pool.submit(replay_databases, replay, scan, cluster, say, project)
        with run.timed("load"):
            metadata = _load_metadata(project, run)
            _check_files(project, metadata, scan, run)
        outcome = replaying.result()
    run.timings.update(outcome.timings)
    _record_replay(outcome, replay, reasons, metadata, run)
    with run.timed("checks"):
        _check_databases(metadata, outcome.catalogs, run)
    if options.online:
        with run.timed("online"):
            _check_online(hasura, metadata, scan, run, say)
    else:
        for name in ONLINE_CHECKS:
            run.skipped[name] = "offline (use --online)"
    if options.impact_base is not None:
        with run.timed("impact"):
            check_impact.check_impact(project, options.impact_base, options.database, cluster, run.sink, say)
        run.ran.add("graphql-impact")
    run.timings["total"] = time.perf_counter() - started
    return _report(project, run, sorted(outcome.catalogs))


def _require_known(database: str | None, databases: Databases, scan: MigrationScan) -> None:
    """Refuse a --database the project does not have, as every command does (not check nothing).

    Raises:
        UsageError: `database` is neither in databases.yaml nor a migrations folder.
    """
    if database is None or database in scan.databases:
        return
    if databases.declared is None or database in databases.declared:
        return  # databases.yaml does not load (a finding says so), or declares it
    found = ", ".join(sorted(databases.declared | set(scan.databases))) or "none"
    raise UsageError(
        f"no database {database!r} in metadata/databases/databases.yaml or migrations/ (found: {found})",
        hint="check --database (KEDGE_DATABASE)",
    )


def _with_migrations(databases: Databases, scan: MigrationScan) -> tuple[list[str], list[str]]:
    replay, reasons = [], list(databases.reasons)
    for name in databases.replay:
        if name in scan.databases and scan.databases[name].migrations:
            replay.append(name)
        else:
            reasons.append(f"database {name} has no migrations")
    return replay, reasons


def _check_files(project: Project, metadata: MetadataProject | None, scan: MigrationScan, run: _Run) -> None:
    """The checks that read only files: config.yaml, migrations, archives, roles, table files."""
    options = run.options
    for finding in project.config.findings:
        run.sink.adopt(finding, check="config")
    run.ran.add("config")
    check_migrations.check_migrations(
        scan, run.sink, database=options.database, now=options.now or datetime.now(UTC)
    )
    if check_migrations.check_archives(scan, run.sink, database=options.database):
        run.ran.add("archives")
    else:
        run.skipped["archives"] = "no squash archives"
    run.ran.update({"metadata", "migrations"})
    if metadata is None:
        run.skipped["roles"] = "the metadata does not load"
        return
    run.ran.add("roles")
    for path, named_at in metadata.directory.outside:
        run.sink.add(
            OUTSIDE_CODE,
            f"{path.name} is read from outside the metadata folder ({os.path.realpath(path)})",
            path=named_at.path,
            line=named_at.line,
        )
    check_permissions.check_permission_rules(metadata.metadata, run.sink)
    for path in files_not_included(metadata.directory):
        run.sink.add(
            "table-file-not-included",
            f"{path.name} is not included by any tables.yaml or functions.yaml, so Hasura never reads it",
            path=path,
        )


def _record_replay(
    outcome: ReplayOutcome, replay: list[str], reasons: list[str], metadata: MetadataProject | None, run: _Run
) -> None:
    for failure in outcome.failures:
        run.sink.add(
            "migration-replay-failed",
            f"migration {migration_folder_name(failure.version, failure.name)} fails on a fresh database: "
            f"{failure.message}",
            path=failure.path,
            line=failure.line,
            hint=failure.hint,
            database=failure.database,
            version=failure.version,
        )
        reasons.append(f"the migrations of {failure.database} do not replay")
    for failure in outcome.seed_failures:
        seed = failure.path.name if failure.path is not None else "a seed file"
        run.sink.add(
            "seed-replay-failed",
            f"seed {seed} fails after the migrations: {failure.message}",
            path=failure.path,
            line=failure.line,
            hint=failure.hint,
            database=failure.database,
        )
    if outcome.seeds_replayed or outcome.seed_failures:
        run.ran.add("seeds")
    else:
        run.skipped["seeds"] = "no seed files" if outcome.catalogs else "the migrations did not replay"
    if metadata is None:
        reasons.append("the metadata does not load")
    if replay:
        run.ran.add("replay")
    else:
        run.skipped["replay"] = "; ".join(reasons) or "nothing to replay"
    if not outcome.catalogs or metadata is None:
        for name in ("tracking", "permissions", *DATABASE_CHECKS):
            run.skipped[name] = "; ".join(reasons) or "no database to check"


def _load_metadata(project: Project, run: _Run) -> MetadataProject | None:
    try:
        metadata = load_metadata_model(project.metadata_dir, config_version=project.config.version)
        run.sink.project = metadata
        return metadata
    except ProjectError as exc:
        # The check goes on without metadata, so CI still gets the migration findings, and the
        # broken file becomes an annotation at its line.
        if exc.path is None:
            run.sink.add("metadata-invalid", exc.message, path=project.metadata_dir, hint=exc.hint)
        else:
            run.sink.add("metadata-invalid", exc.problem, path=exc.path, line=exc.line, hint=exc.hint)
        return None


def _check_databases(
    metadata: MetadataProject | None, catalogs: dict[str, DatabaseCatalog], run: _Run
) -> None:
    if metadata is None:
        return
    for name, catalog in sorted(catalogs.items()):
        source = metadata.metadata.source(name)
        if source is None:
            continue  # databases.yaml and the loaded metadata cannot disagree; be safe anyway
        context = check_tables.SourceContext(source=source, catalog=catalog, sink=run.sink)
        check_tables.check_tracked_tables(context)
        check_tables.check_untracked(context, ignore=run.options.ignore_untracked)
        check_tables.check_functions(context)
        check_tables.check_relationships(context)
        check_tables.check_computed_fields(context)
        check_tables.check_enum_tables(context)
        check_permissions.check_permission_fields(context)
        run.ran.update({"tracking", "permissions", *DATABASE_CHECKS})


def _check_online(
    hasura: Callable[[], HasuraClient] | None,
    metadata: MetadataProject | None,
    scan: MigrationScan,
    run: _Run,
    say: Progress,
) -> None:
    assert hasura is not None, "online checks need a Hasura client"
    client = hasura()
    say("asking Hasura for inconsistent metadata")
    check_online.check_server_consistency(client, metadata, run.sink)
    run.ran.add("server-consistency")
    if metadata is not None:
        say("comparing the local metadata with Hasura's")
        check_online.check_metadata_drift(client, metadata, run.sink)
        run.ran.add("metadata-drift")
    else:
        run.skipped["metadata-drift"] = "the metadata does not load"
    if scan.layout == "v2":
        # The CLI keeps a config v2 project's applied versions in hdb_catalog.schema_migrations
        # (GetMigrationsStateStore in cli/cli.go), not in the catalog state read here.
        run.skipped["migration-state"] = (
            "config v2 records applied migrations in hdb_catalog.schema_migrations, not read by kedge-hasura"
        )
        return
    say("comparing applied migrations")
    check_online.check_migration_state(client, scan, run.sink, database=run.options.database)
    run.ran.add("migration-state")


def _report(project: Project, run: _Run, databases: list[str]) -> CheckReport:
    ignored_codes = set(run.options.ignore)
    findings = [f for f in run.sink.findings if f.code not in ignored_codes]
    findings.sort(
        key=lambda f: (-f.severity.rank, list(CHECKS).index(f.check), str(f.path or ""), f.line or 0, f.code)
    )
    checks = []
    for name, description in CHECKS.items():
        mine = [f for f in findings if f.check == name]
        if name in OPTIONAL_CHECKS and name not in run.ran and not mine:
            continue
        counts = {severity: sum(1 for f in mine if f.severity is severity) for severity in Severity}
        failed = any(f.severity.rank >= run.options.fail_on.rank for f in mine)
        skipped = name not in run.ran and not mine
        checks.append(
            CheckRun(
                name=name,
                description=description,
                status="failed" if failed else "skipped" if skipped else "passed",
                reason=run.skipped.get(name) if skipped else None,
                errors=counts[Severity.ERROR],
                warnings=counts[Severity.WARNING],
                infos=counts[Severity.INFO],
            )
        )
    return CheckReport(
        project=project.root,
        online=run.options.online,
        fail_on=run.options.fail_on,
        databases=databases,
        checks=checks,
        findings=findings,
        ignored=len(run.sink.findings) - len(findings),
        timings={phase: round(seconds, 3) for phase, seconds in run.timings.items()},
    )
