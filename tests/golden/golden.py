"""Whole-output golden files: run `kedge-hasura` in-process and compare everything it printed.

A golden file (tests/golden/files/<command>/<case>.txt) records one invocation whole:

    $ kedge-hasura <arguments>
    [exit N]
    --- stdout
    <every line on stdout>
    --- stderr
    <every line on stderr>

so a reviewer reads what a user sees, and any change to a word, a line or an exit code shows up as
a diff. `KEDGE_UPDATE_GOLDEN=1` (or `pytest --update-golden`) rewrites the files instead of
comparing; read the diff before committing it.

Runs render as on an 80-column terminal whose output is piped: COLUMNS=80 (click wraps help
to it; rich reads it wherever the Output leaves the width to rich), no colour (NO_COLOR=1), and
no HASURA_GRAPHQL_* / KEDGE_* variable from the developer's shell.

Only what is truly variable between runs is normalised, each by a rule below, in this order:

- the run's own folders (`tmp` of the test, the repository) → `<tmp>`, `<repo>`;
- the Hasura double's URL (a random port) → `http://127.0.0.1:<port>`, and any other loopback
  port (the scratch PostgreSQL server's) → `127.0.0.1:<port>`;
- the PostgreSQL server version (`PostgreSQL 15.14`, `"server_version": "15.14 (Debian ...)"`,
  `"major": 15`) → `<pg-version>` / `<pg-major>` (the scratch server is the newest installed);
- kedge-hasura's own version (`kedge-hasura 0.1.0`) → `kedge-hasura <version>`;
- durations (`1.23 s`, `45 ms`, `"seconds_total": 1.2`, every value of a JSON `"timings"` object,
  JUnit's `time="1.689"`) → `<duration>`,
  with the table padding beside them cut to one space; a speed ratio computed from them
  (`1.9x faster`) → `<speed-ratio>`;
- timestamps in ISO-8601 with a `T` (`2026-12-04T17:07:28.123+00:00`: the clock readings the tool
  prints) → `<timestamp>`, except those a test lists as `keep` (an archive's `created_at` is
  data committed with the project); PostgreSQL's own `2024-03-01 00:00:00+00` in rows stays;
- scratch database names with a random part (`kedge_94f0c7af_diff_1`) → `<scratch-db>`.

Nothing else is touched: a new word in the output is a change to review.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from kedge_hasura import __version__

GOLDEN_FILES = Path(__file__).resolve().parent / "files"
REPO = Path(__file__).resolve().parents[2]
UPDATE_ENV = "KEDGE_UPDATE_GOLDEN"
# Read once at import: the suite's autouse fixture removes KEDGE_* variables from each test's
# environment.
_UPDATE_FROM_ENV = os.environ.get(UPDATE_ENV, "") not in ("", "0")


@dataclass(frozen=True)
class Run:
    """One invocation: its arguments, exit code and both streams, as printed."""

    args: tuple[str, ...]
    cwd: Path  # the folder it ran in (a test's tmp folder): shown as <tmp>
    exit_code: int
    stdout: str
    stderr: str

    def record(self) -> str:
        """The golden-file text (before normalisation)."""
        return (
            f"$ kedge-hasura {' '.join(self.args)}\n[exit {self.exit_code}]\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


@contextmanager
def golden_environment(cwd: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """The environment every golden run gets (see the module docstring); restored afterwards.

    Usable from fixtures of any scope (unlike the function-scoped `monkeypatch`).
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("HASURA_GRAPHQL_", "KEDGE_")) and not name.startswith("KEDGE_TEST_"):
                patch.delenv(name)
        patch.setenv("COLUMNS", "80")
        patch.setenv("LINES", "24")
        patch.setenv("NO_COLOR", "1")
        for key, value in (env or {}).items():
            patch.setenv(key, value)
        patch.chdir(cwd)
        yield


