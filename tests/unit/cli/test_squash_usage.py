"""`squash` refuses a bad --name and meaningless option combinations with exit 2, before anything
is written or started."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.project.naming import check_new_migration_name

RunCli = Callable[..., Any]


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x/../../../../OUTSIDE",
        "..",
        "a..b",
        "a/b",
        "a\\b",
        "line\nbreak",
        "line\rbreak",
        ".hidden",
        "-opt",
        "tab\there",
        "x" * 201,
    ],
    ids=[
        "empty",
        "climbs-out",
        "dotdot",
        "inner-dotdot",
        "slash",
        "backslash",
        "newline",
        "cr",
        "leading-dot",
        "leading-dash",
        "tab",
        "too-long",
    ],
)
def test_a_bad_name_is_refused_before_anything_is_written(
    run_cli: RunCli, kedge_project: Path, tmp_path: Path, name: str
) -> None:
    before = _tree(tmp_path)
    result = run_cli("squash", "--project", str(kedge_project), f"--name={name}", "--dry-run")

    assert result.exit_code == 2
    assert "the migration name" in result.stderr
    assert _tree(tmp_path) == before


@pytest.mark.parametrize(
    "name", ["squashed", "consolidated_2026", "v1.2-baseline", "create_table_public_posts", "X"]
)
def test_ordinary_names_are_accepted(name: str) -> None:
    assert check_new_migration_name(name) == name


@pytest.mark.parametrize(
    "extra",
    [
        ["--dry-run"],
        ["--name", "other"],
        ["--from", "1"],
        ["--strategy", "concat"],
        ["--no-archive"],
        ["--from-archive"],
        ["--no-verify"],
    ],
    ids=lambda extra: extra[0],
)
def test_check_with_an_option_of_a_new_squash_is_a_usage_error(
    run_cli: RunCli, kedge_project: Path, extra: list[str]
) -> None:
    result = run_cli("squash", "--check", *extra, "--project", str(kedge_project))

    assert result.exit_code == 2
    assert f"squash --check cannot be combined with {extra[0]}" in result.stderr
