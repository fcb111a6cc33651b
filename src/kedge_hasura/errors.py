"""The KedgeError hierarchy and the process exit codes; imports nothing internal.

Every package raises only subclasses of `KedgeError`; the CLI turns them into a message on stderr
(or the `error` member of the JSON envelope) and `exit_code`, once, at the edge. A check that ran
and found problems is not an error: it returns a result with `ok=False` and the CLI exits 1.

    KedgeError                 exit 3  could not do what was asked
    ├── UsageError             exit 2  a bad flag, value or combination; nothing was touched
    ├── ProjectError                   config.yaml, the migrations folder or metadata is unusable
    ├── ToolError                      PostgreSQL binaries missing or unusable
    ├── GitError                       git is missing, or refused (a revision, a shallow clone)
    ├── DatabaseError                  a PostgreSQL server failed or refused
    │   ├── MigrationFailed            a migration's SQL failed (file, line, SQLSTATE)
    │   └── SeedFailed                 a seed file's SQL failed on the server (file, line, SQLSTATE)
    ├── HasuraError                    the Hasura API failed or refused
    │   ├── HasuraUnreachable          no answer: DNS, refused, TLS, timeout, reset (says if it may have run)
    │   ├── HasuraBadResponse          an answer that is not Hasura's (proxy HTML, 413, empty, bad JSON)
    │   ├── HasuraUnsupported          the server's version lacks a feature; nothing was sent
    │   └── HasuraAPIError             Hasura's error JSON: status, code, error, path, internal
    │       ├── HasuraAuthError        access-denied: admin secret missing or wrong, or not admin
    │       ├── HasuraConflict         409: resource_version did not match
    │       ├── HasuraPostgresError    postgres-error: SQLSTATE, message, hint, detail, statement
    │       └── HasuraInconsistentMetadata  (hasura.models) the result would be inconsistent
    ├── FailedAfterChanges     exit 5  failed after committing or recording something on the server
    ├── Interrupted            exit 130 Ctrl-C, nothing changed (exit 5 when it says what changed)
    ├── SquashNotEquivalent            (actions.squash.equivalence) a difference; nothing was written
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
    CHANGED = 5  # failed (or was interrupted) after changing the database or the recorded state
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


def _known(facts: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    """An error's facts plus the caller's extra details, leaving out the ones not known (None)."""
    merged = {**facts, **(extra or {})}
    return {key: value for key, value in merged.items() if value is not None}


class UsageError(KedgeError):
    """A bad option, value or combination of options. Nothing was changed."""

    exit_code = ExitCode.USAGE


class ProjectError(KedgeError):
    """The Hasura project on disk cannot be used as it is.

    `path` and `line` say where, when a file is at fault; the message starts with them
    (`path:line: problem`), and `problem` is the rest, so `check` can annotate the file without
    parsing the message back.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ):
        self.problem = message
        self.path = path
        self.line = line
        if path is not None:
            message = f"{path}:{line}: {message}" if line else f"{path}: {message}"
        super().__init__(message, hint=hint, details=details)


class ToolError(KedgeError):
    """A required external program (PostgreSQL server binaries, pg_dump) is missing or unusable."""


class GitError(KedgeError):
    """git is missing or refused: an unknown revision, not a repository, a tree that does not export."""


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
        super().__init__(message, hint=hint, details=_known(facts, details))
        self.version = version
        self.path = path
        self.line = line
        self.sqlstate = sqlstate
        self.pg_message = pg_message
        self.statement_excerpt = statement_excerpt


class SeedFailed(DatabaseError):
    """A seed file's SQL failed on the server; names the file, the line, the SQLSTATE and the message."""

    def __init__(
        self,
        message: str,
        *,
        database: str,
        path: Path,
        line: int | None,
        sqlstate: str | None,
        pg_message: str,
        statement_excerpt: str | None = None,
        hint: str | None = None,
    ):
        facts: dict[str, Any] = {
            "database": database,
            "seed": str(path),
            "line": line,
            "sqlstate": sqlstate,
            "postgres_message": pg_message,
            "statement": statement_excerpt,
        }
        super().__init__(message, hint=hint, details=_known(facts, None))
        self.database = database
        self.path = path
        self.line = line


class HasuraError(KedgeError):
    """The Hasura API could not be reached, or answered with an error."""


class HasuraUnreachable(HasuraError):
    """No usable answer from Hasura: DNS, connection refused, TLS, timeout, connection reset.

    `may_have_reached_server` is False only when the request certainly was not sent (the
    connection was never established); otherwise the server may have applied it, so a retry is
    safe only after checking the state (for run_sql: whether the SQL ran).
    """

    def __init__(
        self,
        message: str,
        *,
        may_have_reached_server: bool,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ):
        facts = dict(details or {})
        facts["may_have_reached_server"] = may_have_reached_server
        super().__init__(message, hint=hint, details=facts)
        self.may_have_reached_server = may_have_reached_server


