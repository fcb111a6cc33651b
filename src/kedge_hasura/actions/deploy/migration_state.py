"""Compare what a server recorded as applied with the project's migrations, per database.

Used by deploy (to plan), status and verify (to show), and check (to report drift). Versions the
server applied that live only in a squash archive are not "missing locally": the archive's manifest
knows them, and the consolidated migration that replaced them reuses the last one's version.
"""

from __future__ import annotations

from pydantic import BaseModel

from kedge_hasura.errors import ManifestError, ProjectError
from kedge_hasura.project.layout import Project
from kedge_hasura.project.manifest import ArchiveManifest, read_manifest
from kedge_hasura.project.migrations import DatabaseMigrations


class SquashedRange(BaseModel):
    """An archive whose originals were squashed into one migration (which reuses `to_version`)."""

    archive: str
    versions: list[int]  # the originals, ascending; the last one is the consolidated migration's
    consolidated_version: int
    consolidated_folder: str
    original_up_sha256: dict[int, str] = {}  # version → checksum of the archived original's up.sql
    earlier: list[str] = []  # archives of earlier squashes whose migration this one squashed again
    names: dict[int, str] = {}  # version → the archived original's name


class DatabaseState(BaseModel):
    """One database's migrations as the server and the project see them."""

    database: str
    local: list[int]  # versions with a migration folder, ascending
    applied: list[int]  # versions recorded on the server, ascending
    pending: list[int]  # local, not applied (gaps included, as the Hasura CLI fills them)
    dirty: list[int]  # recorded with dirty = true
    missing_locally: list[int]  # applied on the server, unknown to the project (not even archived)
    archived_applied: list[int]  # applied on the server, known only from a squash archive
    out_of_order: list[int]  # pending versions older than the newest applied one
    squashes: list[SquashedRange] = []

    @property
    def newest_applied(self) -> int | None:
        return self.applied[-1] if self.applied else None


def squashed_ranges(migrations: DatabaseMigrations) -> list[SquashedRange]:
    """The database's squash archives with a readable manifest that records a consolidated migration.

    Raises:
        ManifestError: an archive's manifest is unreadable (a broken archive must not be ignored).
    """
    ranges = []
    for folder in migrations.archives:
        manifest: ArchiveManifest = read_manifest(folder)
        if manifest.consolidated is None:
            continue
        ranges.append(
            SquashedRange(
                archive=folder.name,
                versions=sorted(m.version for m in manifest.migrations),
                consolidated_version=manifest.consolidated.version,
                consolidated_folder=manifest.consolidated.folder,
                original_up_sha256={
                    m.version: f.sha256
                    for m in manifest.migrations
                    for f in m.files
                    if f.path.endswith(("/up.sql", ".up.sql"))
                },
                earlier=list(manifest.earlier_archives),
                names={m.version: m.name for m in manifest.migrations},
            )
        )
    return ranges


def archived_versions(migrations: DatabaseMigrations) -> set[int]:
    """Every version kept in any archive of the database (squashed or merely archived)."""
    versions: set[int] = set()
    for folder in migrations.archives:
        try:
            versions.update(m.version for m in read_manifest(folder).migrations)
        except ManifestError:
            continue
    return versions


def squashed_originals(project: Project) -> dict[str, set[int]]:
    """Per database, the versions kept only in its archives (squashed originals): what `state
    prune` removes from catalog state on purpose. A database whose folder cannot be read is left
    out (its originals are then not known)."""
    try:
        databases = project.databases(None)
    except ProjectError:
        return {}
    return {
        migrations.database: archived_versions(migrations) - {m.version for m in migrations.migrations}
        for migrations in databases
    }


def compare_state(migrations: DatabaseMigrations, recorded: dict[int, bool]) -> DatabaseState:
    """Line up the server's recorded versions (version → dirty) with the project's migrations."""
    local = sorted(m.version for m in migrations.migrations)
    applied = sorted(recorded)
    archived = archived_versions(migrations)
    newest = applied[-1] if applied else None
    pending = [v for v in local if v not in recorded]
    return DatabaseState(
        database=migrations.database,
        local=local,
        applied=applied,
        pending=pending,
        dirty=sorted(v for v, dirty in recorded.items() if dirty),
        missing_locally=[v for v in applied if v not in local and v not in archived],
        archived_applied=[v for v in applied if v not in local and v in archived],
        out_of_order=[v for v in pending if newest is not None and v < newest],
        squashes=squashed_ranges(migrations),
    )


def require_catalog_state_project(project: Project) -> None:
    """Refuse a config v1/v2 project in every command that reads or writes recorded state.

    The Hasura CLI of such a project keeps its state in `hdb_catalog.schema_migrations`, not in
    catalog state: what we would read is not what `hasura migrate status` shows, and what we would
    record it would never see (it would apply every migration again). See README, "config v2".

    Raises:
        ProjectError: the project's config.yaml is version 1 or 2.
    """
    if project.config.version < 3:
        raise ProjectError(
            f"this is a config v{project.config.version} project: its Hasura CLI records migration state in "
            "hdb_catalog.schema_migrations, which kedge-hasura does not write; nothing was sent",
            hint="upgrade the project with `hasura scripts update-project-v3` (it moves the state to catalog "
            "state), then deploy",
        )
