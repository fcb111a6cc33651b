"""The scratch server: private, unprivileged when we are root, and never outliving its parent."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from kedge_hasura.errors import DatabaseError, ToolError
from kedge_hasura.pg import server as server_module
from kedge_hasura.pg.binaries import PgInstallation, choose_installation
from kedge_hasura.pg.server import ScratchServer


@pytest.fixture(scope="module")
def installation() -> PgInstallation:
    return choose_installation()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it no longer runs anything.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"


def _wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _process_exists(pid):
            return True
        time.sleep(0.05)
    return False


def _server_processes(folder: Path) -> list[str]:
    """Command lines of processes whose arguments mention the server's folder."""
    output = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in output.splitlines() if str(folder) in line and "ps -eo" not in line]


def test_server_accepts_connections_on_a_private_socket_only(installation: PgInstallation) -> None:
    with ScratchServer(installation) as server:
        with psycopg.connect(server.conninfo()) as connection:
            listen, fsync = connection.execute(
                "SELECT current_setting('listen_addresses'), current_setting('fsync')"
            ).fetchone()
        assert listen == ""  # no TCP port at all
        assert fsync == "off"
        assert (server.socket_dir / ".s.PGSQL.5432").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="proves running as root; this run is not root")
def test_runs_as_root_by_running_the_server_as_an_unprivileged_user(installation: PgInstallation) -> None:
    with ScratchServer(installation) as server:
        assert server.pid is not None
        owner_uid = os.stat(f"/proc/{server.pid}").st_uid
        with psycopg.connect(server.conninfo()) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    assert owner_uid != 0


def test_stop_leaves_no_process_and_no_folder(installation: PgInstallation) -> None:
    server = ScratchServer(installation).start()
    pid, folder = server.pid, server.folder
    assert pid is not None and folder is not None
    server.stop()
    assert not _process_exists(pid)
    assert not folder.exists()
    server.stop()  # idempotent


def test_stop_without_waiting_for_removal_stops_the_server_and_the_folder_still_goes(
    installation: PgInstallation,
) -> None:
    server = ScratchServer(installation).start()
    pid, folder = server.pid, server.folder
    assert pid is not None and folder is not None
    server.stop(wait_for_removal=False)
    assert not _process_exists(pid)  # the server has exited before stop returns
    deadline = time.monotonic() + 15
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists(), "the server's folder was left behind"
    assert _server_processes(folder) == []