def run_kedge(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """`kedge-hasura ARGS` in-process, from `cwd`, with both streams captured (not terminals)."""
    from kedge_hasura.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with golden_environment(cwd, env), redirect_stdout(stdout), redirect_stderr(stderr):
        code = main(list(args))
    return Run(tuple(args), cwd, code, stdout.getvalue(), stderr.getvalue())


_ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_TIMINGS = re.compile(r'"timings": \{[^{}]*\}')
_NUMBER_VALUE = re.compile(r"(: )-?[\d.e-]+")


def _timings(match: re.Match[str]) -> str:
    return _NUMBER_VALUE.sub(r"\1<duration>", match.group(0))


_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (_TIMINGS, _timings),
    (re.compile(r"http://127\.0\.0\.1:\d+"), "http://127.0.0.1:<port>"),
    (re.compile(r"(?<![\w.])(127\.0\.0\.1|localhost):\d{2,5}\b"), r"\1:<port>"),
    (re.compile(r"\bport=\d+"), "port=<port>"),
    (re.compile(r"PostgreSQL \d+(?:\.\d+)*(?: \([^)\n]*\))?"), "PostgreSQL <pg-version>"),
    (re.compile(r'("(?:server_version|postgres_version)": )"[^"]*"'), r'\1"<pg-version>"'),
    (re.compile(r'("(?:postgres_major|major)": )\d+'), r"\1<pg-major>"),
    (re.compile(re.escape(f"kedge-hasura {__version__}")), "kedge-hasura <version>"),
    (re.compile(r'("tool_version": )"[^"]*"'), r'\1"<version>"'),
    (re.compile(r"\b\d+(?:\.\d+)? ?(?:ms|s)\b(?!\w)"), "<duration>"),
    (re.compile(r'("[a-z_]*(?:duration|elapsed|seconds)[a-z_]*": )[\d.e-]+'), r"\1<duration>"),
    (re.compile(r'\btime="[\d.]+"'), 'time="<duration>"'),
    (re.compile(r"\b\d+(?:\.\d+)?x (?:faster|slower)\b"), "<speed-ratio>"),
    (re.compile(r'("speedup": )[\d.e-]+'), r"\1<speed-ratio>"),
    # Padding next to a duration depends on its length: keep one space.
    (re.compile(r" {2,}<duration>"), " <duration>"),
    (re.compile(r"<duration> {2,}"), "<duration> "),
    (re.compile(r"\bkedge_[0-9a-f]{8}(?:_[a-z0-9]+)*\b"), "<scratch-db>"),
]


def normalise(text: str, *, tmp: Path | None = None, keep: Iterable[str] = ()) -> str:
    """Replace what varies between runs by placeholders (the rules of the module docstring).

    `keep` lists exact strings (committed timestamps) that must survive the timestamp rule.
    """
    if tmp is not None:
        for form in {str(tmp), str(tmp.resolve())}:
            text = text.replace(form, "<tmp>")
    text = text.replace(str(REPO), "<repo>")
    kept = list(keep)
    for index, value in enumerate(kept):
        text = text.replace(value, f"\x00keep{index}\x00")
    text = _ISO_TIMESTAMP.sub("<timestamp>", text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    for index, value in enumerate(kept):
        text = text.replace(f"\x00keep{index}\x00", value)
    return text


def update_requested(config: pytest.Config) -> bool:
    return _UPDATE_FROM_ENV or bool(config.getoption("--update-golden", default=False))


@dataclass
class Golden:
    """Compares runs with their golden files (or rewrites them when an update was asked for)."""

    update: bool

    def check(self, name: str, run: Run, *, keep: Sequence[str] = ()) -> None:
        """Assert that `run`, normalised, equals tests/golden/files/<name>.txt."""
        path = GOLDEN_FILES / f"{name}.txt"
        actual = normalise(run.record(), tmp=run.cwd, keep=keep)
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_file() or path.read_text(encoding="utf-8") != actual:
                path.write_text(actual, encoding="utf-8")
            return
        assert path.is_file(), f"no golden file {path}; run with {UPDATE_ENV}=1 to create it"
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{path.relative_to(REPO)} (golden)",
                tofile="this run",
            )
            pytest.fail(
                f"output differs from the golden file (update with {UPDATE_ENV}=1):\n{''.join(diff)}",
                pytrace=False,
            )
