"""Renderings of an ImpactResult: text per role, GitHub annotations on the causing lines, and
Markdown for a pull-request comment. Breaking first, then exposure, then dangerous; safe counted."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.markup import escape

from kedge_hasura.actions.impact.run import Change, ImpactResult, RoleImpact
from kedge_hasura.render.check import GITHUB_ANNOTATIONS_PER_LEVEL, escape_data, escape_property
from kedge_hasura.render.human import display_path
from kedge_hasura.words import plural

_ORDER = ("breaking", "exposure", "dangerous")


def _counts(role: RoleImpact) -> str:
    return ", ".join([f"{len(getattr(role, name))} {name}" for name in _ORDER] + [f"{role.safe} safe"])


def _verdict(result: ImpactResult) -> str:
    findings = sum(len(getattr(role, name)) for role in result.roles for name in _ORDER)
    failing = ", ".join(c.value for c in result.fail_on)
    return f"{plural(findings, 'finding')} in {plural(len(result.roles), 'role')}; failing classes: {failing}"


def _cause(change: Change) -> list[str]:
    return [f"{c.path}{f':{c.line}' if c.line else ''} ({c.note})" for c in change.causes]


def render_impact(result: ImpactResult) -> list[str]:
    lines = [
        escape(f"GraphQL impact of {result.head} against {result.base} (database {result.database})"),
        "",
    ]
    for role in result.roles:
        lines.append(escape(f"role {role.role}: {_counts(role)}"))
        for name in _ORDER:
            for change in getattr(role, name):
                lines.append(escape(f"  {name}  {change.coordinate}  {change.description}"))
                lines.extend(escape(f"      cause: {cause}") for cause in _cause(change))
        lines.append("")
    lines.append(escape(_verdict(result)))
    lines.append(escape("not modelled (changes there are not reported): " + "; ".join(result.not_modelled)))
    lines.extend(escape(f"note: {note}") for note in result.notes)
    return lines


def render_impact_github(result: ImpactResult) -> str:
    """One workflow annotation per change at its first cause in the head's files (a removal's line
    is in the base and is not annotated); breaking and exposure are errors, dangerous warnings.
    Past GitHub's 10 annotations of a level, changes are plain log lines."""
    lines = []
    shown: Counter[str] = Counter()
    for role in result.roles:
        for name in _ORDER:
            level = "warning" if name == "dangerous" else "error"
            for change in getattr(role, name):
                message = f"{change.coordinate}: {change.description}"
                where = next((c for c in change.causes if c.side == "head"), None)
                if shown[level] >= GITHUB_ANNOTATIONS_PER_LEVEL or where is None:
                    lines.append(f"{name} ({role.role}): {message}")
                    continue
                shown[level] += 1
                path = display_path(Path(result.project) / where.path)
                properties = [f"file={escape_property(path)}"]
                if where.line:
                    properties.append(f"line={where.line}")
                properties.append(f"title={escape_property(f'impact {name} for role {role.role}')}")
                lines.append(f"::{level} {','.join(properties)}::{escape_data(message)}")
    lines.append(_verdict(result))
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_impact_markdown(result: ImpactResult) -> str:
    """A pull-request comment: a summary table of roles, then a table of changes per role."""
    lines = [
        f"### GraphQL impact: {_cell(result.head)} against {_cell(result.base)}",
        "",
        "| role | breaking | exposure | dangerous | safe |",
        "|---|---:|---:|---:|---:|",
    ]
    for role in result.roles:
        counts = " | ".join(str(len(getattr(role, name))) for name in _ORDER)
        lines.append(f"| {_cell(role.role)} | {counts} | {role.safe} |")
    for role in result.roles:
        changes = [(name, change) for name in _ORDER for change in getattr(role, name)]
        if not changes:
            continue
        lines += [
            "",
            f"#### role `{role.role}`",
            "",
            "| class | coordinate | change | cause |",
            "|---|---|---|---|",
        ]
        lines.extend(
            f"| {name} | `{_cell(change.coordinate)}` | {_cell(change.description)} | "
            f"{'<br>'.join(_cell(c) for c in _cause(change)) or '—'} |"
            for name, change in changes
        )
    lines += ["", _verdict(result) + ".", "", "Not modelled: " + "; ".join(result.not_modelled) + "."]
    return "\n".join(lines) + "\n"
