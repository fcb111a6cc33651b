"""`squash`: turn a range of migrations into one migration that provably builds the same database.

    before  = template (+ --pre-sql) (+ the migrations before the range, for concat)
    A, A2   = copies of `before` + the original migrations (replayed twice)
    B       = a copy of `before` + the squashed up.sql, then its down.sql

Columns whose values differ between A and A2 (now(), random UUIDs) are "frozen at squash time" and
left out of the row comparison, column by column. The squash is accepted only if A and B have the
same schema (nothing at warning level or above) and rows, and B after down.sql equals `before`;
it is called identical only when nothing differs at all, else equivalent, with the definitions
that differ only in how PostgreSQL prints them listed (see actions.squash_roundtrip).
Nothing is written before that, and then only through a staged copy of the folder (see
project.staging), so an interruption leaves the project as it was or fully squashed.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from kedge_hasura import __version__
from kedge_hasura.actions.replay import script_from_file, scripts_for
from kedge_hasura.actions.squash_roundtrip import (
    VERIFIED_CLAIM,
    EquivalentDefinition,
    claim_lines,
    equivalent_only,
    first_verified,
    round_trip_entries,
    with_claim,
)
from kedge_hasura.errors import ProjectError, SquashNotEquivalent, UsageError
from kedge_hasura.pg import dump as pg_dump
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.replay import ReplayReport, SqlScript, StatementSpan, replay
from kedge_hasura.pg.scratch import ScratchCluster, ScratchDatabase
from kedge_hasura.project.findings import Severity
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations, Migration, load_sql_file, sql_findings
from kedge_hasura.project.pgdump import non_idempotent_kinds, parse_dump, render_up, without_baseline
from kedge_hasura.project.sqltext import created_roles, parse_sql
from kedge_hasura.schemadiff.compare import CompareOptions, Difference, SchemaDiff, compare
from kedge_hasura.schemadiff.data import DataDiff, DataOptions, compare_data
from kedge_hasura.schemadiff.drops import drop_statements
from kedge_hasura.schemadiff.model import Snapshot
from kedge_hasura.schemadiff.snapshot import HASURA_SCHEMAS, Scope, read_snapshot

Strategy = Literal["dump", "concat"]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class SquashRequest:
    database: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    name: str = "squashed"
    strategy: Strategy = "dump"
    dry_run: bool = False
    archive: bool = True
    pre_sql: Path | None = None
    exclude_schemas: tuple[str, ...] = ()
    idempotent: bool = False
    verify: bool = True
    owners: bool = False
    from_archive: bool = False  # squash the originals of the archive (dry run only)


class StatementCounts(BaseModel):
    before: dict[str, int]
    after: dict[str, int]


class Verification(BaseModel):
    verified: bool
    schema_differences: list[Difference] = []  # the accepted ones (info) when verified
    schema_identical: bool = False  # no difference of any severity (what pg_dump of both shows)
    equivalent_only: list[EquivalentDefinition] = []  # differ only in how PostgreSQL prints them
    data_identical: bool = True
    down_verified: bool | None = None  # None: not checked (a concat range with missing downs)
    idempotent_verified: bool | None = None


class SquashResult(BaseModel):
    """The result of `kedge-hasura squash` (also what --dry-run shows)."""

    database: str
    strategy: Strategy
    from_version: int
    to_version: int
    migrations: list[str]
    folder: Path  # the new migration's folder (written, or that would be written)
    archive_folder: Path | None
    dry_run: bool
    written: bool
    up_sql: str
    down_sql: str
    lines_before: int
    lines_after: int
    statements: StatementCounts
    objects: dict[str, int]  # objects the migrations created, per kind
    seconds_replay: float
    seconds_squashed: float
    seconds_total: float = 0.0
    frozen_values: list[str] = []
    verification: Verification
    warnings: list[str] = []
    postgres_major: int


@dataclass
class _Work:
    """What the steps of one squash share."""

    request: SquashRequest
    project: Project
    migrations: DatabaseMigrations
    selected: tuple[Migration, ...]
    cluster: ScratchCluster
    say: Progress
    scope: Scope
    warnings: list[str] = field(default_factory=list)
    round_trip_up: str | None = None  # the dump strategy's up.sql with forms that round-trip


def squash(
    project: Project,
    request: SquashRequest,
    *,
    cluster: Callable[[], ScratchCluster],
    progress: Progress | None = None,
    step: Callable[[str], None] | None = None,
) -> SquashResult:
    """Build, verify and (unless dry-run) write the squashed migration and the archive.

    `step` is called with the name of each file-writing step (a seam for interruption tests).

    Raises:
        UsageError: a bad range or strategy.
        ProjectError: the migrations have errors, or the target folders already exist.
        MigrationFailed: an original migration, the pre-SQL or the squashed SQL fails to apply.
        SquashNotEquivalent: the squashed migration does not build the same database (nothing written).
    """
    started = time.perf_counter()
    say = progress or (lambda message: None)
    migrations, selected = select_range(project, request)
    with cluster() as scratch:
        say(f"started {scratch.describe()}")
        work = _Work(
            request=request,
            project=project,
            migrations=migrations,
            selected=selected,
            cluster=scratch,
            say=say,
            scope=Scope(exclude=(*HASURA_SCHEMAS, *request.exclude_schemas)),
        )
        work.warnings += list(scratch.preconditions.notes)
        result = _squash(work)
        hasura_mimic = scratch.preconditions.hasura_mimic
    result.seconds_total = time.perf_counter() - started
    if not request.dry_run:
        say("writing the squashed migration and the archive")
        _write(project, request, result, migrations, selected, hasura_mimic, step)
        result.written = True
    return result


def _write(
    project: Project,
    request: SquashRequest,
    result: SquashResult,
    migrations: DatabaseMigrations,
    selected: tuple[Migration, ...],
    hasura_mimic: bool,
    step: Callable[[str], None] | None,
) -> None:
    from kedge_hasura.actions import archive
    from kedge_hasura.project.manifest import Consolidated

    manifest = None
    if request.archive:
        pre_sql = None
        if request.pre_sql is not None:
            resolved = request.pre_sql.resolve()
            pre_sql = (
                resolved.relative_to(project.root).as_posix()
                if resolved.is_relative_to(project.root)
                else str(resolved)
            )
        manifest = archive.manifest_for(
            migrations,
            selected,
            strategy=request.strategy,
            consolidated=Consolidated(
                version=result.to_version,
                name=request.name,
                folder=result.folder.name,
                up_sha256=hashlib.sha256(result.up_sql.encode()).hexdigest(),
                down_sha256=hashlib.sha256(result.down_sql.encode()).hexdigest(),
            ),
            postgres_major=result.postgres_major,
            frozen_values=result.frozen_values,
            pre_sql=pre_sql,
            exclude_schemas=request.exclude_schemas,
            hasura_preconditions=hasura_mimic,
        )
    archive.write_squash(
        migrations,
        selected,
        name=request.name,
        up_sql=result.up_sql,
        down_sql=result.down_sql,
        manifest=manifest,
        **({"step": step} if step else {}),
    )


def select_range(
    project: Project, request: SquashRequest
) -> tuple[DatabaseMigrations, tuple[Migration, ...]]:
    """The database's migrations and the range to squash.

    Raises:
        ProjectError: the migrations have errors.
        UsageError: no such database, an empty range, or dump without the first migration.
    """
    scan = project.scan_migrations()
    if scan.errors:
        first = scan.errors[0]
        raise ProjectError(
            f"the migrations have {len(scan.errors)} error(s), e.g. {first.location()}: {first.message}",
            hint="run `kedge-hasura status` and fix them before squashing",
        )
    if request.database is None and len(scan.databases) > 1:
        raise UsageError(
            f"the project has several databases ({', '.join(sorted(scan.databases))})",
            hint="choose one with --database",
        )
    name = request.database or next(iter(scan.databases), "default")
    if name not in scan.databases:
        raise UsageError(f"no migrations for database {name!r}", hint="check --database")
    migrations = scan.databases[name]
    if request.from_archive:
        migrations = _archived_originals(migrations, request)
    selected = migrations.select(request.from_version, request.to_version)
    if len(selected) < 1:
        raise UsageError(
            f"no migrations of {name} between {request.from_version or 'the first'} and "
            f"{request.to_version or 'the last'}",
            hint="check --from and --to (versions, as in `kedge-hasura status`)",
        )
    if request.strategy == "dump" and selected[0] != migrations.migrations[0]:
        raise UsageError(
            "the dump strategy rebuilds the whole schema, so its range must start at the first migration "
            f"({migrations.migrations[0].version})",
            hint="drop --from, or use --strategy concat to squash a range in the middle",
        )
    return migrations, selected


def _archived_originals(migrations: DatabaseMigrations, request: SquashRequest) -> DatabaseMigrations:
    """The originals of the database's squashed archive, as if they were still the migrations."""
    from kedge_hasura.project.manifest import read_manifest
    from kedge_hasura.project.migrations import scan_database_folder

    if not request.dry_run:
        raise UsageError(
            "--from-archive squashes originals that are already squashed: it only shows the report",
            hint="add --dry-run",
        )
    squashed = [folder for folder in migrations.archives if read_manifest(folder).consolidated is not None]
    if len(squashed) != 1:
        raise UsageError(
            f"--from-archive needs exactly one squashed archive for {migrations.database}; "
            f"found {len(squashed)}",
            hint="see `kedge-hasura archive list`",
        )
    archived = scan_database_folder(migrations.database, squashed[0]).databases[migrations.database]
    return DatabaseMigrations(
        database=migrations.database, directory=migrations.directory, migrations=archived.migrations
    )


