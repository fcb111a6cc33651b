"""Preconditions from config.yaml on a two-database project: db2's migrations need db1's up to a
version (`kedge.databases.db2.preconditions.migrations`), and every replay of db2 runs those first.
Bad preconditions are errors naming config.yaml's line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("use_session_server")

CASE = Path(__file__).resolve().parents[1] / "fixtures" / "squash" / "pre_sql"
DB2 = """
- name: db2
  kind: postgres
  configuration:
    connection_info:
      database_url:
        from_env: DB2_URL
  tables: []
"""


def _project(tmp_path: Path, up_to: str = "1800000000000", database: str = "default") -> Path:
    root = tmp_path / "hasura"
    shutil.copytree(CASE, root)
    (root / "preconditions").mkdir()
    (root / "pre.sql").rename(root / "preconditions" / "auth.sql")
    databases = root / "metadata" / "databases" / "databases.yaml"
    databases.write_text(databases.read_text() + DB2)
    notes = root / "migrations" / "db2" / "1900000000000_notes"
    notes.mkdir(parents=True)
    (notes / "up.sql").write_text(
        "CREATE TABLE public.notes (user_id uuid REFERENCES profiles.profiles (user_id), body text);\n"
    )
    (notes / "down.sql").write_text("DROP TABLE public.notes;\n")
    (root / "config.yaml").write_text(
        (root / "config.yaml").read_text()
        + "kedge:\n"
        + "  databases:\n"
        + "    default:\n"
        + "      preconditions:\n"
        + "        sql: [preconditions/auth.sql]\n"
        + "    db2:\n"
        + "      preconditions:\n"
        + "        sql: [preconditions/auth.sql]\n"
        + f"        migrations: {{database: {database}, up_to: {up_to}}}\n"
    )
    return root


def test_db2_replays_after_db1s_migrations_up_to_the_version(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = _project(tmp_path)

    checked = run_cli("check", "--project", str(root))
    squashed = run_cli("squash", "--project", str(root), "--database", "db2", "--dry-run")

    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert squashed.exit_code == 0, squashed.stdout + squashed.stderr
    assert "1900000000000 .. 1900000000000" in squashed.stdout


@pytest.mark.parametrize(
    ("up_to", "database", "message"),
    [
        ("1700000000000", "default", "database 'default' has no migration 1700000000000"),
        ("1800000000000", "nope", "precondition database 'nope' has no migrations"),
    ],
)
def test_a_bad_migrations_precondition_names_config_yaml_s_line(  # type: ignore[no-untyped-def]
    run_cli, tmp_path: Path, up_to: str, database: str, message: str
) -> None:
    root = _project(tmp_path, up_to=up_to, database=database)

    result = run_cli("squash", "--project", str(root), "--database", "db2", "--dry-run")

    assert result.exit_code == 3, result.stdout + result.stderr
    assert f"config.yaml:{len((root / 'config.yaml').read_text().splitlines())}: {message}" in result.stderr
