"""`squash`: turn a range of migrations into one migration that provably builds the same database.

    before  = template (+ --pre-sql) (+ the migrations before the range, for concat)
    A, A2   = copies of `before` + the original migrations (replayed twice)
    B       = a copy of `before` + the squashed up.sql, then its down.sql

Columns whose values differ between A and A2 (now(), random UUIDs) are "frozen at squash time" and
left out of the row comparison, column by column; tables whose row count differs (and sequences
whose position does) are "non-deterministic" and left out whole. The squash is accepted only if
A and B have the same schema (nothing at warning level or above) and rows, and B after down.sql
equals `before`.
Nothing is written before that, and then only through a staged copy of the folder (see
project.staging), so an interruption leaves the project as it was or fully squashed.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel

from kedge_hasura.actions.squash import failure
from kedge_hasura.actions.squash.equivalence import SquashNotEquivalent
from kedge_hasura.actions.squash.plan import (
    Progress,
    SquashRequest,
    Strategy,
    earlier_squash_of,
    nothing_to_squash,
    refuse_orphaning,
    select_range,
)
from kedge_hasura.actions.squash.roundtrip import claim_lines, first_verified, with_claim
from kedge_hasura.actions.squash.steps import (
    Work,
    build_before,
    find_variation,
    replay_range,
    snapshots,
    squash_folder_name,
    transaction_warnings,
)
from kedge_hasura.actions.squash.strategies import concat_strategy, dump_strategy
from kedge_hasura.actions.squash.verify import Verification, verify
from kedge_hasura.errors import KedgeError, MigrationFailed
from kedge_hasura.pg import dump as pg_dump
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations, Migration
from kedge_hasura.project.naming import archive_folder_name, migration_folder_name
from kedge_hasura.schemadiff.snapshot import HASURA_SCHEMAS, Scope
from kedge_hasura.sql.statements import parse_sql


class StatementCounts(BaseModel):
    before: dict[str, int]
    after: dict[str, int]


class SquashResult(BaseModel):
    """The result of `kedge-hasura squash` (also what --dry-run shows)."""

    database: str
    strategy: Strategy
    from_version: int
    to_version: int
    migrations: list[str]
    folder: Path  # the new migration's folder (written, or that would be written)
    archive_folder: Path | None
    # Archives of earlier squashes whose migration is in the range: the new archive links to them.
    earlier_archives: list[Path] = []
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
    nondeterministic_tables: list[str] = []  # row count differs between replays: rows not compared
    nondeterministic_sequences: list[str] = []  # position differs between replays: not compared
    verification: Verification
    warnings: list[str] = []
    postgres_major: int


class NothingToSquash(BaseModel):
    """The result of `kedge-hasura squash` when the range needs no squash: nothing is written."""

    database: str
    reason: str
    migrations: list[str]  # the range (empty, or the one migration an earlier squash wrote)
    earlier_archive: Path | None = None  # that squash's archive
    dry_run: bool
    written: bool = False


def squash(
    project: Project,
    request: SquashRequest,
    *,
    cluster: Callable[[], ScratchCluster],
    progress: Progress | None = None,
    step: Callable[[str], None] | None = None,
) -> SquashResult | NothingToSquash:
    """Build, verify and (unless dry-run) write the squashed migration and the archive.

    A range with nothing to squash (no migrations, or only the one an earlier squash wrote, see
    plan.nothing_to_squash) returns NothingToSquash without writing; the scratch server, started
    beside the scan of the project (a second or so each), is stopped unused.

    `step` is called with the name of each file-writing step (a seam for interruption tests).

    Raises:
        UsageError: a bad range or strategy.
        ProjectError: the migrations have errors, or the target folders already exist.
        MigrationFailed: an original migration, the pre-SQL or the squashed SQL fails to apply.
        SquashNotEquivalent: the squashed migration does not build the same database (nothing written).
    """
    started = time.perf_counter()
    say = progress or (lambda message: None)
    starting = _start_beside(cluster)
    try:
        migrations, selected = select_range(project, request)
        nothing = nothing_to_squash(migrations, selected, request)
        if nothing is None:
            refuse_orphaning(migrations, selected, request)
    except BaseException:
        _stop_unused(starting)  # the project's error comes first; the server's, if any, is moot
        raise
    if nothing is not None:
        _stop_unused(starting)
        reason, earlier = nothing
        return NothingToSquash(
            database=migrations.database,
            reason=reason,
            migrations=[m.key for m in selected],
            earlier_archive=migrations.directory / earlier if earlier else None,
            dry_run=request.dry_run,
        )
    with _Started(starting.result()) as scratch:
        say(f"started {scratch.describe()}")
        work = Work(
            request=request,
            project=project,
            migrations=migrations,
            selected=selected,
            cluster=scratch,
            say=say,
            scope=Scope(exclude=(*HASURA_SCHEMAS, *request.exclude_schemas)),
        )
        result = _squash(work)
        hasura_mimic = scratch.preconditions.hasura_mimic
    result.seconds_total = time.perf_counter() - started
    if not request.dry_run:
        say("writing the squashed migration and the archive")
        _write(project, request, result, migrations, selected, hasura_mimic, step)
        result.written = True
    return result


def _start_beside(cluster: Callable[[], ScratchCluster]) -> Future[ScratchCluster]:
    """Start the scratch cluster in a thread: its start-up (copying a data folder, starting the
    server) is another process's work, and overlaps with the scan of the project."""

    def start() -> ScratchCluster:
        scratch = cluster()
        return scratch.__enter__()

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kedge-start")
    try:
        return pool.submit(start)
    finally:
        pool.shutdown(wait=False)