def _squash(work: _Work) -> SquashResult:
    request, scratch = work.request, work.cluster
    before = _build_before(work)
    work.say(f"replaying {len(work.selected)} migrations")
    replayed = scratch.create_database("replay", copy_of=before)
    first_new_oid = pg_dump.last_oid(replayed.conninfo)
    report = _replay_range(work, replayed)
    work.warnings += _transaction_warnings(work.selected)
    frozen = _frozen_columns(work, before, replayed) if request.verify else []

    outside = pg_dump.outside_dependencies(replayed.conninfo, first_new_oid)
    if outside:
        work.warnings.append(
            "the migrations depend on objects they do not create (they must exist wherever the squashed "
            "migration runs): " + ", ".join(outside)
        )
    final = _snapshot(replayed.conninfo, work.scope)
    start = _snapshot(before.conninfo, work.scope)
    if request.strategy == "dump":
        up_sql, down_sql = _dump_strategy(work, before, replayed, first_new_oid, frozen, (final, start))
    else:
        up_sql, down_sql = _concat_strategy(work)
    verification, seconds_squashed = Verification(verified=False), 0.0
    if request.verify:
        candidates = [up_sql] if work.round_trip_up is None else [work.round_trip_up, up_sql]
        up_sql, (verification, seconds_squashed) = first_verified(
            candidates, lambda sql: _verify(work, before, replayed, final, sql, down_sql, frozen)
        )
    if verification.verified and not verification.schema_identical:
        others = len(verification.schema_differences) - len(verification.equivalent_only)
        up_sql = with_claim(up_sql, claim_lines(False, verification.equivalent_only, others))
    if not request.verify:
        work.warnings.append(
            "not verified (--no-verify): nothing proves this migration builds the same database"
        )
    versions = [m.key for m in work.selected]
    to = work.selected[-1]
    return SquashResult(
        database=work.migrations.database,
        strategy=request.strategy,
        from_version=work.selected[0].version,
        to_version=to.version,
        migrations=versions,
        folder=work.migrations.directory / f"{to.version}_{request.name}",
        archive_folder=(work.migrations.directory / f"squashed_{work.selected[0].version}_to_{to.version}")
        if request.archive
        else None,
        dry_run=request.dry_run,
        written=False,
        up_sql=up_sql,
        down_sql=down_sql,
        lines_before=sum(len(m.up.text.splitlines()) for m in work.selected if m.up),
        lines_after=len(up_sql.splitlines()),
        statements=StatementCounts(
            before=_statement_counts(m.up.text for m in work.selected if m.up),
            after=_statement_counts([up_sql]),
        ),
        objects={
            kind: count
            for kind in final.objects
            if (count := len(final.of_kind(kind).keys() - start.of_kind(kind).keys()))
        },
        seconds_replay=report.seconds,
        seconds_squashed=seconds_squashed,
        frozen_values=frozen,
        verification=verification,
        warnings=work.warnings,
        postgres_major=scratch.major,
    )


