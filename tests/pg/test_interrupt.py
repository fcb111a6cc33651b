"""Ctrl-C says what it interrupted and what changed (issue 13): SIGINT sent to a real
`kedge-hasura squash` process while a migration of the range is running on the scratch server
(it waits in `pg_sleep`, seen in pg_stat_activity), then the project tree must be byte-identical,
no scratch database or staging folder left, exit 130 and a message naming the step."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from kedge_hasura.pg.scratch import ScratchCluster

pytestmark = pytest.mark.pg

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SLEEPING = "SELECT pg_sleep(600) /* kedge interrupt test */;\n"


def _project(root: Path) -> Path:
    project = root / "hasura"
    shutil.copytree(FIXTURES / "deploy" / "empty_project", project)
    for version, name, up in [
        (1000000000001, "alpha", "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n"),
        (1000000000002, "slow", "CREATE TABLE public.slow (id integer);\n" + SLEEPING),
    ]:
        folder = project / "migrations" / "default" / f"{version}_{name}"
        folder.mkdir(parents=True)
        (folder / "up.sql").write_text(up, encoding="utf-8")
        (folder / "down.sql").write_text(f"DROP TABLE public.{name};\n", encoding="utf-8")
    return project


def _tree(root: Path) -> dict[str, str]:
    """Every entry under root: folders as `dir`, files by the sha256 of their bytes."""
    return {
        path.relative_to(root).as_posix(): "dir"
        if path.is_dir()
        else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
    }


def _databases(conninfo: str) -> set[str]:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database").fetchall()}


def _wait_for_sleep(conninfo: str, process: subprocess.Popen[str]) -> None:
    """Until the sleeping migration runs on the scratch server (a deadline, not a timing)."""
    deadline = time.monotonic() + 120
    with psycopg.connect(conninfo, autocommit=True) as connection:
        while time.monotonic() < deadline:
            found = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%kedge interrupt test%' "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
            if found and found[0]:
                return
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
    raise AssertionError("the migration never started")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _communicate_or_show_the_hang(process: subprocess.Popen[str], *, timeout: float) -> tuple[str, str]:
    """The output, or a failure that shows where every thread of a hung process waits (seen once
    in CI, under load, and not reproduced since: the next occurrence must say where)."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:  # whether the child ignored or blocked SIGINT (both are inherited from this process)
            status = Path(f"/proc/{process.pid}/status").read_text()
            masks = " ".join(
                line for line in status.splitlines() if line.startswith(("SigBlk", "SigIgn", "SigCgt"))
            )
        except OSError:
            masks = "?"
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        ours = f"this process: SIGINT handler {signal.getsignal(signal.SIGINT)!r}, blocked {blocked}"
        process.send_signal(signal.SIGABRT)  # faulthandler dumps the stacks, then the process dies
        _, stderr = process.communicate(timeout=30)
        raise AssertionError(
            f"no exit {timeout:.0f} s after Ctrl-C; child {masks}; {ours}; stacks:\n{stderr}"
        ) from None


def test_ctrl_c_during_squash_says_what_was_interrupted_and_that_nothing_changed(
    pg_cluster: ScratchCluster, tmp_path: Path
) -> None:
    project = _project(tmp_path)
    before = _tree(tmp_path)
    server = pg_cluster.conninfo("postgres")
    databases = _databases(server)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HASURA_GRAPHQL_", "KEDGE_"))}
    env.update(KEDGE_SCRATCH_URL=server, NO_COLOR="1", COLUMNS="80")
    process = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",  # SIGABRT on a hang (below) prints every thread's stack
            "-m",
            "kedge_hasura",
            "-o",
            "json",
            "--project",
            str(project),
            "squash",
            "--name",
            "all",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As from a terminal: SIGINT at its default. A child inherits an ignored SIGINT, and in the
        # full suite the xdist worker that runs this test has SIGINT ignored by then (seen in
        # /proc: SigIgn of the child; which earlier test or library does it is not found yet),
        # so without this the Ctrl-C never reached the child, which then ran pg_sleep(600).
        preexec_fn=_default_sigint,  # noqa: PLW1509 - the test's process forks nothing else meanwhile
    )
    _wait_for_sleep(server, process)

    process.send_signal(signal.SIGINT)
    stdout, stderr = _communicate_or_show_the_hang(process, timeout=60)

    assert process.returncode == 130, stdout + stderr
    flat = " ".join(stderr.split())
    assert "error: interrupted while squashing (" in flat, stderr
    assert "; nothing was changed" in flat
    assert "project: unchanged" in flat
    assert "server:" not in flat  # squash never contacts a Hasura server: no line about one
    assert _tree(tmp_path) == before
    assert not list(tmp_path.rglob(".kedge-*"))
    assert _databases(server) == databases
    document = json.loads(stdout)  # one JSON document on stdout; the message on stderr too
    assert document["exit_code"] == 130 and document["error"]["type"] == "Interrupted"
    assert document["error"]["details"] == {"project": "unchanged"}
