"""Watchdog for a scratch PostgreSQL server: creates its folder, runs initdb and the server, and
stops it and deletes the folder when the process that asked for it goes away, however it goes
(normal exit, exception, Ctrl-C, kill -9).

The watchdog creates the folder itself and runs initdb, so the cleanup promise covers the whole
start-up: there is no moment when the folder exists and nobody is there to delete it. When the
parent names a trusted cache entry (pg.datadir), the data folder is a copy of it instead of an
initdb run; after an initdb, the parent may ask for its result to be cached, which happens before
the server first runs, so the entry is a pristine cluster. It reports on stdout, one line each:
`folder <path>`, `initdb <exit code>` (`initdb 0 cached` for a copy), `pid <server pid>`, `exit
<code>` if the server stops on its own, and `stopped` once the server has exited at the end (the
folder is deleted after that, while the parent goes on). Paths in the spec's argv say `{folder}`.

Run as `python -I -S _watchdog.py <json>` by `pg.server`, in a session of its own so a Ctrl-C
meant for the parent does not reach the server first. It holds the read end of a pipe whose
write end only the parent has: reading returns end-of-file exactly when the parent has closed it
or died. It then sends SIGQUIT (immediate shutdown; the data is thrown away anyway), waits, and
removes the folder. On Linux the server also gets SIGQUIT if the watchdog itself is killed
(PR_SET_PDEATHSIG), so no server outlives both.

Standard library only, and nothing from kedge_hasura: it must start in milliseconds.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

_PR_SET_PDEATHSIG = 1


def _death_signal_setter() -> Any:
    """A function for preexec_fn that asks the kernel to SIGQUIT the server when we die.

    It runs in the forked child after subprocess has dropped privileges (user/group are applied
    before preexec_fn), so the credential change does not clear the setting. Everything it needs
    is resolved here, before the fork: the unprivileged child may not be able to read the Python
    standard library (e.g. under /root) to import anything.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    quit_signal = int(signal.SIGQUIT)

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, quit_signal, 0, 0, 0)

    return set_death_signal


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGQUIT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(spec: dict[str, Any]) -> int:
    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    pipe_fd: int = spec["pipe_fd"]
    uid, gid = spec.get("uid"), spec.get("gid")
    account: dict[str, Any] = {"user": uid, "group": gid, "extra_groups": [] if uid is not None else None}
    server = None
    folder = tempfile.mkdtemp(prefix="kedge-pg-", dir=spec["temp_root"])
    try:
        if uid is not None:
            os.chown(folder, uid, gid if gid is not None else -1)
        _log_to(f"{folder}/watchdog.log")
        _say(f"folder {folder}")

        def fill(argv: list[str]) -> list[str]:
            return [part.replace("{folder}", folder) for part in argv]

        cache = spec.get("cache") or {}
        returncode: int | None = 0
        note = " cached"
        if not (cache.get("restore") and _restore(cache["entry"], f"{folder}/data", uid, gid)):
            returncode, note = _initdb(spec, folder, fill, account, pipe_fd), ""
            if returncode is None:
                return 0  # the parent went away: the finally block deletes the folder
            if returncode == 0 and cache.get("store"):
                _store(f"{folder}/data", cache["entry"])
        _say(f"initdb {returncode}{note}")
        if returncode == 0:
            with open(f"{folder}/server.log", "ab") as log:  # noqa: PTH123
                server = subprocess.Popen(
                    fill(spec["argv"]),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    env=spec["env"],
                    preexec_fn=_death_signal_setter(),  # noqa: PLW1509 - single-threaded process
                    **account,
                )
            _say(f"pid {server.pid}")
        # After a failed initdb, keep the folder (and initdb.log in it) until the parent has read why.
        reported_exit = server is None
        while not _parent_gone(pipe_fd, 0.2):
            if not reported_exit and server is not None and server.poll() is not None:
                # Keep the folder (and the log in it) until the parent has read why.
                _say(f"exit {server.returncode}")
                reported_exit = True
    finally:
        if server is not None:
            _stop(server)
        _say("stopped")  # the parent may go on now; the folder is removed all the same
        _remove(folder)
    return 0


def _initdb(
    spec: dict[str, Any], folder: str, fill: Any, account: dict[str, Any], pipe_fd: int
) -> int | None:
    """Run initdb into the folder; its exit code, or None when the parent went away meanwhile."""
    with open(f"{folder}/initdb.log", "ab") as log:  # noqa: PTH123 - pathlib costs start-up time here
        initdb = subprocess.Popen(
            fill(spec["initdb"]),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=spec["env"],
            process_group=0,  # so that its bootstrap backend is stopped with it
            preexec_fn=_death_signal_setter(),  # noqa: PLW1509 - single-threaded process
            **account,
        )
    try:
        while initdb.poll() is None:
            if _parent_gone(pipe_fd, 0.05):
                return None
    finally:
        if initdb.poll() is None:
            os.killpg(initdb.pid, signal.SIGKILL)
            initdb.wait()
    return initdb.returncode


def _restore(entry: str, data: str, uid: int | None, gid: int | None) -> bool:
    """Copy a cached data folder (the parent checked that this user owns it and nobody else can
    write it) and hand it to the server's user; False, with nothing left at `data`, on failure."""
    try:
        shutil.copytree(entry, data, symlinks=True)
        if uid is not None:
            group = gid if gid is not None else -1
            for parent, _, files in os.walk(data):
                os.chown(parent, uid, group)
                for name in files:
                    os.chown(f"{parent}/{name}", uid, group, follow_symlinks=False)
    except OSError:
        shutil.rmtree(data, ignore_errors=True)
        return False
    return True


def _store(data: str, entry: str) -> None:
    """Publish a copy of a fresh cluster as the cache entry: copied beside it, then renamed, so a
    reader never sees half of one (best effort: a failure only costs the next start an initdb)."""
    # os.path, not pathlib, as in the rest of this file: it must start in milliseconds
    head, name = os.path.split(entry)
    staging = f"{head}/.{name}.{os.getpid()}"
    try:
        shutil.copytree(data, staging, symlinks=True)
        os.chmod(staging, 0o700)  # noqa: PTH101
        os.rename(staging, entry)  # noqa: PTH104 - fails if another process published it first: fine
    except OSError:
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _parent_gone(pipe_fd: int, wait: float) -> bool:
    """True at end of file on the pipe: the parent closed it or died."""
    readable, _, _ = select.select([pipe_fd], [], [], wait)
    return bool(readable) and not os.read(pipe_fd, 4096)


def _say(line: str) -> None:
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except OSError:
        pass  # the parent has gone and closed its end: nobody to tell


def _log_to(path: str) -> None:
    """Our own stderr (tracebacks) into the folder, where the parent reads it on failure."""
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)
    os.close(log)


def _remove(folder: str) -> None:
    """Delete the folder, retrying: a backend still exiting after the postmaster (say, in the
    middle of copying a database) can add files while rmtree runs, which makes it fail."""
    for _ in range(50):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.lexists(folder):
            return
        time.sleep(0.1)


if __name__ == "__main__":
    raise SystemExit(main(json.loads(sys.argv[1])))
