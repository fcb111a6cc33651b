"""A database folder that is a symlink (`migrations/default -> ../../shared/default`), as the Hasura
CLI follows it: squash, archive restore and archive create write inside the link's target, keep
the link, and leave no `.kedge-staging-*` anywhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from .squash_helpers import copy_case, leftovers, migrations_dir, run_squash, tree_digest

CASE = "irregular"
FIRST, LAST = 1600000000, 1700000300000
ARCHIVE = f"squashed_{FIRST}_to_{LAST}"


@pytest.fixture
def linked_project(tmp_path: Path) -> tuple[Path, Path]:
    """The case with its database folder moved to `shared/default` and linked back (relative link)."""
    root = copy_case(CASE, tmp_path / "project")
    target = tmp_path / "shared" / "default"
    target.parent.mkdir()
    shutil.move(migrations_dir(root), target)
    migrations_dir(root).symlink_to(os.path.relpath(target, migrations_dir(root).parent))
    return root, target


def _assert_link_kept(root: Path, target: Path, link_text: str) -> None:
    link = migrations_dir(root)
    assert link.is_symlink(), "the link was replaced by a folder"
    assert os.readlink(link) == link_text
    assert leftovers(root) == []
    assert leftovers(target.parent) == []
    assert sorted(p.name for p in (root / "migrations").iterdir()) == ["default"]


def test_squash_then_restore_through_a_symlinked_database_folder(
    linked_project: tuple[Path, Path], pg_cluster: ScratchCluster, run_cli: Any, tmp_path: Path
) -> None:
    root, target = linked_project
    link_text = os.readlink(migrations_dir(root))
    original = tree_digest(target)

    result = run_squash(root, pg_cluster)

    _assert_link_kept(root, target, link_text)
    assert (target / ARCHIVE).is_dir()
    assert (target / result.folder.name / "up.sql").is_file()

    restored = run_cli("--project", str(root), "archive", "restore", ARCHIVE)

    assert restored.exit_code == 0, restored.stderr
    _assert_link_kept(root, target, link_text)
    assert tree_digest(target) == original
