"""Archive manifests: what an archive folder holds, with the size and sha256 of every file's content.

An archive is `migrations/<database>/squashed_<from>_to_<to>/` (named by project.naming; the Hasura
CLI skips it, as it does not start with digits and an underscore), holding the original migration folders and
`MANIFEST.json`. Checksums are of file contents (hashing names, as yoyo does, would miss edits).
A manifest path that is absolute or climbs out of its folder is rejected: restore must never write
outside the migrations folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kedge_hasura.errors import ManifestError, ProjectError
from kedge_hasura.project.naming import parse_archive_folder

MANIFEST_NAME = "MANIFEST.json"


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str  # POSIX, relative to the archive folder
    size: int
    sha256: str


class ManifestMigration(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    name: str
    files: list[ManifestFile]


class Consolidated(BaseModel):
    """The migration the archived ones were squashed into (it reuses the last version)."""

    model_config = ConfigDict(frozen=True)

    version: int
    name: str
    folder: str
    up_sha256: str
    down_sha256: str | None = None


class ArchiveManifest(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: Literal[1] = 1
    tool: str
    created_at: datetime
    database: str
    from_version: int
    to_version: int
    strategy: Literal["dump", "concat"] | None = None  # None: archived without squashing
    postgres_major: int | None = None
    migrations: list[ManifestMigration]
    consolidated: Consolidated | None = None
    frozen_values: list[str] = []  # "schema.table.column" whose values differ on every replay
    nondeterministic_tables: list[str] = []  # "schema.table" whose row count differs on every replay
    nondeterministic_sequences: list[str] = []  # "schema.sequence" whose position differs likewise
    # How the squash was made, so `squash --check` can replay the originals the same way.
    pre_sql: str | None = None  # path relative to the project folder
    # config.yaml's precondition files then (relative to the project); None in older manifests.
    preconditions_sql: list[str] | None = None
    exclude_schemas: list[str] = []
    hasura_preconditions: bool = True
    # Archives of earlier squashes whose migration this squash's range held (project.chain): the
    # originals behind that migration are there, not in this folder.
    earlier_archives: list[str] = []

    def files(self) -> list[ManifestFile]:
        return [file for migration in self.migrations for file in migration.files]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_file(folder: Path, path: Path) -> ManifestFile:
    """A manifest entry for `path`, relative to `folder`."""
    return ManifestFile(
        path=path.relative_to(folder).as_posix(), size=path.stat().st_size, sha256=sha256_file(path)
    )


def safe_path(folder: Path, relative: str) -> Path:
    """`folder / relative`, refusing absolute paths and anything that leaves `folder`.

    Raises:
        ManifestError: the path is unsafe.
    """
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or relative != pure.as_posix():
        raise ManifestError(
            f"{folder / MANIFEST_NAME}: unsafe path {relative!r} "
            "(absolute, empty or climbing out of the archive)",
            hint="manifest paths are relative to the archive folder; "
            "restore the manifest from version control",
        )
    resolved = (folder / pure).resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise ManifestError(f"{folder / MANIFEST_NAME}: path {relative!r} resolves outside the archive")
    return folder / pure


def _missing_manifest_hint(folder: Path) -> str:
    """The way forward for an archive without a manifest: `hasura migrate squash` makes those
    (the recipe of docs/from-hasura-squash.md), and one of ours lost it."""
    bounds = parse_archive_folder(folder.name)
    squashed = (
        f"the CLI's squashed migration (version {bounds[1]})" if bounds else "the CLI's squashed migration"
    )
    return (
        f"if `hasura migrate squash` made it, put the originals back and squash with kedge-hasura: delete "
        f"{squashed}, move everything in {folder.name}/ up into {folder.parent.name}/, remove the empty "
        "folder and run "
        "`kedge-hasura squash` (docs/from-hasura-squash.md); if kedge-hasura made it, restore MANIFEST.json "
        "from version control"
    )


def read_manifest(folder: Path) -> ArchiveManifest:
    """Read and check an archive's MANIFEST.json.

    Raises:
        ManifestError: missing, not JSON, not a manifest, or with unsafe paths.
    """
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path} is missing", hint=_missing_manifest_hint(folder)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is unreadable: {exc}") from None
    try:
        manifest = ArchiveManifest.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise ManifestError(f"{path}: {where}: {problem['msg']}") from None
    for file in manifest.files():
        safe_path(folder, file.path)
    return manifest


def write_manifest(folder: Path, manifest: ArchiveManifest) -> Path:
    """Write MANIFEST.json atomically (temporary file, fsync, rename)."""
    text = json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    return atomic_write(folder / MANIFEST_NAME, text)


def atomic_write(path: Path, text: str) -> Path:
    """Write a file so that readers see the old content or the new, never a part of it.

    A path with a `..` part is refused: every path we write is built from a folder of the project
    and names, so without `..` it stays inside the project (or inside the target of a symlink the
    project holds, which is the project's choice), whatever a name holds.

    Raises:
        ProjectError: the path climbs out of its folder.
    """
    if ".." in path.parts:
        raise ProjectError(
            f"refusing to write {path}: it climbs out of its folder ('..'); nothing was written there",
            hint="a name used for a file or folder holds '..'",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.kedge-tmp")
    with temporary.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    return path


class ArchiveCheck(BaseModel):
    """The result of checking an archive folder against its manifest."""

    folder: Path
    ok: bool
    checked: int
    mismatched: list[str] = []  # content differs from the recorded sha256 (or size)
    missing: list[str] = []
    unexpected: list[str] = []  # files in the folder the manifest does not list


def check_archive(folder: Path, manifest: ArchiveManifest) -> ArchiveCheck:
    """Compare the files on disk with the manifest."""
    mismatched, missing = [], []
    listed = set()
    for file in manifest.files():
        listed.add(file.path)
        path = safe_path(folder, file.path)
        if not path.is_file():
            missing.append(file.path)
        elif path.stat().st_size != file.size or sha256_file(path) != file.sha256:
            mismatched.append(file.path)
    unexpected = sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.name != MANIFEST_NAME and path.relative_to(folder).as_posix() not in listed
    )
    return ArchiveCheck(
        folder=folder,
        ok=not (mismatched or missing or unexpected),
        checked=len(listed),
        mismatched=mismatched,
        missing=missing,
        unexpected=unexpected,
    )
