"""The helper of the live introspection cross-check (tests/hasura_e2e/introspection.py), offline.

A role's derived schema is turned into introspection data the way a server answers it; the helper
must find nothing, then report each change planted in that data. Without this, a live run that
finds no differences could mean a helper that cannot find any.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, introspection_from_schema

sys.path.insert(0, str(Path(__file__).parent))
from factory import blog, surface

from ...hasura_e2e.introspection import compare_with_introspection


@pytest.fixture(scope="module")
def editor() -> GraphQLSchema:
    schema: GraphQLSchema = surface(*blog()).roles["editor"].schema
    return schema


def _data(schema: GraphQLSchema) -> dict[str, Any]:
    return copy.deepcopy(dict(introspection_from_schema(schema)))


def _type(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in data["__schema"]["types"] if t["name"] == name)


def _field(data: dict[str, Any], type_name: str, field: str, key: str = "fields") -> dict[str, Any]:
    return next(f for f in _type(data, type_name)[key] if f["name"] == field)


def test_a_schema_compared_with_its_own_introspection_has_no_differences(editor: GraphQLSchema) -> None:
    assert compare_with_introspection(editor, _data(editor)) == []


def test_descriptions_and_directives_of_the_server_are_not_differences(editor: GraphQLSchema) -> None:
    data = _data(editor)
    _type(data, "authors")["description"] = 'columns and relationships of "authors"'
    _field(data, "authors", "name")["description"] = "the author's name"
    data["__schema"]["directives"].append(
        {"name": "cached", "description": None, "isRepeatable": False, "locations": ["QUERY"], "args": []}
    )
    assert compare_with_introspection(editor, data) == []


def test_a_field_the_server_lacks_is_reported(editor: GraphQLSchema) -> None:
    data = _data(editor)
    authors = _type(data, "authors")
    authors["fields"] = [f for f in authors["fields"] if f["name"] != "email"]
    found = compare_with_introspection(editor, data)
    assert "model → server: FIELD_REMOVED: authors.email was removed." in found
    assert "-  email: String!" in found[-1]  # the SDL diff, model side


def test_a_field_the_server_makes_nullable_is_reported(editor: GraphQLSchema) -> None:
    data = _data(editor)
    name = _field(data, "authors", "name")
    assert name["type"]["kind"] == "NON_NULL"
    name["type"] = name["type"]["ofType"]
    found = compare_with_introspection(editor, data)
    assert "model → server: FIELD_CHANGED_KIND: authors.name changed type from String! to String." in found


def test_a_root_field_only_the_server_has_is_reported(editor: GraphQLSchema) -> None:
    data = _data(editor)
    query_root = _type(data, "query_root")
    extra = copy.deepcopy(_field(data, "query_root", "authors_by_pk"))
    query_root["fields"].append({**extra, "name": "authors_by_email"})
    found = compare_with_introspection(editor, data)
    assert "server → model: FIELD_REMOVED: query_root.authors_by_email was removed." in found
    # ... unless the caller's filter says it is not the project's (an action, another project's table).
    assert compare_with_introspection(editor, data, keep=lambda name: name != "authors_by_email") == []


def test_an_enum_value_and_an_input_default_are_reported(editor: GraphQLSchema) -> None:
    data = _data(editor)
    _type(data, "status_enum")["enumValues"].append(
        {"name": "retracted", "description": None, "isDeprecated": False, "deprecationReason": None}
    )
    removed = "VALUE_REMOVED_FROM_ENUM: retracted was removed from enum type status_enum."
    assert f"server → model: {removed}" in compare_with_introspection(editor, data)
    user = surface(*blog()).roles["user"].schema  # editor cannot insert: no on_conflict
    data = _data(user)
    _field(data, "articles_on_conflict", "update_columns", "inputFields")["defaultValue"] = "[title]"
    found = compare_with_introspection(user, data)
    assert len(found) == 1  # graphql-core does not compare input field defaults; the SDL diff does
    assert "+  update_columns: [articles_update_column!]! = [title]" in found[0]


def test_newer_aggregation_predicates_are_left_out_but_other_fields_are_not(editor: GraphQLSchema) -> None:
    data = _data(editor)
    predicates = _type(data, "articles_aggregate_bool_exp")
    count = _field(data, "articles_aggregate_bool_exp", "count", "inputFields")
    avg_type = {**copy.deepcopy(_type(data, "articles_aggregate_bool_exp_count")),
                "name": "articles_aggregate_bool_exp_avg"}  # fmt: skip
    data["__schema"]["types"].append(avg_type)
    avg = copy.deepcopy(count)
    avg["name"], avg["type"]["name"] = "avg", "articles_aggregate_bool_exp_avg"
    predicates["inputFields"].append(avg)
    assert compare_with_introspection(editor, data) == []
    stray = copy.deepcopy(count)
    stray["name"] = "avg_of_something"
    predicates["inputFields"].append(stray)
    found = compare_with_introspection(editor, data)
    assert any("articles_aggregate_bool_exp.avg_of_something" in f for f in found)
