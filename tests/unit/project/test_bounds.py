"""project.bounds.is_outside: links followed, with or without the shortcut for plain paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura.project.bounds import is_outside


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """project/migrations/1_a/up.sql, and an outside/ folder beside the project."""
    (tmp_path / "project" / "migrations" / "1_a").mkdir(parents=True)
    (tmp_path / "project" / "migrations" / "1_a" / "up.sql").write_text("SELECT 1;\n")
    (tmp_path / "outside" / "2_b").mkdir(parents=True)
    (tmp_path / "outside" / "2_b" / "up.sql").write_text("SELECT 2;\n")
    (tmp_path / "outside" / "up.sql").write_text("SELECT 3;\n")
    return tmp_path


def test_a_plain_file_under_the_folder_is_inside(tree: Path) -> None:
    migrations = tree / "project" / "migrations"
    assert not is_outside(migrations / "1_a" / "up.sql", migrations)


def test_a_file_linked_to_outside_is_outside(tree: Path) -> None:
    migrations = tree / "project" / "migrations"
    (migrations / "1_a" / "down.sql").symlink_to(tree / "outside" / "up.sql")
    assert is_outside(migrations / "1_a" / "down.sql", migrations)


def test_a_version_folder_linked_to_outside_is_outside(tree: Path) -> None:
    migrations = tree / "project" / "migrations"
    (migrations / "2_b").symlink_to(tree / "outside" / "2_b")
    assert is_outside(migrations / "2_b" / "up.sql", migrations)


def test_a_link_that_stays_inside_is_inside(tree: Path) -> None:
    migrations = tree / "project" / "migrations"
    (migrations / "1_a" / "down.sql").symlink_to(migrations / "1_a" / "up.sql")
    assert not is_outside(migrations / "1_a" / "down.sql", migrations)


def test_files_of_a_linked_folder_are_inside_it(tree: Path) -> None:
    linked = tree / "linked_migrations"
    linked.symlink_to(tree / "project" / "migrations")
    assert not is_outside(linked / "1_a" / "up.sql", linked)


def test_dot_dot_out_of_the_folder_is_outside(tree: Path) -> None:
    migrations = tree / "project" / "migrations"
    assert is_outside(migrations / ".." / ".." / "outside" / "up.sql", migrations)