# -- building the states ------------------------------------------------------------------------


def _build_before(work: _Work) -> ScratchDatabase:
    """The state before the range: the template, the pre-SQL, and (concat) earlier migrations."""
    database = work.cluster.create_database("before")
    scripts: list[SqlScript] = []
    if work.request.pre_sql is not None:
        scripts.append(script_from_file(0, "pre-sql", load_sql_file(work.request.pre_sql)))
    earlier = [m for m in work.migrations.migrations if m.version < work.selected[0].version]
    scripts += scripts_for(earlier)
    if scripts:
        work.say(f"preparing the state before the range ({len(scripts)} script(s))")
        _apply(work, database, scripts)
    return database


def _replay_range(work: _Work, database: ScratchDatabase) -> ReplayReport:
    total = len(work.selected)
    return _apply(
        work,
        database,
        scripts_for(work.selected),
        progress=lambda index, count, script: work.say(
            f"replaying {index + 1}/{total}: {script.version}_{script.name}"
        ),
    )


def _apply(
    work: _Work,
    database: ScratchDatabase,
    scripts: Sequence[SqlScript],
    progress: Callable[[int, int, SqlScript], None] | None = None,
) -> ReplayReport:
    report = replay(database.conninfo, scripts, on_script=progress)
    failure = report.failed_step.failure if report.failed_step else None
    report.raise_for_failure(hint=work.cluster.missing_extension_hint(failure.message) if failure else None)
    return report


