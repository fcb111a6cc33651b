"""The examples of README.md and docs/*.md: find them, and compare what they show with a real run.

How a page marks what the tests do with its fenced blocks:

- A block whose info string is `console` is a terminal session. Each line starting with `$ ` is a
  command; the lines up to the next command are what it prints, as an excerpt (see `mismatch`).
  `$ echo $?` prints the previous command's exit code; any other command must exit 0.
- `<!-- doc-test: KEY=VALUE ... -->` on the line just before the opening fence prepares the block:
  `file=PATH` writes the block's text to PATH (relative to the repository the page runs in);
  `project=shipped|originals|hasura-squashed` replaces `hasura/` with the shipped project, with
  its 17 original migrations (its squash archive put back), or with those originals squashed as
  `hasura migrate squash` does (tests/docs/test_commands.py); `server=STATE` puts the Hasura
  test double in a named state (tests/docs/test_commands.py describes each).
- `<!-- doc-test: not run: REASON -->` before a block: its commands are only checked
  for syntax (tests/docs/test_blocks.py), and REASON says why they cannot run here.

Output is compared after `normalise` (tests/golden/golden.py) on both sides, so a page may show
real durations, PostgreSQL versions and scratch database names: `0.21 s`, `PostgreSQL 15` and
`kedge_7e70762e_diff_1` match any other run's. Lines are compared without trailing spaces, and
`<...>` inside a line stands for any text (a random folder name).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..golden.golden import REPO, normalise

PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
# Pages written as runnable documentation; every console block in them runs or says why not.
RUNNABLE_PAGES = tuple(
    REPO / name
    for name in (
        "README.md",
        "docs/adopting.md",
        "docs/from-hasura-squash.md",
        "docs/continuous-deployment.md",
        "docs/troubleshooting.md",
    )
)
ELISION = "..."
WILDCARD = "<...>"
# The endpoint the pages show; the tests' double stands in for it.
EXAMPLE_ENDPOINT = "https://hasura.example.com"
_FENCE = re.compile(r"^(`{3,})(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*doc-test:\s*(.*?)\s*-->$")
_NOT_RUN = "not run:"
# On a terminal a progress message is a spinner that disappears; piped, it is a line on stderr.
_PROGRESS = re.compile(r"^[A-Z][a-z]+ing\b.* \.\.\.$")
SHELL_SYNTAX = re.compile(r"[|&;<>$`*(){}]")


@dataclass(frozen=True)
class Command:
    line: str  # without the `$ ` prompt
    shown: tuple[str, ...]  # the lines the page shows after it
    lineno: int

    @property
    def is_exit_code(self) -> bool:
        return self.line == "echo $?"

    def kedge_arguments(self) -> list[str] | None:
        """The arguments of a plain `kedge-hasura ...` command (no shell syntax), else None."""
        if SHELL_SYNTAX.search(self.line):
            return None
        words = shlex.split(self.line)
        return words[1:] if words and words[0] == "kedge-hasura" else None


@dataclass(frozen=True)
class Block:
    path: Path
    lineno: int  # of the opening fence
    info: str
    text: str
    marker: dict[str, str] = field(default_factory=dict)
    not_run: str | None = None  # the reason, for a console block that is only syntax-checked

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.lineno}"

    def commands(self) -> list[Command]:
        commands: list[Command] = []
        line: str | None = None
        shown: list[str] = []
        start = 0
        for offset, text in enumerate(self.text.splitlines(), start=1):
            if text.startswith("$ "):
                if line is not None:
                    commands.append(Command(line, tuple(shown), start))
                line, shown, start = text[2:].strip(), [], self.lineno + offset
            elif line is not None:
                shown.append(text)
        if line is not None:
            commands.append(Command(line, tuple(shown), start))
        return commands


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown page, with the doc-test marker just before it."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, info = opening.groups()
        end = index + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        marker_line = lines[index - 1].strip() if index else ""
        marker, not_run = _parse_marker(marker_line, where=f"{path}:{index}")
        text = "\n".join(lines[index + 1 : end]) + "\n"
        found.append(Block(path, index + 1, info, text, marker, not_run))
        index = end + 1
    return found


def _parse_marker(line: str, *, where: str) -> tuple[dict[str, str], str | None]:
    match = _MARKER.match(line)
    if match is None:
        return {}, None
    content = match.group(1)
    if content.startswith(_NOT_RUN):
        return {}, content.removeprefix(_NOT_RUN).strip()
    marker: dict[str, str] = {}
    for word in content.split():
        key, sep, value = word.partition("=")
        if not sep or not value:
            raise ValueError(f"{where}: doc-test marker word {word!r} is not KEY=VALUE")
        marker[key] = value
    return marker, None


def shown_output(stdout: str, stderr: str) -> list[str]:
    """What a terminal keeps of a run: stdout, then stderr without its progress lines."""
    errors = [line for line in stderr.splitlines() if not _PROGRESS.match(line)]
    return [line.rstrip() for line in [*stdout.splitlines(), *errors]]


def mismatch(shown: tuple[str, ...] | list[str], actual: list[str]) -> str | None:
    """Why the page's excerpt does not match the run's output (None when it does).

    The excerpt is split into chunks at `...` lines. Each chunk must appear as consecutive lines,
    chunks in order. Without a leading `...` the first chunk starts the output; without a trailing
    `...` the last chunk ends it. An empty excerpt matches an empty output only.
    """
    want = [_norm(line) for line in shown]
    have = [_norm(line) for line in actual]
    while want and not want[-1]:
        want.pop()
    while have and not have[-1]:
        have.pop()
    chunks: list[list[str]] = [[]]
    for line in want:
        if line == ELISION:
            chunks.append([])
        else:
            chunks[-1].append(line)
    anchored_start = not want or want[0] != ELISION
    anchored_end = not want or want[-1] != ELISION
    position = 0
    for number, chunk in enumerate(chunks):
        if not chunk:
            continue
        first = number == 0 and anchored_start
        found = _find(have, chunk, position, only_at=position if first else None)
        if found is None:
            return f"not found{' at the start' if first else ''}:\n  " + "\n  ".join(chunk)
        position = found + len(chunk)
    if anchored_end and position != len(have):
        return "the output goes on after the excerpt:\n  " + "\n  ".join(have[position : position + 5])
    return None


def _find(have: list[str], chunk: list[str], start: int, *, only_at: int | None) -> int | None:
    candidates = [only_at] if only_at is not None else range(start, len(have) - len(chunk) + 1)
    for index in candidates:
        window = have[index : index + len(chunk)]
        if len(window) == len(chunk) and all(map(_same, chunk, window)):
            return index
    return None


def _same(shown: str, actual: str) -> bool:
    """Equal lines; `<...>` in the page's line stands for any text (a random folder name)."""
    if WILDCARD not in shown:
        return shown == actual
    pattern = ".*?".join(re.escape(part) for part in shown.split(WILDCARD))
    return re.fullmatch(pattern, actual) is not None


def _norm(line: str) -> str:
    return normalise(line.rstrip()).rstrip()
