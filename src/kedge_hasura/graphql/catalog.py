"""What the GraphQL surface needs from a database: relations, columns, keys and enum-table rows.

Built from a schema `Snapshot` (schemadiff) plus two facts the snapshot does not hold and the
caller reads from the same database: the rows of enum tables and which views are insertable,
updatable or deletable. Hasura reads both the same way (`pg_table_metadata.sql` uses
`pg_relation_is_updatable`; enum values are read at metadata build, `fetchAndValidateEnumValues`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kedge_hasura.schemadiff.model import (
    Column,
    Constraint,
    Function,
    MaterializedView,
    Snapshot,
    Table,
    Type,
    View,
)
from kedge_hasura.schemadiff.snapshot import read_identifier

TableKey = tuple[str, str]


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    pg_type: str  # format_type text: "integer", "character varying(20)", "text[]", "public.mood"
    not_null: bool
    has_default: bool  # a default, a serial, an identity or a generated column
    insertable: bool  # not GENERATED ALWAYS AS IDENTITY, not a generated column
    updatable: bool  # not a generated column, not an identity ALWAYS column


@dataclass(frozen=True)
class ForeignKeyInfo:
    columns: tuple[str, ...]
    target: TableKey
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Mutability:
    insertable: bool = True
    updatable: bool = True
    deletable: bool = True


@dataclass(frozen=True)
class EnumValue:
    value: str
    description: str | None = None


@dataclass
class TableInfo:
    """A table, view or materialized view, as Hasura's table cache sees it."""

    schema: str
    name: str
    kind: str  # table, view, materialized view
    columns: list[ColumnInfo] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    unique_constraints: list[str] = field(default_factory=list)  # PK and UNIQUE constraint names
    foreign_keys: list[ForeignKeyInfo] = field(default_factory=list)
    mutability: Mutability = Mutability()

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)

    def column(self, name: str) -> ColumnInfo | None:
        return next((column for column in self.columns if column.name == name), None)


@dataclass(frozen=True)
class FunctionInfo:
    arguments: tuple[str, ...]  # identity arguments, "name type" or "type", in order
    result: str  # pg_get_function_result: "integer", "SETOF public.articles", ...
    volatility: str
    # pg_get_function_arguments, split: with modes (OUT, VARIADIC) and DEFAULT expressions
    declared: tuple[str, ...] = ()


@dataclass
class DbCatalog:
    """Relations of one database source, the base types of its domains, and enum-table rows."""

    tables: dict[TableKey, TableInfo] = field(default_factory=dict)
    functions: dict[TableKey, list[FunctionInfo]] = field(default_factory=dict)  # overloads by name
    domains: dict[str, str] = field(default_factory=dict)  # "schema.name" → base type text
    composites: set[str] = field(default_factory=set)  # "schema.name" of CREATE TYPE ... AS (...)
    enum_rows: dict[TableKey, list[EnumValue]] = field(default_factory=dict)

    def table(self, key: TableKey) -> TableInfo | None:
        return self.tables.get(key)


def catalog_from_snapshot(
    snapshot: Snapshot,
    *,
    enum_rows: Mapping[TableKey, list[EnumValue]] | None = None,
    view_mutability: Mapping[TableKey, Mutability] | None = None,
) -> DbCatalog:
    """The catalog of a snapshot; views are immutable unless `view_mutability` says otherwise."""
    catalog = DbCatalog(enum_rows=dict(enum_rows or {}))
    mutability = view_mutability or {}
    for obj in snapshot.of_kind("table").values():
        assert isinstance(obj, Table)
        catalog.tables[(obj.schema, obj.name)] = TableInfo(obj.schema, obj.name, "table")
    for kind, label in (("view", "view"), ("materialized_view", "materialized view")):
        for obj in snapshot.of_kind(kind).values():
            assert isinstance(obj, View | MaterializedView)
            key = (obj.schema, obj.name)
            # Materialized views are never mutable (pg_relation_is_updatable answers 0 for them).
            default = Mutability(False, False, False)
            catalog.tables[key] = TableInfo(
                obj.schema,
                obj.name,
                label,
                mutability=mutability.get(key, default) if kind == "view" else default,
            )
    columns = sorted(
        (c for c in snapshot.of_kind("column").values() if isinstance(c, Column)), key=lambda c: c.position
    )
    for column in columns:
        table = catalog.tables.get((column.schema, column.table))
        if table is None:
            continue
        generated = column.generated is not None
        table.columns.append(
            ColumnInfo(
                name=column.name,
                pg_type=column.type,
                not_null=column.not_null,
                has_default=column.default is not None or column.identity is not None,
                insertable=not generated and column.identity != "always",
                updatable=not generated and column.identity != "always",
            )
        )
    for constraint in snapshot.of_kind("constraint").values():
        assert isinstance(constraint, Constraint)
        table = catalog.tables.get((constraint.schema, constraint.table))
        if table is None:
            continue
        if constraint.constraint_type == "primary key":
            table.primary_key = constraint.columns
            table.unique_constraints.append(constraint.name)
        elif constraint.constraint_type == "unique":
            table.unique_constraints.append(constraint.name)
        elif constraint.constraint_type == "foreign key":
            parsed = _parse_foreign_key(constraint.definition)
            if parsed is not None:
                table.foreign_keys.append(ForeignKeyInfo(constraint.columns, parsed[0], parsed[1]))
    for function in snapshot.of_kind("function").values():
        if isinstance(function, Function) and function.function_kind == "function":
            info = FunctionInfo(
                _split_arguments(function.identity_arguments),
                function.result or "",
                function.volatility,
                _split_arguments(function.arguments),
            )
            catalog.functions.setdefault((function.schema, function.name), []).append(info)
    for type_ in snapshot.of_kind("type").values():
        if isinstance(type_, Type) and type_.type_kind == "domain" and type_.base_type:
            catalog.domains[f"{type_.schema}.{type_.name}"] = type_.base_type
        elif isinstance(type_, Type) and type_.type_kind == "composite":
            catalog.composites.add(f"{type_.schema}.{type_.name}")
    for table in catalog.tables.values():
        table.unique_constraints.sort()
    return catalog


def _parse_foreign_key(definition: str) -> tuple[TableKey, tuple[str, ...]] | None:
    """(target table, target columns) of `FOREIGN KEY (a) REFERENCES s.t(b) ...`."""
    marker = definition.find(" REFERENCES ")
    if not definition.startswith("FOREIGN KEY (") or marker < 0:
        return None
    position = marker + len(" REFERENCES ")
    first, position = read_identifier(definition, position)
    if definition[position : position + 1] == ".":
        second, position = read_identifier(definition, position + 1)
        target = (first, second)
    else:
        target = ("public", first)
    columns: list[str] = []
    if definition[position : position + 1] == "(":
        position += 1
        while position < len(definition):
            name, position = read_identifier(definition, position)
            columns.append(name)
            if definition[position : position + 2] != ", ":
                break
            position += 2
    return target, tuple(columns)


def _split_arguments(text: str) -> tuple[str, ...]:
    """Arguments split on top-level commas ("a public.t, b numeric(10,2)" → two); commas inside
    parentheses, quoted names and DEFAULT string literals ('a,b'::text) do not split."""
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""  # a doubled quote closes and reopens: the same split
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and char == ",":
            parts.append(text[start:index].strip())
            start = index + 1
    if text[start:].strip():
        parts.append(text[start:].strip())
    return tuple(parts)
