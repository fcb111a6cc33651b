"""Helpers of the human renderings; each command's renderer lives in render/<command>.py.

Each returns lines of rich markup (user-controlled text escaped). Every state is spelled out in a
word (`ok`, `error`, `missing`), never shown by colour alone, so the text reads the same without
colour and in CI logs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from rich.markup import escape

from kedge_hasura.findings import Finding, Severity

_SEVERITY_STYLE = {Severity.ERROR: "red bold", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def display_path(path: Path | str | None) -> str:
    """A path relative to the current folder when it is inside it, else absolute (as CI expects)."""
    if path is None:
        return ""
    candidate = Path(path)
    try:
        return str(candidate.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(candidate)


def relative_paths(text: str) -> str:
    """`text` with every absolute path inside the current folder made relative to it, as
    display_path shows findings' paths (error messages name paths the lower layers built)."""
    cwd = str(Path.cwd())
    if cwd == os.sep:
        return text
    # Only where a path starts: not inside a longer path that happens to contain the same folders.
    return re.sub(r"(?<![\w./~-])" + re.escape(cwd + os.sep), "", text)


def render_table(headers: list[str], rows: list[list[str]], *, right: set[int] | None = None) -> list[str]:
    """A plain aligned table (escaped cells), stable for golden tests and log files."""
    right = right or set()
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(widths[index]) if index in right else cell.ljust(widths[index])
            for index, cell in enumerate(cells)
        ]
        return escape("  ".join(parts).rstrip())

    return [f"[bold]{line(headers)}[/bold]", *(line(row) for row in rows)]


def render_findings(findings: list[Finding]) -> list[str]:
    """Findings, worst first, each with its location and hint."""
    lines: list[str] = []
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, str(f.path or ""), f.line or 0, f.code))
    for finding in ordered:
        style = _SEVERITY_STYLE[finding.severity]
        location = display_path(finding.path)
        if finding.line:
            location = f"{location}:{finding.line}"
        prefix = f"{escape(location)}: " if location else ""
        lines.append(
            f"[{style}]{finding.severity.value}[/{style}] {escape(f'[{finding.code}]')} "
            f"{prefix}{escape(finding.message)}"
        )
        if finding.hint:
            lines.append(f"  [cyan]hint:[/cyan] {escape(finding.hint)}")
    return lines


def count_by_severity(findings: list[Finding]) -> str:
    counts = {severity: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity] += 1
    return ", ".join(f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}" for s in Severity)
