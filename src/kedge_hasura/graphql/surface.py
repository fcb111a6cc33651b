"""Every role's GraphQL schema for one metadata + database pair: the `Surface` that `impact` compares."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from graphql import GraphQLSchema

from kedge_hasura.graphql.access import ADMIN, TrackedTable, roles_of, tracked_tables
from kedge_hasura.graphql.build import build_role_schema
from kedge_hasura.graphql.catalog import DbCatalog, TableKey
from kedge_hasura.graphql.functions import GraphQLFunction, tracked_functions
from kedge_hasura.graphql.naming import GRAPHQL_DEFAULT, HASURA_DEFAULT, Verbatim, apply_graphql_default
from kedge_hasura.project.metadata_model import Metadata

# What feeds Hasura's schema but is not modelled here: listed in every result, never dropped silently.
NOT_MODELLED = (
    "actions and remote schemas",
    "computed fields that take arguments or return rows",
    "backend-only (x-hasura-use-backend-only-permissions) schema variants",
    "aggregation predicates other than count, bool_and and bool_or (avg, corr, max, ... on newer servers)",
    "source customization (root field and type name prefix, suffix and namespace)",
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
    {"hide_stream_fields", "hide_update_many_fields", "hide_aggregation_predicates", "naming_convention"}
)


def build_surface(
    metadata: Metadata,
    catalog: DbCatalog,
    *,
    source: str = "default",
    features: frozenset[str] = frozenset(),
    infer_function_permissions: bool = True,
    default_naming_convention: str = HASURA_DEFAULT,
) -> Surface:
    """Build the schema of `admin` and of every role named in a table or function permission of `source`.

    `features` are the server's experimental features (HASURA_GRAPHQL_EXPERIMENTAL_FEATURES); the
    ones outside MODELLED_FEATURES are named in the notes. `infer_function_permissions` is the
    server's HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS (default true), and
    `default_naming_convention` its HASURA_GRAPHQL_DEFAULT_NAMING_CONVENTION (a source's
    `customization.naming_convention` wins; either counts only with the `naming_convention`
    experimental feature, as in RQL/DDL/Schema/Cache.hs).
    """
    entry = metadata.source(source)
    notes: list[str] = [
        f"experimental feature {feature} is not modelled: the schema is derived as without it"
        for feature in sorted(features - MODELLED_FEATURES)
    ]
    convention = HASURA_DEFAULT
    if "naming_convention" in features:
        customization = (entry.model_extra or {}).get("customization") if entry is not None else None
        chosen = customization.get("naming_convention") if isinstance(customization, dict) else None
        convention = chosen or default_naming_convention
    options = _Options(features, infer_function_permissions, convention)
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
    functions = [_inherit_function_permissions(function, inherited) for function in functions]
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


def _inherit_function_permissions(
    function: GraphQLFunction, inherited: dict[str, tuple[str, ...]]
) -> GraphQLFunction:
    """An inherited role has a function permission when any of its parents has one, through
    inherited parents too (RQL/DDL/Schema/Cache.hs, Note "Roles Inheritance" 3.,
    `mkBooleanPermissionMap`)."""
    permitted = set(function.permitted)
    grew = True
    while grew:
        gained = {
            role for role, parents in inherited.items() if role not in permitted and permitted & set(parents)
        }
        permitted |= gained
        grew = bool(gained)
    return replace(function, permitted=frozenset(permitted))


@dataclass(frozen=True)
class _Options:
    features: frozenset[str]
    infer_function_permissions: bool
    naming_convention: str


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
    if options.naming_convention == GRAPHQL_DEFAULT:
        schema, origins = apply_graphql_default(schema, origins, _verbatim(tables, visible))
    return RoleSchema(role, schema, origins)


def _verbatim(tables: list[TrackedTable], functions: list[GraphQLFunction]) -> Verbatim:
    """The names users chose, which graphql-default keeps as written."""
    verbatim = Verbatim()
    for table in tables:
        custom_columns = {name for column, name in table.column_names.items() if name != column}
        relationships = {rel.name for rel in table.relationships}
        verbatim.fields[table.key] = custom_columns | relationships | {c.name for c in table.computed}
        verbatim.relationships[table.key] = relationships
        config = table.entry.configuration
        for custom in (config.custom_root_fields if config else {}).values():
            name = custom.get("name") if isinstance(custom, dict) else custom
            if name:
                verbatim.root_fields.add(str(name))
        if table.enum_name:
            verbatim.enum_tables.add(table.enum_name)
        if config is not None and config.custom_name:
            verbatim.custom_identifiers.add(config.custom_name)
    for function in functions:
        verbatim.root_fields |= set(function.chosen_names)
        verbatim.function_args.add(function.args_type)
        if function.custom_name:
            verbatim.custom_identifiers.add(function.custom_name)
    return verbatim
