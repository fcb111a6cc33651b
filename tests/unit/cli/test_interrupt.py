"""Ctrl-C reports the step it interrupted and exactly what changed (issue 13): the project tree
is compared with its fingerprint taken when the project was opened. The real-process test
(SIGINT during a squash replay) is tests/pg/test_interrupt.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.squash import run as squash_run
from kedge_hasura.project.fingerprint import changes, fingerprint


def _interrupt_after(write: bool) -> Any:
    def squash(project: Any, request: Any, *, cluster: Any, progress: Any) -> Any:
        progress("replaying 1/1: 1000_alpha")
        if write:
            (project.root / "half-written.txt").write_text("half")
        raise KeyboardInterrupt

    return squash


def test_ctrl_c_with_nothing_changed_exits_130_naming_the_step(
    run_cli: Any, kedge_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(squash_run, "squash", _interrupt_after(write=False))

    result = run_cli("squash", "--project", str(kedge_project))

    assert result.exit_code == 130
    assert (
        "error: interrupted while squashing (replaying 1/1: 1000_alpha); nothing was changed" in result.stderr
    )
    assert "project: unchanged" in result.stderr
    assert "server:" not in result.stderr  # squash never talks to a server


def test_ctrl_c_after_a_project_write_exits_5_listing_it(
    run_cli: Any, kedge_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(squash_run, "squash", _interrupt_after(write=True))

    result = run_cli("-o", "json", "squash", "--project", str(kedge_project))

    assert result.exit_code == 5
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "Interrupted"
    assert error["message"] == (
        "interrupted while squashing (replaying 1/1: 1000_alpha); "
        "1 change in the project, e.g. added half-written.txt"
    )
    assert error["details"]["project"] == ["added half-written.txt"]
    assert "server" not in error["details"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda root: (root / "a.sql").write_text("changed!"), ["changed a.sql"]),
        (lambda root: (root / "a.sql").unlink(), ["removed a.sql"]),
        (lambda root: (root / "sub" / "b.sql").write_text("x"), ["added sub/b.sql"]),
        (lambda root: (root / "a.sql").read_text(), []),
    ],
    ids=["changed", "removed", "added-in-folder", "read-only"],
)
def test_fingerprint_changes(tmp_path: Path, change: Any, expected: list[str]) -> None:
    (tmp_path / "a.sql").write_text("original")
    (tmp_path / "sub").mkdir()
    before = fingerprint(tmp_path)

    change(tmp_path)

    assert changes(before, fingerprint(tmp_path)) == expected