def _frozen_columns(work: _Work, before: ScratchDatabase, replayed: ScratchDatabase) -> list[str]:
    """Columns whose values differ between two replays of the same history."""
    work.say("replaying again to find values that change on every run")
    again = work.cluster.create_database("replay_again", copy_of=before)
    _apply(work, again, scripts_for(work.selected))
    with PsycopgExecutor(replayed.conninfo) as first, PsycopgExecutor(again.conninfo) as second:
        data = compare_data(
            (first, read_snapshot(first, work.scope)),
            (second, read_snapshot(second, work.scope)),
            DataOptions(max_rows=10**9, match="physical"),
            scope=work.scope,
        )
    work.cluster.drop_database(again)
    frozen = sorted(
        f"{table}.{column}" for table, columns in data.differing_columns().items() for column in columns
    )
    if frozen:
        work.warnings.append(
            "values frozen at squash time (they differ on every replay, e.g. now() or random UUIDs; the "
            f"squashed migration holds the values of this run): {', '.join(frozen)}"
        )
    return frozen


# -- the two strategies -------------------------------------------------------------------------


def _dump_strategy(
    work: _Work,
    before: ScratchDatabase,
    replayed: ScratchDatabase,
    first_new_oid: int,
    frozen: list[str],
    snapshots: tuple[Snapshot, Snapshot],
) -> tuple[str, str]:
    work.say("dumping the final state")
    installation = work.cluster.client_installation()
    options = pg_dump.DumpOptions(
        exclude_schemas=(*HASURA_SCHEMAS, *work.request.exclude_schemas), owners=work.request.owners
    )
    entries = parse_dump(pg_dump.dump(installation, replayed.conninfo, options))
    baseline = parse_dump(pg_dump.dump(installation, before.conninfo, options))
    entries, changed = without_baseline(entries, baseline)
    if changed:
        work.warnings.append(
            "the migrations change objects that existed before them (the template, --pre-sql); a squashed "
            "migration cannot re-create those changes: " + ", ".join(f"{e.type} {e.label}" for e in changed)
        )
    if work.request.idempotent:
        kinds = non_idempotent_kinds(entries)
        if kinds:
            work.warnings.append(
                "--idempotent: PostgreSQL has no IF NOT EXISTS form for "
                + ", ".join(kinds)
                + "; those statements run in DO blocks that skip them when their object exists, even if "
                "it is defined differently"
            )
    roles = _roles(work, replayed, first_new_oid)
    up_sql = render_up(entries, header=_header(work, frozen), idempotent=work.request.idempotent, roles=roles)
    if work.request.verify and (forms := round_trip_entries(entries)) is not None:
        work.round_trip_up = render_up(
            forms, header=_header(work, frozen), idempotent=work.request.idempotent, roles=roles
        )
    final, start = snapshots
    edges = [(edge.dependent, edge.depends_on) for edge in pg_dump.view_dependencies(replayed.conninfo)]
    drops, notes = drop_statements(final, start, edges)
    work.warnings += notes
    down_header = [
        f"Undoes {work.selected[-1].version}_{work.request.name}: drops what its up.sql creates, dependents",
        "first. Extensions and schemas that existed before are left alone; nothing is dropped with CASCADE.",
    ]
    down_sql = "\n".join(f"-- {line}" for line in down_header) + "\n\n" + "\n".join(drops) + "\n"
    return up_sql, down_sql


