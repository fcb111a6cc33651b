"""Cross-checks of the model against graphql-engine's own server tests.

Facts and expected names are carried over from hasura/graphql-engine `server/tests-py/queries/
graphql_introspection/` (read 2026-12; their files are not copied): the same tables and metadata
are built in Python and the model must give what the server test expects.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import GraphQLNonNull, print_schema

sys.path.insert(0, str(Path(__file__).parent))
from factory import Col, Rel, catalog, metadata

from kedge_hasura.graphql.surface import build_surface


def _kinds(schema, type_name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    fields = schema.type_map[type_name].fields
    return {
        name: "NON_NULL" if isinstance(f.type, GraphQLNonNull) else "nullable" for name, f in fields.items()
    }


def test_object_relationship_nullability() -> None:
    """nullable_object_relationship/nullability.yaml: a relationship is non-null exactly when its
    key is on the table and every key column is NOT NULL."""
    relations = [
        Rel("public", "table1", [Col("id", "integer", True, "nextval('s')"), Col("name", "text")],
            pk=("id",)),
        Rel("public", "table2", [
            Col("id", "integer", True, "nextval('s')"), Col("name", "text"), Col("table1_id", "integer"),
            Col("table1_id_not_null", "integer", True),
        ], pk=("id",), uniques={"table2_name_table1_id_key": ("name", "table1_id")}, fks={
            "t2_fk": (("table1_id",), "public.table1", ("id",)),
            "t2_fk_nn": (("table1_id_not_null",), "public.table1", ("id",)),
        }),
        Rel("public", "joint_foreign_key", [
            Col("id", "integer", True, "nextval('s')"), Col("table2_name", "text", True),
            Col("table2_table1_id", "integer"),
        ], pk=("id",), fks={
            "j_fk": (("table2_name", "table2_table1_id"), "public.table2", ("name", "table1_id")),
        }),
    ]  # fmt: skip
    tables = [
        {"table": {"schema": "public", "name": "table1"}, "object_relationships": [
            {"name": "via_table2", "using": {"foreign_key_constraint_on": {
                "table": "table2", "column": "table1_id"}}},
            {"name": "via_table2_not_null", "using": {"foreign_key_constraint_on": {
                "table": "table2", "column": "table1_id_not_null"}}},
        ]},
        {"table": {"schema": "public", "name": "table2"}, "object_relationships": [
            {"name": "via_table1", "using": {"foreign_key_constraint_on": "table1_id"}},
            {"name": "via_table1_not_null", "using": {"foreign_key_constraint_on": "table1_id_not_null"}},
        ]},
        {"table": {"schema": "public", "name": "joint_foreign_key"}, "object_relationships": [
            {"name": "table2", "using": {"foreign_key_constraint_on": ["table2_name", "table2_table1_id"]}},
        ]},
    ]  # fmt: skip
    admin = build_surface(metadata(tables), catalog(*relations)).roles["admin"].schema
    assert _kinds(admin, "table1") == {
        "id": "NON_NULL", "name": "nullable", "via_table2": "nullable", "via_table2_not_null": "nullable",
    }  # fmt: skip
    assert _kinds(admin, "table2") == {
        "id": "NON_NULL", "name": "nullable", "table1_id": "nullable", "table1_id_not_null": "NON_NULL",
        "via_table1": "nullable", "via_table1_not_null": "NON_NULL",
    }  # fmt: skip
    assert _kinds(admin, "joint_foreign_key") == {
        "id": "NON_NULL", "table2_name": "NON_NULL", "table2_table1_id": "nullable", "table2": "nullable",
    }  # fmt: skip


def test_a_table_named_user_address_with_a_space_needs_its_custom_name() -> None:
    """custom_table_name/setup.yaml: table "user address" tracked with custom_name user_address
    introspects; without the custom name Hasura leaves the table out (takeValidTables)."""
    relations = [
        Rel("public", "user address", [Col("id", "integer", True, "nextval('s')"), Col("name", "text"),
                                       Col("config", "jsonb")], pk=("id",),
            uniques={"user_address_name_key": ("name",)},
            pk_name="user_address_pkey"),
    ]  # fmt: skip
    named = [
        {
            "table": {"schema": "public", "name": "user address"},
            "configuration": {"custom_name": "user_address"},
        }
    ]
    schema = build_surface(metadata(named), catalog(*relations)).roles["admin"].schema
    assert {"user_address", "user_address_by_pk", "user_address_aggregate"} <= set(schema.query_type.fields)
    assert list(schema.type_map["user_address_constraint"].values) == [
        "user_address_name_key",
        "user_address_pkey",
    ]
    unnamed = build_surface(
        metadata([{"table": {"schema": "public", "name": "user address"}}]), catalog(*relations)
    )
    assert list(unnamed.roles["admin"].schema.query_type.fields) == ["no_queries_available"]
    assert unnamed.notes == [
        "public.user address is left out: 'user address' is not a GraphQL name and there is no custom_name "
        "(Hasura leaves it out)"
    ]


def test_the_user_role_of_the_introspection_setup() -> None:
    """graphql_introspection/setup.yaml with introspection_user_role.yaml: the user role's schema
    builds; author's select has only `name`, so no author_by_pk; article's has `id`, so article_by_pk;
    insert permissions without columns give inputs without columns."""
    relations = [
        Rel("public", "author", [Col("id", "integer", True, "nextval('s')"), Col("name", "text")], pk=("id",),
            uniques={"author_name_key": ("name",)}),
        Rel("public", "article", [
            Col("id", "integer", True, "nextval('s')"), Col("title", "text"), Col("content", "text"),
            Col("author_id", "integer", True), Col("is_published", "boolean", True, "false"),
            Col("published_on", "timestamp without time zone"),
        ], pk=("id",), fks={"article_author_id_fkey": (("author_id",), "public.author", ("id",))}),
    ]  # fmt: skip
    tables = [
        {"table": {"schema": "public", "name": "author"},
         "array_relationships": [{"name": "articles", "using": {"foreign_key_constraint_on": {
             "table": "article", "column": "author_id"}}}],
         "select_permissions": [{"role": "user", "permission": {"columns": ["name"], "filter": {
             "id": "X-HASURA-USER-ID"}}}],
         "insert_permissions": [{"role": "user", "permission": {"check": {"id": "X-HASURA-USER-ID"}}}]},
        {"table": {"schema": "public", "name": "article"},
         "object_relationships": [
             {"name": "author_obj_rel_fk", "using": {"foreign_key_constraint_on": "author_id"}},
             {"name": "author_obj_rel_manual", "using": {"manual_configuration": {
                 "remote_table": {"schema": "public", "name": "author"},
                 "column_mapping": {"author_id": "id"}}}},
         ],
         "select_permissions": [{"role": "user", "permission": {
             "columns": ["id", "title", "content"],
             "filter": {"$or": [{"author_id": "X-HASURA-USER-ID"}, {"is_published": True}]}}}],
         "insert_permissions": [{"role": "user", "permission": {
             "check": {"author_id": "X-Hasura-User-Id"}}}]},
    ]  # fmt: skip
    built = build_surface(metadata(tables), catalog(*relations))
    assert list(built.roles) == ["admin", "user"]
    user = built.roles["user"].schema
    print_schema(user)  # a valid schema prints
    assert set(user.query_type.fields) == {"article", "article_by_pk", "author"}
    assert set(user.type_map["author"].fields) == {"name", "articles"}
    assert str(user.type_map["article"].fields["author_obj_rel_fk"].type) == "author!"
    assert str(user.type_map["article"].fields["author_obj_rel_manual"].type) == "author"
    assert set(user.mutation_type.fields) == {"insert_article", "insert_article_one", "insert_author",
                                              "insert_author_one"}  # fmt: skip
    assert set(user.type_map["article_insert_input"].fields) == {"author_obj_rel_fk", "author_obj_rel_manual"}
