"""A private, throwaway PostgreSQL server: initdb into a temporary folder, Unix socket only.

The server listens on a socket inside its own temporary folder (no TCP port, nothing shared), with
durability off (fsync, synchronous_commit, full_page_writes) because its data is thrown away. It
is run by `_watchdog.py`, which stops it and deletes the folder when this process closes the pipe
or dies, even by kill -9. PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` user when it exists, else `nobody`.
"""

from __future__ import annotations

import json
import os
import pwd
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from psycopg.conninfo import make_conninfo

from kedge_hasura.errors import DatabaseError, ToolError
from kedge_hasura.pg import datadir
from kedge_hasura.pg.binaries import PgInstallation

SUPERUSER = "postgres"
_PORT = 5432
_SOCKET_PATH_LIMIT = 100  # sun_path is 104-108 bytes; leave room for "/.s.PGSQL.5432"

# Settings for a scratch server. Durability is off because the data is disposable; locks per
# transaction are raised because a squashed history creates thousands of objects in one
# transaction; autovacuum and JIT are off because they only cost time on short-lived data.
# initdb's arguments besides --pgdata (they also key the cache of initdb'd folders, pg.datadir).
_INITDB_ARGUMENTS = [
    "--username", SUPERUSER,
    "--auth", "trust",
    "--encoding", "UTF8",
    "--locale", "C",
    "--no-sync",
]  # fmt: skip

SERVER_SETTINGS = {
    "listen_addresses": "",
    "port": str(_PORT),
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "40",
    "max_locks_per_transaction": "1024",
    "autovacuum": "off",
    "jit": "off",
    "huge_pages": "off",
    "TimeZone": "UTC",
    "log_min_messages": "warning",
}


