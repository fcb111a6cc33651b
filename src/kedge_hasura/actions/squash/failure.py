"""What a squash that fails its verification reports: the real cause, with the squash's warnings.

The candidate up.sql and down.sql are never written into the project when they fail, so an error
naming `migrations/<db>/<to>_<name>/up.sql:569` would point at a file that does not exist. The
candidate is kept in a temporary folder instead, the error names that file and line, and the
warnings the squash gathered on the way (often the cause) travel in the error's details.
"""

from __future__ import annotations

from collections.abc import Sequence

from kedge_hasura.actions.squash.equivalence import SquashNotEquivalent
from kedge_hasura.errors import MigrationFailed
from kedge_hasura.project.staging import keep_candidate

# MigrationFailed's own facts; the rest of its details are carried over as they are.
_FACTS = {"version", "file", "line", "sqlstate", "postgres_message", "statement"}


def dump_cannot_represent(changed: Sequence[str]) -> str:
    return (
        "the dump strategy cannot represent this range: the migrations change objects that existed "
        f"before them (the template, the preconditions), which a dump re-creates without those changes: "
        f"{', '.join(changed)}"
    )


CONCAT_HINT = (
    "use --strategy concat (it keeps the migrations' own statements, ALTERs included), or create "
    "those objects in the migrations instead of the preconditions"
)


def candidate_failed(
    exc: MigrationFailed,
    *,
    folder_name: str,
    up_sql: str,
    down_sql: str,
    warnings: Sequence[str],
    changed: Sequence[str],
) -> MigrationFailed:
    """The error for a candidate that fails to replay: it names the kept copy and the cause."""
    kept = keep_candidate(folder_name, {"up.sql": up_sql, "down.sql": down_sql})
    failed_file = exc.path.name if exc.path is not None else "up.sql"
    file_name = "down.sql" if failed_file.startswith("down.sql") else "up.sql"
    path = kept / file_name
    where = f"{path}:{exc.line}" if exc.line else str(path)
    failure = f"the squashed {file_name} (not written to the project) fails at {where}: {exc.pg_message}"
    message = f"{dump_cannot_represent(changed)}; {failure}" if changed else failure
    hint = CONCAT_HINT if changed else exc.hint
    extra = {key: value for key, value in exc.details.items() if key not in _FACTS}
    extra["candidate"] = f"{kept} (the squashed up.sql and down.sql that failed; nothing was written)"
    if warnings:
        extra["warnings"] = "\n".join(warnings)
    return MigrationFailed(
        message,
        version=exc.version,
        path=path,
        line=exc.line,
        sqlstate=exc.sqlstate,
        pg_message=exc.pg_message,
        statement_excerpt=exc.statement_excerpt,
        hint=hint,
        details=extra,
    )


def not_equivalent(
    exc: SquashNotEquivalent, *, warnings: Sequence[str], changed: Sequence[str]
) -> SquashNotEquivalent:
    """The same comparison, with the cause named when the dump strategy could not represent it."""
    error = SquashNotEquivalent(
        f"{dump_cannot_represent(changed)}; {exc.message}" if changed else exc.message,
        schema=exc.schema,
        data=exc.data,
        hint=CONCAT_HINT if changed else exc.hint,
    )
    if warnings:
        error.details["warnings"] = "\n".join(warnings)
    return error
