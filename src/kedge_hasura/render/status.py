"""Human rendering of `status`: the migrations per database, the server's view, the findings."""

from __future__ import annotations

from rich.markup import escape

from kedge_hasura.actions.status import StatusReport
from kedge_hasura.render.human import count_by_severity, display_path, render_findings, render_table


def render_status(report: StatusReport) -> list[str]:
    lines = [f"Project {escape(display_path(report.project))} (config v{report.config_version})"]
    if not report.databases:
        lines.append("No migrations found.")
    for database in report.databases:
        count = len(database.migrations)
        lines.append("")
        lines.append(
            f"[bold]Database {escape(database.database)}[/bold]: {count} "
            f"migration{'s' if count != 1 else ''} in {escape(display_path(database.directory))}"
        )
        rows = [
            [
                str(m.version),
                m.name,
                "yes" if m.has_up else "missing",
                "yes" if m.has_down else "missing",
                str(m.up_statements),
                "no-transaction" if m.no_transaction else "",
            ]
            for m in database.migrations
        ]
        if rows:
            lines.extend(
                render_table(["VERSION", "NAME", "UP", "DOWN", "STATEMENTS", "NOTE"], rows, right={4})
            )
        for archive in database.archives:
            lines.append(f"archive: {escape(display_path(archive))}")
        if database.seeds:
            folder = display_path(database.seeds[0].path.parent)
            names = ", ".join(seed.path.name for seed in database.seeds)
            lines.append(
                f"seeds: {len(database.seeds)} file{'s' if len(database.seeds) != 1 else ''} in "
                f"{escape(folder)}: {escape(names)}"
            )
        if database.server is not None:
            lines.append("server:")
            server_rows = [
                [
                    str(v.version),
                    v.name or "?",
                    v.state,
                    "edited" if v.edited else "",
                    "yes" if v.in_ledger else "",
                ]
                for v in database.server
            ]
            lines.extend(
                "  " + line for line in render_table(["VERSION", "NAME", "STATE", "", "LEDGER"], server_rows)
            )
    if report.findings:
        lines.append("")
        lines.append(f"Findings ({count_by_severity(report.findings)}):")
        lines.extend(render_findings(report.findings))
    lines.append("")
    lines.append("status: ok" if report.ok else "status: errors found")
    return lines
