"""KEDGE_DATABASE in the project's `.env` picks the database of `check` and `diff migrations`,
the two commands whose selection only shows once they replay (see tests/unit/cli/
test_dotenv_database.py for the others). Replays on the session's server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("use_session_server")

DATABASES = (
    "- name: default\n  kind: postgres\n  tables: []\n- name: analytics\n  kind: postgres\n  tables: []\n"
)


def _project(root: Path, dotenv_database: str) -> Path:
    files = {
        "config.yaml": "version: 3\nendpoint: http://127.0.0.1:9\nmetadata_directory: metadata\n",
        "metadata/databases/databases.yaml": DATABASES,
        "metadata/version.yaml": "version: 3\n",
        "migrations/default/1000_init/up.sql": "CREATE TABLE default_only (id int);\n",
        "migrations/default/1000_init/down.sql": "DROP TABLE default_only;\n",
        "migrations/analytics/2000_init/up.sql": "CREATE TABLE analytics_only (id int);\n",
        "migrations/analytics/2000_init/down.sql": "DROP TABLE analytics_only;\n",
        ".env": f"KEDGE_DATABASE={dotenv_database}\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("database", ["default", "analytics"])
def test_check_replays_the_database_named_in_dotenv(run_cli, tmp_path: Path, database: str) -> None:  # type: ignore[no-untyped-def]
    root = _project(tmp_path / "hasura", database)

    result = run_cli("check", "--project", str(root), "-o", "json")

    assert json.loads(result.stdout)["result"]["databases"] == [database], result.stderr


@pytest.mark.parametrize(("database", "exit_code"), [("analytics", 0), ("default", 1)])
def test_diff_migrations_compares_the_database_named_in_dotenv(
    run_cli, tmp_path: Path, database: str, exit_code: int
) -> None:  # type: ignore[no-untyped-def]
    root = _project(tmp_path / "hasura", database)

    result = run_cli("diff", "migrations", "migrations:analytics", cwd=root)

    assert result.exit_code == exit_code, result.stdout + result.stderr
