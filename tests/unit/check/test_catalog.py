"""Reading catalog text for check: foreign-key targets and function arguments, as PostgreSQL prints them."""

from __future__ import annotations

import pytest

from kedge_hasura.actions.check.catalog import (
    Argument,
    DatabaseCatalog,
    Relation,
    enum_rows_query,
    parse_arguments,
    parse_foreign_key,
)


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ("FOREIGN KEY (user_id) REFERENCES app.users(id)", (("app", "users"), ("id",))),
        (
            "FOREIGN KEY (a, b) REFERENCES app.pairs(x, y) ON DELETE CASCADE",
            (("app", "pairs"), ("x", "y")),
        ),
        (
            'FOREIGN KEY ("User Id") REFERENCES "My Schema"."User.Table"("Id")',
            (("My Schema", "User.Table"), ("Id",)),
        ),
        ('FOREIGN KEY (x) REFERENCES app."say ""hi"""(id) NOT VALID', (("app", 'say "hi"'), ("id",))),
        ("FOREIGN KEY (x) REFERENCES users(id)", (("public", "users"), ("id",))),
        ("CHECK ((x > 0))", None),
        ("UNIQUE (email)", None),
    ],
    ids=["simple", "two-columns", "quoted-with-dot", "doubled-quotes", "unqualified", "check", "unique"],
)
def test_foreign_key_targets(definition: str, expected: object) -> None:
    assert parse_foreign_key(definition) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("post app.posts", (Argument("post", "app.posts"),)),
        ("app.posts", (Argument(None, "app.posts"),)),
        (
            "author_row public.author, hasura_session json",
            (Argument("author_row", "public.author"), Argument("hasura_session", "json")),
        ),
        ("amount numeric(10,2), n integer", (Argument("amount", "numeric(10,2)"), Argument("n", "integer"))),
        ("timestamp with time zone", (Argument(None, "timestamp with time zone"),)),
        ("at timestamp with time zone", (Argument("at", "timestamp with time zone"),)),
        (
            "double precision, bit varying",
            (Argument(None, "double precision"), Argument(None, "bit varying")),
        ),
        ('"Row" app."Posts"', (Argument("Row", 'app."Posts"'),)),
        ("VARIADIC ids integer[]", (Argument("ids", "integer[]", mode="variadic"),)),
    ],
    ids=["none", "named", "unnamed", "two", "typmod-comma", "multi-word-unnamed", "multi-word-named",
         "unnamed-multi-word-pair", "quoted", "variadic"],
)  # fmt: skip
def test_identity_arguments(text: str, expected: tuple[Argument, ...]) -> None:
    assert parse_arguments(text) == expected


def test_a_row_type_names_its_relation_quoted_or_not() -> None:
    catalog = DatabaseCatalog(relations={("app", "Posts"): Relation("app", "Posts", "table")})
    assert catalog.relation_of_type('app."Posts"') is catalog.relations[("app", "Posts")]
    assert catalog.relation_of_type("text") is None
    assert catalog.relation_of_type("app.missing") is None


def test_enum_rows_are_read_in_one_query_with_quoted_names() -> None:
    query = enum_rows_query([(("app", "status"), "value"), (("Odd Schema", 'say "x"'), "Key")])
    # One statement, one VALUES row per table (a list: no argument limit, no nesting per table).
    assert query.count("json_object_agg") == 1
    assert query.count("(SELECT coalesce(json_agg(x.v)") == 2
    assert '"Odd Schema"."say ""x"""' in query
    assert 'SELECT "Key"::text AS v FROM' in query
