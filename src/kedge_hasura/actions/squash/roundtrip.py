"""Squashed definitions that print exactly as the originals', and exact words when some do not.

The verification compares catalogs. A definition whose text differs but parses to the same tree
once casts and parentheses are ignored is accepted ("probably-equivalent"), yet it is not the
same schema: `pg_dump --schema-only` of both sides differs. So:

- `identical` is said only when the comparison found no difference at all; otherwise the squash
  is `equivalent` and lists each definition that differs only in how PostgreSQL prints it
  (`EquivalentDefinition`), in the report, in JSON and in the up.sql header;
- where pg_dump printed a definition in a form that does not parse back to the same tree, the
  squash first verifies an up.sql with a form that does (sql.printed.round_trip_form) and
  keeps it only if that replay verifies completely; otherwise it verifies pg_dump's own text.
  The verification that passes decides the words: a candidate that leaves some definitions
  equivalent is still reported as equivalent, listed.

Trying the candidate first costs nothing extra in the common case (one verification either way)
and also covers trigger WHEN and domain CHECK clauses, which the comparator reports as changed
(not "probably equivalent") and which would otherwise make the squash refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TypeVar

from pydantic import BaseModel

from kedge_hasura.actions.squash.equivalence import SquashNotEquivalent
from kedge_hasura.errors import MigrationFailed
from kedge_hasura.schemadiff.compare import Difference
from kedge_hasura.sql.pgdump import DumpEntry

V = TypeVar("V")

# pg_dump entries whose SQL holds printed expressions (CHECK, DEFAULT, GENERATED, index
# expressions and predicates, view queries, policy USING/WITH CHECK, trigger WHEN, domain CHECK,
# BEGIN ATOMIC bodies). Quoted function bodies are one string token to the scanner: untouched.
_DEFINITION_TYPES = frozenset({
    "TABLE", "DEFAULT", "CONSTRAINT", "CHECK CONSTRAINT", "FK CONSTRAINT", "INDEX", "VIEW",
    "MATERIALIZED VIEW", "POLICY", "TRIGGER", "RULE", "DOMAIN", "FUNCTION", "PROCEDURE",
})  # fmt: skip

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


def round_trip_entries(entries: list[DumpEntry]) -> list[DumpEntry] | None:
    """The dump's entries with forms that print back as the originals; None when none applies."""
    from kedge_hasura.sql.printed import round_trip_form

    changed = [
        replace(entry, sql=rewritten)
        if entry.type in _DEFINITION_TYPES and (rewritten := round_trip_form(entry.sql)) is not None
        else entry
        for entry in entries
    ]
    return changed if changed != entries else None


def first_verified(candidates: list[str], verify: Callable[[str], V]) -> tuple[str, V]:
    """The first up.sql that verifies, with its verification; the last candidate's failure propagates.

    A failure of an earlier candidate (a replay error, or a database that is not the same) only
    means its forms are not kept.
    """
    for candidate in candidates[:-1]:
        try:
            return candidate, verify(candidate)
        except (SquashNotEquivalent, MigrationFailed):
            continue
    return candidates[-1], verify(candidates[-1])


def claim_lines(
    identical: bool,
    equivalents: list[EquivalentDefinition],
    other_accepted: int,
    *,
    all_rows_compared: bool = True,
) -> list[str]:
    """The header's verification claim, exactly as strong as what was proven.

    `all_rows_compared` is False when some tables are non-deterministic (their rows differ between
    two replays of the originals), so their rows were not compared.
    """
    rows = (
        "the same rows"
        if all_rows_compared
        else "the same rows in every table but the non-deterministic ones listed below"
    )
    if identical:
        return (
            [VERIFIED_CLAIM]
            if all_rows_compared
            else [
                f"Verified: replaying the originals and applying this file build the same schema, and {rows}."
            ]
        )
    lines = [f"Verified: replaying the originals and applying this file build {rows} and an"]
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
