"""`status --server`: the project's migrations next to what the server has recorded, per database."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import Cli

pytestmark = pytest.mark.pg


@pytest.fixture
def cli(run_cli, hasura_double: HasuraDouble) -> Cli:  # type: ignore[no-untyped-def]
    return Cli(run_cli, hasura_double)


def _states(run_json: dict) -> dict[int, str]:  # type: ignore[type-arg]
    (database,) = run_json["result"]["databases"]
    return {row["version"]: row["state"] for row in database["server"]}


def test_before_a_deploy_every_migration_is_pending(cli: Cli, kedge_project: Path) -> None:
    run = cli(kedge_project, "--output", "json", "status", "--server")
    assert run.exit_code == 0, run
    states = _states(run.json())
    assert len(states) == 17
    assert set(states.values()) == {"pending"}


def test_after_a_deploy_every_migration_is_applied_and_in_the_ledger(
    cli: Cli, kedge_project: Path, use_session_server: str
) -> None:
    assert cli.deploy(kedge_project).exit_code == 0
    run = cli(kedge_project, "--output", "json", "status", "--server")
    assert run.exit_code == 0, run
    (database,) = run.json()["result"]["databases"]
    assert {row["state"] for row in database["server"]} == {"applied"}
    assert all(row["in_ledger"] and not row["edited"] for row in database["server"])

    human = cli(kedge_project, "status", "--server")
    assert "applied" in human.stdout and "pending" not in human.stdout


def test_an_edited_applied_migration_is_reported(
    cli: Cli, kedge_project: Path, use_session_server: str
) -> None:
    assert cli.deploy(kedge_project).exit_code == 0
    first = sorted((kedge_project / "migrations" / "default").glob("1*_*"))[0]
    up = first / "up.sql"
    up.write_text(up.read_text() + "\n-- edited after deploy\n")
    run = cli(kedge_project, "--output", "json", "status", "--server")
    (database,) = run.json()["result"]["databases"]
    edited = [row["version"] for row in database["server"] if row["edited"]]
    version = int(first.name.split("_")[0])
    assert edited == [version]
    # deploy refuses an edited applied migration, so status must not say "ok" next to it
    assert run.exit_code == 1, run
    (finding,) = [f for f in run.json()["result"]["findings"] if f["severity"] == "error"]
    assert (finding["code"], finding["version"]) == ("migration-edited-since-applied", version)
    human = cli(kedge_project, "status", "--server")
    assert "status: errors found" in human.stdout and "status: ok" not in human.stdout


def test_a_wrong_admin_secret_exits_3_and_is_not_echoed(cli: Cli, kedge_project: Path) -> None:
    run = cli(kedge_project, "status", "--server", secret="not-the-secret-42")
    assert run.exit_code == 3, run
    assert "admin secret" in run.stderr
    assert not cli.secrets_leaked("not-the-secret-42")
