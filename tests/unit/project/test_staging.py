"""StagedFolder keeps its promise at the edges: a symlinked folder is changed at its target with the
link kept, an interruption during the copy leaves nothing, and the copy of a process killed with
SIGKILL is removed by the next staging of the same folder."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from kedge_hasura.errors import ProjectError
from kedge_hasura.project import staging
from kedge_hasura.project.manifest import atomic_write
from kedge_hasura.project.staging import StagedFolder


def _leftovers(*folders: Path) -> list[str]:
    return sorted(p.name for folder in folders for p in folder.iterdir() if p.name.startswith(".kedge-"))


@pytest.fixture
def linked(tmp_path: Path) -> tuple[Path, Path]:
    """project/migrations/default -> shared/default, holding one file."""
    target = tmp_path / "shared" / "default"
    target.mkdir(parents=True)
    (target / "1_a").mkdir()
    (target / "1_a" / "up.sql").write_text("SELECT 1;\n")
    link = tmp_path / "project" / "migrations" / "default"
    link.parent.mkdir(parents=True)
    link.symlink_to(Path("..") / ".." / "shared" / "default")
    return link, target


def test_a_symlinked_folder_is_changed_at_its_target_and_the_link_stays(linked: tuple[Path, Path]) -> None:
    link, target = linked
    before = os.readlink(link)
    with StagedFolder(link) as staged:
        (staged.path / "2_b").mkdir()
        (staged.path / "2_b" / "up.sql").write_text("SELECT 2;\n")
        staged.commit()

    assert link.is_symlink() and os.readlink(link) == before
    assert (target / "2_b" / "up.sql").read_text() == "SELECT 2;\n"
    assert (link / "2_b" / "up.sql").is_file()
    assert _leftovers(link.parent, target.parent) == []


def test_an_uncommitted_symlinked_folder_is_left_as_it_was(linked: tuple[Path, Path]) -> None:
    link, target = linked
    with StagedFolder(link) as staged:
        (staged.path / "1_a" / "up.sql").write_text("changed\n")
    assert (target / "1_a" / "up.sql").read_text() == "SELECT 1;\n"
    assert link.is_symlink()
    assert _leftovers(link.parent, target.parent) == []


def test_an_interruption_during_the_copy_leaves_no_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "default"
    (folder / "1_a").mkdir(parents=True)
    (folder / "1_a" / "up.sql").write_text("SELECT 1;\n")
    copy = shutil.copytree

    def copy_then_interrupt(source: Path, destination: Path, **kwargs: object) -> object:
        copy(source, destination, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(
        staging, "shutil", SimpleNamespace(copytree=copy_then_interrupt, rmtree=shutil.rmtree)
    )
    with pytest.raises(KeyboardInterrupt), StagedFolder(folder):
        pass

    assert _leftovers(tmp_path) == []


def test_the_copy_of_a_killed_process_is_removed_by_the_next_staging(tmp_path: Path) -> None:
    folder = tmp_path / "default"
    (folder / "1_a").mkdir(parents=True)
    (folder / "1_a" / "up.sql").write_text("SELECT 1;\n")
    other = tmp_path / "default-2"  # a neighbour whose name starts the same: not ours to clean
    other.mkdir()
    foreign = tmp_path / ".kedge-staging-default-2-1-0123abcd"
    foreign.mkdir()
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from kedge_hasura.project.staging import StagedFolder
        with StagedFolder(Path({str(folder)!r})) as staged:
            (staged.path / "2_b").mkdir()
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert len(_leftovers(tmp_path)) == 2  # the killed one's copy, and the neighbour's

    with StagedFolder(folder):
        pass

    assert _leftovers(tmp_path) == [foreign.name]
    assert sorted(p.name for p in folder.iterdir()) == ["1_a"]


def test_atomic_write_refuses_a_path_that_climbs_out(tmp_path: Path) -> None:
    inside = tmp_path / "project" / "migrations"
    inside.mkdir(parents=True)
    with pytest.raises(ProjectError, match="climbs out"):
        atomic_write(inside / "9_x" / ".." / ".." / ".." / "OUTSIDE" / "up.sql", "SELECT 1;\n")
    assert not (tmp_path / "OUTSIDE").exists()
