"""`kedge-hasura verify` end to end: the live schema (read through run_sql) against the migrations
replayed on a scratch database, recorded state against the ledger, metadata consistency."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import KEDGE_SCHEMA, Cli, client, project_versions, run_sql

pytestmark = pytest.mark.pg


@pytest.fixture
def cli(run_cli, hasura_double: HasuraDouble, use_session_server: str) -> Iterator[Cli]:  # type: ignore[no-untyped-def]
    runner = Cli(run_cli, hasura_double)
    yield runner
    assert not runner.secrets_leaked(), "the admin secret was printed"


@pytest.fixture
def deployed(cli: Cli, shipped_project: Path) -> Path:
    run = cli.deploy(shipped_project)
    assert run.exit_code == 0, run
    return shipped_project


def test_verify_passes_right_after_a_deploy(cli: Cli, deployed: Path) -> None:
    run = cli(deployed, "verify")

    assert run.exit_code == 0, run
    assert "Database default: ok" in run.stdout
    assert "metadata: consistent" in run.stdout
    assert "verify: ok" in run.stdout


def test_verify_passes_after_deploying_the_originals(cli: Cli, kedge_project: Path) -> None:
    assert cli.deploy(kedge_project).exit_code == 0

    run = cli(kedge_project, "verify")

    assert run.exit_code == 0, run


def test_verify_finds_a_column_added_by_hand(cli: Cli, hasura_double: HasuraDouble, deployed: Path) -> None:
    run_sql(hasura_double, f"ALTER TABLE {KEDGE_SCHEMA}.users ADD COLUMN nickname text;")

    run = cli(deployed, "verify")

    assert run.exit_code == 1, run
    assert "the live schema differs from the migrations" in run.stdout
    assert f"{KEDGE_SCHEMA}.users.nickname" in run.stdout
    assert "verify: differences found" in run.stdout


def test_verify_finds_an_index_dropped_by_hand(cli: Cli, hasura_double: HasuraDouble, deployed: Path) -> None:
    run_sql(hasura_double, f"DROP INDEX {KEDGE_SCHEMA}.knowledge_points_metadata_metadata_idx;")

    run = cli(deployed, "verify")

    assert run.exit_code == 1, run
    assert "knowledge_points_metadata_metadata_idx" in run.stdout


def test_verify_reports_dirty_state(cli: Cli, hasura_double: HasuraDouble, deployed: Path) -> None:
    (version,) = project_versions(deployed)
    with client(hasura_double) as hasura:
        hasura.update_cli_state(lambda state: state.set_version("default", version, dirty=True))

    run = cli(deployed, "verify")

    assert run.exit_code == 1, run
    assert f"dirty version: {version} (`kedge-hasura deploy` settles it)" in run.stdout


def test_verify_reports_a_version_the_state_lost(
    cli: Cli, hasura_double: HasuraDouble, deployed: Path
) -> None:
    (version,) = project_versions(deployed)
    with client(hasura_double) as hasura:
        hasura.update_cli_state(lambda state: state.remove_version("default", version))

    run = cli(deployed, "verify")

    assert run.exit_code == 1, run
    assert f"pending version: {version}" in run.stdout
    assert f"the ledger shows version {version} applied" in run.stdout


def test_verify_reports_inconsistent_metadata(cli: Cli, hasura_double: HasuraDouble, deployed: Path) -> None:
    # Dropped behind Hasura's back (the metadata check off): the tracked view goes missing.
    run_sql(hasura_double, f"DROP VIEW {KEDGE_SCHEMA}.practice_statistics;")
    with client(hasura_double) as hasura:
        hasura.reload_metadata()

    run = cli(deployed, "verify")

    assert run.exit_code == 1, run
    assert "metadata: inconsistent" in run.stdout
    assert "practice_statistics" in run.stdout