def _roles(work: _Work, replayed: ScratchDatabase, first_new_oid: int) -> list[str]:
    """The originals' CREATE ROLE statements, for the roles the squashed objects use.

    pg_dump of a database leaves roles out (they belong to the cluster), yet its GRANTs and
    policies name them. Roles used but not created by the originals are reported: they must exist
    wherever the squashed migration runs.
    """
    created = {
        name: text
        for migration in work.selected
        if migration.up
        for name, text in created_roles(migration.up.text)
    }
    used = pg_dump.referenced_roles(replayed.conninfo, first_new_oid, owners=work.request.owners)
    missing = [role for role in used if role not in created]
    if missing:
        work.warnings.append(
            "the migrations grant to roles they do not create (roles are cluster-wide; they must exist "
            "wherever the squashed migration runs): " + ", ".join(missing)
        )
    return [text for name, text in created.items() if name in used]


def _concat_strategy(work: _Work) -> tuple[str, str]:
    """The Hasura CLI's squash, with a comment naming each part and every missing down reported."""
    header = "\n".join(f"-- {line}".rstrip() for line in _header(work, []))
    up_parts = [header]
    for migration in work.selected:
        assert migration.up is not None
        up_parts.append(f"-- kedge: from {migration.key}\n{migration.up.text.rstrip()}")
    down_parts = [
        f"-- Undoes {work.selected[-1].version}_{work.request.name}: "
        "the original down.sql files, newest first."
    ]
    missing = []
    for migration in reversed(work.selected):
        if migration.down is None:
            missing.append(migration.key)
            down_parts.append(f"-- kedge: {migration.key} has no down.sql: nothing here undoes it")
        else:
            down_parts.append(f"-- kedge: undoes {migration.key}\n{migration.down.text.rstrip()}")
    if missing:
        work.warnings.append(
            f"{len(missing)} migration(s) without down.sql, so the squashed down.sql cannot undo them: "
            + ", ".join(missing)
        )
    return "\n\n".join(up_parts) + "\n", "\n\n".join(down_parts) + "\n"


def _header(work: _Work, frozen: list[str]) -> list[str]:
    first, last = work.selected[0], work.selected[-1]
    lines = [
        f"Squashed by kedge-hasura {__version__} ({work.request.strategy} strategy, PostgreSQL "
        f"{work.cluster.major}) from {len(work.selected)} migration(s) "
        f"of database {work.migrations.database!r},",
        f"versions {first.version} to {last.version}; the originals are archived in "
        f"squashed_{first.version}_to_{last.version}/.",
        VERIFIED_CLAIM
        if work.request.verify
        else "Not verified (--no-verify): nothing proves this file builds what the originals build.",
        "",
        "Originals (version_name  sha256 of up.sql):",
    ]
    lines += [f"  {m.key}  {m.up.sha256 if m.up else '-'}" for m in work.selected]
    if frozen:
        lines += ["", "Values frozen at squash time (different on every replay): " + ", ".join(frozen)]
    return lines


# -- verification -------------------------------------------------------------------------------