class HasuraBadResponse(HasuraError):
    """An answer that is not Hasura's: a proxy's HTML page, HTTP 413, an empty body, invalid JSON."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        excerpt: str | None = None,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ):
        facts = {"status": status, "body": excerpt}
        super().__init__(message, hint=hint, details=_known(facts, details))
        self.status = status
        self.excerpt = excerpt


class HasuraUnsupported(HasuraError):
    """The server's version lacks a feature that was asked for; nothing was sent."""

    def __init__(
        self, message: str, *, feature: str, required: str, server_version: str, hint: str | None = None
    ):
        details = {"feature": feature, "required_version": required, "server_version": server_version}
        super().__init__(message, hint=hint, details=details)
        self.feature = feature
        self.required = required
        self.server_version = server_version


class HasuraAPIError(HasuraError):
    """Hasura answered with its error JSON `{"path", "error", "code", "internal"?}` (contract §1.4).

    `item_index` is the 0-based index of the failing item of a `bulk`, read from `path`
    (`$.args[2].args`), and None for other calls.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        error: str,
        path: str,
        internal: Any = None,
        item_index: int | None = None,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ):
        facts = {"status": status, "code": code, "path": path, "item_index": item_index}
        super().__init__(message, hint=hint, details=_known(facts, details))
        self.status = status
        self.code = code
        self.error = error
        self.path = path
        self.internal = internal
        self.item_index = item_index


class HasuraAuthError(HasuraAPIError):
    """`access-denied`: the admin secret is missing or wrong (401), or the call was not made as admin."""


class HasuraConflict(HasuraAPIError):
    """409 `conflict`: the metadata's resource_version changed since it was read."""


class HasuraPostgresError(HasuraAPIError):
    """400 `postgres-error`: PostgreSQL rejected the SQL. Fields are None when the server hides `internal`.

    `statement` is the whole SQL text that was sent (contract §2.6), not the failing statement.
    """

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None,
        pg_message: str | None,
        pg_hint: str | None,
        pg_detail: str | None,
        statement: str | None,
        **kwargs: Any,
    ):
        super().__init__(message, **kwargs)
        self.sqlstate = sqlstate
        self.pg_message = pg_message
        self.pg_hint = pg_hint
        self.pg_detail = pg_detail
        self.statement = statement


class DeployInProgress(KedgeError):
    """kedge-hasura's deploy lock on a database stayed taken: another deploy is applying a batch."""

    def __init__(self, database: str, seconds: float):
        super().__init__(
            f"another kedge-hasura deploy is applying migrations to database {database} "
            f"(it still held the deploy lock after {seconds:.0f} s)",
            hint="run the deploy again when the other one has finished (raise --timeout to wait longer)",
        )


class ManifestError(KedgeError):
    """An archive manifest is missing, unreadable, or unsafe (paths escaping the migrations folder)."""


class Interrupted(KedgeError):
    """Ctrl-C: what was interrupted, and what it changed. Exit 130 when nothing changed; 5
    (`changed`) when the project or the server was left changed, each change listed in details."""

    def __init__(self, message: str, *, changed: bool, hint: str | None = None, details: dict[str, Any]):
        super().__init__(message, hint=hint, details=details)
        self.exit_code = ExitCode.CHANGED if changed else ExitCode.INTERRUPTED


class FailedAfterChanges(KedgeError):
    """A write command failed, or was interrupted, after it had changed something on the server.

    `cause` is the failure itself (its message leads this one); `changes` says, per database,
    what stays committed, recorded and pending, as JSON-ready data (this module imports
    nothing internal). Exit 3 promises "changed nothing", so it cannot be used here.
    """

    exit_code = ExitCode.CHANGED

    def __init__(
        self,
        cause: KedgeError | None,
        *,
        changes: dict[str, Any],
        hint: str | None = None,
        listed: str = "committed, recorded and pending",
    ):
        reason = cause.message if cause is not None else "interrupted"
        super().__init__(
            f"{reason} (after changing the server: see {listed} below)",
            hint=hint or (cause.hint if cause is not None else None),
            details={
                **({"cause": cause.kind} if cause is not None else {}),
                **(cause.details if cause is not None else {}),
                **changes,
            },
        )
        self.cause = cause
        self.changes = changes
        self.partial: Any = None  # the command's result so far, rendered before the error
