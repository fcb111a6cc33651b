"""Every role's GraphQL schema for one metadata + database pair: the `Surface` that `impact` compares."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLSchema

from kedge_hasura.graphql.access import ADMIN, TrackedTable, roles_of, tracked_tables
from kedge_hasura.graphql.build import build_role_schema
from kedge_hasura.graphql.catalog import DbCatalog, TableKey
from kedge_hasura.graphql.functions import GraphQLFunction, tracked_functions
from kedge_hasura.project.metadata_model import Metadata

# What feeds Hasura's schema but is not modelled here: listed in every result, never dropped silently.
NOT_MODELLED = (
    "actions and remote schemas",
    "computed fields that take arguments or return rows",
    "function permissions of inherited roles (an inherited role sees a mutation function only with "
    "a function permission of its own)",
    "backend-only (x-hasura-use-backend-only-permissions) schema variants",
    "aggregation predicates other than count, bool_and and bool_or (avg, corr, max, ... on newer servers)",
    "naming convention graphql-default and source customization (prefix, suffix, namespace)",
)


@dataclass(frozen=True)
class RoleSchema:
    role: str
    schema: GraphQLSchema
    origins: dict[str, TableKey]  # type name or "query_root.field" → table it comes from


@dataclass
class Surface:
    """The roles' schemas of one side, the tracked tables they come from, and what was left out."""

    source: str
    roles: dict[str, RoleSchema]
    tables: dict[TableKey, TrackedTable]
    catalog: DbCatalog
    notes: list[str] = field(default_factory=list)
    functions: dict[TableKey, GraphQLFunction] = field(default_factory=dict)


MODELLED_FEATURES = frozenset(
    {"hide_stream_fields", "hide_update_many_fields", "hide_aggregation_predicates"}
)


def build_surface(
    metadata: Metadata,
    catalog: DbCatalog,
    *,
    source: str = "default",
    features: frozenset[str] = frozenset(),
    infer_function_permissions: bool = True,
) -> Surface:
    """Build the schema of `admin` and of every role named in a table or function permission of `source`.

    `features` are the server's experimental features (HASURA_GRAPHQL_EXPERIMENTAL_FEATURES); the
    ones outside MODELLED_FEATURES are named in the notes. `infer_function_permissions` is the
    server's HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS (default true).
    """
    entry = metadata.source(source)
    notes: list[str] = [
        f"experimental feature {feature} is not modelled: the schema is derived as without it"
        for feature in sorted(features - MODELLED_FEATURES)
    ]
    options = _Options(features, infer_function_permissions)
    if entry is None:
        notes.append(f"no source {source!r} in the metadata")
        return Surface(source, {ADMIN: _role(ADMIN, [], [], catalog, options)}, {}, catalog, notes)
    tables, table_notes = tracked_tables(entry, catalog)
    notes.extend(table_notes)
    functions, function_notes = tracked_functions(entry, catalog, {table.key: table for table in tables})
    notes.extend(function_notes)
    others = [s.name for s in metadata.sources if s.name != source]
    if others:
        notes.append(f"only source {source!r} is modelled; left out: {', '.join(sorted(others))}")
    inherited = {role.role_name: tuple(role.role_set) for role in metadata.inherited_roles}
    for table in tables:
        table.inherited = inherited
    roles = {ADMIN: _role(ADMIN, tables, functions, catalog, options)}
    # Inherited roles are in the role set too (Schema.hs buildGQLContext, allRoles), and so are
    # roles named only in a function permission.
    named = roles_of(entry) | set(inherited) | {role for f in functions for role in f.permitted}
    for role in sorted(named - {ADMIN}):
        roles[role] = _role(role, tables, functions, catalog, options)
    return Surface(
        source,
        roles,
        {table.key: table for table in tables},
        catalog,
        notes,
        {function.key: function for function in functions},
    )


@dataclass(frozen=True)
class _Options:
    features: frozenset[str]
    infer_function_permissions: bool


def _role(
    role: str,
    tables: list[TrackedTable],
    functions: list[GraphQLFunction],
    catalog: DbCatalog,
    options: _Options,
) -> RoleSchema:
    visible = [
        f for f in functions if f.visible_to(role, infer_permissions=options.infer_function_permissions)
    ]
    schema, origins = build_role_schema(role, tables, catalog, options.features, visible)
    return RoleSchema(role, schema, origins)
