"""`diff`: compare the schemas (and optionally the small tables' rows) of two databases.

A side is a PostgreSQL URL or conninfo, `migrations` / `migrations:<database>` (the project's
migrations replayed on a scratch database), or a `.sql` file (applied to a scratch database as one
migration). Both sides are read concurrently, each in its own read-only snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedge_hasura.errors import UsageError
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.schemadiff.compare import CompareOptions, SchemaDiff, compare
from kedge_hasura.schemadiff.data import DataOptions, compare_data
from kedge_hasura.schemadiff.model import Snapshot
from kedge_hasura.schemadiff.snapshot import Scope, read_snapshot
from kedge_hasura.settings import redact_url

if TYPE_CHECKING:
    from kedge_hasura.pg.scratch import ScratchCluster
    from kedge_hasura.project.layout import Project
    from kedge_hasura.project.migrations import DatabaseMigrations

Progress = Callable[[str], None]
_URL = re.compile(r"^postgres(ql)?://", re.I)
_CONNINFO = re.compile(r"^\s*\w+\s*=")


@dataclass(frozen=True)
class Side:
    """A parsed SOURCE or TARGET argument."""

    spec: str
    kind: str  # "url", "migrations", "sql-file", "hasura"
    value: str  # the URL, the database name, or the file path

    @property
    def label(self) -> str:
        return redact_url(self.spec) if self.kind == "url" else self.spec

    @property
    def needs_scratch(self) -> bool:
        return self.kind in ("migrations", "sql-file")


def parse_side(spec: str) -> Side:
    """Raises UsageError for something that is none of the accepted forms."""
    if _URL.match(spec) or _CONNINFO.match(spec):
        return Side(spec, "url", spec)
    if spec == "migrations" or spec.startswith("migrations:"):
        return Side(spec, "migrations", spec.partition(":")[2])
    if spec.lower().endswith(".sql"):
        return Side(spec, "sql-file", spec)
    if spec == "hasura" or spec.startswith("hasura:"):
        return Side(spec, "hasura", spec.partition(":")[2])
    raise UsageError(
        f"cannot tell what {spec!r} is",
        hint="a side is a PostgreSQL URL (postgresql://...), `migrations`, `migrations:<database>`, "
        "a .sql file, or `hasura` / `hasura:<database>`",
    )


@dataclass(frozen=True)
class DiffRequest:
    source: Side
    target: Side
    scope: Scope = field(default_factory=Scope)
    compare_options: CompareOptions = field(default_factory=CompareOptions)
    data: DataOptions | None = None
    database: str | None = None  # --database (KEDGE_DATABASE): for `migrations` and `hasura` without one


def diff(
    request: DiffRequest,
    *,
    project: Callable[[], Project],
    cluster: Callable[[], ScratchCluster],
    hasura_executor: Callable[[str], Any] | None = None,
    progress: Progress | None = None,
) -> SchemaDiff:
    """Build both sides as needed, snapshot them concurrently and compare.

    `project` and `cluster` are called only when a side needs them (a command comparing two URLs
    needs neither a project nor PostgreSQL binaries).

    Raises:
        UsageError: a side is malformed or names a database without migrations.
        MigrationFailed: a side's migrations or .sql file do not apply (file, line, SQLSTATE).
        DatabaseError: a URL is unreachable.
    """
    say = progress or (lambda message: None)
    sides = (request.source, request.target)
    # Picked before a scratch server starts, so a wrong --database fails at once.
    picked = [
        project().require_database(side.value or request.database, analyze_sql=True)
        if side.kind == "migrations"
        else None
        for side in sides
    ]
    with ExitStack() as stack:
        scratch: ScratchCluster | None = None
        if request.source.needs_scratch or request.target.needs_scratch:
            scratch = stack.enter_context(cluster())
            say(f"started {scratch.describe()}")
        conninfos = [
            stack.enter_context(_materialise(side, project, scratch, say, migrations))
            for side, migrations in zip(sides, picked, strict=True)
        ]
        executors = [
            stack.enter_context(_executor(side, conninfo, hasura_executor, request.database))
            for side, conninfo in zip((request.source, request.target), conninfos, strict=True)
        ]
        say("reading both schemas")
        with ThreadPoolExecutor(max_workers=2) as pool:
            snapshots = list(pool.map(lambda executor: read_snapshot(executor, request.scope), executors))
        result = compare(
            snapshots[0],
            snapshots[1],
            options=request.compare_options,
            source_label=request.source.label,
            target_label=request.target.label,
        )
        if request.data is not None:
            say("comparing rows")
            result.data = compare_data(
                (executors[0], snapshots[0]), (executors[1], snapshots[1]), request.data, scope=request.scope
            )
        _warn_about_preconditions(result, request, scratch, snapshots)
        return result


@contextmanager
def _materialise(
    side: Side,
    project: Callable[[], Project],
    scratch: ScratchCluster | None,
    say: Progress,
    picked: DatabaseMigrations | None,
) -> Iterator[str | None]:
    """A conninfo for the side (None for sides read through Hasura)."""
    if side.kind == "url":
        yield side.value
        return
    if side.kind == "hasura":
        yield None
        return
    assert scratch is not None
    # Imported here: comparing two URLs needs neither replay nor the SQL parser (0.2 s of start-up).
    from kedge_hasura.actions.replay import project_preconditions, replay_migrations, script_from_file
    from kedge_hasura.pg.replay import replay
    from kedge_hasura.project.migrations import load_sql_file

    with scratch.database("diff") as database:
        if side.kind == "migrations":
            assert picked is not None
            loaded = project()
            name, migrations = picked.database, picked.migrations
            say(f"replaying {len(migrations)} migrations of {name} on a scratch database")
            replay_migrations(
                scratch, database, migrations, preconditions=project_preconditions(loaded, name)
            )
        else:
            path = Path(side.value)
            sql_file = load_sql_file(path)
            say(f"applying {path} on a scratch database")
            report = replay(database.conninfo, [script_from_file(0, path.name, sql_file)])
            failure = report.failed_step.failure if report.failed_step else None
            report.raise_for_failure(
                hint=scratch.missing_extension_hint(failure.message) if failure else None
            )
        yield database.conninfo


@contextmanager
def _executor(
    side: Side,
    conninfo: str | None,
    hasura_executor: Callable[[str], Any] | None,
    database_default: str | None,
) -> Iterator[Any]:
    if side.kind == "hasura":
        if hasura_executor is None:
            raise UsageError("reading a schema through Hasura needs --endpoint (HASURA_GRAPHQL_ENDPOINT)")
        # Hasura names its first source `default`; the project may be absent, so no list to pick from.
        yield hasura_executor(side.value or database_default or "default")
        return
    assert conninfo is not None
    with PsycopgExecutor(conninfo, label=side.label) as executor:
        yield executor


def _warn_about_preconditions(
    result: SchemaDiff, request: DiffRequest, scratch: ScratchCluster | None, snapshots: list[Snapshot]
) -> None:
    if scratch is None:
        return
    for note in scratch.preconditions.notes:
        result.warnings.append(note)
    mixed = request.source.needs_scratch != request.target.needs_scratch
    if mixed and scratch.preconditions.extensions:
        result.warnings.append(preconditions_warning(request, scratch.preconditions.extensions))


def preconditions_warning(request: DiffRequest, extensions: tuple[str, ...]) -> str:
    """The note on a scratch side that mimics Hasura; its advice depends on what the other side is."""
    mimics = (
        f"the scratch side mimics a Hasura-managed database (extensions {', '.join(extensions)} in public)"
    )
    if "hasura" in (request.source.kind, request.target.kind):
        return f"{mimics}, as the other side is read through Hasura"
    return f"{mimics}; use --no-hasura-preconditions if the other side is not managed by Hasura"
