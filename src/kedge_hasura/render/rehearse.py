"""Human rendering of `deploy --rehearse` (the JSON is the result model itself)."""

from __future__ import annotations

from rich.markup import escape

from kedge_hasura.actions.deploy.rehearse import DatabaseRehearsal, RehearsalResult
from kedge_hasura.findings import Severity
from kedge_hasura.render.human import display_path
from kedge_hasura.words import plural


def render_rehearsal(result: RehearsalResult) -> list[str]:
    lines = [
        f"Hasura {escape(result.server_version)} at {escape(result.endpoint)}: rehearsal "
        f"(every request rolled back; lock_timeout {result.lock_timeout:g} s, "
        f"statement_timeout {result.statement_timeout:g} s)"
    ]
    for database in result.databases:
        lines += _database(database)
    lines.append("")
    if result.metadata_checked:
        errors = [f for f in result.metadata_findings if f.severity is Severity.ERROR]
        if errors:
            lines.append(
                f"[bold]Metadata[/bold] against the migrated schema: {plural(len(errors), 'problem')}"
            )
            for finding in errors:
                where = display_path(finding.path) if finding.path is not None else "metadata"
                line = f":{finding.line}" if finding.line else ""
                lines.append(f"  [red]error[/red] {escape(where)}{line}: {escape(finding.message)}")
        else:
            lines.append("[bold]Metadata[/bold] against the migrated schema: fits")
    else:
        lines.append("[bold]Metadata[/bold]: not checked (--skip-metadata)")
    failures = sum(len(db.failures) for db in result.databases)
    rehearsed = sum(len(db.rehearsed) for db in result.databases)
    seeds = sum(len(db.seeds_rehearsed) for db in result.databases)
    also = f" and {plural(seeds, 'seed')}" if seeds else ""
    lines.append("")
    verdict = "ok" if result.ok else "[red]failed[/red]"
    lines.append(
        f"rehearsal {verdict}: {plural(rehearsed, 'migration')}{also} rehearsed, "
        f"{plural(failures, 'failure')}; "
        "nothing was committed"
    )
    return lines


def _database(database: DatabaseRehearsal) -> list[str]:
    lines = ["", f"[bold]Database {escape(database.database)}[/bold]"]
    if not database.rehearsed and not database.not_rehearsed and not database.seeds_rehearsed:
        lines.append("  nothing pending")
        return lines
    seeds = f" and {plural(len(database.seeds_rehearsed), 'seed')}" if database.seeds_rehearsed else ""
    lines.append(
        f"  {plural(len(database.rehearsed), 'migration')}{seeds} rehearsed in "
        f"{plural(database.requests, 'request')} ({database.seconds:.2f} s)"
    )
    for failure in database.failures:
        code = f" [{failure.sqlstate}]" if failure.sqlstate else ""
        lines.append(
            f"  [red]failed[/red] {escape(display_path(failure.path))}"
            f"{':' + str(failure.line) if failure.line else ''}{escape(code)}: {escape(failure.message)}"
        )
        if failure.detail:
            lines.append(f"    detail: {escape(failure.detail)}")
        if failure.hint:
            lines.append(f"    hint: {escape(failure.hint)}")
        if failure.statement:
            lines.append(f"    statement: {escape(failure.statement)}")
        if failure.possibly_caused_by_earlier:
            lines.append("    possibly caused by an earlier failure (or a migration not rehearsed)")
    for skipped in database.not_rehearsed:
        lines.append(
            f"  [yellow]not rehearsed[/yellow] {escape(display_path(skipped.path))}: {escape(skipped.reason)}"
        )
    if database.stopped:
        lines.append(f"  {escape(database.stopped)}")
    if database.sequences_advanced:
        lines.append(
            "  sequences advanced (PostgreSQL never rolls nextval back): "
            + escape(", ".join(database.sequences_advanced))
        )
    return lines