def _stop_unused(starting: Future[ScratchCluster]) -> None:
    """Wait for the start to end, then stop the cluster (a start that failed left nothing)."""
    try:
        scratch = starting.result()
    except KedgeError:  # nothing was started; the caller's outcome stands
        return
    scratch.__exit__(None, None, None)


class _Started:
    """A started cluster as a context manager that stops it on exit (it is entered already)."""

    def __init__(self, scratch: ScratchCluster):
        self._scratch = scratch

    def __enter__(self) -> ScratchCluster:
        return self._scratch

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._scratch.__exit__(exc_type, exc, tb)


def _write(
    project: Project,
    request: SquashRequest,
    result: SquashResult,
    migrations: DatabaseMigrations,
    selected: tuple[Migration, ...],
    hasura_mimic: bool,
    step: Callable[[str], None] | None,
) -> None:
    from kedge_hasura.actions.squash import archive
    from kedge_hasura.project.manifest import Consolidated

    manifest = None
    if request.archive:

        def relative(path: Path) -> str:
            resolved = path.resolve()
            root = project.root.resolve()
            return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(resolved)

        pre_sql = relative(request.pre_sql) if request.pre_sql is not None else None
        configured = project.config.kedge.preconditions_for(migrations.database).sql
        preconditions_sql = None if pre_sql is not None else [relative(path) for path in configured]
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
            nondeterministic_tables=result.nondeterministic_tables,
            nondeterministic_sequences=result.nondeterministic_sequences,
            pre_sql=pre_sql,
            preconditions_sql=preconditions_sql,
            exclude_schemas=request.exclude_schemas,
            hasura_preconditions=hasura_mimic,
            # The migration an earlier squash wrote moves into this archive; link to that squash's
            # archive so its originals stay reachable (project.chain).
            earlier_archives=[earlier.name for earlier in result.earlier_archives],
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


def _squash(work: Work) -> SquashResult:
    """Build and verify the squashed migration; the steps' notes become its warnings, in order."""
    request, scratch = work.request, work.cluster
    before = build_before(work)
    work.say(f"replaying {len(work.selected)} migrations")
    replayed, first_new_oid, report = replay_range(work, before)
    warnings = [*scratch.preconditions.notes, *transaction_warnings(work.selected)]
    if request.verify:
        variation, variation_notes = find_variation(work, before, replayed)
        work = replace(work, variation=variation)
        warnings += variation_notes
    frozen = list(work.variation.frozen_columns)

    outside = pg_dump.outside_dependencies(replayed.conninfo, first_new_oid)
    if outside:
        warnings.append(
            "the migrations depend on objects they do not create (they must exist wherever the squashed "
            "migration runs): " + ", ".join(outside)
        )
    final, start = snapshots(work, replayed, before)
    if request.strategy == "dump":
        built = dump_strategy(work, before, replayed, first_new_oid, frozen, (final, start))
    else:
        built = concat_strategy(work)
    up_sql, down_sql = built.up_sql, built.down_sql
    warnings += built.notes
    verification, seconds_squashed = Verification(verified=False), 0.0
    if request.verify:
        candidates = [up_sql] if built.round_trip_up is None else [built.round_trip_up, up_sql]
        try:
            up_sql, (verification, seconds_squashed) = first_verified(
                candidates, lambda sql: verify(work, before, replayed, final, sql, down_sql, frozen)
            )
        except MigrationFailed as exc:  # the last candidate's failure: name the real cause
            raise failure.candidate_failed(
                exc, folder_name=squash_folder_name(work), up_sql=up_sql, down_sql=down_sql,
                warnings=warnings, changed=built.changed,
            ) from exc  # fmt: skip
        except SquashNotEquivalent as exc:
            raise failure.not_equivalent(exc, warnings=warnings, changed=built.changed) from exc
    all_rows_compared = not work.variation.nondeterministic_tables
    if verification.verified and not (verification.schema_identical and all_rows_compared):
        others = len(verification.schema_differences) - len(verification.equivalent_only)
        claim = claim_lines(
            verification.schema_identical,
            verification.equivalent_only,
            others,
            all_rows_compared=all_rows_compared,
        )
        up_sql = with_claim(up_sql, claim)
    if not request.verify:
        warnings.append("not verified (--no-verify): nothing proves this migration builds the same database")
    versions = [m.key for m in work.selected]
    to = work.selected[-1]
    return SquashResult(
        database=work.migrations.database,
        strategy=request.strategy,
        from_version=work.selected[0].version,
        to_version=to.version,
        migrations=versions,
        folder=work.migrations.directory / migration_folder_name(to.version, request.name),
        archive_folder=(work.migrations.directory / archive_folder_name(work.selected[0].version, to.version))
        if request.archive
        else None,
        earlier_archives=[
            e for m in work.selected if (e := earlier_squash_of(work.migrations, m)) is not None
        ],
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
        nondeterministic_tables=list(work.variation.nondeterministic_tables),
        nondeterministic_sequences=list(work.variation.nondeterministic_sequences),
        verification=verification,
        warnings=warnings,
        postgres_major=scratch.major,
    )


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
