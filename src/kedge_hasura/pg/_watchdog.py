"""Watchdog for a scratch PostgreSQL server: runs it, and stops it and deletes its folder when the
process that asked for it goes away, however it goes (normal exit, exception, Ctrl-C, kill -9).

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
    server = None
    try:
        with open(spec["log"], "ab") as log:  # noqa: PTH123 - pathlib costs start-up time here
            server = subprocess.Popen(
                spec["argv"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=spec["env"],
                user=spec.get("uid"),
                group=spec.get("gid"),
                extra_groups=[] if spec.get("uid") is not None else None,
                preexec_fn=_death_signal_setter(),  # noqa: PLW1509 - single-threaded process
            )
        sys.stdout.write(f"pid {server.pid}\n")
        sys.stdout.flush()
        reported_exit = False
        while True:
            readable, _, _ = select.select([pipe_fd], [], [], 0.2)
            if readable and not os.read(pipe_fd, 4096):
                break  # end of file: the parent closed the pipe or died
            if not reported_exit and server.poll() is not None:
                # Keep the folder (and the log in it) until the parent has read why.
                sys.stdout.write(f"exit {server.returncode}\n")
                sys.stdout.flush()
                reported_exit = True
    finally:
        if server is not None:
            _stop(server)
        _say("stopped")  # the parent may go on now; the folder is removed all the same
        _remove(spec["remove"])
    return 0


def _say(line: str) -> None:
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except OSError:
        pass  # the parent has gone and closed its end: nobody to tell


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
