"""Human rendering of an ImpactResult: per role, breaking first, then exposure, dangerous, safe count."""

from __future__ import annotations

from rich.markup import escape

from kedge_hasura.actions.impact.run import Change, ImpactResult
from kedge_hasura.render.human import plural

_ORDER = ("breaking", "exposure", "dangerous")


def render_impact(result: ImpactResult) -> list[str]:
    lines = [
        escape(f"GraphQL impact of {result.head} against {result.base} (database {result.database})"),
        "",
    ]
    for role in result.roles:
        counts = ", ".join([f"{len(getattr(role, name))} {name}" for name in _ORDER] + [f"{role.safe} safe"])
        lines.append(escape(f"role {role.role}: {counts}"))
        for name in _ORDER:
            for change in getattr(role, name):
                lines.extend(_change(name, change))
        lines.append("")
    findings = sum(len(getattr(role, name)) for role in result.roles for name in _ORDER)
    lines.append(
        escape(
            f"{plural(findings, 'finding')} in {plural(len(result.roles), 'role')}; "
            f"failing classes: {', '.join(c.value for c in result.fail_on)}"
        )
    )
    lines.append(escape("not modelled (changes there are not reported): " + "; ".join(result.not_modelled)))
    lines.extend(escape(f"note: {note}") for note in result.notes)
    return lines


def _change(name: str, change: Change) -> list[str]:
    lines = [escape(f"  {name}  {change.coordinate}  {change.description}")]
    lines.extend(
        escape(f"      cause: {cause.path}{f':{cause.line}' if cause.line else ''} ({cause.note})")
        for cause in change.causes
    )
    return lines
