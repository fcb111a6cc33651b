"""A squash whose candidate fails names the real cause (issue 11 item 7).

A migration that alters an object the preconditions created (here a column and an index on the
`--pre-sql` table auth.users) cannot be represented by the dump strategy: the dump re-creates
only what the migrations created, so the squashed up.sql fails to replay. The error must not name
`migrations/default/<to>_squashed/up.sql`, a file that was never written: it names the kept
candidate, says that the dump strategy cannot represent the range and points at --strategy concat,
and keeps the squash's own warnings (text and JSON). The project is left untouched, and concat
squashes the same range.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import write_migration
from .squash_helpers import copy_case, migrations_dir, tree_digest

pytestmark = pytest.mark.usefixtures("use_session_server")

ALTERS_PRECONDITION = 1800000200000
UP = (
    "ALTER TABLE auth.users ADD COLUMN nickname text;\n"
    "CREATE INDEX users_nickname ON auth.users (nickname);\n"
)
DOWN = "DROP INDEX auth.users_nickname;\nALTER TABLE auth.users DROP COLUMN nickname;\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The pre_sql case (auth.users made by pre.sql) plus a migration that alters auth.users."""
    root = copy_case("pre_sql", tmp_path / "project")
    write_migration(migrations_dir(root), ALTERS_PRECONDITION, "alter_users", UP, DOWN)
    return root


@pytest.fixture
def kept_in(kept_candidates: Path) -> Path:
    """Where the failed candidate is kept (tests/pg/conftest.py: the test's own folder)."""
    return kept_candidates


def test_the_failure_names_the_kept_candidate_the_cause_and_concat(
    project: Path, kept_in: Path, run_cli: Any
) -> None:
    before = tree_digest(project)

    result = run_cli("-o", "json", "--project", str(project), "squash", "--pre-sql", str(project / "pre.sql"))

    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "MigrationFailed"
    never_written = migrations_dir(project) / f"{ALTERS_PRECONDITION}_squashed"
    assert str(never_written) not in result.stdout + result.stderr
    assert error["message"].startswith("the dump strategy cannot represent this range")
    assert "TABLE auth.users" in error["message"]
    assert "--strategy concat" in error["hint"]
    (candidate,) = kept_in.iterdir()  # the candidate that failed, kept for inspection
    details = error["details"]
    assert details["file"] == str(candidate / "up.sql") and details["sqlstate"] == "42703"
    failing_line = (candidate / "up.sql").read_text().splitlines()[details["line"] - 1]
    assert "users_nickname" in failing_line  # the line number is the kept file's
    assert (candidate / "down.sql").is_file()
    # The squash's own warnings, including the one that names the cause, are kept.
    warnings = details["warnings"].splitlines()
    assert any("change objects that existed before them" in w and "auth.users" in w for w in warnings)
    assert any("depend on objects they do not create" in w for w in warnings)
    assert tree_digest(project) == before


def test_the_text_output_keeps_the_warnings_too(project: Path, kept_in: Path, run_cli: Any) -> None:
    result = run_cli("--project", str(project), "squash", "--pre-sql", str(project / "pre.sql"))

    assert result.exit_code == 3
    assert "error: the dump strategy cannot represent this range" in result.stderr
    assert "  warnings:\n" in result.stderr
    assert "change objects that existed before them" in result.stderr
    assert "hint: use --strategy concat" in result.stderr


def test_concat_squashes_the_range_the_dump_strategy_cannot(project: Path, run_cli: Any) -> None:
    result = run_cli(
        "-o", "json", "--project", str(project), "squash", "--pre-sql", str(project / "pre.sql"),
        "--strategy", "concat", "--dry-run",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"]["verification"]["verified"]


def test_a_migration_altering_what_another_database_s_migrations_made_names_the_cause(
    tmp_path: Path, kept_in: Path, run_cli: Any
) -> None:
    """The same class with the other precondition kind: db2 builds on db1's migrations
    (config.yaml), and a db2 migration alters a table that db1's migrations created."""
    from .test_preconditions import _project

    root = _project(tmp_path)
    write_migration(
        root / "migrations" / "db2",
        1900000100000,
        "alter_profiles",
        "ALTER TABLE profiles.profiles ADD COLUMN bio text;\n"
        "CREATE INDEX profiles_bio ON profiles.profiles (bio);\n",
        "DROP INDEX profiles.profiles_bio;\nALTER TABLE profiles.profiles DROP COLUMN bio;\n",
    )
    before = tree_digest(root)

    result = run_cli("-o", "json", "--project", str(root), "squash", "--database", "db2")

    assert result.exit_code == 3, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["message"].startswith("the dump strategy cannot represent this range")
    assert "profiles.profiles" in error["message"] and "--strategy concat" in error["hint"]
    assert "change objects that existed before them" in error["details"]["warnings"]
    assert str(root / "migrations" / "db2" / "1900000100000_squashed") not in result.stdout
    assert tree_digest(root) == before
