"""Human rendering of `status`: the migrations per database, the server's view, the findings."""

from __future__ import annotations

import textwrap
from pathlib import Path

from rich.markup import escape

from kedge_hasura.actions.status import StatusReport
from kedge_hasura.render.human import count_by_severity, display_path, render_findings, render_table
from kedge_hasura.settings import SettingSource, SettingsReport


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
                str(m.up_statements) if m.up_statements is not None else "not parsed",
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
            first = database.seeds[0]
            folder = display_path(first.path.parents[len(Path(first.name).parts) - 1])
            names = ", ".join(seed.name for seed in database.seeds)
            lines.append(
                f"seeds: {len(database.seeds)} file{'s' if len(database.seeds) != 1 else ''} in "
                f"{escape(folder)}: {escape(names)}"
            )
        if database.server is not None:
            lines.append("server:")
            server_rows = [
                [
                    str(v.version),
                    v.name or ("archived" if v.state == "archived" else "?"),
                    v.state,
                    "edited" if v.edited else "",
                    "yes" if v.in_ledger else "",
                ]
                for v in database.server
            ]
            lines.extend(
                "  " + line for line in render_table(["VERSION", "NAME", "STATE", "", "LEDGER"], server_rows)
            )
    if report.settings is not None:
        lines += _settings_lines(report.settings)
    if report.findings:
        lines.append("")
        lines.append(f"Findings ({count_by_severity(report.findings)}):")
        lines.extend(render_findings(report.findings))
    lines.append("")
    lines.append("status: ok" if report.ok else "status: errors found")
    return lines


def _settings_lines(report: SettingsReport) -> list[str]:
    """`status -v`: per source, highest precedence first, the settings it supplied (with the
    environment variable that carried each), then the defaults; secrets masked."""
    lines = ["", "Settings, by source (flag > environment > .env > config.yaml > default):"]
    for found in (s for s in report.settings if s.source == "found from the current folder"):
        lines.append(
            f"  project folder: {escape(display_path(Path(found.value)))} (found from the current folder)"
        )
    sources = ["command line", "environment", *[f for f in report.files if f != "config.yaml"], "config.yaml"]
    for source in sources:
        supplied = [s for s in report.settings if s.source == source]
        file = report.files.get(source)
        where = f" ({display_path(Path(file)) if file != 'not found' else 'not found'})" if file else ""
        lines.append(f"  {escape(source)}{escape(where)}:" + ("" if supplied else " nothing used"))
        lines += [f"    {escape(_setting(setting))}" for setting in supplied]
    defaults = [s for s in report.settings if s.source == "default" and s.value != "-"]
    if defaults:
        lines.append("  defaults:")
        lines += [f"    {escape(_setting(setting))}" for setting in defaults]
    unset = [s.name for s in report.settings if s.source == "default" and s.value == "-"]
    if unset:
        wrapped = textwrap.wrap("not set: " + ", ".join(unset), width=76, break_on_hyphens=False)
        lines += ["  " + escape(wrapped[0]), *("    " + escape(line) for line in wrapped[1:])]
    return lines


def _setting(setting: SettingSource) -> str:
    """`timeout: 30`, `database: default (KEDGE_DATABASE)`."""
    variable = f" ({setting.variable})" if setting.variable else ""
    return f"{setting.name}: {setting.value}{variable}"
