"""Candidate forms for printed definitions that do not parse back to the same tree (no server).

Whether a form really prints back as the original is proven by the squash's replay
(tests/pg/test_squash_printed_forms.py); here: which texts get a candidate, and exactly where.
"""

from __future__ import annotations

import pytest

from kedge_hasura.sql.printed import round_trip_form

VARCHAR_IN = (
    "CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))"
)


def test_an_in_list_on_varchar_gets_the_array_type_before_the_outer_cast() -> None:
    assert round_trip_form(VARCHAR_IN) == (
        "CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying]"
        "::character varying[])::text[])))"
    )


def test_every_occurrence_in_a_statement_is_rewritten_and_the_rest_is_kept_byte_for_byte() -> None:
    statement = (
        "CREATE INDEX i ON public.t USING btree (n) WHERE (((a)::text = ANY ((ARRAY['x'::character varying])"
        "::text[])) AND ((b)::text <> ALL ((ARRAY['é]'::character varying(3), ('y'::character varying(3))])"
        "::text[])));"
    )
    assert round_trip_form(statement) == (
        "CREATE INDEX i ON public.t USING btree (n) WHERE (((a)::text = ANY ((ARRAY['x'::character varying]"
        "::character varying[])::text[])) AND ((b)::text <> ALL ((ARRAY['é]'::character varying(3), "
        "('y'::character varying(3))]::character varying(3)[])::text[])));"
    )


def test_a_function_call_element_cast_to_the_same_type_counts() -> None:
    text = "((ARRAY['new'::character varying, (lower('PAID'::text))::character varying])::text[])"
    assert round_trip_form(text) == (
        "((ARRAY['new'::character varying, (lower('PAID'::text))::character varying]"
        "::character varying[])::text[])"
    )


@pytest.mark.parametrize(
    "text",
    [
        # Round-trips already: no outer cast, or the elements have the outer type.
        "CHECK ((grade = ANY (ARRAY['A'::bpchar, 'B'::bpchar])))",
        "CHECK (((code)::text ~~ ANY (ARRAY['X%'::text, 'Y%'::text])))",
        "CHECK ((x = ANY ((ARRAY['a'::text, 'b'::text])::text[])))",
        "DEFAULT ARRAY['a'::character varying, 'b'::character varying]",
        "CHECK ((labels <@ '{a,b,c}'::text[]))",
        # Elements of different types (typmods): no single array type to write.
        "CHECK (((s)::text = ANY ((ARRAY['a'::character varying(3), 'b'::character varying])::text[])))",
        # An element without a cast: its type is not printed.
        "CHECK (((s)::text = ANY ((ARRAY[s2, 'b'::character varying])::text[])))",
        # Not SQL the scanner accepts.
        "CHECK ('unterminated",
    ],
)
def test_texts_without_a_candidate(text: str) -> None:
    assert round_trip_form(text) is None