class ScratchServer:
    """A scratch PostgreSQL server; use as a context manager, or `start()` and `stop()`."""

    def __init__(self, installation: PgInstallation, *, startup_timeout: float = 60.0):
        self.installation = installation
        self.startup_timeout = startup_timeout
        self.folder: Path | None = None
        self.pid: int | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._messages: _LineReader | None = None
        self._pipe_write: int | None = None
        self.from_cache = False  # the cluster is a copy of a cached initdb'd one (pg.datadir)

    @property
    def major(self) -> int:
        return self.installation.major

    @property
    def socket_dir(self) -> Path:
        if self.folder is None:
            raise DatabaseError("the scratch server is not running")
        return self.folder

    def conninfo(self, dbname: str = "postgres") -> str:
        """A libpq connection string for a database on this server."""
        return make_conninfo(host=str(self.socket_dir), port=_PORT, user=SUPERUSER, dbname=dbname)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Create the cluster and start the server; returns when it accepts connections.

        Raises:
            ToolError: initdb failed (e.g. the binaries are not readable by the server's user).
            DatabaseError: the server did not start (with the end of its log).
        """
        owner = _unprivileged_owner()
        try:
            # The watchdog creates the folder and runs initdb: from the folder's first moment,
            # someone is there to delete it if we are killed (kill -9 during initdb included).
            self._launch(owner)
            self._check_initdb(owner)
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, *, wait_for_removal: bool = True) -> None:
        """Stop the server and delete its folder (idempotent). Waits until the server has exited,
        and, unless `wait_for_removal` is false, until the folder is gone too.

        Deleting a folder of many databases takes seconds (thousands of files; longer on a disk
        mounted with `discard`). Without waiting, the watchdog finishes it on its own, in its own
        session, after this process has moved on or exited: nothing is left behind either way.
        """
        if self._pipe_write is not None:
            os.close(self._pipe_write)  # the watchdog sees end-of-file and cleans up
            self._pipe_write = None
        if self._watchdog is not None:
            if wait_for_removal or not self._server_stopped():
                try:
                    self._watchdog.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._watchdog.kill()
                    self._watchdog.wait()
            if self._watchdog.stdout:
                self._watchdog.stdout.close()
            self._watchdog = None
            self._messages = None
        elif self.folder is not None:
            _remove_tree(self.folder)
        self.folder = None
        self.pid = None

    def _server_stopped(self, timeout: float = 30.0) -> bool:
        """Wait for the watchdog's word that the server has exited (False: it never came)."""
        if self._messages is None:
            return False
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            line = self._messages.next_line(timeout=remaining)
            if line is None:
                return False  # end of file or timeout: the watchdog is gone or stuck
            if line == "stopped":
                return True
        return False

    def _initdb_argv(self) -> list[str]:
        return [str(self.installation.binary("initdb")), "--pgdata", "{folder}/data", *_INITDB_ARGUMENTS]

    def _check_initdb(self, owner: pwd.struct_passwd | None) -> None:
        assert self.folder is not None and self._messages is not None
        line = self._messages.next_line(timeout=self.startup_timeout) or ""
        if not line.startswith("initdb "):
            raise DatabaseError(
                "initdb did not finish for the scratch PostgreSQL server",
                details={"log": _tail(self.folder / "watchdog.log")},
            )
        code = int(line.split()[1])
        if code == 0:
            self.from_cache = line.endswith(" cached")
            return
        log = _tail(self.folder / "initdb.log", lines=5)
        hint = None
        if owner is not None and "ermission denied" in log:
            hint = (
                f"the server runs as the unprivileged user {owner.pw_name!r}, which cannot read "
                f"{self.installation.bindir}; install PostgreSQL system-wide or into a folder "
                "that user can read"
            )
        raise ToolError(
            f"initdb ({self.installation.bindir}) failed with exit code {code}",
            hint=hint,
            details={"output": log},
        )

    def _launch(self, owner: pwd.struct_passwd | None) -> None:
        argv = [str(self.installation.binary("postgres")), "-D", "{folder}/data", "-k", "{folder}"]
        for name, value in SERVER_SETTINGS.items():
            argv += ["-c", f"{name}={value}"]
        read_fd, write_fd = os.pipe()
        os.set_inheritable(write_fd, False)
        spec = {
            "initdb": self._initdb_argv(),
            "cache": _initdb_cache(self.installation),
            "argv": argv,
            "env": _server_environment(),
            "uid": owner.pw_uid if owner else None,
            "gid": owner.pw_gid if owner else None,
            "temp_root": scratch_root(),
            "pipe_fd": read_fd,
        }
        try:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-I", "-S", str(Path(__file__).with_name("_watchdog.py")), json.dumps(spec)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # the watchdog logs into its folder once it exists
                pass_fds=(read_fd,),
                start_new_session=True,  # a Ctrl-C for us must not reach the server before we clean up
                bufsize=0,
            )
        finally:
            os.close(read_fd)
        self._pipe_write = write_fd
        assert self._watchdog.stdout is not None
        self._messages = _LineReader(self._watchdog.stdout.fileno())
        first = self._messages.next_line(timeout=self.startup_timeout) or ""
        if not first.startswith("folder "):
            raise DatabaseError("could not launch the scratch PostgreSQL server's watchdog")
        self.folder = Path(first.removeprefix("folder "))

    def _wait_until_ready(self) -> None:
        assert self.folder is not None and self._messages is not None
        messages = self._messages
        first = messages.next_line(timeout=self.startup_timeout) or ""
        if not first.startswith("pid "):
            raise DatabaseError(
                "could not launch the scratch PostgreSQL server",
                details={"log": _tail(self.folder / "watchdog.log")},
            )
        self.pid = int(first.split()[1])
        pid_file = self.folder / "data" / "postmaster.pid"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if _is_ready(pid_file):
                return
            if messages.next_line(timeout=0.005) is not None:
                raise DatabaseError(
                    f"the scratch PostgreSQL {self.installation.version} server exited during start-up",
                    details={"log": _tail(self.folder / "server.log")},
                )
            if time.monotonic() > deadline:
                raise DatabaseError(
                    f"the scratch PostgreSQL server did not start within {self.startup_timeout:.0f} s",
                    details={"log": _tail(self.folder / "server.log")},
                )


