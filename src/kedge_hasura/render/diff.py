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
from kedge_hasura.sql.quoting import row_literal, value_literal
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
    """Objects per kind, one kind per row (a row per side would be 120 columns wide), kinds that
    neither side has left out."""
    source, target = result.source.counts, result.target.counts
    extra = [k for k in source if k not in _COUNTED]
    kinds = [k for k in (*_COUNTED, *extra) if source.get(k) or target.get(k)]
    if not kinds:
        return ["no objects on either side"]
    rows = [[_PLURAL.get(k, k + "s"), str(source.get(k, 0)), str(target.get(k, 0))] for k in kinds]
    return render_table(["", "source", "target"], rows, right={1, 2})


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
        shown = [_show(value, text=difference.field == "comment") for value in (source, target)]
        one_line = f"  {mark} {difference.object}: {difference.field} {shown[0]} → {shown[1]}  "
        if len(one_line) + len(difference.severity.value) <= _ONE_LINE_LIMIT:
            lines = [f"  {mark} {name}: {field} {escape(shown[0])} → {escape(shown[1])}  {tag}"]
        else:  # each value on a line of its own: SQL is not broken mid-word at 80 columns
            lines = [f"  {mark} {name}: {field}  {tag}"]
            lines += [
                f"      {side}: {escape(value)}"
                for side, value in zip(("source", "target"), shown, strict=True)
            ]
    if difference.hint and difference.severity is not Severity.ERROR:
        lines.append(f"      [dim]{escape(difference.hint)}[/dim]")
    return lines


_ONE_LINE_LIMIT = 80  # a change wider than a terminal shows its two values on lines of their own


def _is_long(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > 100)


def _show(value: Any, *, text: bool) -> str:
    """A catalog field's value in SQL's words, never Python's (`True`, `"it's"`): a comment (`text`)
    as the string literal it is, other strings (types, defaults, expressions) as SQL between
    backticks, booleans as `true`/`false`."""
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    if isinstance(value, bool) or (text and isinstance(value, str)):
        return value_literal(value)
    if isinstance(value, str):
        return f"`{value}`"
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
            key = ", ".join(f"{k}={value_literal(v)}" for k, v in row.key.items())
            where = " " + escape(f"[{key}]") if key else ""
            if row.change == "changed":
                before, after = row.source or {}, row.target or {}
                parts = ", ".join(
                    f"{c}: {value_literal(before.get(c))} → {value_literal(after.get(c))}"
                    for c in row.columns
                )
                lines.append(f"    ~ row{where}: {escape(parts)}")
            else:
                values = row.target if row.change == "added" else row.source
                lines.append(f"    {_MARK[row.change]} row{where}: {escape(row_literal(values or {}))}")
        if table.more:
            lines.append(f"    ... and {table.more} more")
    for sequence in data.sequences:
        lines.append(
            f"  sequence {escape(sequence.sequence)}: position {value_literal(sequence.source)}"
            f" → {value_literal(sequence.target)}"
        )
    return lines
