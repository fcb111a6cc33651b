"""The KedgeError hierarchy and the process exit codes; imports nothing internal.

Every package raises only subclasses of `KedgeError`; the CLI turns them into a message on stderr
(or the `error` member of the JSON envelope) and `exit_code`, once, at the edge. A check that ran
and found problems is not an error: it returns a result with `ok=False` and the CLI exits 1.

    KedgeError                 exit 3  could not do what was asked
    ├── UsageError             exit 2  a bad flag, value or combination; nothing was touched
    ├── ProjectError                   config.yaml, the migrations folder or metadata is unusable
    ├── ToolError                      PostgreSQL binaries missing or unusable
    ├── DatabaseError                  a PostgreSQL server failed or refused
    │   └── MigrationFailed            a migration's SQL failed (file, line, SQLSTATE)
    ├── HasuraError                    the Hasura API failed or refused
    ├── SquashNotEquivalent            verification found a difference; nothing was written
    └── ManifestError                  an archive manifest is unreadable
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes, documented in `kedge-hasura --help` and the README."""

    OK = 0
    CHECK_FAILED = 1  # the command ran and found problems (differences, findings, drift)
    USAGE = 2  # bad arguments; nothing was touched
    FAILED = 3  # the operation could not be completed (a KedgeError)
    INTERNAL = 4  # a bug in kedge-hasura
    INTERRUPTED = 130  # Ctrl-C


class KedgeError(Exception):
    """Base of every error kedge-hasura reports to the user.

    `message` is one line saying what went wrong; `hint` says what to do next; `details` are
    extra facts (file, line, SQLSTATE, ...) shown indented under the message and placed in the
    JSON envelope. Nothing secret may be put in any of them.
    """

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details: dict[str, Any] = dict(details or {})

    @property
    def kind(self) -> str:
        """The error's type name as shown to users (`[ProjectError] ...`, JSON `error.type`)."""
        return type(self).__name__


class UsageError(KedgeError):
    """A bad option, value or combination of options. Nothing was changed."""

    exit_code = ExitCode.USAGE


class ProjectError(KedgeError):
    """The Hasura project on disk cannot be used as it is."""


class ToolError(KedgeError):
    """A required external program (PostgreSQL server binaries, pg_dump) is missing or unusable."""


class DatabaseError(KedgeError):
    """A PostgreSQL server could not be started, reached, or refused an operation."""


class MigrationFailed(DatabaseError):
    """A migration's SQL failed; names the file, the line, the SQLSTATE and the server's message."""

    def __init__(
        self,
        message: str,
        *,
        version: int,
        path: Path | None,
        line: int | None,
        sqlstate: str | None,
        pg_message: str,
        statement_excerpt: str | None = None,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ):
        facts: dict[str, Any] = {
            "version": version,
            "file": str(path) if path else None,
            "line": line,
            "sqlstate": sqlstate,
            "postgres_message": pg_message,
            "statement": statement_excerpt,
        }
        facts.update(details or {})
        super().__init__(message, hint=hint, details={k: v for k, v in facts.items() if v is not None})
        self.version = version
        self.path = path
        self.line = line
        self.sqlstate = sqlstate
        self.pg_message = pg_message
        self.statement_excerpt = statement_excerpt


class HasuraError(KedgeError):
    """The Hasura API could not be reached, or answered with an error."""


class SquashNotEquivalent(KedgeError):
    """The squashed migration does not build the same database as the originals; nothing was written."""


class ManifestError(KedgeError):
    """An archive manifest is missing, unreadable, or unsafe (paths escaping the migrations folder)."""
