"""Compare a role's schema as `impact` derives it with a Hasura server's own introspection.

`compare_with_introspection(derived, introspection)` returns the differences, empty when they agree.
Both sides go through the same path (introspection data → `build_client_schema`), so a difference
is one of content, never of how the two schemas were built.

What is compared: the root fields `keep` accepts, on both sides, and every type reachable from them
(as in Hasura, where a type exists only when a root field reaches it). What is left out, and why:

- root fields `keep` rejects: on a shared server the schema also holds other projects' tables,
  actions and remote schemas (not modelled: surface.NOT_MODELLED); the caller names what its
  project's tables give. The same filter applies to the model, so a table root field the model has
  and the server lacks is still reported.
- directives: Hasura declares its own (`@cached`, and others by version); the model declares only
  the specified ones. Both sides get graphql-core's specified directives.
- descriptions: the model leaves them out (build.py); they are not part of what a client depends on.
- aggregation predicates other than count, bool_and and bool_or: newer servers add more (avg, max,
  ...) to `<t>_aggregate_bool_exp`, which the model does not (types.py aggregate_bool_exp). Only a
  field named F whose type is `<t>_aggregate_bool_exp_F` is dropped, so a stray field is reported.

Not left out, though the model does not have them: computed fields that take arguments or return
rows, naming conventions, source customization. A project that uses them shows differences.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from difflib import unified_diff
from typing import Any, cast

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    IntrospectionQuery,
    build_client_schema,
    find_breaking_changes,
    find_dangerous_changes,
    introspection_from_schema,
    lexicographic_sort_schema,
    print_schema,
    specified_directives,
)
from graphql.utilities.find_breaking_changes import BreakingChange, DangerousChange

MODELLED_PREDICATES = frozenset({"count", "bool_and", "bool_or"})


def compare_with_introspection(
    derived: GraphQLSchema,
    introspection: dict[str, Any],
    *,
    keep: Callable[[str], bool] = lambda name: True,
) -> list[str]:
    """The differences between `derived` and the server schema `introspection` describes.

    `introspection` is the `data` of the standard introspection query (`get_introspection_query()`).
    Each graphql-core change is one entry, labelled by direction: in `model → server` "X was
    removed" means the model has X and the server has not; in `server → model`, the other way
    round. When the printed schemas differ, the last entry is their unified diff, so a difference
    graphql-core does not classify (an input field's default value) is reported too.
    """
    ours = _restricted(_client_schema(introspection_from_schema(derived)), keep)
    theirs = _restricted(_client_schema(introspection), keep)
    differences = []
    for label, old, new in (("model → server", ours, theirs), ("server → model", theirs, ours)):
        changes: list[BreakingChange | DangerousChange] = [*find_breaking_changes(old, new)]
        changes += find_dangerous_changes(old, new)
        differences += [f"{label}: {change.type.name}: {change.description}" for change in changes]
    diff = unified_diff(_sdl(ours), _sdl(theirs), "model", "server", lineterm="")
    text = "\n".join(diff)
    if text:
        differences.append(text)
    return differences


def _client_schema(introspection: Any) -> GraphQLSchema:
    return build_client_schema(cast(IntrospectionQuery, _plain(introspection)))


def _plain(introspection: Any) -> dict[str, Any]:
    """A copy without descriptions and without the aggregation predicates the model leaves out."""
    data: dict[str, Any] = copy.deepcopy(dict(introspection))
    schema = data["__schema"]
    schema.pop("description", None)
    for type_ in schema["types"]:
        type_["description"] = None
        for key in ("fields", "inputFields", "enumValues"):
            for item in type_.get(key) or []:
                item["description"] = None
                for arg in item.get("args") or []:
                    arg["description"] = None
        name = type_["name"]
        if type_["kind"] == "INPUT_OBJECT" and name.endswith("_aggregate_bool_exp"):
            type_["inputFields"] = [
                f
                for f in type_["inputFields"]
                if f["name"] in MODELLED_PREDICATES or _named_type(f["type"]) != f"{name}_{f['name']}"
            ]
    return data


def _named_type(ref: dict[str, Any]) -> str | None:
    while ref.get("ofType") is not None:
        ref = ref["ofType"]
    name = ref.get("name")
    return name if isinstance(name, str) else None


def _restricted(schema: GraphQLSchema, keep: Callable[[str], bool]) -> GraphQLSchema:
    """The schema of the kept root fields: the types they reach, the specified directives only."""

    def root(type_: GraphQLObjectType | None) -> GraphQLObjectType | None:
        fields = {n: f for n, f in (type_.fields if type_ else {}).items() if keep(n)}
        return GraphQLObjectType(type_.name, fields) if type_ and fields else None

    return GraphQLSchema(
        query=root(schema.query_type),
        mutation=root(schema.mutation_type),
        subscription=root(schema.subscription_type),
        directives=specified_directives,
    )


def _sdl(schema: GraphQLSchema) -> list[str]:
    return print_schema(lexicographic_sort_schema(schema)).splitlines()
