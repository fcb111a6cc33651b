"""The graphql-default naming convention.

Cross-checks carry over the names graphql-engine's own tests expect (server/tests-py/queries/
naming_conventions/: type_and_field_names_graphql_default.yaml, field_name_precedence.yaml,
enum_value_convention.yaml, naming_convention_without_feature_turned_on.yaml): facts, not files.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema

sys.path.insert(0, str(Path(__file__).parent))
from factory import Col, Rel, catalog

from kedge_hasura.graphql.changes import ChangeClass, compare_surfaces
from kedge_hasura.graphql.naming import camel, pascal
from kedge_hasura.graphql.surface import Surface, build_surface
from kedge_hasura.project.metadata_model import Metadata

AUTHOR_LOCAL = Rel("public", "author_local", [Col("id", "integer", True, "nextval()"), Col("name")],
                   pk=("id",), uniques={"author_local_name_key": ("name",)})  # fmt: skip
ARTICLE_LOCAL = Rel("public", "article_local", [Col("id", "integer", True, "nextval()"),
                    Col("author_id", "integer", True, "nextval()"), Col("title")], pk=("id",))  # fmt: skip
DAYS = Rel("public", "days_of_the_week", [Col("day_name", "text", True)], pk=("day_name",))
USERS = Rel("public", "users", [Col("id", "integer", True, "nextval()"), Col("favourite_day", "text", True)],
            pk=("id",), fks={"users_favourite_day_fkey": (("favourite_day",), "public.days_of_the_week",
                                                          ("day_name",))})  # fmt: skip
WEEK = ["Friday", "Monday", "Saturday", "Sunday", "Thursday", "Tuesday", "Wednesday"]
NAMING = frozenset({"naming_convention"})


def _surface(
    tables: list[dict[str, Any]],
    relations: tuple[Rel, ...],
    *,
    customization: dict[str, Any] | None = None,
    features: frozenset[str] = NAMING,
    default: str = "hasura-default",
    enum_rows: dict[tuple[str, str], list[str]] | None = None,
) -> Surface:
    source: dict[str, Any] = {"name": "default", "kind": "postgres", "tables": tables}
    if customization is not None:
        source["customization"] = customization
    model = Metadata.model_validate({"version": 3, "sources": [source]})
    model.bind(())
    return build_surface(
        model, catalog(*relations, enum_rows=enum_rows), features=features, default_naming_convention=default
    )


def _table(name: str, **configuration: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"table": {"schema": "public", "name": name}}
    if configuration:
        entry["configuration"] = configuration
    return entry


def _roots(schema: GraphQLSchema) -> set[str]:
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return {name for root in roots if root is not None for name in root.fields}


@pytest.mark.parametrize(
    ("name", "as_field", "as_type"),
    [
        ("author_local_by_pk", "authorLocalByPk", "AuthorLocalByPk"),
        ("_is_null", "_isNull", "IsNull"),
        ("authorDetails_aggregate", "authorDetailsAggregate", "AuthorDetailsAggregate"),
        ("String_comparison_exp", "StringComparisonExp", "StringComparisonExp"),
        ("id", "id", "Id"),
    ],
)
def test_words_are_joined_keeping_the_first_words_case(name: str, as_field: str, as_type: str) -> None:
    assert (camel(name), pascal(name)) == (as_field, as_type)


def test_graphql_default_names_of_a_plain_table_match_graphql_engines_test() -> None:
    built = _surface(
        [_table("author_local")], (AUTHOR_LOCAL,), customization={"naming_convention": "graphql-default"}
    )
    admin = built.roles["admin"].schema
    roots = _roots(admin)
    assert {"authorLocal", "authorLocalByPk", "authorLocalAggregate", "insertAuthorLocal",
            "deleteAuthorLocalByPk", "authorLocalStream"} <= roots  # fmt: skip
    assert not any("_" in name for name in roots)
    expected = ("AuthorLocal", "AuthorLocalAggregate", "AuthorLocalAggregateFields",
                "AuthorLocalMutationResponse", "AuthorLocalBoolExp", "StringComparisonExp")  # fmt: skip
    for type_name in expected:
        assert type_name in admin.type_map, type_name
    assert admin.query_type.fields["authorLocal"].args.keys() >= {"distinctOn", "orderBy", "where"}
    assert set(admin.type_map["OrderBy"].values) >= {"ASC", "DESC_NULLS_LAST"}


def test_custom_root_fields_are_kept_as_written_and_a_custom_name_keeps_its_first_words_case() -> None:
    roots = {"select_by_pk": "author_detail", "insert_one": "add_author", "delete_by_pk": "delete_one_author"}
    author = _table("author_local", custom_name="authorDetails", custom_root_fields=roots)
    built = _surface([author, _table("article_local")], (AUTHOR_LOCAL, ARTICLE_LOCAL),
                     customization={"naming_convention": "graphql-default"})  # fmt: skip
    admin = built.roles["admin"].schema
    roots = _roots(admin)
    assert {"authorDetails", "author_detail", "add_author", "delete_one_author", "articleLocal",
            "articleLocalByPk", "articleLocalAggregate"} <= roots  # fmt: skip
    assert str(admin.query_type.fields["author_detail"].type) == "AuthorDetails"
    assert "ArticleLocalAggregateFields" in admin.type_map
    assert "authorId" in admin.type_map["ArticleLocalBoolExp"].fields  # where: {authorId: {_eq: 1}}


def test_enum_table_values_are_upper_cased_and_columns_camel_cased() -> None:
    tables = [_table("days_of_the_week") | {"is_enum": True}, _table("users")]
    built = _surface(tables, (DAYS, USERS), customization={"naming_convention": "graphql-default"},
                     enum_rows={("public", "days_of_the_week"): WEEK})  # fmt: skip
    admin = built.roles["admin"].schema
    assert list(admin.type_map["DaysOfTheWeekEnum"].values) == [day.upper() for day in WEEK]
    assert str(admin.type_map["Users"].fields["favouriteDay"].type) == "DaysOfTheWeekEnum!"
    assert {"insertUsers", "updateUsers", "deleteUsers", "insertUsersOne", "updateUsersByPk"} <= _roots(admin)


def test_without_the_experimental_feature_the_source_setting_is_ignored() -> None:
    built = _surface([_table("author_local")], (AUTHOR_LOCAL,), features=frozenset(),
                     customization={"naming_convention": "graphql-default"})  # fmt: skip
    assert "author_local_by_pk" in _roots(built.roles["admin"].schema)


def test_the_servers_default_applies_unless_the_source_chooses() -> None:
    by_default = _surface([_table("author_local")], (AUTHOR_LOCAL,), default="graphql-default")
    assert "authorLocalByPk" in _roots(by_default.roles["admin"].schema)
    chosen = _surface([_table("author_local")], (AUTHOR_LOCAL,), default="graphql-default",
                      customization={"naming_convention": "hasura-default"})  # fmt: skip
    assert "author_local_by_pk" in _roots(chosen.roles["admin"].schema)


def test_relationship_and_custom_column_names_are_kept_and_changes_are_named_in_the_convention() -> None:
    author = _table("author_local")
    article = _table("article_local", column_config={"title": {"custom_name": "head_line"}}) | {
        "object_relationships": [{"name": "written_by", "using": {"manual_configuration": {
            "remote_table": {"schema": "public", "name": "author_local"},
            "column_mapping": {"author_id": "id"}}}}],
        "select_permissions": [{"role": "reader", "permission": {"columns": ["id", "title"], "filter": {}}}],
    }  # fmt: skip
    author["select_permissions"] = [{"role": "reader", "permission": {"columns": "*", "filter": {}}}]
    custom = {"naming_convention": "graphql-default"}
    base = _surface([author, article], (AUTHOR_LOCAL, ARTICLE_LOCAL), customization=custom)
    fields = base.roles["admin"].schema.type_map["ArticleLocal"].fields
    assert {"head_line", "written_by", "authorId"} <= set(fields)

    article["select_permissions"][0]["permission"]["columns"] = ["id"]
    head = _surface([author, article], (AUTHOR_LOCAL, ARTICLE_LOCAL), customization=custom)
    (reader,) = [r for r in compare_surfaces(base, head) if r.role == "reader"]
    breaking = {c.coordinate for c in reader.changes if c.change_class is ChangeClass.BREAKING}
    assert "ArticleLocal.head_line: String" in breaking
    assert all(c.table == ("public", "article_local") for c in reader.changes)  # origins renamed too
