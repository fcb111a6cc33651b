"""Archives of original migrations: write a squash, and `archive list | create | restore | verify`.

Every change goes through a staged copy of `migrations/<database>/` that is checked and then
swapped in whole (project.staging): an interruption leaves the folder as it was or fully changed,
and a file is deleted only once its copy is in place and its checksum verified.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from kedge_hasura import __version__
from kedge_hasura.errors import ManifestError, ProjectError, UsageError
from kedge_hasura.project.chain import chain_folders, chain_problems, expanded_originals, later_archive
from kedge_hasura.project.layout import Project
from kedge_hasura.project.manifest import (
    MANIFEST_NAME,
    ArchiveCheck,
    ArchiveManifest,
    Consolidated,
    ManifestMigration,
    atomic_write,
    check_archive,
    describe_file,
    now_utc,
    read_manifest,
    safe_path,
    sha256_file,
    write_manifest,
)
from kedge_hasura.project.migrations import DatabaseMigrations, Migration, scan_database_folder
from kedge_hasura.project.naming import archive_folder_name, migration_folder_name
from kedge_hasura.project.staging import StagedFolder
from kedge_hasura.words import listing, plural, verb

# Test seam: named steps of a write, so a test can make each one fail in turn.
StepHook = Callable[[str], None]


def _no_hook(step: str) -> None:
    return None


def write_squash(
    migrations: DatabaseMigrations,
    selected: Sequence[Migration],
    *,
    name: str,
    up_sql: str,
    down_sql: str,
    manifest: ArchiveManifest | None,
    step: StepHook = _no_hook,
) -> Path:
    """Replace `selected` by the migration `<last version>_<name>`; archive them unless manifest is None.

    Returns the new migration's folder.

    Raises:
        ProjectError: the archive folder exists already, or the staged result does not check out.
    """
    directory = migrations.directory
    to = selected[-1].version
    new_name = migration_folder_name(to, name)
    archive_name = archive_folder_name(selected[0].version, to)
    if manifest is not None and (directory / archive_name).exists():
        raise ProjectError(
            f"{directory / archive_name} exists already",
            hint="this range was archived before; restore or move that archive first",
        )
    with StagedFolder(directory) as staged:
        step("stage")
        archive = staged.path / archive_name
        _move_originals(directory, staged.path, selected, archive if manifest is not None else None)
        step("move-originals")
        if manifest is not None:
            _write_checked_manifest(directory, archive, selected, manifest)
            step("manifest")
        atomic_write(staged.path / new_name / "up.sql", up_sql)
        atomic_write(staged.path / new_name / "down.sql", down_sql)
        step("new-migration")
        _check_staged(
            migrations.database, staged.path, expect={to: name}, gone={m.version for m in selected[:-1]}
        )
        if manifest is not None:
            _require_archive_ok(archive)
        step("check")
        staged.commit()
        step("commit")
    return directory / new_name


def manifest_for(
    migrations: DatabaseMigrations,
    selected: Sequence[Migration],
    *,
    strategy: Literal["dump", "concat"] | None,
    consolidated: Consolidated | None = None,
    postgres_major: int | None = None,
    frozen_values: Sequence[str] = (),
    nondeterministic_tables: Sequence[str] = (),
    nondeterministic_sequences: Sequence[str] = (),
    pre_sql: str | None = None,
    preconditions_sql: Sequence[str] | None = None,
    exclude_schemas: Sequence[str] = (),
    hasura_preconditions: bool = True,
    earlier_archives: Sequence[str] = (),
) -> ArchiveManifest:
    """A manifest for archiving `selected` (file entries are filled in when the archive is written)."""
    return ArchiveManifest(
        tool=f"kedge-hasura {__version__}",
        created_at=now_utc(),
        database=migrations.database,
        from_version=selected[0].version,
        to_version=selected[-1].version,
        strategy=strategy,
        postgres_major=postgres_major,
        migrations=[ManifestMigration(version=m.version, name=m.name, files=[]) for m in selected],
        consolidated=consolidated,
        frozen_values=list(frozen_values),
        nondeterministic_tables=list(nondeterministic_tables),
        nondeterministic_sequences=list(nondeterministic_sequences),
        pre_sql=pre_sql,
        preconditions_sql=list(preconditions_sql) if preconditions_sql is not None else None,
        exclude_schemas=list(exclude_schemas),
        hasura_preconditions=hasura_preconditions,
        earlier_archives=list(earlier_archives),
    )


class ArchiveInfo(BaseModel):
    database: str
    folder: Path
    manifest: ArchiveManifest | None = None
    error: str | None = None  # the manifest could not be read
    check: ArchiveCheck | None = None
    chain_problems: list[str] = []  # broken links to earlier squashes' archives (project.chain)

    @property
    def ok(self) -> bool:
        return self.error is None and self.check is not None and self.check.ok and not self.chain_problems


class ArchiveList(BaseModel):
    """The result of `archive list` and `archive verify`."""

    archives: list[ArchiveInfo]

    @property
    def ok(self) -> bool:
        return all(archive.ok for archive in self.archives)


class ArchiveChange(BaseModel):
    """The result of `archive create` and `archive restore`."""

    action: str
    database: str
    archive: Path
    migrations: list[str]
    removed: list[Path] = []
    earlier_archives: list[Path] = []  # restore: archives of earlier squashes restored with it
    dry_run: bool = False


def list_archives(project: Project, *, database: str | None = None, name: str | None = None) -> ArchiveList:
    """Every archive (or the one called `name`) with its manifest and a checksum check."""
    scan = project.scan_migrations(analyze_sql=False)
    archives = []
    for db_name, migrations in sorted(scan.databases.items()):
        if database is not None and db_name != database:
            continue
        for folder in migrations.archives:
            if name is not None and folder.name != name:
                continue
            try:
                manifest = read_manifest(folder)
            except ManifestError as exc:
                archives.append(ArchiveInfo(database=db_name, folder=folder, error=exc.message))
                continue
            archives.append(
                ArchiveInfo(
                    database=db_name, folder=folder, manifest=manifest, check=check_archive(folder, manifest),
                    chain_problems=chain_problems(migrations, folder, manifest),
                )
            )  # fmt: skip
    if name is not None and not archives:
        raise UsageError(f"no archive called {name!r}", hint="see `kedge-hasura archive list`")
    return ArchiveList(archives=archives)


def create_archive(
    project: Project,
    *,
    database: str,
    from_version: int | None,
    to_version: int | None,
    dry_run: bool = False,
    step: StepHook = _no_hook,
) -> ArchiveChange:
    """Move a range of migrations into an archive folder, without squashing them.

    Raises:
        UsageError: no such database or an empty range.
        ProjectError: the migrations have errors, or the archive exists already.
    """
    migrations = _database(project, database)
    selected = migrations.select(from_version, to_version)
    if not selected:
        raise UsageError("no migrations in that range", hint="check --from and --to")
    archive_name = archive_folder_name(selected[0].version, selected[-1].version)
    result = ArchiveChange(
        action="create", database=database, archive=migrations.directory / archive_name,
        migrations=[m.key for m in selected], dry_run=dry_run,
    )  # fmt: skip
    if dry_run:
        return result
    if result.archive.exists():
        raise ProjectError(f"{result.archive} exists already", hint="restore or move that archive first")
    manifest = manifest_for(migrations, selected, strategy=None)
    with StagedFolder(migrations.directory) as staged:
        step("stage")
        archive = staged.path / archive_name
        _move_originals(migrations.directory, staged.path, selected, archive)
        step("move-originals")
        _write_checked_manifest(migrations.directory, archive, selected, manifest)
        step("manifest")
        _check_staged(database, staged.path, expect={}, gone={m.version for m in selected})
        _require_archive_ok(archive)
        step("check")
        staged.commit()
        step("commit")
    return result


def restore_archive(
    project: Project, *, database: str, name: str, dry_run: bool = False, step: StepHook = _no_hook
) -> ArchiveChange:
    """Put an archive's migrations back, removing the migration they were squashed into.

    An archive that links to earlier squashes' archives (project.chain) restores the whole chain:
    the migration an earlier squash wrote comes back out of this archive and is replaced in turn
    by that squash's originals, so every original is back and no archive is left behind.

    Raises:
        ManifestError: the manifest is unreadable or unsafe, files do not match their checksums, or
            a link to an earlier archive is broken.
        ProjectError: restoring would overwrite a different file, or a squashed migration was
            edited after the squash.
        UsageError: no such archive, or a later squash's archive links to it (restore that one).
    """
    migrations = _database(project, database)
    folder = migrations.directory / name
    if folder not in migrations.archives:
        raise UsageError(
            f"no archive {name!r} for database {database}", hint="see `kedge-hasura archive list`"
        )
    later = later_archive(migrations, name)
    if later is not None:
        raise UsageError(
            f"{name} holds the originals of a squash that was squashed again: {later.name} links to it",
            hint=f"restore {later.name}; that puts back the originals of both",
        )
    chain = chain_folders(migrations, folder)
    manifests = {archive: read_manifest(archive) for archive in chain}
    for archive, manifest in manifests.items():
        _require_archive_ok(archive, manifest)
        problems = chain_problems(migrations, archive, manifest)
        if problems:
            raise ManifestError(problems[0], hint="run `kedge-hasura archive verify`")
    removed: list[Path] = []
    consolidated = manifests[folder].consolidated
    if consolidated is not None:
        current = safe_path(migrations.directory, consolidated.folder)
        if current.exists():
            _require_unedited(current, consolidated)
            removed.append(current)
    originals = [o.migration for o in expanded_originals(migrations, folder)]
    result = ArchiveChange(
        action="restore", database=database, archive=folder,
        migrations=[m.key for m in originals], removed=removed, dry_run=dry_run,
        earlier_archives=chain[1:],
    )  # fmt: skip
    if dry_run:
        return result
    with StagedFolder(migrations.directory) as staged:
        step("stage")
        # Newest first: each earlier squash's migration is back in place before its archive's
        # originals replace it.
        for archive in chain:
            _restore_into(staged.path, archive.name, manifests[archive], migrations.directory)
        step("move-back")
        step("remove")
        _check_staged(database, staged.path, expect={m.version: m.name for m in originals}, gone=set())
        step("check")
        staged.commit()
        step("commit")
    return result


def _restore_into(staged: Path, name: str, manifest: ArchiveManifest, directory: Path) -> None:
    """Inside the staged copy: remove the squashed migration, move the archive's files back, and
    remove the archive folder."""
    consolidated = manifest.consolidated
    if consolidated is not None:
        current = safe_path(staged, consolidated.folder)
        # The squashed migration goes first: it may have the last original's folder name (a squash
        # made with --name equal to that name), which the move back then fills again.
        if current.exists():
            _require_unedited(current, consolidated)
            shutil.rmtree(current)
    for entry in sorted({file.path.split("/", 1)[0] for file in manifest.files()}):
        source = staged / name / entry
        target = staged / entry
        if target.exists():
            if not _same_tree(source, target):
                raise ProjectError(
                    f"restoring would overwrite {directory / entry}, which differs from the archived copy",
                    hint="move that file or folder away first",
                )
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        source.rename(target)
    shutil.rmtree(staged / name)


def _require_unedited(folder: Path, consolidated: Consolidated) -> None:
    """Refuse to delete a squashed migration that changed since the squash, or holds other files.

    Raises:
        ProjectError: up.sql or down.sql differs from the manifest's checksum, or the folder holds
            files the squash did not write.
    """
    expected = {"up.sql": consolidated.up_sha256, "down.sql": consolidated.down_sha256}
    for file_name, checksum in expected.items():
        path = folder / file_name
        actual = sha256_file(path) if path.is_file() else None
        if actual != checksum:
            raise ProjectError(
                f"{path} was changed after the squash (it differs from the checksum in the manifest)",
                hint="move that migration out of the way first; restore never deletes edited work",
            )
    others = sorted(p.name for p in folder.iterdir() if p.name not in expected)
    if others:
        raise ProjectError(
            f"{folder} holds files the squash did not write ({', '.join(others)})",
            hint="move them out of the way first; restore never deletes edited work",
        )


def _database(project: Project, database: str) -> DatabaseMigrations:
    return project.migrations_of(database)


def _move_originals(
    directory: Path, staged: Path, selected: Sequence[Migration], archive: Path | None
) -> None:
    """Move (or, without an archive, delete) the originals' folders and files inside the staged copy."""
    if archive is not None:
        archive.mkdir()
    for migration in selected:
        for original in _paths_of(migration):
            copy = staged / original.relative_to(directory)
            if archive is None:
                shutil.rmtree(copy) if copy.is_dir() else copy.unlink()
            else:
                copy.rename(archive / copy.name)


