"""Chains of squashes: a squash whose range held the migration an earlier squash wrote.

    squashed_A_to_M/     A..M              (earlier squash, consolidated into M_first)
    squashed_M_to_Z/     M_first, N..Z     MANIFEST.json: earlier_archives: [squashed_A_to_M]
    Z_second/                              (the live migration)

Each archive stays flat and holds only what its own squash moved; the later manifest links to the
earlier archive by name. Following the links from the newest archive reaches every original, so
`archive restore`, `archive verify`, `squash --check` and the deploy planner can all see the true
originals (A..M, N..Z) behind the live migration. Nesting one archive inside the other would hide
the earlier archive from the Hasura CLI's and our own scans alike; links keep both in plain sight.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kedge_hasura.errors import ManifestError
from kedge_hasura.project.manifest import ArchiveManifest, read_manifest
from kedge_hasura.project.migrations import DatabaseMigrations, Migration, scan_database_folder
from kedge_hasura.project.naming import parse_archive_folder


@dataclass(frozen=True)
class ChainedOriginal:
    """One true original of a chain of squashes, and the archive folder that holds it."""

    migration: Migration
    archive: Path


def earlier_folder(migrations: DatabaseMigrations, name: str, *, linked_from: Path) -> Path:
    """The earlier archive `name` that the manifest in `linked_from` links to.

    Raises:
        ManifestError: the name is not an archive folder name, or no such archive exists.
    """
    if parse_archive_folder(name) is None:
        raise ManifestError(
            f"{linked_from / 'MANIFEST.json'}: earlier_archives: {name!r} is not an archive folder name"
        )
    folder = migrations.directory / name
    if folder not in migrations.archives:
        raise ManifestError(
            f"{linked_from.name} links to the earlier squash's archive {name}, which is missing",
            hint="restore that folder from version control: it holds the originals of the earlier squash",
        )
    return folder


def chain_folders(migrations: DatabaseMigrations, folder: Path) -> list[Path]:
    """`folder` and every archive it links to, directly or not: newest first, each once.

    Raises:
        ManifestError: a manifest is unreadable, or a link names a missing archive or loops.
    """
    chain: list[Path] = []
    pending = [folder]
    while pending:
        current = pending.pop(0)
        if current in chain:
            raise ManifestError(f"{current.name}: the earlier_archives links of the squash archives loop")
        chain.append(current)
        pending += [
            earlier_folder(migrations, name, linked_from=current)
            for name in read_manifest(current).earlier_archives
        ]
    return chain


def expanded_originals(migrations: DatabaseMigrations, folder: Path) -> list[ChainedOriginal]:
    """The true originals behind the squash archived in `folder`, ascending.

    Its own archived migrations, with each one that an earlier (linked) squash wrote replaced by
    that squash's originals, recursively. Without links: the archive's migrations as they are.

    Raises:
        ManifestError: a manifest is unreadable, or a link is broken (see chain_problems).
    """
    return _expanded(migrations, folder, seen=())


def _expanded(migrations: DatabaseMigrations, folder: Path, seen: tuple[Path, ...]) -> list[ChainedOriginal]:
    if folder in seen:
        raise ManifestError(f"{folder.name}: the earlier_archives links of the squash archives loop")
    manifest = read_manifest(folder)
    replaced: dict[str, Path] = {}
    for name in manifest.earlier_archives:
        earlier = earlier_folder(migrations, name, linked_from=folder)
        consolidated = read_manifest(earlier).consolidated
        if consolidated is None:
            raise ManifestError(f"{folder.name} links to {name}, which records no squash")
        replaced[consolidated.folder] = earlier
    database = migrations.database
    originals: list[ChainedOriginal] = []
    for migration in scan_database_folder(database, folder).databases[database].migrations:
        source = replaced.get(migration.key)
        if source is None:
            originals.append(ChainedOriginal(migration, folder))
        else:
            originals += _expanded(migrations, source, (*seen, folder))
    return originals


def later_archive(migrations: DatabaseMigrations, name: str) -> Path | None:
    """The archive whose manifest links to the archive `name` as its earlier squash, if any."""
    for folder in migrations.archives:
        try:
            if name in read_manifest(folder).earlier_archives:
                return folder
        except ManifestError:
            continue  # an unreadable manifest is reported where it is read for itself
    return None


def chain_problems(migrations: DatabaseMigrations, folder: Path, manifest: ArchiveManifest) -> list[str]:
    """What breaks the links from the archive in `folder` to its earlier squashes' archives (each
    message names that archive).

    Each earlier archive must exist with a readable manifest that records a squash, and this archive
    must hold that squash's migration exactly as it was written (its up.sql checksum), so that
    restoring the chain can put the earlier originals back in its place.
    """
    problems = []
    archived = {(m.version, m.name): m for m in manifest.migrations}
    for name in manifest.earlier_archives:
        try:
            earlier = read_manifest(earlier_folder(migrations, name, linked_from=folder))
        except ManifestError as exc:
            problems.append(exc.message)
            continue
        consolidated = earlier.consolidated
        if consolidated is None:
            problems.append(f"{folder.name} links to {name}, which records no squash")
            continue
        held = archived.get((consolidated.version, consolidated.name))
        if held is None:
            problems.append(
                f"{folder.name} links to {name} but does not hold that squash's migration "
                f"{consolidated.folder}"
            )
            continue
        up = [f.sha256 for f in held.files if f.path == f"{consolidated.folder}/up.sql"]
        if up != [consolidated.up_sha256]:
            problems.append(
                f"{folder.name} holds {consolidated.folder} edited after the squash archived in {name} "
                "(its up.sql differs from that manifest's checksum)"
            )
    return problems
