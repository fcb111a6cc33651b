"""Preconditions as part of the project (config.yaml `kedge.databases.<db>.preconditions`): an
Nhost-like project whose migrations build on, and ALTER, `auth.users` that the platform creates.
Every command that replays runs the preconditions first, and none reports them as a difference or
writes them into a squashed migration. Before this setting only `squash --pre-sql` knew about them,
so `verify`, `check`, `diff` and `squash --check` failed on such a project."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import Cli, run_sql

pytestmark = pytest.mark.pg

CASE = Path(__file__).resolve().parents[1] / "fixtures" / "squash" / "pre_sql"
PRECONDITIONS = (
    "kedge:\n  databases:\n    default:\n      preconditions:\n        sql: [preconditions/auth.sql]\n"
)


@pytest.fixture
def cli(run_cli, hasura_double: HasuraDouble, use_session_server: str) -> Iterator[Cli]:  # type: ignore[no-untyped-def]
    runner = Cli(run_cli, hasura_double)
    yield runner
    assert not runner.secrets_leaked(), "the admin secret was printed"


@pytest.fixture
def nhost_like(tmp_path: Path, hasura_double: HasuraDouble) -> Path:
    """The `pre_sql` squash case with its pre.sql as a configured precondition, plus a migration
    that ALTERs the platform's auth.users; the live database already has what pre.sql makes."""
    root = tmp_path / "hasura"
    shutil.copytree(CASE, root)
    (root / "preconditions").mkdir()
    (root / "pre.sql").rename(root / "preconditions" / "auth.sql")
    (root / "config.yaml").write_text((root / "config.yaml").read_text() + PRECONDITIONS)
    alter = root / "migrations" / "default" / "1800000200000_users_nickname"
    alter.mkdir()
    (alter / "up.sql").write_text("ALTER TABLE auth.users ADD COLUMN nickname text;\n")
    (alter / "down.sql").write_text("ALTER TABLE auth.users DROP COLUMN nickname;\n")
    run_sql(hasura_double, (root / "preconditions" / "auth.sql").read_text())
    return root


def test_every_replaying_command_runs_the_configured_preconditions(cli: Cli, nhost_like: Path) -> None:
    deploy = ("deploy", "--allow-untracked", "profiles.*")  # the case's metadata tracks nothing
    for args in (("status",), ("check",), deploy, ("verify",), ("diff", "migrations", "hasura")):
        run = cli(nhost_like, *args)
        assert run.exit_code == 0, run
    assert "verify: ok" in cli.runs[3].stdout
    assert "schemas identical" in cli.runs[4].stdout

    # concat: the dump strategy cannot re-create a change to a table that existed before the
    # migrations (its own limit, reported as such), so the ALTER of auth.users needs concat.
    squashed = cli(nhost_like, "squash", "--strategy", "concat")
    assert squashed.exit_code == 0, squashed.stdout + squashed.stderr
    (folder,) = [p for p in (nhost_like / "migrations" / "default").iterdir() if p.name.endswith("_squashed")]
    up = (folder / "up.sql").read_text()
    down = (folder / "down.sql").read_text()
    assert "CREATE SCHEMA auth" not in up and "CREATE TABLE auth.users" not in up
    assert "ada@example.com" not in up
    assert "ADD COLUMN nickname" in up  # the migrations' change to the platform's table stays
    assert "DROP SCHEMA auth" not in down and "DROP TABLE auth.users" not in down

    checked = cli(nhost_like, "squash", "--check")
    assert checked.exit_code == 0, checked


def test_verify_right_after_deploy_passes_whether_or_not_the_live_database_has_pgcrypto(
    cli: Cli, hasura_double: HasuraDouble, nhost_like: Path
) -> None:
    run_sql(hasura_double, "DROP EXTENSION IF EXISTS pgcrypto;")
    assert cli.deploy(nhost_like, "--allow-untracked", "profiles.*").exit_code == 0

    run = cli(nhost_like, "verify")

    assert run.exit_code == 0, run
    assert "verify: ok" in run.stdout
