"""Names in a migrations folder: the one module that both formats and parses them.

- a migration is `<version>_<name>/` (or the flat files `<version>_<name>.up.sql`, `.down.sql`);
  a squashed migration takes the last original's version: `<to>_<name>/`;
- an archive is `squashed_<from>_to_<to>/`. It must not look like `<digits>_<name>`, or the Hasura
  CLI would take it for a migration (hasura-contract §4.7).

Parsers return the version as text: the scanner reports a version too large for the CLI itself.
"""

from __future__ import annotations

import re
from typing import Literal

_MIGRATION_FOLDER = re.compile(r"^([0-9]+)_(.*)$", re.DOTALL)
_FLAT_FILE = re.compile(r"^([0-9]+)_(.*)\.(up|down)\.sql$", re.DOTALL)
_ARCHIVE_FOLDER = re.compile(r"^squashed_([0-9]+)_to_([0-9]+)$")


def migration_folder_name(version: int, name: str) -> str:
    """`<version>_<name>`: a migration's folder, and how the CLI names the migration."""
    return f"{version}_{name}"


def archive_folder_name(from_version: int, to_version: int) -> str:
    """`squashed_<from>_to_<to>`: the archive of the originals of a range."""
    return f"squashed_{from_version}_to_{to_version}"


def parse_migration_folder(folder: str) -> tuple[str, str] | None:
    """(version digits, name) of a `<version>_<name>` folder name; None for anything else."""
    match = _MIGRATION_FOLDER.match(folder)
    return (match.group(1), match.group(2)) if match else None


def parse_flat_file(file: str) -> tuple[str, str, Literal["up", "down"]] | None:
    """(version digits, name, direction) of a `<version>_<name>.up.sql` file name; None otherwise."""
    match = _FLAT_FILE.match(file)
    if match is None:
        return None
    direction: Literal["up", "down"] = "up" if match.group(3) == "up" else "down"
    return match.group(1), match.group(2), direction


def parse_archive_folder(folder: str) -> tuple[int, int] | None:
    """(from, to) of a `squashed_<from>_to_<to>` folder name; None for anything else."""
    match = _ARCHIVE_FOLDER.match(folder)
    return (int(match.group(1)), int(match.group(2))) if match else None
