"""Shared fixtures: environment isolation, a CLI runner, real PostgreSQL.

PostgreSQL is always real. Tests under tests/pg (marked `pg`) get a scratch server started by the
test session itself through kedge-hasura's own `ScratchServer` (or databases on the server named by
KEDGE_TEST_PG_URL). When no server can be started those tests FAIL with the reason: a run must
never pass because everything skipped. Deselect them explicitly with `-m "not pg"` if you must.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kedge_hasura.pg.binaries import PgInstallation, choose_installation, find_installations
from kedge_hasura.pg.scratch import ScratchCluster, ScratchDatabase

REPO = Path(__file__).resolve().parents[1]
KEDGE_PROJECT = REPO / "hasura"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/files/* from this run instead of comparing (also KEDGE_UPDATE_GOLDEN=1)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(Path(__file__).parent).parts
        if parts and parts[0] == "pg":
            item.add_marker(pytest.mark.pg)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HASURA_GRAPHQL_* / KEDGE_* from the developer's shell may leak into a test."""
    for name in list(os.environ):
        if (
            name.startswith(("HASURA_GRAPHQL_", "KEDGE_")) and not name.startswith("KEDGE_TEST_")
        ) or name == "NO_COLOR":
            monkeypatch.delenv(name, raising=False)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `kedge-hasura ARGS` in-process; returns CliResult(exit_code, stdout, stderr)."""
    from kedge_hasura.cli import main

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def shipped_project(tmp_path: Path) -> Path:
    """A private copy of the shipped Kedge project as committed: the squashed migration + archive."""
    target = tmp_path / "shipped" / "hasura"
    shutil.copytree(KEDGE_PROJECT, target)
    return target


@pytest.fixture
def kedge_project(tmp_path: Path) -> Path:
    """A private copy of the Kedge project with its original history of 17 migrations.

    The shipped project keeps them in its squash archive; this puts them back by hand (not with
    `archive restore`, which is under test) and removes the consolidated migration.
    """
    target = tmp_path / "hasura"
    shutil.copytree(KEDGE_PROJECT, target)
    database = target / "migrations" / "default"
    for archive in sorted(database.glob("squashed_*_to_*")):
        manifest = json.loads((archive / "MANIFEST.json").read_text())
        if manifest.get("consolidated"):
            shutil.rmtree(database / manifest["consolidated"]["folder"])
        for folder in archive.iterdir():
            if folder.is_dir():
                folder.rename(database / folder.name)
        shutil.rmtree(archive)
    return target


# -- PostgreSQL -------------------------------------------------------------------------------


def _installation_or_fail() -> PgInstallation | None:
    if os.environ.get("KEDGE_TEST_PG_URL"):
        return None
    try:
        return choose_installation(
            pg_version=int(os.environ["KEDGE_TEST_PG_VERSION"])
            if os.environ.get("KEDGE_TEST_PG_VERSION")
            else None
        )
    except Exception as exc:  # turned into a test failure with the reason
        pytest.fail(f"PostgreSQL tests need a server and none can be started: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ScratchCluster]:
    """A scratch cluster for the whole test session (Hasura preconditions on, as by default)."""
    installation = _installation_or_fail()
    cluster = ScratchCluster(scratch_url=os.environ.get("KEDGE_TEST_PG_URL"), installation=installation)
    try:
        cluster.start()
    except Exception as exc:
        pytest.fail(f"could not start the test PostgreSQL server: {exc}", pytrace=False)
    yield cluster
    cluster.close()


@pytest.fixture
def scratch_db(pg_cluster: ScratchCluster) -> Iterator[ScratchDatabase]:
    """A fresh database (from the Hasura-like template), dropped after the test."""
    with pg_cluster.database("test") as database:
        yield database


def available_majors() -> dict[int, PgInstallation]:
    """One installation per PostgreSQL major version on this machine (system ones preferred)."""
    majors: dict[int, PgInstallation] = {}
    for installation in find_installations():
        majors.setdefault(installation.major, installation)
    return majors


def require_majors() -> set[int]:
    """Majors that must be present (CI sets KEDGE_TEST_REQUIRE_PG_MAJORS=15,18)."""
    value = os.environ.get("KEDGE_TEST_REQUIRE_PG_MAJORS", "")
    return {int(part) for part in value.split(",") if part.strip()}


@pytest.fixture
def use_session_server(pg_cluster: ScratchCluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make kedge-hasura commands create scratch databases on the session's server (KEDGE_SCRATCH_URL).

    Commands then skip starting a server of their own; the tests that are about starting one do
    not use this fixture.
    """
    url = pg_cluster.conninfo("postgres")
    monkeypatch.setenv("KEDGE_SCRATCH_URL", url)
    return url