def test_no_server_survives_kill_9_of_its_parent(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys, time
            from kedge_hasura.pg.binaries import choose_installation
            from kedge_hasura.pg.server import ScratchServer
            server = ScratchServer(choose_installation()).start()
            print(json.dumps({"pid": server.pid, "folder": str(server.folder)}), flush=True)
            time.sleep(600)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        facts = json.loads(parent.stdout.readline())
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    folder = Path(facts["folder"])
    assert _wait_gone(facts["pid"]), "the postmaster outlived kill -9 of its parent"
    deadline = time.monotonic() + 15
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists(), "the server's folder was left behind"
    assert _server_processes(folder) == []


def test_a_server_that_fails_to_start_reports_its_log(
    installation: PgInstallation, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = dict(server_module.SERVER_SETTINGS, max_connections="not-a-number")
    monkeypatch.setattr(server_module, "SERVER_SETTINGS", broken)
    server = ScratchServer(installation, startup_timeout=30)
    with pytest.raises(DatabaseError) as caught:
        server.start()
    assert "exited during start-up" in caught.value.message
    assert "max_connections" in caught.value.details["log"]
    assert server.folder is None  # cleaned up


def test_kill_9_during_initdb_leaves_no_folder(tmp_path: Path) -> None:
    # A stand-in for a slow initdb: it starts the cluster folder, leaves a marker, waits to be killed.
    marker = f"slow-initdb-{os.getpid()}-{time.monotonic_ns()}"
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from kedge_hasura.pg.binaries import choose_installation
            from kedge_hasura.pg.server import ScratchServer

            class SlowInitdb(ScratchServer):
                def _initdb_argv(self):
                    return ["/bin/sh", "-c",
                            "mkdir {{folder}}/data && head -c 1000000 /dev/zero > {{folder}}/data/base "
                            "&& touch {{folder}}/data/{marker} && exec sleep 600"]

            SlowInitdb(choose_installation()).start()
            """
        )
    )
    temp_root = Path(server_module.scratch_root())
    # no cached cluster: the stand-in initdb must be what runs
    parent = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "KEDGE_INITDB_CACHE": "off"})
    try:
        deadline = time.monotonic() + 60
        found: list[Path] = []
        while not found and time.monotonic() < deadline:
            found = list(temp_root.glob(f"kedge-pg-*/data/{marker}"))
            time.sleep(0.05)
        assert found, "the stand-in initdb never ran"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    folder = found[0].parent.parent
    deadline = time.monotonic() + 15
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists(), "the cluster folder was left behind by kill -9 during initdb"
    assert _server_processes(folder) == []


def test_a_failed_initdb_reports_its_output_and_leaves_no_folder(
    installation: PgInstallation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEDGE_INITDB_CACHE", "off")  # a cached cluster would skip the failing initdb
    monkeypatch.setattr(
        ScratchServer, "_initdb_argv", lambda self: ["/bin/sh", "-c", "echo initdb says no >&2; exit 3"]
    )
    server = ScratchServer(installation, startup_timeout=30)
    with pytest.raises(ToolError) as caught:
        server.start()
    assert "exit code 3" in caught.value.message
    assert "initdb says no" in caught.value.details["output"]
    assert server.folder is None


def _select_one(server: ScratchServer) -> object:
    with psycopg.connect(server.conninfo()) as connection:
        return connection.execute("SELECT 1").fetchone()


def test_a_cached_initdb_folder_is_copied_instead_of_running_initdb_again(
    installation: PgInstallation, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    copied = []
    for _ in range(2):
        server = ScratchServer(installation).start()
        folder = server.socket_dir
        try:
            assert _select_one(server) == (1,)
            copied.append(server.from_cache)
        finally:
            server.stop()
        assert not folder.exists()
    assert copied == [False, True]
    (entry,) = (tmp_path / "cache" / "kedge-hasura" / "initdb").iterdir()
    assert entry.stat().st_mode & 0o077 == 0  # private to this user
    assert not (entry / "postmaster.pid").exists()  # stored before the server first ran


def test_a_cache_entry_others_can_write_is_not_used(
    installation: PgInstallation, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with ScratchServer(installation):
        pass
    (entry,) = (tmp_path / "cache" / "kedge-hasura" / "initdb").iterdir()
    entry.chmod(0o777)
    with ScratchServer(installation) as server:
        assert _select_one(server) == (1,)
        assert not server.from_cache


def test_the_initdb_cache_can_be_turned_off(
    installation: PgInstallation, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KEDGE_INITDB_CACHE", "off")
    for _ in range(2):
        with ScratchServer(installation) as server:
            assert _select_one(server) == (1,)
            assert not server.from_cache
    assert not (tmp_path / "cache").exists()


def test_the_scratch_folder_goes_to_memory_when_it_has_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(server_module.SCRATCH_DIR_VARIABLE, raising=False)
    memory = tmp_path / "shm"
    memory.mkdir()
    monkeypatch.setattr(server_module, "_MEMORY_FOLDER", str(memory))
    monkeypatch.setattr(server_module, "_MEMORY_MINIMUM_FREE", 1)
    assert server_module.scratch_root() == str(memory)
    # Docker's 64 MiB /dev/shm (here: less free than asked for) is passed over for the temp folder.
    monkeypatch.setattr(server_module, "_MEMORY_MINIMUM_FREE", 2**62)
    monkeypatch.setattr(tempfile, "tempdir", "/var/tmp")
    assert server_module.scratch_root() == "/var/tmp"
    # No /dev/shm at all (macOS): the temp folder.
    monkeypatch.setattr(server_module, "_MEMORY_FOLDER", str(tmp_path / "absent"))
    monkeypatch.setattr(server_module, "_MEMORY_MINIMUM_FREE", 1)
    assert server_module.scratch_root() == "/var/tmp"


def test_kedge_scratch_dir_wins_and_a_bad_one_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = Path(tempfile.mkdtemp(prefix="kscr-", dir="/tmp"))
    try:
        monkeypatch.setenv(server_module.SCRATCH_DIR_VARIABLE, str(short))
        assert server_module.scratch_root() == str(short)
    finally:
        short.rmdir()
    monkeypatch.setenv(server_module.SCRATCH_DIR_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(ToolError, match=r"KEDGE_SCRATCH_DIR=.*missing is not a folder"):
        server_module.scratch_root()
    deep = tmp_path / ("d" * 90)
    deep.mkdir()
    monkeypatch.setenv(server_module.SCRATCH_DIR_VARIABLE, str(deep))
    with pytest.raises(ToolError, match="too deep"):
        server_module.scratch_root()


def test_a_server_runs_in_the_folder_kedge_scratch_dir_names(
    installation: PgInstallation, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = Path(tempfile.mkdtemp(prefix="kscr-", dir="/tmp"))
    chosen.chmod(0o777)  # as root the server runs as another user, who must reach its folder
    monkeypatch.setenv(server_module.SCRATCH_DIR_VARIABLE, str(chosen))
    try:
        with ScratchServer(installation) as server:
            assert server.folder is not None and server.folder.parent == chosen
            with psycopg.connect(server.conninfo()) as connection:
                assert connection.execute("SELECT 1").fetchone() == (1,)
        deadline = time.monotonic() + 15
        while any(chosen.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(chosen.iterdir()), "the cluster folder was left behind"
    finally:
        shutil.rmtree(chosen, ignore_errors=True)
