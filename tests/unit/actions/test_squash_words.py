"""The words of a squash: `identical` only when nothing differs, else `equivalent`, listed (no server)."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

from kedge_hasura.actions.squash.check import SquashCheck, SquashCheckItem
from kedge_hasura.actions.squash.roundtrip import (
    VERIFIED_CLAIM,
    EquivalentDefinition,
    claim_lines,
    equivalent_only,
    with_claim,
)
from kedge_hasura.actions.squash.run import SquashResult, StatementCounts
from kedge_hasura.actions.squash.verify import Verification
from kedge_hasura.findings import Severity
from kedge_hasura.render.squash import render_squash, render_squash_check
from kedge_hasura.schemadiff.compare import Difference

ORIGINAL = "CHECK (((s)::text = ANY ((ARRAY['a'::character varying(3), 'b'::character varying])::text[])))"
SQUASHED = (
    "CHECK (((s)::text = ANY (ARRAY[('a'::character varying(3))::text, ('b'::character varying)::text])))"
)
DEFINITION = EquivalentDefinition(
    object="app.t.t_s_check", kind="constraint", field="definition", original=ORIGINAL, squashed=SQUASHED
)


def _difference(classification: str | None, kind: str = "constraint") -> Difference:
    return Difference(
        kind=kind,
        object="app.t.t_s_check",
        id={},
        change="changed",
        field="definition",
        source=ORIGINAL,
        target=SQUASHED,
        severity=Severity.INFO,
        classification=classification,
    )


def _result(verification: Verification) -> SquashResult:
    return SquashResult(
        database="default", strategy="dump", from_version=1, to_version=2, migrations=["1_a", "2_b"],
        folder=Path("migrations/default/2_squashed"), archive_folder=None, dry_run=True, written=False,
        up_sql="", down_sql="", lines_before=2, lines_after=2,
        statements=StatementCounts(before={}, after={}), objects={}, seconds_replay=1.0,
        seconds_squashed=0.5, verification=verification, postgres_major=15,
    )  # fmt: skip


def test_only_probably_equivalent_differences_are_listed_as_equivalent() -> None:
    assert equivalent_only([_difference("probably-equivalent"), _difference("renamed", "index")]) == [
        DEFINITION
    ]


def test_identical_is_said_only_without_any_difference() -> None:
    identical = render_squash(_result(Verification(verified=True, schema_identical=True)))
    equivalent = render_squash(
        _result(
            Verification(
                verified=True,
                schema_identical=False,
                schema_differences=[_difference("probably-equivalent")],
                equivalent_only=[DEFINITION],
            )
        )
    )

    assert any("schema identical" in line for line in identical)
    text = "\n".join(equivalent)
    assert "schema identical" not in text
    assert "schema equivalent: 1 definition differs only in how PostgreSQL prints it" in text
    assert "equivalent: constraint app.t.t_s_check definition" in text
    assert f"originals: {escape(ORIGINAL)}" in text
    assert f"squashed:  {escape(SQUASHED)}" in text
    assert "probably-equivalent" not in text  # listed once, as equivalent, not again as info


def test_squash_check_says_identical_or_equivalent() -> None:
    item = SquashCheckItem(archive=Path("a"), consolidated="2_squashed", equivalent=True, checksums_ok=True)
    identical = item.model_copy(update={"schema_identical": True})
    equivalent = item.model_copy(update={"equivalent_only": [DEFINITION, DEFINITION]})

    assert "a → 2_squashed: identical" in render_squash_check(SquashCheck(items=[identical]))
    lines = render_squash_check(SquashCheck(items=[equivalent]))
    assert "a → 2_squashed: equivalent: 2 definitions differ only in how PostgreSQL prints them" in lines
    assert not any("identical" in line for line in lines)


def test_the_header_claim_is_replaced_by_the_exact_one() -> None:
    up_sql = f"-- Squashed by ...\n-- {VERIFIED_CLAIM}\n--\nCREATE TABLE t ();\n"

    assert claim_lines(True, [], 0) == [VERIFIED_CLAIM]
    changed = with_claim(up_sql, claim_lines(False, [DEFINITION], 0))

    assert VERIFIED_CLAIM not in changed
    assert changed == (
        "-- Squashed by ...\n"
        "-- Verified: replaying the originals and applying this file build the same rows and an\n"
        "-- equivalent schema (equivalent: 1 definition differs only in how PostgreSQL prints it):\n"
        "--   constraint app.t.t_s_check (definition)\n"
        "--\n"
        "CREATE TABLE t ();\n"
    )
