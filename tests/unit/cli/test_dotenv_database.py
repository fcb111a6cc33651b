"""KEDGE_DATABASE in the project's `.env` is honoured by every command that picks a database.

Settings are resolved once, after the project is found (issue 10 item 2): before, `deploy` and
`rollback` read the database before the project (and so its `.env`) was opened, and `diff
migrations` ignored it. Each command here runs through `main` in a project with two databases
whose `.env` names a database that has no migrations: the one selection rule
(`Project.require_database` / `Project.databases`) must refuse it by name, before any server or
scratch PostgreSQL is needed (the endpoint is a closed port, so a request would fail otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..conftest import BuildTree

RunCli = Callable[..., Any]

DATABASES = (
    "- name: default\n  kind: postgres\n  tables: []\n- name: analytics\n  kind: postgres\n  tables: []\n"
)
CLOSED_PORT = "http://127.0.0.1:9"


def _migration(database: str, version: int) -> dict[str, str]:
    folder = f"migrations/{database}/{version}_init"
    return {
        f"{folder}/up.sql": "CREATE TABLE t (id int);\n",
        f"{folder}/down.sql": "DROP TABLE t;\n",
    }


@pytest.fixture
def two_databases(make_project: BuildTree) -> Callable[[str], Path]:
    """A project with `default` and `analytics`, each with one migration, and `.env` naming one."""

    def build(dotenv_database: str) -> Path:
        return make_project(
            {
                "metadata/databases/databases.yaml": DATABASES,
                ".env": f"KEDGE_DATABASE={dotenv_database}\nHASURA_GRAPHQL_ENDPOINT={CLOSED_PORT}\n",
                **_migration("default", 1000),
                **_migration("analytics", 2000),
            }
        )

    return build


# Every command that picks one database or a subset of them.
COMMANDS = {
    "status": ("status",),
    "squash": ("squash", "--dry-run"),
    "squash --check": ("squash", "--check"),
    "archive create": ("archive", "create", "--dry-run"),
    "archive restore": ("archive", "restore", "squashed_1_to_2", "--dry-run"),
    "deploy": ("deploy", "--dry-run"),
    "rollback": ("rollback", "--steps", "1", "--dry-run"),
    "verify": ("verify",),
    "state show": ("state", "show"),
    "state mark-applied": ("state", "mark-applied", "1000"),
    "state mark-unapplied": ("state", "mark-unapplied", "1000"),
    "state prune": ("state", "prune"),
    "diff migrations": ("diff", "migrations", "postgresql://127.0.0.1:9/none"),
}


@pytest.mark.parametrize("args", list(COMMANDS.values()), ids=list(COMMANDS))
def test_the_database_named_in_dotenv_is_the_one_picked(
    run_cli: RunCli, two_databases: Callable[[str], Path], args: tuple[str, ...]
) -> None:
    root = two_databases("nosuch")

    result = run_cli("--project", str(root), *args)

    assert result.exit_code == 2, result.stderr
    assert "error: no migrations for database 'nosuch' (found: analytics, default)" in result.stderr


@pytest.mark.parametrize("args", list(COMMANDS.values()), ids=list(COMMANDS))
def test_the_command_line_still_wins_over_dotenv(
    run_cli: RunCli, two_databases: Callable[[str], Path], args: tuple[str, ...]
) -> None:
    root = two_databases("analytics")

    result = run_cli("--project", str(root), "--database", "nosuch", *args)

    assert result.exit_code == 2, result.stderr
    assert "no migrations for database 'nosuch'" in result.stderr


def test_one_rule_refuses_a_choice_between_several_databases(
    run_cli: RunCli, make_project: BuildTree
) -> None:
    root = make_project(
        {
            "metadata/databases/databases.yaml": DATABASES,
            **_migration("default", 1000),
            **_migration("analytics", 2000),
        }
    )

    result = run_cli("--project", str(root), "diff", "migrations", "postgresql://127.0.0.1:9/none")

    # diff used to fall back to `default` silently here.
    assert result.exit_code == 2
    assert "error: the project has several databases (analytics, default)" in result.stderr
    assert "hint: choose one with --database (KEDGE_DATABASE)" in result.stderr


@pytest.mark.parametrize(("dotenv_database", "listed"), [("default", 1), ("analytics", 0)])
def test_dotenv_database_selects_the_archives_listed(
    run_cli: RunCli, two_databases: Callable[[str], Path], dotenv_database: str, listed: int
) -> None:
    root = two_databases(dotenv_database)
    (root / "migrations" / "default" / "squashed_1_to_2").mkdir()

    result = run_cli("--project", str(root), "-o", "json", "archive", "list")

    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["result"]["archives"]) == listed
