"""What each role may do with each tracked table, and the GraphQL names of tables and columns.

Resolved from the metadata (one `Source`) against the database catalog, the way Hasura's table
cache does before it builds any schema: `"*"` columns expand to the table's columns, presets
(`set`) leave the insert and update inputs, `admin` may do everything (`mkAdminRolePermInfo` in
server/src-lib/Hasura/Table/Cache.hs). Names follow the `hasura-default` naming convention only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kedge_hasura.graphql.catalog import DbCatalog, TableInfo, TableKey
from kedge_hasura.project.metadata_model import (
    ObjectRelationship,
    Permission,
    Relationship,
    Source,
    TableEntry,
)

ADMIN = "admin"
ROOT_FIELD_KEYS = (
    "select", "select_by_pk", "select_aggregate", "select_stream", "insert", "insert_one",
    "update", "update_by_pk", "update_many", "delete", "delete_by_pk",
)  # fmt: skip
_SUFFIXES = {
    "select": "", "select_by_pk": "_by_pk", "select_aggregate": "_aggregate", "select_stream": "_stream",
}  # fmt: skip
_PREFIXES = {
    "insert": ("insert_", ""), "insert_one": ("insert_", "_one"), "update": ("update_", ""),
    "update_by_pk": ("update_", "_by_pk"), "update_many": ("update_", "_many"),
    "delete": ("delete_", ""), "delete_by_pk": ("delete_", "_by_pk"),
}  # fmt: skip


@dataclass(frozen=True)
class SelectAccess:
    columns: tuple[str, ...]  # database column names, in table order
    row_filter: Any
    allow_aggregations: bool
    query_root_fields: frozenset[str] | None  # None: all allowed (key absent)
    subscription_root_fields: frozenset[str] | None
    computed_fields: tuple[str, ...] = ()
    # Inherited roles: columns not selectable by every parent are nullable (Table/Cache.hs
    # combinedSelPermInfoToSelPermInfo), whatever the column's own nullability.
    nullable_columns: frozenset[str] = frozenset()

    def allows(self, root: str, key: str) -> bool:
        allowed = self.query_root_fields if root == "query" else self.subscription_root_fields
        return allowed is None or key in allowed


@dataclass(frozen=True)
class WriteAccess:
    """Insert or update: the columns settable through GraphQL (permission columns minus presets)."""

    columns: tuple[str, ...]
    presets: frozenset[str]
    row_filter: Any  # update: filter; insert: check
    backend_only: bool


@dataclass(frozen=True)
class DeleteAccess:
    row_filter: Any
    backend_only: bool


@dataclass(frozen=True)
class TableAccess:
    select: SelectAccess | None = None
    insert: WriteAccess | None = None
    update: WriteAccess | None = None
    delete: DeleteAccess | None = None


@dataclass(frozen=True)
class RelationshipInfo:
    name: str
    kind: str  # object, array
    target: TableKey
    # Local columns of an object relationship whose key is on this table (None otherwise): with
    # all of them NOT NULL the relationship is non-null.
    local_columns: tuple[str, ...] | None


@dataclass(frozen=True)
class ComputedInfo:
    """A scalar computed field without user arguments (the kind modelled)."""

    name: str
    pg_type: str  # the function's result type


@dataclass
class TrackedTable:
    """A tracked table with its database facts and metadata, names resolved."""

    info: TableInfo
    entry: TableEntry
    identifier: str  # custom_name, else schema-prefixed table name
    root_fields: dict[str, str]  # ROOT_FIELD_KEYS → field name
    column_names: dict[str, str]  # database column → GraphQL field name
    relationships: list[RelationshipInfo] = field(default_factory=list)
    enum_name: str | None = None  # `<identifier>_enum` for `is_enum` tables
    computed: list[ComputedInfo] = field(default_factory=list)
    inherited: dict[str, tuple[str, ...]] = field(default_factory=dict)  # inherited role → its role_set

    @property
    def key(self) -> TableKey:
        return self.info.key

    def access(self, role: str, *, _seen: frozenset[str] = frozenset()) -> TableAccess:
        if role == ADMIN:
            columns = tuple(c.name for c in self.info.columns)
            writable = WriteAccess(
                tuple(c.name for c in self.info.columns), frozenset(), {}, backend_only=False
            )
            computed = tuple(c.name for c in self.computed)
            return TableAccess(
                select=SelectAccess(columns, {}, True, None, None, computed),
                insert=writable,
                update=writable,
                delete=DeleteAccess({}, backend_only=False),
            )
        own = _role_access(self, role)
        parents = self.inherited.get(role)
        if not parents:
            return own
        # A permission of the inherited role itself wins over the inherited one (v2.4+).
        # Hasura rejects cycles in role sets; a cycle here gives the role only what is outside it.
        seen = _seen | {role}
        inherited = _combine([self.access(parent, _seen=seen) for parent in parents if parent not in seen])
        return TableAccess(
            select=own.select or inherited.select,
            insert=own.insert or inherited.insert,
            update=own.update or inherited.update,
            delete=own.delete or inherited.delete,
        )


def table_identifier(schema: str, name: str, custom_name: str | None) -> str:
    """`public.t` → `t`, `s.t` → `s_t`; `custom_name` replaces both (GS/Table.hs getTableIdentifierName)."""
    if custom_name:
        return custom_name
    return name if schema == "public" else f"{schema}_{name}"


def tracked_tables(source: Source, catalog: DbCatalog) -> tuple[list[TrackedTable], list[str]]:
    """The source's tracked tables that exist in the catalog, and notes on those left out."""
    tables: list[TrackedTable] = []
    notes: list[str] = []
    for entry in source.tables:
        info = catalog.table(entry.table.key)
        if info is None:
            notes.append(f"{entry.table.display} is tracked but not in the database (inconsistent, left out)")
            continue
        tracked = _tracked(entry, info)
        problem = _invalid_name(tracked, catalog)
        if problem is not None:
            notes.append(f"{entry.table.display} is left out: {problem}")
            continue
        tables.append(tracked)
    by_key = {table.key: table for table in tables}
    for table in tables:
        table.relationships = [
            rel for rel in (_relationship(table, r, catalog) for r in table.entry.relationships()) if rel
        ]
        for rel in table.relationships:
            if rel.target not in by_key:
                notes.append(
                    f"relationship {table.info.schema}.{table.info.name}.{rel.name} "
                    "points to an untracked table"
                )
        table.relationships = [rel for rel in table.relationships if rel.target in by_key]
        if table.entry.is_enum:
            table.enum_name = f"{table.identifier}_enum"
        table.computed = _computed_fields(table, catalog, by_key, notes)
    return tables, notes


