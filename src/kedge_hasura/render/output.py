"""Output: results on stdout (human text or one JSON document), everything else on stderr.

Progress, warnings, errors and hints go to stderr so `kedge-hasura ... > file` captures only the
result. JSON is written with `json.dumps`, never through rich (which hard-wraps when piped). Every
message passes through `redact()` with the admin secret, as a last line of defence.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import PurePath
from typing import IO, TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from kedge_hasura.errors import ExitCode, KedgeError
from kedge_hasura.render.human import relative_paths
from kedge_hasura.settings import OutputFormat, Verbosity, redact

if TYPE_CHECKING:
    from kedge_hasura.schemadiff.compare import SchemaDiff
    from kedge_hasura.schemadiff.data import DataDiff

JSON_SCHEMA_VERSION = 1
R = TypeVar("R", bound=BaseModel)


class ReaderMayLeave:
    """A text stream whose reader may close the pipe early (`kedge-hasura squash | head -4`).

    Once a write fails with BrokenPipeError, everything written after it is dropped and the file
    descriptor is pointed at /dev/null (so Python's flush at exit cannot fail either): the command
    goes on as it would have and its exit code says what happened, not that nobody read the end.
    """

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self.reader_left = False

    def write(self, text: str) -> int:
        if not self.reader_left:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._reader_left()
        return len(text)

    def flush(self) -> None:
        if not self.reader_left:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._reader_left()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _reader_left(self) -> None:
        self.reader_left = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # no file descriptor (a test's StringIO): nothing flushes it at exit
            pass


class Output:
    """Where and how a command reports. One per invocation, built by the CLI."""

    def __init__(
        self,
        *,
        output_format: OutputFormat = OutputFormat.TEXT,
        verbosity: Verbosity | int = Verbosity.NORMAL,
        no_color: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        secrets: tuple[str, ...] = (),
    ):
        self.format = output_format
        self.verbosity = Verbosity(verbosity)
        # A reader that goes away (`| head`) must not change what the command does or its exit code.
        self._stdout_file: IO[str] = ReaderMayLeave(stdout or sys.stdout)  # type: ignore[assignment]
        self._stderr_file: IO[str] = ReaderMayLeave(stderr or sys.stderr)  # type: ignore[assignment]
        self._secrets = tuple(s for s in secrets if s)
        self.warnings: list[str] = []
        self.interrupted_during: str | None = None  # the progress step a Ctrl-C interrupted
        is_terminal = self._stdout_file.isatty()
        self.out = Console(
            file=self._stdout_file,
            no_color=no_color,
            highlight=False,
            soft_wrap=True,
            width=None if is_terminal else 200,
            force_terminal=None if is_terminal else False,
        )
        self.err = Console(
            file=self._stderr_file,
            no_color=no_color,
            highlight=False,
            soft_wrap=True,
            width=None if self._stderr_file.isatty() else 200,
        )

    def reconfigure(self, *, output_format: OutputFormat, no_color: bool) -> None:
        """Apply the resolved settings (the project's `.env` may set KEDGE_OUTPUT or NO_COLOR),
        once they are known; what was written before used the flags and the environment."""
        self.format = output_format
        if no_color:
            self.out.no_color = self.err.no_color = True

    def add_secret(self, secret: str | None) -> None:
        """Mask this value in everything written from now on."""
        if secret:
            self._secrets = (*self._secrets, secret)

    def redact(self, text: str) -> str:
        return redact(text, *self._secrets)

    # -- chatter on stderr ---------------------------------------------------------------------

    def info(self, message: str) -> None:
        if self.verbosity.shows(Verbosity.NORMAL):
            self.err.print(escape(self.redact(message)))

    def detail(self, message: str) -> None:
        """Shown with -v."""
        if self.verbosity.shows(Verbosity.VERBOSE):
            self.err.print(f"[dim]{escape(self.redact(message))}[/dim]")

    def debug(self, message: str) -> None:
        """Shown with -vv."""
        if self.verbosity.shows(Verbosity.DEBUG):
            self.err.print(f"[dim]debug: {escape(self.redact(message))}[/dim]")

    def warn(self, message: str) -> None:
        """A warning about this run (also placed in the JSON envelope)."""
        text = self.redact(message)
        self.warnings.append(text)
        if self.verbosity.shows(Verbosity.NORMAL):
            self.err.print(f"[yellow]warning:[/yellow] {escape(text)}")

    @contextmanager
    def progress(self, message: str) -> Iterator[ProgressLine]:
        """A step of a long operation: a spinner on a terminal, a plain line otherwise (-q: nothing).

        A Ctrl-C inside it records the step and its latest update in `interrupted_during`, for
        the message that says what was interrupted."""
        line = ProgressLine(self, message)
        try:
            with self._progress(line) as shown:
                yield shown
        except KeyboardInterrupt:
            if self.interrupted_during is None:
                self.interrupted_during = line.describe()
            raise

    @contextmanager
    def _progress(self, line: ProgressLine) -> Iterator[ProgressLine]:
        message = line.message
        if not self.verbosity.shows(Verbosity.NORMAL):
            yield line
            return
        started = time.perf_counter()
        if self.err.is_terminal:
            with self.err.status(escape(self.redact(message))) as status:
                line.status = status
                yield line
        else:
            self.err.print(escape(self.redact(message)) + " ...")
            yield line
        if self.verbosity.shows(Verbosity.VERBOSE):
            self.err.print(f"[dim]  done in {time.perf_counter() - started:.2f} s[/dim]")

    # -- results on stdout ---------------------------------------------------------------------

    def emit(
        self,
        command: str,
        result: R,
        *,
        ok: bool,
        exit_code: ExitCode,
        text: Callable[[R], list[str]],
        preformatted: Mapping[OutputFormat, Callable[[R], str]] | None = None,
    ) -> None:
        """Write the result: one JSON envelope, a preformatted rendering (GitHub annotations,
        JUnit XML) written as is, or the human text (`text` returns lines of rich markup)."""
        if self.format is OutputFormat.JSON:
            self._write_json(command, result=result.model_dump(mode="json"), ok=ok, exit_code=exit_code)
            return
        writer = (preformatted or {}).get(self.format)
        if writer is not None:
            self.write_text(writer(result))
            return
        for line in text(result):
            self.out.print(self.redact(line))

    def show_comparison(self, schema: SchemaDiff, data: DataDiff | None) -> None:
        """Show why a verification failed: the schema diff (and rows) on stderr, in text mode.

        With --output json the same facts are in the error envelope's details.
        """
        if self.format is not OutputFormat.TEXT:
            return
        # Imported here: the diff rendering loads schemadiff, which most commands never need.
        from kedge_hasura.render.diff import render_schema_diff

        if data is not None:
            schema = schema.model_copy(update={"data": data})
        for line in render_schema_diff(schema):
            self.err.print(self.redact(line))

    def write_text(self, text: str) -> None:
        """Write preformatted text (JUnit XML, GitHub annotations) to stdout as is."""
        self._stdout_file.write(self.redact(text))
        self._stdout_file.flush()

    def error(self, command: str, error: KedgeError) -> None:
        """Report a KedgeError: in the envelope for JSON, and always readably on stderr."""
        message = self.redact(error.message)
        hint = self.redact(error.hint) if error.hint else None
        details = {key: self._redact_value(value) for key, value in error.details.items()}
        # A command that failed after changing the server carries its result so far (what it did).
        partial = getattr(error, "partial", None)
        if self.format is OutputFormat.JSON:
            self._write_json(
                command,
                result=partial.model_dump(mode="json") if isinstance(partial, BaseModel) else None,
                ok=False,
                exit_code=error.exit_code,
                error={"type": error.kind, "message": message, "hint": hint, "details": details},
            )
        # Text names paths as findings do, relative to the current folder (JSON keeps them whole).
        message, hint = relative_paths(message), relative_paths(hint) if hint else None
        self.err.print(f"[red bold]error:[/red bold] {escape(message)}")
        for key, value in _relative(details).items():
            if value in (None, "", [], {}):
                continue
            if isinstance(value, (list, dict)):
                self.err.print(f"  {key}:")
                for part in _detail_lines(value):
                    self.err.print(f"    {escape(part)}")
                continue
            text = str(value)
            if "\n" in text:
                self.err.print(f"  {key}:")
                for part in text.splitlines():
                    self.err.print(f"    {escape(part)}")
            else:
                self.err.print(f"  {key}: {escape(text)}")
        if hint:
            self.err.print(f"[cyan]hint:[/cyan] {escape(hint)}")
        if error.__cause__ is not None and self.verbosity.shows(Verbosity.VERBOSE):
            self.err.print(f"[dim]  caused by: {escape(self.redact(repr(error.__cause__)))}[/dim]")

    def internal_error(self, command: str, exc: BaseException) -> None:
        message = self.redact(f"internal error: {type(exc).__name__}: {exc}")
        if self.format is OutputFormat.JSON:
            self._write_json(
                command,
                result=None,
                ok=False,
                exit_code=ExitCode.INTERNAL,
                error={"type": "InternalError", "message": message, "hint": None, "details": {}},
            )
        self.err.print(f"[red bold]{escape(message)}[/red bold]")
        self.err.print(
            "[cyan]hint:[/cyan] this is a bug in kedge-hasura; re-run with --debug for a traceback "
            "and report it"
        )

    def _write_json(
        self,
        command: str,
        *,
        result: Any,
        ok: bool,
        exit_code: ExitCode,
        error: dict[str, Any] | None = None,
    ) -> None:
        envelope = {
            "schema": JSON_SCHEMA_VERSION,
            "command": command,
            "ok": ok,
            "exit_code": int(exit_code),
            "result": result,
            "error": error,
            "warnings": list(self.warnings),
        }
        text = json.dumps(envelope, indent=2, ensure_ascii=False, default=str)
        self._stdout_file.write(self.redact(text) + "\n")
        self._stdout_file.flush()

    def _redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self._redact_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self._redact_value(item) for key, item in value.items()}
        return value


def _relative(value: Any) -> Any:
    """A detail with its paths inside the current folder made relative (relative_paths)."""
    if isinstance(value, (str, PurePath)):
        return relative_paths(str(value))
    if isinstance(value, list):
        return [_relative(item) for item in value]
    if isinstance(value, dict):
        return {key: _relative(item) for key, item in value.items()}
    return value


def _detail_lines(value: list[Any] | dict[str, Any]) -> list[str]:
    """A list as one item a line; a mapping as `key: value` a line, lists joined with commas and
    mappings as `name 1, 2; other 3` (the per-database facts of a failed deploy)."""
    if isinstance(value, list):
        return [str(item) for item in value]
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            text = "; ".join(f"{name} {_joined(part)}" for name, part in item.items())
        else:
            text = _joined(item)
        lines.append(f"{key}: {text}")
    return lines


def _joined(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


class ProgressLine:
    """Handle for updating a progress step's text."""

    def __init__(self, output: Output, message: str):
        self._output = output
        self.message = message
        self.status: Any = None
        self.latest: str | None = None

    def describe(self) -> str:
        """`Squashing (replaying migration 1700000000000_x)`: the step and its latest update."""
        return self.message + (f" ({self.latest})" if self.latest else "")

    def update(self, text: str) -> None:
        self.latest = self._output.redact(text)
        if self.status is not None:
            self.status.update(escape(self._output.redact(text)))
        elif self._output.verbosity.shows(Verbosity.VERBOSE):
            self._output.err.print(f"[dim]  {escape(self._output.redact(text))}[/dim]")
