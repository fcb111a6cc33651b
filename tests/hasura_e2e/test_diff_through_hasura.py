"""`kedge-hasura diff migrations hasura`: the schema read through run_sql (read-only) on the double."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura.hasura import HasuraClient
from kedge_hasura.project.layout import open_project

from ..hasura_double import HasuraDouble

pytestmark = pytest.mark.pg


@pytest.fixture
def deployed(hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str) -> HasuraDouble:
    """The double's database with the Kedge migrations applied through run_sql, one per migration."""
    migrations = open_project(kedge_project).scan_migrations().databases["default"].migrations
    with HasuraClient(base_url=hasura_double.url, admin_secret=hasura_double.admin_secret) as client:
        for migration in migrations:
            assert migration.up is not None
            client.run_sql(migration.up.text)
    return hasura_double


def _diff(run_cli, double: HasuraDouble, project: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli(
        "diff", "migrations", "hasura", *extra,
        "--project", str(project), "--endpoint", double.url, "--admin-secret", double.admin_secret or "",
    )  # fmt: skip


def test_migrations_and_the_schema_read_through_hasura_are_identical(
    run_cli, deployed: HasuraDouble, kedge_project: Path
) -> None:
    result = _diff(run_cli, deployed, kedge_project, "--data")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "schemas identical; rows identical" in result.stdout
    assert "kedge_practice.users: identical" in result.stdout
    assert deployed.admin_secret not in result.stdout + result.stderr


def test_a_drift_made_through_hasura_is_found(run_cli, deployed: HasuraDouble, kedge_project: Path) -> None:
    with HasuraClient(base_url=deployed.url, admin_secret=deployed.admin_secret) as client:
        client.run_sql("ALTER TABLE kedge_practice.users ADD COLUMN nickname text;")
    result = _diff(run_cli, deployed, kedge_project)
    assert result.exit_code == 1
    assert "+ kedge_practice.users.nickname: only in target" in result.stdout


def test_a_wrong_admin_secret_exits_3_without_echoing_it(
    run_cli, deployed: HasuraDouble, kedge_project: Path
) -> None:
    result = run_cli(
        "diff", "migrations", "hasura", "--project", str(kedge_project),
        "--endpoint", deployed.url, "--admin-secret", "not-the-secret-xyz",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "admin secret" in result.stderr
    assert "not-the-secret-xyz" not in result.stdout + result.stderr
