"""sql.quoting: identifiers quoted as PostgreSQL's quote_ident() does, literals with doubled quotes."""

from __future__ import annotations

import pytest

from kedge_hasura.sql.quoting import literal_list, qualified, quote_ident, quote_literal, quoted, quoted_path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("users", "users"),
        ("_private$1", "\"_private$1\""),  # valid bare, yet PostgreSQL quotes a `$`
        ("name", "name"),  # an unreserved keyword stays bare, as quote_ident('name') does
        ("user", '"user"'),  # a reserved keyword is quoted
        ("select", '"select"'),
        ("Users", '"Users"'),  # upper case would fold to lower case unquoted
        ("1st", '"1st"'),
        ("my table", '"my table"'),
        ('say "hi"', '"say ""hi"""'),
        ("", '""'),
    ],
    ids=["plain", "dollar", "unreserved-keyword", "reserved-keyword", "select", "upper-case",
         "leading-digit", "space", "embedded-quotes", "empty"],
)  # fmt: skip
def test_quote_ident_quotes_exactly_when_postgresql_would(name: str, expected: str) -> None:
    assert quote_ident(name) == expected


def test_qualified_quotes_each_part_as_needed() -> None:
    assert qualified("public", "User") == 'public."User"'


def test_quoted_always_quotes_and_doubles_embedded_quotes() -> None:
    assert quoted("users") == '"users"'
    assert quoted('a"b') == '"a""b"'
    assert quoted_path(("app", 'we"ird.name')) == '"app"."we""ird.name"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [("plain", "'plain'"), ("it's", "'it''s'"), ("back\\slash", "'back\\slash'"), ("", "''")],
    ids=["plain", "quote", "backslash-is-ordinary", "empty"],
)
def test_quote_literal_doubles_single_quotes_only(text: str, expected: str) -> None:
    assert quote_literal(text) == expected


def test_literal_list_joins_literals_for_in() -> None:
    assert literal_list(["a", "b'c"]) == "'a', 'b''c'"
    assert literal_list([]) == ""


def test_values_read_back_are_shown_as_sql_literals_not_python() -> None:
    from kedge_hasura.sql.quoting import row_literal, value_literal

    assert [value_literal(v) for v in (None, True, False, 42, 1.5, "it's")] == [
        "NULL", "true", "false", "42", "1.5", "'it''s'",
    ]  # fmt: skip
    assert value_literal({"k": [1, None, "é"]}) == """'{"k": [1, null, "é"]}'"""
    assert row_literal({"id": 3, "name": None}) == "(id = 3, name = NULL)"
