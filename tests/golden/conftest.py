"""Fixtures of the golden-output tests: the comparer, and read-only copies of projects to run on.

Read-only commands share one copy of a project per session (they must not change it; the copy
keeps the shipped project itself clean); commands that write get their own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from .golden import REPO, Golden, update_requested

SHIPPED = REPO / "hasura"
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session")
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(update=update_requested(request.config))


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding `hasura/`, a copy of the shipped project; commands run from this folder."""
    root = tmp_path_factory.mktemp("golden-shipped")
    shutil.copytree(SHIPPED, root / "hasura")
    return root


@pytest.fixture(scope="session")
def scratch_env(pg_cluster: ScratchCluster) -> dict[str, str]:
    """Scratch databases on the session's PostgreSQL server (no server started per command)."""
    return {"KEDGE_SCRATCH_URL": pg_cluster.conninfo("postgres")}


def check_case(name: str, root: Path) -> Path:
    """`root/hasura`: the check fixture `name` (tests/fixtures/check/<name>/ laid over `_base/`,
    as tests/pg/test_check_fixtures.py builds it); returns `root`, the folder to run from."""
    cases = FIXTURES / "check"
    target = root / "hasura"
    shutil.copytree(cases / "_base", target)
    case_dir = cases / name
    spec = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
    for relative in spec.get("remove", []):
        (target / relative).unlink()
    for path in sorted(case_dir.rglob("*")):
        if path.is_file() and path.name != "case.json":
            destination = target / path.relative_to(case_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    return root
