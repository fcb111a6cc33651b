"""The `graphql-default` naming convention, applied to a schema built with `hasura-default` names.

Hasura names every generated type in PascalCase and every generated field, argument and input
field in camelCase under graphql-default, and upper-cases enum-table values and `order_by`
values (../shared/hasura-graphql-surface.md §2.3; server/src-lib/Hasura/GraphQL/Schema/Common.hs
`applyFieldNameCaseCust`, `applyTypeNameCaseCust`, `applyEnumValueCase`; Data/Text/Casing.hs).
Names a user chose are kept as written: relationship and computed-field names, custom column
names and custom root fields; a custom table name keeps the case of its first word.

It is renamed here rather than built in, so the builder keeps one spelling of every name: the
schema is printed, its SDL renamed node by node, and built again.

What is uncertain (§14 of the notes): whether `pk_columns`, `affected_rows` and `update_columns`
are camel-cased (they are in current code, so they are here); whether an underscore name of a
custom table is re-cased in type names (here it is); enum values of `<t>_select_column` are the
columns' field names, camel-cased like the fields. Scalars and root type names never change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    build_ast_schema,
    parse,
    print_schema,
    visit,
)
from graphql.language import Visitor

from kedge_hasura.graphql.catalog import TableKey

GRAPHQL_DEFAULT = "graphql-default"
HASURA_DEFAULT = "hasura-default"
_ROOTS = frozenset({"query_root", "mutation_root", "subscription_root"})
_UPPER_ENUMS = frozenset({"order_by"})
_Rename = Callable[..., str]


@dataclass
class Verbatim:
    """Names the user chose, kept as written: per table, field names (custom column names,
    relationships, computed fields) in every type that comes from the table; root fields by name;
    enum types whose values are enum-table rows."""

    fields: dict[TableKey, set[str]] = field(default_factory=dict)
    relationships: dict[TableKey, set[str]] = field(default_factory=dict)
    root_fields: set[str] = field(default_factory=set)
    enum_tables: set[str] = field(default_factory=set)  # `<t>_enum` type names
    # Tracked functions' `<fn>_args` types: camel-cased, not Pascal-cased (Function/Common.hs names
    # them as a field), and their fields (SQL argument names) kept while naming-convention-sep-2023
    # is off (Backends/Postgres/Schema/Select.hs functionArgs).
    function_args: set[str] = field(default_factory=set)


def camel(name: str) -> str:
    """`kedge_practice_users_by_pk` → `kedgePracticeUsersByPk`; `_is_null` → `_isNull`; the first
    word keeps its case (`authorDetails_aggregate` → `authorDetailsAggregate`)."""
    lead = len(name) - len(name.lstrip("_"))
    words = [w for w in name[lead:].split("_") if w]
    if not words:
        return name
    return "_" * lead + words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def pascal(name: str) -> str:
    """`kedge_practice_users_bool_exp` → `KedgePracticeUsersBoolExp`."""
    words = [w for w in name.split("_") if w]
    return "".join(w[:1].upper() + w[1:] for w in words) or name


def apply_graphql_default(
    schema: GraphQLSchema, origins: Mapping[str, TableKey], verbatim: Verbatim
) -> tuple[GraphQLSchema, dict[str, TableKey]]:
    """The schema with graphql-default names, and `origins` keyed by the new names."""
    document = parse(print_schema(schema))
    scalars = {d.name.value for d in document.definitions if isinstance(d, ScalarTypeDefinitionNode)}
    builtins = {"Int", "Float", "String", "Boolean", "ID"}

    def type_name(name: str) -> str:
        if name in _ROOTS or name in scalars or name in builtins:
            return name
        return camel(name) if name in verbatim.function_args else pascal(name)

    def field_name(owner: str, name: str) -> str:
        if owner in verbatim.function_args:
            return name
        if owner in _ROOTS:
            return name if name in verbatim.root_fields else camel(name)
        table = origins.get(owner)
        if table is not None:
            if name in verbatim.fields.get(table, set()):
                return name
            for rel in verbatim.relationships.get(table, set()):
                if name == f"{rel}_aggregate":  # GS/Select.hs relationshipField: only the suffix is cased
                    return f"{rel}Aggregate"
        return camel(name)

    def enum_value(owner: str, value: str) -> str:
        if owner in _UPPER_ENUMS or owner in verbatim.enum_tables:
            return value.upper()
        if owner.endswith("_constraint") or value == "_PLACEHOLDER":
            return value  # constraint names are not re-cased without naming-convention-sep-2023
        return field_name(owner, value)

    renamed = _rename(document, type_name, field_name, enum_value)
    new_origins = {}
    for key, table in origins.items():
        owner, dot, name = key.partition(".")
        new_origins[f"{type_name(owner)}.{field_name(owner, name)}" if dot else type_name(key)] = table
    return build_ast_schema(renamed), new_origins


def _rename(
    document: DocumentNode, type_name: _Rename, field_name: _Rename, enum_value: _Rename
) -> DocumentNode:
    """Rename `document` in place: type definitions and references, fields, arguments, input fields
    and enum values, each by its owner's hasura-default name."""
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode):
            owner = definition.name.value
            for field_ in definition.fields or ():
                field_.name.value = field_name(owner, field_.name.value)
                for argument in field_.arguments or ():
                    argument.name.value = camel(argument.name.value)  # arguments are all generated
        elif isinstance(definition, InputObjectTypeDefinitionNode):
            owner = definition.name.value
            for value in definition.fields or ():
                value.name.value = field_name(owner, value.name.value)
        elif isinstance(definition, EnumTypeDefinitionNode):
            owner = definition.name.value
            for enum in definition.values or ():
                enum.name.value = enum_value(owner, enum.name.value)

    class TypeRenamer(Visitor):
        def enter_named_type(self, node: NamedTypeNode, *_: object) -> None:
            node.name.value = type_name(node.name.value)

    for definition in document.definitions:
        if isinstance(
            definition, ObjectTypeDefinitionNode | InputObjectTypeDefinitionNode | EnumTypeDefinitionNode
        ):
            definition.name.value = type_name(definition.name.value)
    visit(document, TypeRenamer())
    return document
