"""Seed files: `seeds/<database>/*.sql` (config v3) or `seeds/*.sql` (config v2), as the Hasura CLI
keeps them (`seeds_directory` in config.yaml moves the folder).

`hasura seed apply` runs every file of the database in file-name order (the CLI names them
`<timestamp>_<name>.sql`, so that is creation order), after the migrations. It walks the folder
as Go's `filepath.Walk` does (`cli/pkg/seed/apply.go`: `afero.Walk`): sub-folders too, each
folder's entries in lexical order, a sub-folder's files where its name sorts; `.sql` and `.SQL`.
They are not versioned, so nothing records that a seed ran; kedge-hasura replays them in `check`
to catch a seed that no longer fits the schema, and `deploy --with-seeds` records them itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kedge_hasura.project.migrations import SqlFile, load_sql_file


@dataclass(frozen=True)
class Seed:
    """One seed file of one database."""

    database: str
    file: SqlFile
    name: str  # the path inside the database's seeds folder (`x.sql`, `sub/y.sql`): the seed's key

    @property
    def path(self) -> Path:
        return self.file.path


def seeds_folder(seeds_directory: Path, database: str, *, config_version: int) -> Path:
    """Where the Hasura CLI of that config version keeps a database's seeds."""
    return seeds_directory if config_version < 3 else seeds_directory / database


def scan_seeds(folder: Path, database: str) -> list[Seed]:
    """The `.sql` files directly in `folder`, in the order `hasura seed apply` runs them.

    Raises:
        ProjectError: a file is unreadable or not UTF-8 (its path and the line of the bad byte).
    """
    if not folder.is_dir():
        return []
    return [
        Seed(database, load_sql_file(path), path.relative_to(folder).as_posix()) for path in _walk(folder)
    ]


_EXTENSIONS = (".sql", ".SQL")  # the CLI's hasAllowedSeedFileExtensions


def _walk(folder: Path) -> list[Path]:
    """The seed files under `folder` in `filepath.Walk` order: entries sorted by name (bytes),
    a sub-folder walked where it sorts; symlinked folders are not entered (Walk uses lstat)."""
    found: list[Path] = []
    for entry in sorted(folder.iterdir(), key=lambda path: path.name.encode()):
        if entry.is_dir() and not entry.is_symlink():
            found += _walk(entry)
        elif entry.suffix in _EXTENSIONS and entry.is_file():
            found.append(entry)
    return found