_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def is_graphql_name(text: str) -> bool:
    return _NAME.fullmatch(text) is not None


def _invalid_name(table: TrackedTable, catalog: DbCatalog) -> str | None:
    """Why Hasura has no schema for this table, or None.

    A table whose name is not a GraphQL name and has no custom_name is left out silently
    (GS/Common.hs takeValidTables); an enum table with a value that is not a GraphQL name (or is
    true, false, null) is inconsistent (Backends/Postgres/DDL/Table.hs fetchAndValidateEnumValues).
    A column name that is not a GraphQL name: Hasura's handling is not modelled, the table is left out.
    """
    if not is_graphql_name(table.identifier):
        return (
            f"{table.identifier!r} is not a GraphQL name and there is no custom_name (Hasura leaves it out)"
        )
    bad = sorted(name for name in table.column_names.values() if not is_graphql_name(name))
    if bad:
        return f"column field {bad[0]!r} is not a GraphQL name (not modelled; set a custom_name for it)"
    constraints = [c for c in table.info.unique_constraints if not is_graphql_name(c)]
    if constraints:
        # They become values of <table>_constraint (on_conflict); graphql-engine's own tests rename
        # such indexes before tracking (tests-py graphql_introspection/custom_table_name).
        return f"constraint {constraints[0]!r} is not a GraphQL name (not modelled; rename it)"
    if table.entry.is_enum:
        values = [row.value for row in catalog.enum_rows.get(table.key, [])]
        wrong = [v for v in values if not is_graphql_name(v) or v in ("true", "false", "null")]
        if wrong or not values:
            return (
                "enum table with no rows or a value that is not a GraphQL name (Hasura marks it inconsistent)"
            )
    return None


