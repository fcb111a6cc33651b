"""initdb'd data folders, cached per PostgreSQL installation: copying one is cheaper than initdb.

initdb bootstraps three databases in single-user mode (0.5-1 s, most of a scratch server's
start); a copy of its result is a file copy. The cache lives in the user's cache folder
(`$XDG_CACHE_HOME` or `~/.cache`, then `kedge-hasura/initdb/`), one entry per installation and
initdb command line: the key hashes the binaries' folder, version, the initdb binary's size and
modification time (an upgraded package gets a new entry) and the arguments.

An entry is stored right after an initdb, before the server first starts, so it is the pristine
cluster (no postmaster.pid, no WAL beyond initdb's own), and published by renaming a complete copy,
so a reader never sees half of one; two processes storing the same entry at once both succeed.
An entry is used only when this user owns it and its folders are writable by nobody else: a
cluster holds postgresql.conf, whose settings can run commands as the server's user. Anything
unexpected (no home folder, a full disk, a foreign owner) falls back to running initdb.
`KEDGE_INITDB_CACHE=off` always runs initdb.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

from kedge_hasura.pg.binaries import PgInstallation

_DISABLE = "KEDGE_INITDB_CACHE"
_LAYOUT = "1"  # bump when what an entry holds changes


def cache_entry(installation: PgInstallation, arguments: Sequence[str]) -> Path | None:
    """Where the data folder of `initdb <arguments>` for this installation is cached (None: off)."""
    if os.environ.get(_DISABLE, "").strip().lower() in ("off", "0", "no", "false"):
        return None
    configured = os.environ.get("XDG_CACHE_HOME")
    root = Path(configured) if configured else Path("~").expanduser() / ".cache"
    if not root.is_absolute():
        return None  # no usable home folder (expanduser left "~" as it was)
    initdb = installation.binary("initdb")
    try:
        binary = initdb.stat()
    except OSError:
        return None
    parts = [_LAYOUT, str(installation.bindir), installation.version, str(binary.st_size)]
    key = "\0".join([*parts, str(binary.st_mtime_ns), *arguments])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return root / "kedge-hasura" / "initdb" / f"pg{installation.major}-{digest}"


def restore(entry: Path | None, target: Path, *, owner: tuple[int, int] | None) -> bool:
    """Copy a cached data folder to `target` (owned by `owner` (uid, gid) when given); False if
    there is no usable entry, and then `target` does not exist."""
    if entry is None or not all(_is_trusted(folder) for folder in (entry, *entry.parents[:2])):
        return False
    try:
        shutil.copytree(entry, target, symlinks=True)
        if owner is not None:
            _chown_tree(target, owner)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        return False
    return True


def store(source: Path, entry: Path | None) -> None:
    """Cache a freshly initdb'd data folder (best effort: a failure only costs the next initdb)."""
    if entry is None or entry.exists():
        return
    staging = entry.with_name(f".{entry.name}.{secrets.token_hex(4)}")
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not all(_is_trusted(folder) for folder in entry.parents[:2]):
            return
        shutil.copytree(source, staging, symlinks=True)
        staging.chmod(0o700)
        staging.rename(entry)  # atomic; fails if another process published it first
    except OSError:
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_trusted(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _chown_tree(folder: Path, owner: tuple[int, int]) -> None:
    uid, gid = owner
    os.chown(folder, uid, gid)
    for parent, folders, files in os.walk(folder):
        for name in (*folders, *files):
            os.chown(Path(parent) / name, uid, gid, follow_symlinks=False)