def _paths_of(migration: Migration) -> list[Path]:
    if migration.form == "folder":
        return [migration.location]
    files = [sql.path for sql in (migration.up, migration.down) if sql is not None]
    return sorted(set(files))


def _write_checked_manifest(
    directory: Path, archive: Path, selected: Sequence[Migration], manifest: ArchiveManifest
) -> None:
    """Describe every archived file, and check each against the original it was copied from."""
    entries = []
    for migration in selected:
        files = []
        for original in _paths_of(migration):
            originals = (
                sorted(p for p in original.rglob("*") if p.is_file()) if original.is_dir() else [original]
            )
            for path in originals:
                archived = (
                    archive / original.name / path.relative_to(original)
                    if original.is_dir()
                    else archive / path.name
                )
                described = describe_file(archive, archived)
                if described.sha256 != sha256_file(path):
                    raise ProjectError(
                        f"the archived copy of {path} differs from the original", hint="disk full?"
                    )
                files.append(described)
        entries.append(ManifestMigration(version=migration.version, name=migration.name, files=files))
    write_manifest(archive, manifest.model_copy(update={"migrations": entries}))


def _require_archive_ok(archive: Path, manifest: ArchiveManifest | None = None) -> None:
    manifest = manifest or read_manifest(archive)
    check = check_archive(archive, manifest)
    if not check.ok:
        problems = check.mismatched + check.missing + check.unexpected
        raise ManifestError(
            f"{archive}: {plural(len(problems), 'file')} {verb(len(problems), 'does', 'do')} not match "
            f"{MANIFEST_NAME}: {', '.join(problems[:5])}",
            hint="`kedge-hasura archive verify` lists them; restore the files from version control",
        )


def _check_staged(database: str, staged: Path, *, expect: dict[int, str], gone: set[int]) -> None:
    """The staged folder must scan without errors, hold `expect`, and no longer hold `gone`."""
    scan = scan_database_folder(database, staged)
    if scan.errors:
        raise ProjectError(f"the result would not be a valid migrations folder: {scan.errors[0].message}")
    versions = {m.version: m.name for m in scan.databases[database].migrations}
    for version, name in expect.items():
        if versions.get(version) != name:
            raise ProjectError(f"the result would lack migration {migration_folder_name(version, name)}")
    if gone & versions.keys():
        raise ProjectError(
            f"the result would still hold {listing('version', sorted(gone & versions.keys()))}"
        )


def _same_tree(first: Path, second: Path) -> bool:
    if first.is_file() and second.is_file():
        return sha256_file(first) == sha256_file(second)
    if first.is_dir() and second.is_dir():
        left = {p.relative_to(first) for p in first.rglob("*") if p.is_file()}
        right = {p.relative_to(second) for p in second.rglob("*") if p.is_file()}
        return left == right and all(sha256_file(first / p) == sha256_file(second / p) for p in left)
    return False
