"""Tracked SQL functions as root fields: names, arguments, roots and which roles see them.

Expected shapes follow graphql-engine's own schema for custom functions (docs "Extend with SQL
functions" and server/src-lib/Hasura/Backends/Postgres/Schema/Select.hs): `search_articles(args:
search_articles_args!, distinct_on, limit, offset, order_by, where): [articles!]!` and
`search_articles_aggregate(...): articles_aggregate!`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, print_type

sys.path.insert(0, str(Path(__file__).parent))
from factory import Col, Fn, Rel, catalog, metadata, tracked_function

from kedge_hasura.graphql.changes import ChangeClass, compare_surfaces
from kedge_hasura.graphql.functions import parse_argument
from kedge_hasura.graphql.surface import Surface, build_surface

ARTICLES = Rel("public", "articles", [Col("id", "integer", True), Col("title", "text", True)], pk=("id",))
SEARCH = Fn("public", "search_articles", "search text", "SETOF public.articles")


def _tables(select: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    permissions = [
        {"role": role, "permission": {"columns": ["id", "title"], "filter": {}, **extra}}
        for role, extra in (select or {}).items()
    ]
    return [{"table": {"schema": "public", "name": "articles"}, "select_permissions": permissions}]


def _surface(
    functions: list[dict[str, Any]],
    fns: list[Fn],
    *,
    select: dict[str, dict[str, Any]] | None = None,
    infer: bool = True,
) -> Surface:
    return build_surface(
        metadata(_tables(select), functions),
        catalog(ARTICLES, functions=tuple(fns)),
        infer_function_permissions=infer,
    )


def _tracked(name: str = "search_articles", **configuration: Any) -> dict[str, Any]:
    return tracked_function(name, **configuration)


def _field(schema: GraphQLSchema, root: str, name: str) -> str | None:
    root_type = {"query": schema.query_type, "subscription": schema.subscription_type,
                 "mutation": schema.mutation_type}[root]  # fmt: skip
    if root_type is None or name not in root_type.fields:
        return None
    field = root_type.fields[name]
    args = ", ".join(f"{n}: {a.type}" for n, a in field.args.items())
    return f"{name}({args}): {field.type}"


def test_a_set_returning_function_is_a_query_and_subscription_field_with_its_aggregate() -> None:
    admin = _surface([_tracked()], [SEARCH]).roles["admin"].schema

    expected = (
        "search_articles(args: search_articles_args!, distinct_on: [articles_select_column!], limit: Int, "
        "offset: Int, order_by: [articles_order_by!], where: articles_bool_exp): [articles!]!"
    )
    assert _field(admin, "query", "search_articles") == expected
    assert _field(admin, "subscription", "search_articles") == expected
    assert (_field(admin, "query", "search_articles_aggregate") or "").endswith(": articles_aggregate!")
    assert _field(admin, "subscription", "search_articles_aggregate") is not None
    args = print_type(admin.type_map["search_articles_args"])
    assert args == "input search_articles_args {\n  search: String\n}"
    assert admin.mutation_type is None or "search_articles" not in admin.mutation_type.fields


def test_defaulted_arguments_leave_args_optional_unnamed_ones_are_arg_n_the_session_one_hidden() -> None:
    fn = Fn(
        "public", "search_articles", "hasura_session json, text, lim integer", "SETOF public.articles",
        declared="hasura_session json, text DEFAULT ''::text, lim integer DEFAULT 10",
    )  # fmt: skip
    admin = _surface([_tracked(session_argument="hasura_session")], [fn]).roles["admin"].schema

    assert "args: search_articles_args," in (_field(admin, "query", "search_articles") or "")  # no `!`
    args = admin.type_map["search_articles_args"]
    assert print_type(args) == "input search_articles_args {\n  arg_1: String\n  lim: Int\n}"


def test_a_function_without_user_arguments_has_no_args() -> None:
    fn = Fn("public", "search_articles", "", "SETOF public.articles")
    admin = _surface([_tracked()], [fn]).roles["admin"].schema
    assert (_field(admin, "query", "search_articles") or "").startswith("search_articles(distinct_on:")
    assert "search_articles_args" not in admin.type_map


def test_custom_name_and_custom_root_fields_name_the_fields_and_the_args_type() -> None:
    admin = _surface([_tracked(custom_name="find")], [SEARCH]).roles["admin"].schema
    assert _field(admin, "query", "find") and _field(admin, "query", "find_aggregate")
    assert "find_args" in admin.type_map

    roots = {"function": "lookup", "function_aggregate": "lookup_stats"}
    admin = _surface([_tracked(custom_name="find", custom_root_fields=roots)], [SEARCH]).roles["admin"].schema
    assert _field(admin, "query", "lookup") and _field(admin, "query", "lookup_stats")
    assert _field(admin, "query", "find") is None and "find_args" in admin.type_map


def test_a_function_outside_public_is_schema_prefixed() -> None:
    fn = Fn("search", "articles_by", "q text", "SETOF public.articles")
    tracked = {"function": {"schema": "search", "name": "articles_by"}}
    admin = _surface([tracked], [fn]).roles["admin"].schema
    assert _field(admin, "query", "search_articles_by") and "search_articles_by_args" in admin.type_map


def test_a_single_row_function_returns_a_nullable_object() -> None:
    fn = Fn("public", "newest_article", "", "public.articles")
    admin = _surface([_tracked("newest_article")], [fn]).roles["admin"].schema
    assert (_field(admin, "query", "newest_article") or "").endswith("): articles")


def test_roles_see_a_query_function_through_their_select_permission_while_permissions_are_inferred() -> None:
    select = {"reader": {}, "analyst": {"allow_aggregations": True}}
    roles = _surface([_tracked()], [SEARCH], select=select).roles

    assert _field(roles["reader"].schema, "query", "search_articles")
    assert _field(roles["reader"].schema, "query", "search_articles_aggregate") is None  # no aggregations
    assert _field(roles["analyst"].schema, "query", "search_articles_aggregate")


def test_without_inference_only_roles_with_a_function_permission_see_it() -> None:
    select = {"reader": {}, "analyst": {}}
    roles = _surface([_tracked(permissions=["analyst"])], [SEARCH], select=select, infer=False).roles

    assert _field(roles["reader"].schema, "query", "search_articles") is None
    assert _field(roles["analyst"].schema, "query", "search_articles")


def test_a_function_permission_without_select_on_the_returned_table_gives_nothing() -> None:
    roles = _surface([_tracked(permissions=["outsider"])], [SEARCH]).roles
    assert "outsider" in roles  # named only by the function permission: still a role
    assert _field(roles["outsider"].schema, "query", "search_articles") is None


def test_a_volatile_function_is_a_mutation_for_admin_and_permitted_roles_only() -> None:
    fn = Fn("public", "archive_articles", "before date", "SETOF public.articles", volatility="volatile")
    select = {"reader": {}, "editor": {}}
    roles = _surface([_tracked("archive_articles", permissions=["editor"])], [fn], select=select).roles

    for role in ("admin", "editor"):
        schema = roles[role].schema
        assert _field(schema, "mutation", "archive_articles"), role
        assert _field(schema, "query", "archive_articles") is None
        assert _field(schema, "mutation", "archive_articles_aggregate") is None  # no aggregate mutation
    assert roles["reader"].schema.mutation_type is None  # inference covers query functions only


def test_exposed_as_query_makes_a_volatile_function_a_query() -> None:
    fn = Fn("public", "archive_articles", "", "SETOF public.articles", volatility="volatile")
    admin = _surface([_tracked("archive_articles", exposed_as="query")], [fn]).roles["admin"].schema
    assert _field(admin, "query", "archive_articles")


@pytest.mark.parametrize(
    ("fns", "configuration", "reason"),
    [
        ([], {}, "not in the database"),
        ([SEARCH, Fn("public", "search_articles", "search text, n integer", "SETOF public.articles")], {},
         "overloaded"),
        ([Fn("public", "search_articles", "search text", "integer")], {}, "not rows of a tracked table"),
        ([Fn("public", "search_articles", "search text", "SETOF public.authors")], {},
         "not rows of a tracked table"),
        ([SEARCH], {"exposed_as": "mutation"}, "not VOLATILE"),
        ([Fn("public", "search_articles", "VARIADIC terms text[]", "SETOF public.articles")], {}, "VARIADIC"),
        ([SEARCH], {"custom_name": "search-articles"}, "not a GraphQL name"),
    ],
)  # fmt: skip
def test_a_function_hasura_would_mark_inconsistent_is_left_out_with_a_note(
    fns: list[Fn], configuration: dict[str, Any], reason: str
) -> None:
    built = _surface([_tracked(**configuration)], fns)
    admin = built.roles["admin"].schema
    assert not any("search" in name for name in admin.query_type.fields)
    (note,) = [n for n in built.notes if "search_articles" in n]
    assert "left out" in note and reason in note


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("search text", ("IN", "search", "text", False)),
        ("text", ("IN", None, "text", False)),
        ("double precision", ("IN", None, "double precision", False)),
        ("x double precision DEFAULT 1.5", ("IN", "x", "double precision", True)),
        ("OUT total integer", ("OUT", "total", "integer", False)),
        ("VARIADIC terms text[]", ("VARIADIC", "terms", "text[]", False)),
        ("\"Select\" text DEFAULT 'a, b'::text", ("IN", "Select", "text", True)),
        ('"char"', ("IN", None, '"char"', False)),
        ("timestamp with time zone DEFAULT now()", ("IN", None, "timestamp with time zone", True)),
        ("lim integer DEFAULT 10", ("IN", "lim", "integer", True)),
    ],
)
def test_an_argument_is_read_as_pg_get_function_arguments_prints_it(
    text: str, parsed: tuple[Any, ...]
) -> None:
    assert parse_argument(text) == parsed


def test_argument_types_array_and_row_types_keep_hasuras_function_argument_names() -> None:
    fn = Fn("public", "search_articles", "ids integer[], row public.articles, at timestamp with time zone",
            "SETOF public.articles")  # fmt: skip
    admin = _surface([_tracked()], [fn]).roles["admin"].schema
    assert print_type(admin.type_map["search_articles_args"]) == (
        "input search_articles_args {\n  ids: _int4\n  row: articles_scalar\n  at: timestamptz\n}"
    )


def test_removing_a_tracked_function_is_breaking_for_every_role_that_saw_it() -> None:
    select = {"reader": {}, "analyst": {"allow_aggregations": True}}
    base = _surface([_tracked()], [SEARCH], select=select)
    head = _surface([], [SEARCH], select=select)

    changes = {
        (r.role, c.coordinate.split(":")[0]) for r in compare_surfaces(base, head) for c in r.changes
        if c.change_class is ChangeClass.BREAKING
    }  # fmt: skip
    assert ("reader", "query_root.search_articles") in changes
    assert ("analyst", "query_root.search_articles_aggregate") in changes
    assert ("admin", "subscription_root.search_articles") in changes
    for role, coordinate in changes:
        assert "search_articles" in coordinate, (role, coordinate)