def roles_of(source: Source) -> set[str]:
    """Every role named in a table permission of the source (Schema.hs `allRoles`)."""
    return {permission.role for entry in source.tables for permission in entry.permissions()}


def _tracked(entry: TableEntry, info: TableInfo) -> TrackedTable:
    config = entry.configuration
    identifier = table_identifier(info.schema, info.name, config.custom_name if config else None)
    custom_roots = config.custom_root_fields if config else {}
    root_fields: dict[str, str] = {}
    for key in ROOT_FIELD_KEYS:
        custom = custom_roots.get(key)
        if isinstance(custom, dict):
            custom = custom.get("name")
        if key in _SUFFIXES:
            derived = identifier + _SUFFIXES[key]
        else:
            prefix, suffix = _PREFIXES[key]
            derived = prefix + identifier + suffix
        # A custom root field wins over custom_name + suffix (Table/Cache.hs setFieldNameCase).
        root_fields[key] = str(custom) if custom else derived
    column_names = {column.name: column.name for column in info.columns}
    if config is not None:
        # Legacy custom_column_names is merged in; column_config wins (Table/Cache.hs TableConfig).
        column_names.update({c: n for c, n in config.custom_column_names.items() if c in column_names})
        for column, settings in config.column_config.items():
            if column in column_names and isinstance(settings, dict) and settings.get("custom_name"):
                column_names[column] = str(settings["custom_name"])
    return TrackedTable(info, entry, identifier, root_fields, column_names)


def _relationship(table: TrackedTable, rel: Relationship, catalog: DbCatalog) -> RelationshipInfo | None:
    kind = "object" if isinstance(rel, ObjectRelationship) else "array"
    using = rel.using
    if using.manual_configuration is not None:
        return RelationshipInfo(rel.name, kind, using.manual_configuration.remote_table.key, None)
    fk = using.foreign_key_constraint_on
    if fk is None:
        return None
    if isinstance(fk, str | list):
        columns = (fk,) if isinstance(fk, str) else tuple(fk)
        target = next((f.target for f in table.info.foreign_keys if f.columns == columns), None)
        if target is None:
            return None  # the foreign key is gone: Hasura marks the relationship inconsistent
        return RelationshipInfo(rel.name, kind, target, columns)
    remote = catalog.table(fk.table.key)
    if remote is None:
        return None
    columns = tuple(fk.column_list())
    if not any(f.columns == columns and f.target == table.key for f in remote.foreign_keys):
        return None
    return RelationshipInfo(rel.name, kind, fk.table.key, None)


def _computed_fields(
    table: TrackedTable, catalog: DbCatalog, tables: dict[TableKey, TrackedTable], notes: list[str]
) -> list[ComputedInfo]:
    """The table's scalar computed fields without user arguments; a note for every other one.

    A scalar computed field is a nullable field of its result type, also in the bool_exp and
    order_by inputs (GS/Select.hs computedField; GS/BoolExp.hs, GS/OrderBy.hs). Hasura refuses
    overloaded and VOLATILE functions (RQL/DDL/ComputedField.hs), so those are left out too.
    """
    out = []
    where = f"{table.info.schema}.{table.info.name}"
    for field_ in table.entry.computed_fields:
        definition = field_.definition
        overloads = catalog.functions.get(definition.function.key, [])
        if len(overloads) != 1 or overloads[0].volatility == "volatile":
            notes.append(
                f"computed field {where}.{field_.name}: its function is missing, overloaded or VOLATILE "
                "(left out, as Hasura does)"
            )
            continue
        function = overloads[0]
        named = [argument.split(" ", 1)[0].strip('"') for argument in function.arguments]
        user = [
            name
            for index, name in enumerate(named)
            if not (name == definition.table_argument or (definition.table_argument is None and index == 0))
            and name != definition.session_argument
        ]
        result = function.result
        is_row = result.startswith("SETOF ") or result.startswith("TABLE(") or _row_type(result, tables)
        if user or is_row:
            notes.append(
                f"computed field {where}.{field_.name} takes arguments or returns rows (not modelled)"
            )
            continue
        out.append(ComputedInfo(field_.name, result))
    return out


def _row_type(result: str, tables: dict[TableKey, TrackedTable]) -> bool:
    schema, dot, name = result.replace('"', "").partition(".")
    return result == "record" or (bool(dot) and (schema, name) in tables)


