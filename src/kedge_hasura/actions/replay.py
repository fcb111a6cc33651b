"""Replay a project's migrations on a scratch database: the bridge from `project` to `pg.replay`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from kedge_hasura.errors import ProjectError
from kedge_hasura.pg.replay import ProgressCallback, ReplayReport, SqlScript, StatementSpan, replay
from kedge_hasura.pg.scratch import ScratchCluster, ScratchDatabase
from kedge_hasura.project.config import DatabasePreconditions
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import Migration, SqlFile, load_sql_file

Direction = Literal["up", "down"]


def script_for(migration: Migration, direction: Direction = "up") -> SqlScript | None:
    """The replay script for one direction of a migration (None when that file is absent)."""
    sql_file = migration.up if direction == "up" else migration.down
    if sql_file is None:
        return None
    return script_from_file(migration.version, migration.name, sql_file)


def script_from_file(version: int, name: str, sql_file: SqlFile) -> SqlScript:
    parsed = sql_file.parsed
    return SqlScript(
        version=version,
        name=name,
        path=sql_file.path,
        sql=sql_file.text,
        statements=tuple(
            StatementSpan(s.start, s.end, s.line, is_transaction_control=s.transaction_control is not None)
            for s in parsed.statements
        ),
        outside_transaction=parsed.has_no_transaction_marker,
    )


def scripts_for(migrations: Sequence[Migration], direction: Direction = "up") -> list[SqlScript]:
    """Scripts in replay order: ascending versions for up, descending for down.

    Migrations without the file for that direction are skipped; callers that need every down
    check `Migration.down` first (rollback refuses, replay of a history does not need downs).
    """
    ordered = sorted(migrations, key=lambda m: m.version, reverse=direction == "down")
    return [script for m in ordered if (script := script_for(m, direction)) is not None]


def precondition_scripts(files: Sequence[Path]) -> list[SqlScript]:
    """The replay scripts of precondition SQL files (version 0: they come before every migration).

    Raises:
        ProjectError: a file is unreadable or not UTF-8.
    """
    return [script_from_file(0, f"precondition {path.name}", load_sql_file(path)) for path in files]


def project_preconditions(project: Project, database: str) -> list[SqlScript]:
    """The preconditions config.yaml sets for `database` (`kedge.databases.<db>.preconditions`).

    Every command that replays a database's migrations runs these first, on the scratch database
    only, so objects someone else owns (Nhost's `auth.users`) exist on both sides of a comparison
    and in the "before" state a squash subtracts.
    """
    preconditions = project.config.kedge.preconditions_for(database)
    return [*precondition_scripts(preconditions.sql), *other_database_scripts(project, preconditions)]


def other_database_scripts(project: Project, preconditions: DatabasePreconditions) -> list[SqlScript]:
    """The migrations of another database up to a version (`preconditions.migrations`).

    Raises:
        ProjectError: that database has no migrations, or none with that version (config.yaml's line).
    """
    wanted = preconditions.migrations
    if wanted is None:
        return []
    scan = project.scan_migrations(analyze_sql=False)
    other = scan.databases.get(wanted.database)
    if other is None:
        raise ProjectError(
            f"{wanted.where}: precondition database {wanted.database!r} has no migrations "
            f"(found: {', '.join(sorted(scan.databases)) or 'none'})",
            hint="name a database folder under migrations/",
        )
    if other.by_version(wanted.up_to) is None:
        raise ProjectError(
            f"{wanted.where}: database {wanted.database!r} has no migration {wanted.up_to}",
            hint="up_to must be the version of one of its migrations",
        )
    return scripts_for([m for m in other.migrations if m.version <= wanted.up_to])


def replay_migrations(
    cluster: ScratchCluster,
    database: ScratchDatabase,
    migrations: Sequence[Migration],
    *,
    direction: Direction = "up",
    on_script: ProgressCallback | None = None,
    raise_on_failure: bool = True,
    preconditions: Sequence[SqlScript] = (),
) -> ReplayReport:
    """Replay migrations on a scratch database, after `preconditions` (see `project_preconditions`).

    Raises:
        MigrationFailed: a migration failed (unless `raise_on_failure` is False), with a hint when
            the cause looks like an extension the scratch server lacks.
    """
    report = replay(
        database.conninfo, [*preconditions, *scripts_for(migrations, direction)], on_script=on_script
    )
    if raise_on_failure and report.failed_step and report.failed_step.failure:
        report.raise_for_failure(hint=cluster.missing_extension_hint(report.failed_step.failure.message))
    return report
