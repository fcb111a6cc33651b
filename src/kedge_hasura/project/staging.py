"""Change a folder all at once: work on a staged copy, then exchange it with the original.

Squash, archive and restore rewrite several folders and files of `migrations/<database>/`. Doing
that in place, an interruption could leave a half-squashed project (two migrations with the same
version, originals neither here nor archived). Instead we copy the folder next to itself (a
hidden name the Hasura CLI ignores), change the copy, check it, and swap the two folders with one
atomic rename: `renameat2(RENAME_EXCHANGE)` on Linux, `renamex_np(RENAME_SWAP)` on macOS. Before
the swap the project is untouched; after it, complete. Where neither call exists, two renames are
used and the short window between them is documented.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import secrets
import shutil
import sys
from pathlib import Path
from types import TracebackType
from typing import Self

from kedge_hasura.errors import ProjectError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # Linux <linux/fs.h>
_RENAME_SWAP = 2  # macOS <stdio.h>


class StagedFolder:
    """`with StagedFolder(target) as staged:` change `staged.path`, then `staged.commit()`.

    Leaving the block without commit (an exception, a failed check) deletes the copy and leaves
    the target as it was. After commit, the previous content is deleted.
    """

    def __init__(self, target: Path):
        self.target = target
        tag = secrets.token_hex(4)
        self.path = target.parent / f".kedge-staging-{target.name}-{tag}"
        self._previous = target.parent / f".kedge-previous-{target.name}-{tag}"
        self.committed = False

    def __enter__(self) -> Self:
        if not self.target.is_dir():
            raise ProjectError(f"{self.target} is not a folder")
        shutil.copytree(self.target, self.path, symlinks=True)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        leftover = self._previous if self.committed else self.path
        shutil.rmtree(leftover, ignore_errors=True)

    def commit(self) -> None:
        """Make the staged copy the target, atomically where the system allows it."""
        if _exchange(self.path, self.target):
            # The names were swapped: the old content now sits at self.path.
            self.path, self._previous = self._previous, self.path
        else:
            self.target.rename(self._previous)
            try:
                self.path.rename(self.target)
            except OSError:
                self._previous.rename(self.target)
                raise
        self.committed = True


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; False when this system has no such call."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    a, b = os.fsencode(first), os.fsencode(second)
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        result = libc.renameat2(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        result = libc.renamex_np(a, b, _RENAME_SWAP)
    else:
        return False
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (38, 22, 95):  # ENOSYS, EINVAL, EOPNOTSUPP: the filesystem cannot exchange
        return False
    raise OSError(error, os.strerror(error), str(first))


def keep_candidate(label: str, files: dict[str, str], *, root: Path | None = None) -> Path:
    """Write `files` (name → text) into a new folder of `root` (the system's temporary directory by
    default), kept for the user to inspect: a squash that fails its verification writes nothing
    into the project."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=f"kedge-squash-{label}-", dir=root))
    for name, text in files.items():
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return folder
