"""Every role's GraphQL schema for one metadata + database pair: the `Surface` that `impact` compares."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLSchema

from kedge_hasura.graphql.access import ADMIN, TrackedTable, roles_of, tracked_tables
from kedge_hasura.graphql.build import build_role_schema
from kedge_hasura.graphql.catalog import DbCatalog, TableKey
from kedge_hasura.project.metadata_model import Metadata

# What feeds Hasura's schema but is not modelled here: listed in every result, never dropped silently.
NOT_MODELLED = (
    "actions and remote schemas",
    "tracked functions, and computed fields that take arguments or return rows",
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


MODELLED_FEATURES = frozenset(
    {"hide_stream_fields", "hide_update_many_fields", "hide_aggregation_predicates"}
)


def build_surface(
    metadata: Metadata,
    catalog: DbCatalog,
    *,
    source: str = "default",
    features: frozenset[str] = frozenset(),
) -> Surface:
    """Build the schema of `admin` and of every role named in a table permission of `source`.

    `features` are the server's experimental features (HASURA_GRAPHQL_EXPERIMENTAL_FEATURES); the
    ones outside MODELLED_FEATURES are named in the notes.
    """
    entry = metadata.source(source)
    notes: list[str] = [
        f"experimental feature {feature} is not modelled: the schema is derived as without it"
        for feature in sorted(features - MODELLED_FEATURES)
    ]
    if entry is None:
        notes.append(f"no source {source!r} in the metadata")
        return Surface(source, {ADMIN: _role(ADMIN, [], catalog, features)}, {}, catalog, notes)
    tables, table_notes = tracked_tables(entry, catalog)
    notes.extend(table_notes)
    others = [s.name for s in metadata.sources if s.name != source]
    if others:
        notes.append(f"only source {source!r} is modelled; left out: {', '.join(sorted(others))}")
    inherited = {role.role_name: tuple(role.role_set) for role in metadata.inherited_roles}
    for table in tables:
        table.inherited = inherited
    roles = {ADMIN: _role(ADMIN, tables, catalog, features)}
    # Inherited roles are in the role set too (Schema.hs buildGQLContext, allRoles).
    for role in sorted((roles_of(entry) | set(inherited)) - {ADMIN}):
        roles[role] = _role(role, tables, catalog, features)
    return Surface(source, roles, {table.key: table for table in tables}, catalog, notes)


def _role(role: str, tables: list[TrackedTable], catalog: DbCatalog, features: frozenset[str]) -> RoleSchema:
    schema, origins = build_role_schema(role, tables, catalog, features)
    return RoleSchema(role, schema, origins)
