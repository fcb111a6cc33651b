"""The pages' examples without running them: markers, command syntax, workflow files, the README's
first screen. (tests/docs/test_commands.py runs the console blocks and compares their output.)

Blocks that are only checked here, never run, and why:
- GitHub and GitLab workflow YAML: no runner here; the YAML must load, every `kedge-hasura`
  command line in it must parse, and every input given to this repository's action must be one
  that action.yml declares (.ci/action_harness.py runs the action's steps);
- `sh` blocks (a CI step, install commands): `bash -n`, plus the command-line check;
- console blocks marked `not run:`, which say why.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..golden.golden import REPO, run_kedge
from .blocks import (
    PAGES,
    RUNNABLE_PAGES,
    Block,
    blocks,
    mismatch,
)

MARKER_KEYS = {"file", "project", "server", "through", "dirty"}
PROJECTS = {"shipped", "originals", "hasura-squashed"}
SERVER_STATES = {"empty", "migrate-apply", "migrate-apply-originals", "deployed"}
# `kedge-hasura` as a command word (not `kedge-hasura[embedded]`, `kedge-hasura.git`, `-check`),
# then its arguments up to the end of the shell command.
_INVOCATION = re.compile(r"(?:^|[\s/])kedge-hasura(?=\s|$)([^\n|&;>#]*)")
_ACTION = "/kedge-hasura@"
_ACTION_COMMAND = re.compile(r"\bcommand: ([^,}\n]+)")


def _all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def _yaml_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _yaml_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _yaml_strings(item)


def _action_steps(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if _ACTION in str(value.get("uses", "")):
            yield value
        for item in value.values():
            yield from _action_steps(item)
    elif isinstance(value, list):
        for item in value:
            yield from _action_steps(item)


def _load(block: Block) -> Any:
    """The block's YAML, or None for a fragment (ci.md shows steps cut out of a workflow)."""
    try:
        return yaml.safe_load(textwrap.dedent(block.text))
    except yaml.YAMLError:
        return None


def _command_lines(block: Block) -> list[list[str]]:
    """The argument lists of every kedge-hasura invocation the block shows."""
    found: list[list[str]] = []
    loaded = _load(block) if block.info == "yaml" else None
    if block.info == "console":
        texts = [command.line for command in block.commands()]
    elif loaded is not None:
        texts = list(_yaml_strings(loaded))
        found += [str(step.get("with", {}).get("command", "check")).split() for step in _action_steps(loaded)]
    elif block.info == "yaml":
        texts = block.text.splitlines()
        found += [value.split() for value in _ACTION_COMMAND.findall(block.text)]
    else:
        texts = [line.removeprefix("$ ") for line in block.text.splitlines()]
    for text in texts:
        found += [shlex.split(arguments) for arguments in _INVOCATION.findall(text)]
    return found


def _syntax_cases() -> list[Any]:
    """One case per distinct command line, named after the first place that shows it."""
    cases: dict[tuple[str, ...], Any] = {}
    for block in _all_blocks():
        for arguments in _command_lines(block):
            where = f"{block.where}: {' '.join(arguments)}"[:120]
            cases.setdefault(tuple(arguments), pytest.param(arguments, id=where))
    return list(cases.values())


@pytest.mark.parametrize("arguments", _syntax_cases())
def test_every_command_line_on_the_pages_parses(arguments: list[str], tmp_path: Path) -> None:
    """Commands and option names (not values): `--help` after them exits 0 only when they parse."""
    run = run_kedge(*arguments, "--help", cwd=tmp_path)

    assert run.exit_code == 0, run.stderr


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda path: path.name)
def test_markers_name_known_projects_states_and_keys(page: Path) -> None:
    for block in blocks(page):
        assert set(block.marker) <= MARKER_KEYS, block.where
        assert block.marker.get("project", "shipped") in PROJECTS, block.where
        assert block.marker.get("server", "empty") in SERVER_STATES, block.where
        if block.info == "console":
            assert block.commands(), f"{block.where}: a console block without a `$ ` command"
        if block.not_run is not None:
            assert block.not_run, f"{block.where}: say why it does not run"


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_console_blocks_appear_only_on_runnable_pages(page: Path) -> None:
    if page in RUNNABLE_PAGES:
        return
    assert not [block.where for block in blocks(page) if block.info == "console"]


def test_workflow_files_load_and_give_the_action_only_its_inputs() -> None:
    inputs = set(yaml.safe_load((REPO / "action.yml").read_text())["inputs"])
    steps = 0
    for block in _all_blocks():
        if block.info != "yaml":
            continue
        loaded = _load(block)
        if block.path in RUNNABLE_PAGES:
            assert loaded is not None, f"{block.where}: the YAML does not load"
        for step in _action_steps(loaded):
            steps += 1
            assert set(step.get("with", {})) <= inputs, block.where
    assert steps >= 5


def test_shell_blocks_are_valid_bash() -> None:
    shell = [block for block in _all_blocks() if block.info in ("sh", "bash")]
    assert shell
    for block in shell:
        result = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{block.where}: {result.stderr}"


def _first_screen() -> list[Block]:
    readme = REPO / "README.md"
    end = readme.read_text().splitlines().index("## Quick start")
    return [block for block in blocks(readme) if block.lineno < end]


def test_the_readme_first_screen_shows_the_three_jobs_with_their_output() -> None:
    shown = {
        block.commands()[0].line: block.commands()[0].shown
        for block in _first_screen()
        if block.info == "console" and block.not_run is None
    }
    assert list(shown) == ["kedge-hasura squash", "kedge-hasura deploy", "kedge-hasura check"]
    assert all(len([line for line in output if line and line != "..."]) >= 3 for output in shown.values())


def test_the_readme_keeps_its_two_fresh_machine_commands_and_links_the_guides() -> None:
    text = (REPO / "README.md").read_text()
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -q '.[embedded]' && "
        ".venv/bin/kedge-hasura squash --dry-run --from-archive"
    ) in text
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev,embedded]' && "
        ".venv/bin/python -m pytest -q -n 2"
    ) in text
    for page in RUNNABLE_PAGES[1:]:
        link = str(page.relative_to(REPO))
        assert f"]({link})" in text, link
        assert page.is_file()


@pytest.mark.parametrize(
    ("shown", "actual", "matches"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a"], ["a", "b"], False),  # the output goes on: the excerpt must say `...`
        (["a", "..."], ["a", "b"], True),
        (["...", "b"], ["a", "b"], True),
        (["b", "..."], ["a", "b"], False),  # not at the start
        (["a", "...", "c"], ["a", "b", "c"], True),
        (["a", "...", "b", "c"], ["a", "c", "b"], False),  # chunks in order
        (["a", "c"], ["a", "b", "c"], False),  # a chunk is consecutive lines
        (["applied in 0.05 s"], ["applied in 12.3 s"], True),  # normalised durations
        (["PostgreSQL 15"], ["PostgreSQL 16.2 (Debian 16.2-1)"], True),
        (["dir /tmp/x-<...>/up.sql:3"], ["dir /tmp/x-ab12/up.sql:3"], True),
        (["dir /tmp/x-<...>/up.sql:3"], ["dir /tmp/x-ab12/down.sql:3"], False),
        ([], [], True),
        ([], ["something"], False),
        (["a  "], ["a", ""], True),  # trailing spaces and blank lines at the end
    ],
)
def test_an_excerpt_matches_only_what_the_run_printed(
    shown: list[str], actual: list[str], matches: bool
) -> None:
    assert (mismatch(shown, actual) is None) is matches