def _combine(parents: list[TableAccess]) -> TableAccess:
    """The permissions an inherited role gets from its parents (Note "Roles Inheritance"): select
    permissions merged (columns united, rows of any parent, aggregations if any parent allows),
    a mutation permission only when every parent has the same one (else Hasura marks it
    inconsistent and the role gets none)."""
    selects = [p.select for p in parents if p.select is not None]
    select = None
    if selects:
        every = (
            set.intersection(*(set(s.columns) for s in selects)) if len(selects) == len(parents) else set()
        )
        columns = tuple(dict.fromkeys(c for s in selects for c in s.columns))
        filters = [s.row_filter for s in selects]
        roots = [s.query_root_fields for s in selects]
        subs = [s.subscription_root_fields for s in selects]
        select = SelectAccess(
            columns=columns,
            row_filter=filters[0] if len(filters) == 1 else {"_or": filters},
            allow_aggregations=any(s.allow_aggregations for s in selects),
            query_root_fields=None if None in roots else frozenset().union(*roots),  # type: ignore[arg-type]
            subscription_root_fields=None if None in subs else frozenset().union(*subs),  # type: ignore[arg-type]
            computed_fields=tuple(dict.fromkeys(c for s in selects for c in s.computed_fields)),
            nullable_columns=frozenset(columns) - every,
        )

    def agreed(kind: str) -> Any:
        values = [getattr(p, kind) for p in parents]
        return values[0] if values and all(v is not None and v == values[0] for v in values) else None

    return TableAccess(
        select=select, insert=agreed("insert"), update=agreed("update"), delete=agreed("delete")
    )


def _role_access(table: TrackedTable, role: str) -> TableAccess:
    entry, info = table.entry, table.info
    all_columns = [c.name for c in info.columns]

    def find(permissions: list[Any]) -> Permission | None:
        return next((p for p in permissions if p.role == role), None)

    def columns_of(value: Any) -> tuple[str, ...]:
        if value == "*":
            return tuple(all_columns)
        wanted = set(value or [])
        return tuple(c for c in all_columns if c in wanted)

    select = insert = update = None
    delete = None
    if (p := find(entry.select_permissions)) is not None:
        extra = p.permission.model_extra or {}
        select = SelectAccess(
            columns=columns_of(p.permission.columns),
            row_filter=p.permission.row_filter or {},
            allow_aggregations=bool(p.permission.allow_aggregations),
            query_root_fields=_field_set(extra.get("query_root_fields")),
            subscription_root_fields=_field_set(extra.get("subscription_root_fields")),
            computed_fields=tuple(
                c.name for c in table.computed if c.name in set(p.permission.computed_fields or [])
            ),
        )
    for kind in ("insert", "update"):
        p = find(entry.insert_permissions if kind == "insert" else entry.update_permissions)
        if p is None:
            continue
        presets = frozenset((p.permission.presets or {}).keys())
        access = WriteAccess(
            columns=tuple(c for c in columns_of(p.permission.columns) if c not in presets),
            presets=presets,
            row_filter=(p.permission.check if kind == "insert" else p.permission.row_filter) or {},
            backend_only=bool(p.permission.backend_only),
        )
        if kind == "insert":
            insert = access
        else:
            update = access
    if (p := find(entry.delete_permissions)) is not None:
        delete = DeleteAccess(p.permission.row_filter or {}, backend_only=bool(p.permission.backend_only))
    return TableAccess(select=select, insert=insert, update=update, delete=delete)


def _field_set(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(str(v) for v in value)


def filter_conjuncts(value: Any) -> frozenset[str]:
    """A boolean expression read as a set of conjuncts: its top-level conditions, `_and` lists
    flattened, each as canonical JSON. {} (and `{"_and": []}`) is the empty set: every row."""
    terms: set[str] = set()
    if not isinstance(value, dict):
        return frozenset({json.dumps(value, sort_keys=True)})
    for key, item in value.items():
        if key == "_and" and isinstance(item, list):
            for part in item:
                terms |= filter_conjuncts(part)
        else:
            terms.add(json.dumps({key: item}, sort_keys=True))
    return frozenset(terms)
