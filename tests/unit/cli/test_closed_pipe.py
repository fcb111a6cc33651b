"""A reader that closes the pipe early (`kedge-hasura squash 2>&1 | head -4`) does not change the
exit code: what follows is dropped and the command ends as it would have (README, exit codes)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kedge_hasura.cli import main
from kedge_hasura.errors import ExitCode


class ClosedAfter(io.StringIO):
    """A pipe whose reader leaves after `limit` characters (as `head` does)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def write(self, text: str) -> int:
        if self.tell() + len(text) > self.limit:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


@pytest.mark.parametrize("limit", [0, 10])
def test_a_refusal_keeps_its_exit_code_when_the_reader_left(
    limit: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = ClosedAfter(limit)
    monkeypatch.setattr("sys.stdout", pipe)
    monkeypatch.setattr("sys.stderr", pipe)
    monkeypatch.chdir(tmp_path)

    assert main(["squash"]) == ExitCode.FAILED  # no project here: refused, exit 3


def test_help_cut_short_still_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", ClosedAfter(10))

    assert main(["--help"]) == ExitCode.OK
