"""Squashed definitions that print exactly as the originals', and exact words when some do not.

The verification compares catalogs. A definition whose text differs but parses to the same tree
once casts and parentheses are ignored is accepted ("probably-equivalent"), yet it is not the
same schema: `pg_dump --schema-only` of both sides differs. So:

- `identical` is said only when the comparison found no difference at all; otherwise the squash
  is `equivalent` and lists each definition that differs only in how PostgreSQL prints it
  (`EquivalentDefinition`), in the report, in JSON and in the up.sql header;
- for each such definition the squash tries a form that prints back as the original
  (project.printed.round_trip_form) in place of pg_dump's text, replays the squashed migration
  again and keeps the new text only when that replay verifies with fewer such definitions.

Substitution replaces the original side's printed text wherever it occurs in up.sql: that text is
what pg_dump wrote for the object. Should it also occur elsewhere (a function body), the body's
text changes, the second verification sees it, and the first, proven up.sql is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from pydantic import BaseModel

from kedge_hasura.errors import MigrationFailed, SquashNotEquivalent
from kedge_hasura.schemadiff.compare import Difference

V = TypeVar("V")

# The up.sql header's claim before verification decides which one is true (replaced afterwards).
VERIFIED_CLAIM = "Verified: replaying the originals and applying this file build the same schema and rows."


class EquivalentDefinition(BaseModel):
    """A definition that differs only in how PostgreSQL prints it (the same tree, casts aside)."""

    object: str
    kind: str
    field: str | None
    original: str  # as the replayed originals print it
    squashed: str  # as the squashed migration prints it


def equivalent_only(differences: Iterable[Difference]) -> list[EquivalentDefinition]:
    return [
        EquivalentDefinition(
            object=d.object, kind=d.kind, field=d.field, original=str(d.source), squashed=str(d.target)
        )
        for d in differences
        if d.classification == "probably-equivalent"
    ]


def equivalent_summary(count: int) -> str:
    return (
        f"equivalent: {count} definition{'s' if count != 1 else ''} "
        f"differ{'s' if count == 1 else ''} only in how PostgreSQL prints {'them' if count != 1 else 'it'}"
    )


def with_round_trip_forms(up_sql: str, equivalents: Iterable[EquivalentDefinition]) -> str | None:
    """up.sql with each equivalent definition's printed text replaced by a form that round-trips.

    None when no definition has such a form (nothing worth another replay).
    """
    from kedge_hasura.project.printed import round_trip_form

    changed = up_sql
    for definition in equivalents:
        rewritten = round_trip_form(definition.original)
        if rewritten is not None and definition.original in changed:
            changed = changed.replace(definition.original, rewritten)
    return changed if changed != up_sql else None


def try_round_trip(
    up_sql: str,
    equivalents: list[EquivalentDefinition],
    verify: Callable[[str], tuple[V, list[EquivalentDefinition]]],
) -> tuple[str, V, list[EquivalentDefinition]] | None:
    """Verify up.sql with round-trip forms substituted; the result only if it prints closer.

    `verify` applies an up.sql in a fresh copy and verifies it completely (schema, rows, down),
    raising as the first verification would; a failure here only means the forms are not kept.
    """
    candidate = with_round_trip_forms(up_sql, equivalents)
    if candidate is None:
        return None
    try:
        verification, remaining = verify(candidate)
    except (SquashNotEquivalent, MigrationFailed):
        return None
    if len(remaining) >= len(equivalents):
        return None
    return candidate, verification, remaining


def claim_lines(identical: bool, equivalents: list[EquivalentDefinition], other_accepted: int) -> list[str]:
    """The header's verification claim, exactly as strong as what was proven."""
    if identical:
        return [VERIFIED_CLAIM]
    lines = ["Verified: replaying the originals and applying this file build the same rows and an"]
    if equivalents:
        lines.append(f"equivalent schema ({equivalent_summary(len(equivalents))}):")
        lines += [f"  {d.kind} {d.object}{f' ({d.field})' if d.field else ''}" for d in equivalents]
    else:
        lines.append("equivalent schema.")
    if other_accepted:
        lines.append(f"Other accepted differences (names PostgreSQL generates): {other_accepted}.")
    return lines


def with_claim(up_sql: str, lines: list[str]) -> str:
    """up.sql with the header's verification claim replaced by `lines` (comments only)."""
    old = f"-- {VERIFIED_CLAIM}\n"
    new = "".join(f"-- {line}".rstrip() + "\n" for line in lines)
    return up_sql.replace(old, new, 1)