def _is_ready(pid_file: Path) -> bool:
    # PostgreSQL 10+ writes its status as the 8th line of postmaster.pid; pg_ctl -w waits for "ready".
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return False
    return len(lines) >= 8 and lines[7].strip() == "ready"


class _LineReader:
    """Lines from the watchdog's stdout, read unbuffered so `select` sees every one."""

    def __init__(self, fd: int):
        self._fd = fd
        self._buffer = b""

    def next_line(self, *, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([self._fd], [], [], max(remaining, 0))
            if not readable:
                return None
            chunk = os.read(self._fd, 4096)
            if not chunk:
                line, self._buffer = self._buffer, b""
                return line.decode() if line else None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()


def _initdb_cache(installation: PgInstallation) -> dict[str, object]:
    """What the watchdog may do with the cache of initdb'd folders: copy the entry instead of
    running initdb (`restore`), or store initdb's result there (`store`)."""
    entry = datadir.cache_entry(installation, _INITDB_ARGUMENTS)
    if entry is None:
        return {}
    if datadir.usable(entry):
        return {"entry": str(entry), "restore": True}
    return {"entry": str(entry), "store": datadir.prepare_store(entry)}


def _unprivileged_owner() -> pwd.struct_passwd | None:
    """The user to run the server as when we are root (None when we are not root)."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("KEDGE_PG_USER"), "postgres", "nobody"):
        if not name:
            continue
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            return entry
    raise ToolError(
        "running as root, and there is no unprivileged user (postgres or nobody) to run PostgreSQL as",
        hint="create a `postgres` user, set KEDGE_PG_USER, or run kedge-hasura as a normal user",
    )


def _server_environment() -> dict[str, str]:
    # A fixed, minimal environment: the server's behaviour must not depend on the caller's locale.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}


SCRATCH_DIR_VARIABLE = "KEDGE_SCRATCH_DIR"
_MEMORY_FOLDER = "/dev/shm"  # noqa: S108 - a tmpfs on Linux; its free space is checked before use
_MEMORY_MINIMUM_FREE = 2 * 1024**3


def scratch_root() -> str:
    """The folder the scratch cluster's own folder is made in.

    KEDGE_SCRATCH_DIR when set. Else /dev/shm when it is a memory file system with at least 2 GiB
    free: a cluster is thousands of small files, and creating a file costs about 1 ms on a busy
    disk and 20 µs in memory, which is most of a server start and of every scratch database copy.
    (Docker's default 64 MiB /dev/shm, or a full one, is passed over.) Else the temporary folder.

    Raises:
        ToolError: KEDGE_SCRATCH_DIR names no writable folder, or one too deep for a socket path.
    """
    configured = os.environ.get(SCRATCH_DIR_VARIABLE, "").strip()
    if configured:
        if not (Path(configured).is_dir() and os.access(configured, os.W_OK | os.X_OK)):
            raise ToolError(
                f"{SCRATCH_DIR_VARIABLE}={configured} is not a folder this user can write to",
                hint=f"create it, or unset {SCRATCH_DIR_VARIABLE} to use the default",
            )
        root = str(Path(configured).resolve())
        if len(root) + 40 >= _SOCKET_PATH_LIMIT:
            raise ToolError(
                f"{SCRATCH_DIR_VARIABLE}={configured} is too deep: the server's socket path would pass "
                f"the {_SOCKET_PATH_LIMIT}-byte limit of Unix sockets",
                hint="choose a shorter path",
            )
        return root
    if _has_room_in_memory():
        return _MEMORY_FOLDER
    root = tempfile.gettempdir()
    return root if len(root) + 40 < _SOCKET_PATH_LIMIT else "/tmp"  # noqa: S108 - short socket path


def _has_room_in_memory() -> bool:
    try:
        if not os.access(_MEMORY_FOLDER, os.W_OK | os.X_OK):
            return False
        usage = os.statvfs(_MEMORY_FOLDER)
    except OSError:
        return False
    return usage.f_bavail * usage.f_frsize >= _MEMORY_MINIMUM_FREE


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
