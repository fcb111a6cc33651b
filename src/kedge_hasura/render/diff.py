"""Human rendering of a SchemaDiff: counts per kind for both sides, then changes grouped by kind.

Markers: `+` only in TARGET, `-` only in SOURCE, `~` changed, `→` renamed. Long texts (view
definitions, function bodies) are shown as unified diffs. Every line names its severity in words.
"""

from __future__ import annotations

import difflib
from typing import Any

from rich.markup import escape

from kedge_hasura.findings import Severity
from kedge_hasura.render.human import render_table
from kedge_hasura.schemadiff.compare import Difference, SchemaDiff
from kedge_hasura.schemadiff.data import DataDiff
from kedge_hasura.words import plural

_MARK = {"added": "+", "removed": "-", "changed": "~", "renamed": "→"}
_TITLES = {
    "schema": "Schemas", "extension": "Extensions", "type": "Types", "sequence": "Sequences",
    "table": "Tables",
    "column": "Columns", "constraint": "Constraints", "index": "Indexes", "view": "Views",
    "materialized_view": "Materialized views", "function": "Functions", "trigger": "Triggers",
    "event_trigger": "Event triggers", "policy": "Policies", "unsupported": "Other object kinds",
}  # fmt: skip
# The kinds shown in the counts table (as the issue lists them), then any other non-empty kind.
_COUNTED = (
    "table",
    "column",
    "constraint",
    "index",
    "trigger",
    "function",
    "view",
    "sequence",
    "type",
    "policy",
)
_PLURAL = {
    "materialized_view": "matviews",
    "event_trigger": "event-triggers",
    "index": "indexes",
    "policy": "policies",
}
_SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def render_schema_diff(result: SchemaDiff) -> list[str]:
    lines = [
        f"source: {escape(result.source.label)} (PostgreSQL {escape(result.source.server_version)}, "
        f"database {escape(result.source.database)})",
        f"target: {escape(result.target.label)} (PostgreSQL {escape(result.target.server_version)}, "
        f"database {escape(result.target.database)})",
        "",
    ]
    lines += _counts(result)
    groups: dict[str, list[Difference]] = {}
    for difference in result.differences:
        groups.setdefault(difference.kind, []).append(difference)
    for kind, differences in groups.items():
        lines.append("")
        lines.append(f"[bold]{escape(_TITLES.get(kind, kind))}[/bold]")
        for difference in differences:
            lines += difference_lines(difference)
    if isinstance(result.data, DataDiff):
        lines += _data(result.data)
    for warning in result.warnings:
        lines.append("")
        lines.append(f"[yellow]warning:[/yellow] {escape(warning)}")
    lines.append("")
    summary = result.summary
    by_kind = ", ".join(plural(count, kind) for kind, count in summary["by_kind"].items())
    severities = ", ".join(
        f"{count} {name}{'s' if count != 1 and name != 'info' else ''}"
        for name, count in summary["by_severity"].items()
        if count
    )
    if summary["total"]:
        lines.append(f"{plural(summary['total'], 'difference')} ({by_kind}); {severities}")
    data_state = ""
    if isinstance(result.data, DataDiff):
        data_state = "; rows identical" if result.data.identical else "; rows differ"
    identical = not any(d.severity is not Severity.INFO for d in result.differences)
    lines.append(("schemas identical" if identical else "schemas differ") + data_state)
    return lines


def _counts(result: SchemaDiff) -> list[str]:
    counts = (result.source.counts, result.target.counts)
    extra = [k for k in counts[0] if k not in _COUNTED and (counts[0].get(k) or counts[1].get(k))]
    kinds = [*_COUNTED, *extra]
    headers = ["", *(_PLURAL.get(k, k + "s") for k in kinds)]
    labelled = zip(("source", "target"), counts, strict=True)
    rows = [[label, *(str(side.get(k, 0)) for k in kinds)] for label, side in labelled]
    return render_table(headers, rows, right=set(range(1, len(headers))))


def difference_lines(difference: Difference) -> list[str]:
    style = _SEVERITY_STYLE[difference.severity]
    tag = f"[{style}]{difference.severity.value}[/{style}]"
    if difference.classification:
        tag += f" ({escape(difference.classification)})"
    mark = _MARK[difference.change]
    name = escape(difference.object)
    if difference.change in ("added", "removed"):
        side = "only in target" if difference.change == "added" else "only in source"
        return [f"  {mark} {name}: {side}  {tag}"]
    if difference.change == "renamed":
        return [f"  {mark} {escape(str(difference.source))} → {name}  {tag}"]
    field = escape(difference.field or "")
    source, target = difference.source, difference.target
    if _is_long(source) or _is_long(target):
        lines = [f"  {mark} {name}: {field} differs  {tag}"]
        lines += [f"      {escape(line)}" for line in _unified(str(source or ""), str(target or ""))]
    else:
        lines = [f"  {mark} {name}: {field} {escape(_show(source))} → {escape(_show(target))}  {tag}"]
    if difference.hint and difference.severity is not Severity.ERROR:
        lines.append(f"      [dim]{escape(difference.hint)}[/dim]")
    return lines


def _is_long(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > 100)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _unified(source: str, target: str) -> list[str]:
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            source.splitlines(), target.splitlines(), "source", "target", lineterm="", n=2
        )
    ]


def _data(data: DataDiff) -> list[str]:
    lines = ["", "[bold]Rows[/bold]"]
    for table in data.tables:
        if table.status == "skipped":
            lines.append(f"  {escape(table.table)}: skipped, {escape(table.reason or '')}")
            continue
        counts = (
            f"{table.source_rows} → {table.target_rows} rows"
            if table.source_rows != table.target_rows
            else (f"{table.source_rows} rows")
        )
        ignored = f", ignoring {', '.join(table.ignored_columns)}" if table.ignored_columns else ""
        lines.append(
            f"  {escape(table.table)}: {table.status} ({counts}, matched by {table.matched_by}{ignored})"
        )
        for row in table.differences:
            key = ", ".join(f"{k}={v}" for k, v in row.key.items())
            where = " " + escape(f"[{key}]") if key else ""
            if row.change == "changed":
                parts = ", ".join(
                    f"{c}: {(row.source or {}).get(c)!r} → {(row.target or {}).get(c)!r}" for c in row.columns
                )
                lines.append(f"    ~ row{where}: {escape(parts)}")
            else:
                values = row.target if row.change == "added" else row.source
                lines.append(f"    {_MARK[row.change]} row{where}: {escape(str(values))}")
        if table.more:
            lines.append(f"    ... and {table.more} more")
    for sequence in data.sequences:
        lines.append(
            f"  sequence {escape(sequence.sequence)}: position {sequence.source!r} → {sequence.target!r}"
        )
    return lines
