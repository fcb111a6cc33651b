"""initdb'd data folders, cached per PostgreSQL installation: copying one is cheaper than initdb.

initdb bootstraps three databases in single-user mode (0.5-1 s, most of a scratch server's
start); a copy of its result is a file copy. The cache lives in the user's cache folder
(`$XDG_CACHE_HOME` or `~/.cache`, then `kedge-hasura/initdb/`), one entry per installation and
initdb command line: the key hashes the binaries' folder, version, the initdb binary's size and
modification time (an upgraded package gets a new entry) and the arguments.

The copying is done by the server's watchdog (pg._watchdog), which owns the folder from its first
moment: an entry is stored right after an initdb, before the server first starts, so it is the
pristine cluster (no postmaster.pid, no WAL beyond initdb's own), and published by renaming a
complete copy, so a reader never sees half of one; two processes storing the same entry at once
both succeed.
An entry is used only when this user owns it and its folders are writable by nobody else: a
cluster holds postgresql.conf, whose settings can run commands as the server's user. Anything
unexpected (no home folder, a full disk, a foreign owner) falls back to running initdb.
`KEDGE_INITDB_CACHE=off` always runs initdb.
"""

from __future__ import annotations

import hashlib
import os
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


def usable(entry: Path) -> bool:
    """Whether the entry exists and may be copied: this user owns it and its two parent folders,
    and nobody else can write to any of them."""
    return all(_is_trusted(folder) for folder in (entry, *entry.parents[:2]))


def prepare_store(entry: Path) -> bool:
    """Make the entry's folder (private to this user); False when it cannot be trusted. The
    watchdog then publishes the copy (pg._watchdog._store: beside the entry, then renamed)."""
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return not entry.exists() and all(_is_trusted(folder) for folder in entry.parents[:2])


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
