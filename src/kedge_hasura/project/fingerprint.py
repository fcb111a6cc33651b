"""A cheap fingerprint of the project tree, to say exactly what an interrupted command changed.

Each file and folder under the project root is recorded by its relative path, type, size,
modification time (ns) and inode. Any write, rename or atomic folder exchange (project.staging)
changes at least one of them, so two equal fingerprints mean the tree was not touched in between.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

Fingerprint = dict[str, tuple[bool, int, int, int]]  # path → (is_dir, size, mtime_ns, inode)


def fingerprint(root: Path) -> Fingerprint:
    """The fingerprint of every entry under `root` (symlinks as themselves, not followed)."""
    entries: Fingerprint = {}
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            path = Path(folder, name)
            try:
                info = path.lstat()
            except OSError:
                continue  # removed while walking
            is_dir = stat.S_ISDIR(info.st_mode)  # lstat: a symlink to a folder is not one
            entries[path.relative_to(root).as_posix()] = (is_dir, info.st_size, info.st_mtime_ns, info.st_ino)
    return entries


def changes(before: Fingerprint, after: Fingerprint) -> list[str]:
    """What differs, as `added x`, `removed y`, `changed z` (sorted by path; folders whose only
    change is their content's are left out, the content itself is listed)."""
    found = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None:
            found.append(f"added {path}")
        elif new is None:
            found.append(f"removed {path}")
        elif not (old[0] and new[0] and old[3] == new[3]):  # a folder's own mtime follows its entries
            found.append(f"changed {path}")
    return found