def _verify(
    work: _Work,
    before: ScratchDatabase,
    replayed: ScratchDatabase,
    final: Snapshot,
    up_sql: str,
    down_sql: str,
    frozen: list[str],
) -> tuple[Verification, float]:
    work.say("verifying: applying the squashed migration on a fresh copy")
    candidate = work.cluster.create_database("squashed", copy_of=before)
    started = time.perf_counter()
    _apply(work, candidate, [_script(work, "up.sql", up_sql)])
    seconds = time.perf_counter() - started
    schema, data = _compare(work, replayed.conninfo, candidate.conninfo, frozen)
    idempotent = None
    if work.request.idempotent and not schema.failing(Severity.WARNING) and data.identical:
        _apply(work, candidate, [_script(work, "up.sql (again)", up_sql)])
        again, again_data = _compare(work, replayed.conninfo, candidate.conninfo, frozen)
        idempotent = not again.failing(Severity.WARNING) and again_data.identical
    if schema.failing(Severity.WARNING) or not data.identical or idempotent is False:
        raise SquashNotEquivalent(
            "the squashed migration does not build the same database as the originals; nothing was written",
            hint="the differences are listed above; please report the case, it is a bug in kedge-hasura "
            "or a migration whose result depends on when it runs",
            schema=schema,
            data=data,
        )
    down_verified = None
    if not (work.request.strategy == "concat" and any(m.down is None for m in work.selected)):
        work.say("verifying: applying the squashed down.sql")
        _apply(work, candidate, [_script(work, "down.sql", down_sql)])
        down_schema, down_data = _compare(work, before.conninfo, candidate.conninfo, [])
        down_verified = not down_schema.failing(Severity.WARNING) and down_data.identical
        if not down_verified:
            raise SquashNotEquivalent(
                "the squashed down.sql does not return the database to its state before the range; "
                "nothing was written",
                schema=down_schema,
                data=down_data,
            )
    work.cluster.drop_database(candidate)
    infos = [d for d in schema.differences if d.severity is Severity.INFO]
    return (
        Verification(
            verified=True,
            schema_differences=infos,
            schema_identical=not schema.differences,
            equivalent_only=equivalent_only(schema.differences),
            data_identical=True,
            down_verified=down_verified,
            idempotent_verified=idempotent,
        ),
        seconds,
    )


def _compare(work: _Work, source: str, target: str, frozen: list[str]) -> tuple[SchemaDiff, DataDiff]:
    with (
        PsycopgExecutor(source, label="the replayed originals") as a,
        PsycopgExecutor(target, label="the squashed migration") as b,
    ):
        snapshot_a, snapshot_b = read_snapshot(a, work.scope), read_snapshot(b, work.scope)
        schema = compare(
            snapshot_a,
            snapshot_b,
            options=CompareOptions(),
            source_label="originals",
            target_label="squashed",
        )
        data = compare_data(
            (a, snapshot_a),
            (b, snapshot_b),
            DataOptions(max_rows=10**9, ignore_columns=frozenset(frozen)),
            scope=work.scope,
        )
    return schema, data


def _snapshot(conninfo: str, scope: Scope) -> Snapshot:
    with PsycopgExecutor(conninfo) as executor:
        return read_snapshot(executor, scope)


def _script(work: _Work, name: str, sql: str) -> SqlScript:
    parsed = parse_sql(sql)
    path = work.migrations.directory / f"{work.selected[-1].version}_{work.request.name}" / name
    return SqlScript(
        version=work.selected[-1].version,
        name=f"{work.request.name} ({name})",
        path=path,
        sql=sql,
        statements=tuple(
            StatementSpan(s.start, s.end, s.line, s.transaction_control is not None)
            for s in parsed.statements
        ),
    )


# -- reporting ---------------------------------------------------------------------------------


def _transaction_warnings(selected: Sequence[Migration]) -> list[str]:
    warnings = []
    for migration in selected:
        for finding in sql_findings(migration):
            if finding.code in ("non-transactional", "no-transaction-marker", "transaction-control"):
                warnings.append(f"{finding.location()}: {finding.message}")
    return warnings


_STATEMENT_LABELS = {
    "create_stmt": "CREATE TABLE", "alter_table_stmt": "ALTER TABLE", "index_stmt": "CREATE INDEX",
    "create_function_stmt": "CREATE FUNCTION", "create_trig_stmt": "CREATE TRIGGER",
    "view_stmt": "CREATE VIEW",
    "drop_stmt": "DROP", "insert_stmt": "INSERT", "update_stmt": "UPDATE", "delete_stmt": "DELETE",
    "comment_stmt": "COMMENT", "rename_stmt": "RENAME", "create_schema_stmt": "CREATE SCHEMA",
    "create_enum_stmt": "CREATE TYPE", "create_domain_stmt": "CREATE DOMAIN", "grant_stmt": "GRANT",
    "create_extension_stmt": "CREATE EXTENSION", "create_seq_stmt": "CREATE SEQUENCE",
    "alter_seq_stmt": "ALTER SEQUENCE", "create_policy_stmt": "CREATE POLICY", "select_stmt": "SELECT",
    "variable_set_stmt": "SET", "create_table_as_stmt": "CREATE MATERIALIZED VIEW",
}  # fmt: skip


