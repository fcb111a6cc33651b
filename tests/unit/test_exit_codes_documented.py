"""The exit codes the README and `--help` document are exactly those of errors.ExitCode."""

from __future__ import annotations

import re
from pathlib import Path

from kedge_hasura.cli import HELP
from kedge_hasura.errors import ExitCode, FailedAfterChanges, KedgeError, MigrationFailed

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_rows() -> dict[int, str]:
    section = README.read_text().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+) \|$", section, re.M)}


def test_the_readme_table_has_one_row_per_exit_code() -> None:
    assert sorted(_readme_rows()) == sorted(int(code) for code in ExitCode)


def test_the_readme_keeps_3_for_changed_nothing_and_5_for_changed_something() -> None:
    rows = _readme_rows()
    assert rows[ExitCode.FAILED].startswith("the operation failed and changed nothing")
    assert "after changing something on the server" in rows[ExitCode.CHANGED]


def test_help_names_every_exit_code() -> None:
    text = " ".join(HELP.split())
    for code in ExitCode:
        assert re.search(rf"\b{int(code)} \w", text), code


def test_a_failure_after_changes_exits_5_and_keeps_its_cause() -> None:
    cause = MigrationFailed(
        "migration failed", version=1, path=None, line=3, sqlstate="23505", pg_message="duplicate"
    )
    error = FailedAfterChanges(cause, changes={"committed": {"default": [1]}})
    assert isinstance(error, KedgeError)
    assert error.exit_code is ExitCode.CHANGED == 5
    assert error.details["cause"] == "MigrationFailed" and error.details["sqlstate"] == "23505"
    assert error.details["committed"] == {"default": [1]}
    assert FailedAfterChanges(None, changes={}).message.startswith("interrupted")
    # state mark-*/prune list what they wrote, not deploy's committed/recorded/pending
    listed = FailedAfterChanges(None, changes={}, listed="what changed")
    assert listed.message.endswith("see what changed below)")
