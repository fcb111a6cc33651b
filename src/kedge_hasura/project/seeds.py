"""Seed files: `seeds/<database>/*.sql` (config v3) or `seeds/*.sql` (config v2), as the Hasura CLI
keeps them (`seeds_directory` in config.yaml moves the folder).

`hasura seed apply` runs every file of the database in file-name order (the CLI names them
`<timestamp>_<name>.sql`, so that is creation order), after the migrations. They are not
versioned, so nothing records that a seed ran; kedge-hasura replays them in `check` to catch a
seed that no longer fits the schema.
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

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def name(self) -> str:
        return self.file.path.name


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
    files = sorted(path for path in folder.iterdir() if path.suffix == ".sql" and path.is_file())
    return [Seed(database, load_sql_file(path)) for path in files]
