"""Pieces the benchmark scripts share: the machine line, and a bare PostgreSQL server started the
plain way (initdb + pg_ctl), the baseline some of them measure against."""

from __future__ import annotations

import os
import platform
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def machine() -> str:
    """`2 CPUs, 23.5 GiB RAM, Linux x86_64, Python 3.11.7`."""
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            kb = int(meminfo.readline().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.machine()}"
    return f"{os.cpu_count()} CPUs{memory}, {system}, Python {platform.python_version()}"


def load_average() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def quiet(argv: list[str]) -> None:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


@contextmanager
def bare_server(bindir: str | Path) -> Iterator[str]:
    """initdb, `pg_ctl start` on a Unix socket with fsync off, yield the socket folder, then stop
    (immediate) and delete it. As root, the server runs as `postgres` (or `nobody`) via runuser."""
    owner = _owner()
    as_user = ["runuser", "-u", owner.pw_name, "--"] if owner else []
    folder = tempfile.mkdtemp(prefix="bench-pg-")
    data = f"{folder}/data"
    try:
        if owner:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        init = [f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        quiet([*as_user, *init, "--locale", "C", "--no-sync"])
        options = f"-k {folder} -c listen_addresses='' -c fsync=off"
        quiet([*as_user, f"{bindir}/pg_ctl", "-D", data, "-w", "-o", options, "start"])
        try:
            yield folder
        finally:
            quiet([*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _owner() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise SystemExit("running as root without a postgres or nobody user to run PostgreSQL as")
