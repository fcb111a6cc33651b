"""A config v2 project is refused by every command that reads or writes recorded state (issue 12
item 7): its Hasura CLI keeps state in hdb_catalog.schema_migrations, not in catalog state."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import Cli, snapshot

pytestmark = pytest.mark.pg

V2_PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "projects" / "config_v2"


@pytest.fixture
def v2_project(tmp_path: Path) -> Path:
    target = tmp_path / "v2" / "hasura"
    shutil.copytree(V2_PROJECT, target)
    return target


@pytest.mark.parametrize(
    "command",
    [
        ("deploy",),
        ("deploy", "--dry-run"),
        ("deploy", "--rehearse"),
        ("rollback", "--steps", "1"),
        ("verify",),
        ("state", "show"),
        ("state", "mark-applied", "1700000000000"),
        ("state", "mark-unapplied", "1700000000000"),
        ("state", "prune"),
    ],
    ids="-".join,
)
def test_a_config_v2_project_is_refused_with_the_upgrade_hint_and_nothing_changes(
    cli: Cli, hasura_double: HasuraDouble, v2_project: Path, command: tuple[str, ...]
) -> None:
    before = snapshot(hasura_double)

    run = cli(v2_project, *command)

    assert run.exit_code == 3, run
    assert "config v2 project" in run.stderr
    assert "hdb_catalog.schema_migrations" in run.stderr
    assert "hasura scripts update-project-v3" in run.stderr
    assert snapshot(hasura_double) == before
