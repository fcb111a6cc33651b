"""The per-role schema model: scalar mapping, names, which fields each permission gives."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
from graphql import GraphQLSchema, print_schema

sys.path.insert(0, str(Path(__file__).parent))
from factory import Col, Fn, Rel, blog, catalog, metadata, snapshot, surface

from kedge_hasura.graphql.catalog import Mutability, catalog_from_snapshot
from kedge_hasura.graphql.changes import classify_filter
from kedge_hasura.graphql.scalars import scalar_of
from kedge_hasura.graphql.surface import build_surface
from kedge_hasura.project.metadata_model import InheritedRole


@pytest.mark.parametrize(
    ("pg_type", "name", "is_array"),
    [
        ("integer", "Int", False), ("smallint", "smallint", False), ("bigint", "bigint", False),
        ("real", "Float", False), ("double precision", "float8", False),
        ("numeric(10,2)", "numeric", False), ("text", "String", False),
        ("character varying(20)", "String", False), ("character(3)", "bpchar", False),
        ("boolean", "Boolean", False), ("jsonb", "jsonb", False), ("uuid", "uuid", False),
        ("timestamp with time zone", "timestamptz", False),
        ("timestamp without time zone", "timestamp", False), ("time without time zone", "time", False),
        ("text[]", "String", True), ("integer[][]", "Int", True), ("public.mood", "mood", False),
        ("public.citext", "citext", False), ("public.email", "String", False),
    ],
)  # fmt: skip
def test_a_postgres_type_maps_to_hasuras_scalar(pg_type: str, name: str, is_array: bool) -> None:
    scalar = scalar_of(pg_type, {"public.email": "text"})  # a domain maps as its base type
    assert (scalar.name, scalar.is_array) == (name, is_array)


@pytest.mark.parametrize(
    ("old", "new", "verdict"),
    [
        ({"a": {"_eq": 1}}, {"a": {"_eq": 1}}, None),
        ({"a": {"_eq": 1}, "b": {"_eq": 2}}, {"_and": [{"b": {"_eq": 2}}, {"a": {"_eq": 1}}]}, None),
        ({}, {"_and": []}, None),
        ({"a": {"_eq": 1}}, {}, "wider"),
        ({"_and": [{"a": {"_eq": 1}}, {"b": {"_eq": 2}}]}, {"a": {"_eq": 1}}, "wider"),
        ({"a": {"_eq": 1}}, {"_and": [{"a": {"_eq": 1}}, {"b": {"_eq": 2}}]}, "stricter"),
        ({}, {"a": {"_eq": 1}}, "stricter"),
        ({"a": {"_eq": 1}}, {"a": {"_eq": 2}}, "changed"),
        ({"a": {"_eq": 1}}, {"_or": [{"a": {"_eq": 1}}, {"b": {"_eq": 2}}]}, "changed"),
    ],
)
def test_a_filter_change_is_classified_by_its_conjuncts(
    old: object, new: object, verdict: str | None
) -> None:
    assert classify_filter(old, new) == verdict


def _schema(role: str, edit=None) -> GraphQLSchema:  # type: ignore[no-untyped-def]
    project = copy.deepcopy(blog())
    if edit is not None:
        edit(project)
    return surface(*project).roles[role].schema


def test_roles_are_admin_and_every_role_in_a_permission() -> None:
    assert list(surface(*blog()).roles) == ["admin", "editor", "user"]


def test_by_pk_needs_every_primary_key_column_in_the_permission() -> None:
    def drop_id(project) -> None:  # type: ignore[no-untyped-def]
        project[1][0]["select_permissions"][0]["permission"]["columns"] = ["name", "bio"]

    assert "authors_by_pk" in _schema("user").query_type.fields
    assert "authors_by_pk" not in _schema("user", drop_id).query_type.fields


def test_presets_leave_the_insert_input_and_insert_one_needs_select() -> None:
    schema = _schema("user")
    fields = schema.type_map["articles_insert_input"].fields
    assert "author_id" not in fields and "title" in fields
    assert "insert_articles_one" in schema.mutation_type.fields
    assert "returning" in schema.type_map["articles_mutation_response"].fields


def test_backend_only_mutations_leave_the_frontend_schema() -> None:
    assert _schema("editor").mutation_type is None  # its only mutation permission is backend_only
    assert "delete_articles" in _schema("admin").mutation_type.fields


def test_an_immutable_view_has_no_mutation_fields_even_for_admin() -> None:
    relations, tables, _, functions = blog()
    views = {("public", "article_stats"): Mutability(False, False, False)}
    built = build_surface(
        metadata(tables),
        catalog_from_snapshot(snapshot(*relations, functions=tuple(functions)), view_mutability=views),
    )
    assert not any("article_stats" in name for name in built.roles["admin"].schema.mutation_type.fields)
    assert "article_stats" in built.roles["admin"].schema.query_type.fields


def test_custom_root_fields_and_column_names_are_honoured() -> None:
    def customise(project) -> None:  # type: ignore[no-untyped-def]
        project[1][0]["configuration"] = {
            "custom_name": "writers",
            "custom_root_fields": {"select_by_pk": {"name": "writer", "comment": "one"}},
            "column_config": {"name": {"custom_name": "fullName"}},
        }

    schema = _schema("user", customise)
    assert {"writers", "writer"} <= set(schema.query_type.fields)
    assert "fullName" in schema.type_map["writers"].fields
    assert "writers_bool_exp" in schema.type_map


def test_an_enum_table_column_is_the_enum_of_the_tables_rows() -> None:
    sdl = print_schema(_schema("user"))
    assert "enum status_enum {\n  archived\n  draft\n  published\n}" in sdl
    assert "status: status_enum!" in sdl
    assert "input status_enum_comparison_exp {" in sdl


def test_a_role_without_select_on_the_target_gets_no_relationship_field() -> None:
    def hide_authors(project) -> None:  # type: ignore[no-untyped-def]
        project[1][0]["select_permissions"] = project[1][0]["select_permissions"][1:]

    assert "author" not in _schema("user", hide_authors).type_map["articles"].fields


def test_a_role_without_query_fields_gets_the_placeholder() -> None:
    relations = [Rel("public", "t", [Col("id", "integer", True)], pk=("id",))]
    tables = [
        {
            "table": {"schema": "public", "name": "t"},
            "insert_permissions": [{"role": "writer", "permission": {"columns": ["id"], "check": {}}}],
        }
    ]
    schema = build_surface(metadata(tables), catalog(*relations)).roles["writer"].schema
    assert list(schema.query_type.fields) == ["no_queries_available"]
    assert "insert_t_one" not in schema.mutation_type.fields
    assert list(schema.type_map["t_mutation_response"].fields) == ["affected_rows"]
    # on_conflict is offered without an update permission, with the placeholder column.
    assert list(schema.type_map["t_update_column"].values) == ["_PLACEHOLDER"]


def test_a_scalar_computed_field_is_a_nullable_field_for_roles_that_list_it() -> None:
    editor, user = _schema("editor"), _schema("user")
    assert str(editor.type_map["authors"].fields["display"].type) == "String"
    assert "display" in editor.type_map["authors_bool_exp"].fields
    assert "display" in editor.type_map["authors_order_by"].fields
    assert "display" not in user.type_map["authors"].fields


def test_a_computed_field_with_arguments_is_noted_not_dropped_silently() -> None:
    relations, tables, rows, _ = blog()
    functions = [Fn("public", "author_display", "a public.authors, suffix text", "text")]
    built = surface(relations, tables, rows, functions)
    assert "display" not in built.roles["admin"].schema.type_map["authors"].fields
    assert built.notes == [
        "computed field public.authors.display takes arguments or returns rows (not modelled)"
    ]


def test_an_inherited_role_unites_its_parents_select_permissions() -> None:
    relations, tables, rows, functions = blog()
    model = metadata(tables)
    model.inherited_roles = [InheritedRole(role_name="staff", role_set=["user", "editor"])]
    built = build_surface(model, catalog(*relations, enum_rows=rows, functions=tuple(functions)))
    staff = built.roles["staff"].schema
    fields = staff.type_map["authors"].fields
    # email only from editor: selectable, but nullable as not every parent has it; id from both.
    assert str(fields["email"].type) == "String" and str(fields["id"].type) == "Int!"
    assert "authors_aggregate" in staff.query_type.fields  # editor allows aggregations
    # Mutations are inherited only when every parent has the same permission: none here.
    assert staff.mutation_type is None


def test_jsonb_columns_add_the_jsonb_update_operators() -> None:
    admin, user = _schema("admin"), _schema("user")
    args = admin.mutation_type.fields["update_articles"].args
    assert {"_append", "_prepend", "_delete_key", "_delete_elem", "_delete_at_path", "_inc", "_set"} <= set(
        args
    )
    assert str(admin.type_map["articles_delete_at_path_input"].fields["meta"].type) == "[String!]"
    assert str(admin.type_map["articles_delete_elem_input"].fields["meta"].type) == "Int"
    assert set(user.mutation_type.fields["update_articles"].args) == {"_set", "where"}  # title, body only
    assert "_append" in admin.type_map["articles_updates"].fields


def test_aggregation_predicates_for_array_relationships_whose_target_allows_aggregations() -> None:
    admin, user = _schema("admin"), _schema("user")
    assert (
        str(admin.type_map["authors_bool_exp"].fields["articles_aggregate"].type)
        == "articles_aggregate_bool_exp"
    )
    count = admin.type_map["articles_aggregate_bool_exp_count"].fields
    assert {name: str(f.type) for name, f in count.items()} == {
        "arguments": "[articles_select_column!]", "distinct": "Boolean", "filter": "articles_bool_exp",
        "predicate": "Int_comparison_exp!",
    }  # fmt: skip
    assert list(admin.type_map["articles_aggregate_bool_exp"].fields) == ["count"]  # no boolean column
    assert "articles_aggregate" not in user.type_map["authors_bool_exp"].fields  # user may not aggregate


def test_experimental_features_that_hide_fields_are_honoured_and_others_noted() -> None:
    relations, tables, rows, functions = blog()
    features = frozenset({"hide_stream_fields", "hide_update_many_fields", "hide_aggregation_predicates",
                          "disable_postgres_arrays"})  # fmt: skip
    built = build_surface(metadata(tables), catalog(*relations, enum_rows=rows, functions=tuple(functions)),
                          features=features)  # fmt: skip
    admin = built.roles["admin"].schema
    assert "authors_stream" not in admin.subscription_type.fields
    assert "update_authors_many" not in admin.mutation_type.fields
    assert "articles_aggregate" not in admin.type_map["authors_bool_exp"].fields
    assert built.notes == [
        "experimental feature disable_postgres_arrays is not modelled: the schema is derived as without it"
    ]
