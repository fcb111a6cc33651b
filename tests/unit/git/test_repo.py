"""GitRepo against small repositories made in tmp (git itself, no network)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kedge_hasura.errors import GitError, UsageError
from kedge_hasura.git.repo import GitRepo


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """main: two commits touching hasura/a.txt; a third commit on branch feature."""
    root = tmp_path / "origin"
    (root / "hasura").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    for text in ("one", "two"):
        (root / "hasura" / "a.txt").write_text(text)
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", text)
    _git(root, "checkout", "-q", "-b", "feature")
    (root / "hasura" / "a.txt").write_text("three")
    _git(root, "commit", "-q", "-am", "three")
    return root


def test_export_writes_a_commits_folder_outside_the_work_tree(origin: Path, tmp_path: Path) -> None:
    repo = GitRepo.containing(origin / "hasura")
    first = repo.commit_of("main~1")
    exported = repo.export(first, "hasura", tmp_path / "out")
    assert (exported / "a.txt").read_text() == "one"
    assert (origin / "hasura" / "a.txt").read_text() == "three"
    assert _git(origin, "status", "--porcelain") == ""


def test_the_default_base_is_the_merge_base_with_origin_head(origin: Path, tmp_path: Path) -> None:
    _git(tmp_path, "clone", "-q", str(origin), "clone")
    clone = tmp_path / "clone"
    _git(clone, "checkout", "-q", "feature")
    repo = GitRepo(clone)
    assert repo.default_branch() == "origin/feature"  # origin's HEAD was on feature when cloned
    _git(clone, "remote", "set-head", "origin", "main")
    assert repo.default_branch() == "origin/main"
    assert repo.merge_base("origin/main", "HEAD") == _git(origin, "rev-parse", "main")


def test_an_unknown_revision_is_a_usage_error(origin: Path) -> None:
    with pytest.raises(UsageError, match="not known"):
        GitRepo(origin).commit_of("no-such-branch")


def test_a_shallow_clone_without_the_base_says_to_fetch_more_history(origin: Path, tmp_path: Path) -> None:
    _git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{origin}", "shallow")
    repo = GitRepo(tmp_path / "shallow")
    assert repo.is_shallow()
    with pytest.raises(UsageError) as caught:
        repo.commit_of("HEAD~1")
    assert caught.value.exit_code == 2
    assert "git fetch --unshallow" in (caught.value.hint or "")


def test_outside_a_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="find the git repository"):
        GitRepo.containing(tmp_path)