def _statement_counts(texts: Iterable[str]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for text in texts:
        for statement in parse_sql(text).statements:
            counts[_STATEMENT_LABELS.get(statement.node or "", statement.node or "unparsed")] += 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# -- squash --check ---------------------------------------------------------------------------------


class SquashCheckItem(BaseModel):
    archive: Path
    consolidated: str | None
    equivalent: bool
    checksums_ok: bool
    schema_identical: bool = False  # no difference of any severity (equivalent may still be true)
    equivalent_only: list[EquivalentDefinition] = []  # differ only in how PostgreSQL prints them
    edited_since_squash: bool = False
    problem: str | None = None
    schema_differences: list[Difference] = []
    data: DataDiff | None = None


class SquashCheck(BaseModel):
    """The result of `squash --check`: every squash still equivalent to its archived originals."""

    items: list[SquashCheckItem]

    @property
    def ok(self) -> bool:
        return all(item.equivalent and item.checksums_ok for item in self.items)


def check_squash(
    project: Project,
    *,
    database: str | None,
    cluster: Callable[[], ScratchCluster],
    progress: Progress | None = None,
) -> SquashCheck:
    """Re-run each archived squash in scratch databases and compare it with the committed migration.

    Raises:
        ProjectError: the migrations have errors.
        MigrationFailed: an archived original or the committed migration fails to apply.
    """
    from kedge_hasura.project.manifest import check_archive, read_manifest
    from kedge_hasura.project.migrations import scan_database_folder

    say = progress or (lambda message: None)
    scan = project.scan_migrations(analyze_sql=False)
    if scan.errors:
        raise ProjectError(
            f"the migrations have errors: {scan.errors[0].message}", hint="run `kedge-hasura status`"
        )
    squashes = [
        (migrations, folder, read_manifest(folder))
        for name, migrations in sorted(scan.databases.items())
        if database is None or name == database
        for folder in migrations.archives
    ]
    squashes = [(m, f, manifest) for m, f, manifest in squashes if manifest.consolidated is not None]
    items: list[SquashCheckItem] = []
    if not squashes:
        return SquashCheck(items=items)
    with cluster() as scratch:
        for migrations, folder, manifest in squashes:
            consolidated = manifest.consolidated
            assert consolidated is not None
            say(f"checking {folder.name} against {consolidated.folder}")
            item = SquashCheckItem(
                archive=folder,
                consolidated=consolidated.folder,
                equivalent=False,
                checksums_ok=check_archive(folder, manifest).ok,
            )
            current = migrations.by_version(consolidated.version)
            if current is None or current.up is None:
                item.problem = f"the squashed migration {consolidated.folder} is missing"
                items.append(item)
                continue
            item.edited_since_squash = current.up.sha256 != consolidated.up_sha256
            originals = (
                scan_database_folder(migrations.database, folder).databases[migrations.database].migrations
            )
            request = SquashRequest(
                database=migrations.database, strategy=manifest.strategy or "dump",
                pre_sql=project.root / manifest.pre_sql if manifest.pre_sql else None,
                exclude_schemas=tuple(manifest.exclude_schemas),
            )  # fmt: skip
            work = _Work(
                request=request, project=project, migrations=migrations, selected=originals, cluster=scratch,
                say=say, scope=Scope(exclude=(*HASURA_SCHEMAS, *manifest.exclude_schemas)),
            )  # fmt: skip
            before = _build_before(work)
            replayed = scratch.create_database("originals", copy_of=before)
            _apply(work, replayed, scripts_for(originals))
            committed = scratch.create_database("committed", copy_of=before)
            _apply(work, committed, [script_from_file(current.version, current.name, current.up)])
            schema, data = _compare(work, replayed.conninfo, committed.conninfo, manifest.frozen_values)
            item.schema_differences = schema.failing(Severity.WARNING)
            item.schema_identical = not schema.differences
            item.equivalent_only = equivalent_only(schema.differences)
            item.data = data
            item.equivalent = not item.schema_differences and data.identical
            items.append(item)
    return SquashCheck(items=items)
