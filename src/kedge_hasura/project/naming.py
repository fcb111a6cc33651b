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

from kedge_hasura.errors import UsageError

_MIGRATION_FOLDER = re.compile(r"^([0-9]+)_(.*)$", re.DOTALL)
_FLAT_FILE = re.compile(r"^([0-9]+)_(.*)\.(up|down)\.sql$", re.DOTALL)
_ARCHIVE_FOLDER = re.compile(r"^squashed_([0-9]+)_to_([0-9]+)$")
# A name we give a new migration. The Hasura CLI's own pattern, `^([0-9]+)_(.*)$`, takes any one
# line; we accept the portable part of it, the characters the console's generated names use
# (`create_table_public_posts`) plus `-` and `.`: no separator, no `..`, no line break, nothing a
# shell or another file system would read differently.
_NEW_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
MAX_NAME_LENGTH = 200  # the folder name stays under the usual 255-byte limit with a 13-digit version


def migration_folder_name(version: int, name: str) -> str:
    """`<version>_<name>`: a migration's folder, and how the CLI names the migration."""
    return f"{version}_{name}"


def check_new_migration_name(name: str) -> str:
    """The name if a new migration folder may carry it.

    Raises:
        UsageError: empty, too long, with `..`, a separator, a line break or another character
            outside `A-Z a-z 0-9 _ . -` (the message shows the name with escapes, on one line).
    """
    if not name:
        problem = "is empty"
    elif len(name) > MAX_NAME_LENGTH:
        problem = f"is longer than {MAX_NAME_LENGTH} characters"
    elif ".." in name:
        problem = "contains '..'"
    elif not _NEW_NAME.match(name):
        problem = "may hold only letters, digits, '_', '.' and '-' (and not start with '.' or '-')"
    else:
        return name
    raise UsageError(
        f"the migration name {name!r} {problem}",
        hint="names become folder names (<version>_<name>); use e.g. --name squashed_2026",
    )


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
