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
    explicit = request.from_version is not None or request.to_version is not None
    if not selected and not explicit:
        return migrations, selected  # nothing to squash: the caller says so
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


def nothing_to_squash(
    migrations: DatabaseMigrations, selected: tuple[Migration, ...], request: SquashRequest
) -> tuple[str, str | None] | None:
    """Why the range needs no squash (and the archive of the earlier squash), or None.

    Squashing the one migration an earlier squash wrote would rewrite a committed, deployed file
    (the next deploy would see it edited) and archive it into a second archive: there is nothing
    to gain, so nothing is written.
    """
    if request.from_archive:
        return None
    if not selected:
        return f"database {migrations.database} has no migrations", None
    if len(selected) > 1:
        return None
    only = selected[0]
    earlier = earlier_squash_of(migrations, only)
    if earlier is None:
        return None
    return (
        f"the range holds only {only.key}, which an earlier squash wrote "
        f"(its originals are archived in {earlier.name}/); add migrations after it and squash again",
        earlier.name,
    )


def refuse_orphaning(
    migrations: DatabaseMigrations, selected: tuple[Migration, ...], request: SquashRequest
) -> None:
    """--no-archive must not delete the migration an earlier squash wrote: its archive would then
    record a squash whose migration is gone, and the chain to those originals would be lost.

    Raises:
        UsageError: the range holds an earlier squash's migration and --no-archive was given.
    """
    if request.archive or request.dry_run:
        return
    for migration in selected:
        earlier = earlier_squash_of(migrations, migration)
        if earlier is not None:
            raise UsageError(
                f"the range holds {migration.key}, which an earlier squash wrote (its originals are in "
                f"{earlier.name}/); --no-archive would delete it and cut that archive off",
                hint="drop --no-archive: the new archive then links to the earlier one",
            )


def earlier_squash_of(migrations: DatabaseMigrations, migration: Migration) -> Path | None:
    """The archive whose manifest records `migration` as the migration its originals were squashed
    into, or None (an ordinary migration)."""
    from kedge_hasura.errors import ManifestError
    from kedge_hasura.project.manifest import read_manifest

    for folder in migrations.archives:
        try:
            consolidated = read_manifest(folder).consolidated
        except ManifestError:
            continue  # `archive verify` reports it; an unreadable archive links nothing
        if (
            consolidated is not None
            and consolidated.version == migration.version
            and consolidated.folder == migration.key
        ):
            return folder
    return None


def _archived_originals(migrations: DatabaseMigrations, request: SquashRequest) -> DatabaseMigrations:
    """The originals of the database's squashed archive, as if they were still the migrations."""
    from kedge_hasura.project.chain import expanded_originals, later_archive
    from kedge_hasura.project.manifest import read_manifest

    if not request.dry_run:
        raise UsageError(
            "--from-archive squashes originals that are already squashed: it only shows the report",
            hint="add --dry-run",
        )
    # A chain of squashes (project.chain) counts once: its newest archive, expanded to the originals.
    squashed = [
        folder
        for folder in migrations.archives
        if read_manifest(folder).consolidated is not None and later_archive(migrations, folder.name) is None
    ]
    if len(squashed) != 1:
        raise UsageError(
            f"--from-archive needs exactly one squashed archive for {migrations.database}; "
            f"found {len(squashed)}",
            hint="see `kedge-hasura archive list`",
        )
    originals = tuple(original.migration for original in expanded_originals(migrations, squashed[0]))
    return DatabaseMigrations(
        database=migrations.database, directory=migrations.directory, migrations=originals
    )
