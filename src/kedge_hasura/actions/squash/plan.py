"""Squash planning: the request, and the range of migrations it selects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kedge_hasura.errors import UsageError
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations, Migration

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
    pre_sql: Path | None = None  # overrides config.yaml's preconditions
    precondition_files: tuple[Path, ...] | None = None  # squash --check: what the manifest recorded
    exclude_schemas: tuple[str, ...] = ()
    idempotent: bool = False
    verify: bool = True
    owners: bool = False
    from_archive: bool = False  # squash the originals of the archive (dry run only)


def select_range(
    project: Project, request: SquashRequest
) -> tuple[DatabaseMigrations, tuple[Migration, ...]]:
    """The database's migrations and the range to squash.

    Raises:
        ProjectError: the migrations have errors.
        UsageError: no such database, an empty range, or dump without the first migration.
    """
    migrations = project.require_database(request.database, analyze_sql=True)
    name = migrations.database
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
