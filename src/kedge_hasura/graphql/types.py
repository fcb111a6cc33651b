"""The types of one role's schema that queries use: objects, filters, ordering, aggregates.

`TypeBuilder` creates each named type on first reference, so only what is reachable from the
root types exists, as in Hasura. `build.SchemaBuilder` adds the root fields and mutation inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
)

from kedge_hasura.graphql.access import ComputedInfo, RelationshipInfo, TableAccess, TrackedTable
from kedge_hasura.graphql.catalog import ColumnInfo, DbCatalog, TableKey
from kedge_hasura.graphql.scalars import ScalarType, scalar_of

_T = TypeVar("_T", bound=GraphQLNamedType)
_BUILTIN_SCALARS = {
    "Int": GraphQLInt,
    "Float": GraphQLFloat,
    "String": GraphQLString,
    "Boolean": GraphQLBoolean,
}
_NUMERIC_OPS = ("avg", "stddev", "stddev_pop", "stddev_samp", "sum", "var_pop", "var_samp", "variance")
_STRING_OPS = (
    "_ilike",
    "_iregex",
    "_like",
    "_nilike",
    "_niregex",
    "_nlike",
    "_nregex",
    "_nsimilar",
    "_regex",
    "_similar",
)
_ORDER_BY_VALUES = ("asc", "asc_nulls_first", "asc_nulls_last", "desc", "desc_nulls_first", "desc_nulls_last")


def nn(t: Any) -> Any:
    return GraphQLNonNull(t)


def list_nn(t: Any) -> Any:
    return GraphQLList(GraphQLNonNull(t))


class TypeBuilder:
    """Builds the query-side types of `role`; `origins` maps each type to its table."""

    def __init__(
        self,
        role: str,
        tables: list[TrackedTable],
        catalog: DbCatalog,
        features: frozenset[str] = frozenset(),
    ):
        self.role = role
        self.features = features  # the server's experimental features (config: kedge.graphql)
        self.catalog = catalog
        self.tables = {table.key: table for table in tables}
        self.access: dict[TableKey, TableAccess] = {table.key: table.access(role) for table in tables}
        self.types: dict[str, GraphQLNamedType] = {}
        self.origins: dict[str, TableKey] = {}  # type name or "root_type.field" → table

    def _named(self, name: str, key: TableKey | None, make: Callable[[], _T]) -> _T:
        if name not in self.types:
            self.types[name] = make()
            if key is not None:
                self.origins[name] = key
        return cast(_T, self.types[name])

    def _input_object(
        self, name: str, key: TableKey, fields: dict[str, GraphQLInputField]
    ) -> GraphQLInputObjectType:
        return self._named(name, key, lambda: GraphQLInputObjectType(name, fields))

    def _enum(self, name: str, key: TableKey, values: dict[str, GraphQLEnumValue]) -> GraphQLEnumType:
        return self._named(name, key, lambda: GraphQLEnumType(name, values))

    def _object(self, name: str, key: TableKey, fields: dict[str, GraphQLField]) -> GraphQLObjectType:
        return self._named(name, key, lambda: GraphQLObjectType(name, fields))

    def computed(self, table: TrackedTable) -> list[ComputedInfo]:
        """The scalar computed fields the role may select (admin: all)."""
        select = self.access[table.key].select
        allowed = set(select.computed_fields) if select else set()
        return [c for c in table.computed if c.name in allowed]

    def selectable(self, table: TrackedTable) -> list[ColumnInfo]:
        select = self.access[table.key].select
        allowed = set(select.columns) if select else set()
        return [c for c in table.info.columns if c.name in allowed]

    def scalar(self, name: str) -> GraphQLScalarType:
        return _BUILTIN_SCALARS.get(name) or self._named(name, None, lambda: GraphQLScalarType(name))

    def column_base(self, table: TrackedTable, column: ColumnInfo) -> tuple[Any, ScalarType]:
        """The column's named type (scalar, or the enum of an enum table it references)."""
        scalar = scalar_of(column.pg_type, self.catalog.domains)
        enum_table = self._enum_table_of(table, column)
        if enum_table is not None and not scalar.is_array:
            return self.enum_type(enum_table), scalar
        base = self.scalar(scalar.name)
        return (list_nn(base) if scalar.is_array else base), scalar

    def _enum_table_of(self, table: TrackedTable, column: ColumnInfo) -> TrackedTable | None:
        # A single-column foreign key to an is_enum table's key makes the column that enum
        # (RQL/DDL/Schema/Enum.hs resolveEnumReferences).
        for fk in table.info.foreign_keys:
            target = self.tables.get(fk.target)
            if fk.columns == (column.name,) and target is not None and target.enum_name is not None:
                return target
        return None

    def enum_type(self, table: TrackedTable) -> GraphQLEnumType:
        assert table.enum_name is not None
        rows = sorted(self.catalog.enum_rows.get(table.key, []), key=lambda row: row.value)
        values = {row.value: GraphQLEnumValue(row.value, description=row.description) for row in rows}
        return self._named(table.enum_name, table.key, lambda: GraphQLEnumType(table.enum_name or "", values))

    def column_output(self, table: TrackedTable, column: ColumnInfo) -> GraphQLOutputType:
        base, _ = self.column_base(table, column)
        select = self.access[table.key].select
        not_null = column.not_null and not (select and column.name in select.nullable_columns)
        return cast(GraphQLOutputType, nn(base) if not_null else base)

    def object_type(self, table: TrackedTable) -> GraphQLObjectType:
        def fields() -> dict[str, GraphQLField]:
            out: dict[str, GraphQLField] = {}
            for column in self.selectable(table):
                args = None
                if scalar_of(column.pg_type, self.catalog.domains).name in ("json", "jsonb"):
                    args = {"path": GraphQLArgument(GraphQLString)}  # JSON select path
                out[table.column_names[column.name]] = GraphQLField(self.column_output(table, column), args)
            for rel in table.relationships:
                out.update(self.relationship_fields(table, rel))
            for computed in self.computed(table):
                scalar = scalar_of(computed.pg_type, self.catalog.domains)
                base = self.scalar(scalar.name)
                args = {"path": GraphQLArgument(GraphQLString)} if scalar.name in ("json", "jsonb") else None
                out[computed.name] = GraphQLField(list_nn(base) if scalar.is_array else base, args)
            return out

        return self._named(table.identifier, table.key, lambda: GraphQLObjectType(table.identifier, fields))

    def relationship_fields(self, table: TrackedTable, rel: RelationshipInfo) -> dict[str, GraphQLField]:
        """Fields of a relationship; none when the role cannot select the target (GS/Select.hs)."""
        target = self.tables[rel.target]
        target_select = self.access[rel.target].select
        if target_select is None:
            return {}
        obj = self.object_type(target)
        if rel.kind == "object":
            # GS/Select.hs relationshipField: the field is non-null exactly when the relationship
            # is (`riIsNullable`), whatever the target's row filter. [infer] riIsNullable is false
            # for a key on this table whose columns are all NOT NULL, true for manual and
            # remote-key relationships (RQL/DDL/Relationship.hs objRelP2Setup; check on a live server).
            columns = {c.name: c for c in table.info.columns}
            non_null = rel.local_columns is not None and all(
                columns[c].not_null for c in rel.local_columns if c in columns
            )
            return {rel.name: GraphQLField(nn(obj) if non_null else obj)}
        fields = {rel.name: GraphQLField(nn(list_nn(obj)), self.select_args(target))}
        if target_select.allow_aggregations:
            fields[f"{rel.name}_aggregate"] = GraphQLField(
                nn(self.aggregate_type(target)), self.select_args(target)
            )
        return fields

    def select_args(self, table: TrackedTable) -> dict[str, GraphQLArgument]:
        args: dict[str, GraphQLArgument] = {}
        select_column = self.select_column(table)
        if select_column is not None:  # GS/Table.hs tableSelectColumnsEnum: only with ≥1 column
            args["distinct_on"] = GraphQLArgument(list_nn(select_column))
        args["limit"] = GraphQLArgument(GraphQLInt)
        args["offset"] = GraphQLArgument(GraphQLInt)
        args["order_by"] = GraphQLArgument(list_nn(self.order_by(table)))
        args["where"] = GraphQLArgument(self.bool_exp(table))
        return args

    def pk_args(self, table: TrackedTable) -> dict[str, GraphQLArgument]:
        return {
            table.column_names[c.name]: GraphQLArgument(nn(self.column_base(table, c)[0]))
            for c in table.info.columns
            if c.name in table.info.primary_key
        }

    def select_column(self, table: TrackedTable) -> GraphQLEnumType | None:
        columns = self.selectable(table)
        if not columns:
            return None
        name = f"{table.identifier}_select_column"
        values = {table.column_names[c.name]: GraphQLEnumValue(c.name) for c in columns}
        return self._named(name, table.key, lambda: GraphQLEnumType(name, values))

    def order_by_enum(self) -> GraphQLEnumType:
        return self._named(
            "order_by",
            None,
            lambda: GraphQLEnumType("order_by", {v: GraphQLEnumValue(v) for v in _ORDER_BY_VALUES}),
        )

    def comparison_exp(self, base: Any, scalar: ScalarType, is_enum: bool) -> GraphQLInputObjectType:
        named = base.of_type.of_type if isinstance(base, GraphQLList) else base
        name = (
            f"{named.name}_array_comparison_exp"
            if isinstance(base, GraphQLList)
            else f"{named.name}_comparison_exp"
        )

        def fields() -> dict[str, GraphQLInputField]:
            out = {op: GraphQLInputField(base) for op in ("_eq", "_neq")}
            out["_in"] = out["_nin"] = GraphQLInputField(GraphQLList(nn(base)))
            out["_is_null"] = GraphQLInputField(GraphQLBoolean)
            if is_enum:  # PGI comparisonExps: enum columns get equality operators only
                return dict(sorted(out.items()))
            for op in ("_gt", "_gte", "_lt", "_lte"):
                out[op] = GraphQLInputField(base)
            if isinstance(base, GraphQLList):
                out["_contains"] = out["_contained_in"] = GraphQLInputField(base)
            elif scalar.is_string:
                out.update({op: GraphQLInputField(GraphQLString) for op in _STRING_OPS})
            elif scalar.name == "jsonb":
                out["_contains"] = out["_contained_in"] = GraphQLInputField(base)
                out["_has_key"] = GraphQLInputField(GraphQLString)
                out["_has_keys_all"] = out["_has_keys_any"] = GraphQLInputField(list_nn(GraphQLString))
            return dict(sorted(out.items()))

        return self._named(name, None, lambda: GraphQLInputObjectType(name, fields))

    def bool_exp(self, table: TrackedTable) -> GraphQLInputObjectType:
        name = f"{table.identifier}_bool_exp"

        def fields() -> dict[str, GraphQLInputField]:
            me = cast(GraphQLInputObjectType, self.types[name])
            out = {
                "_and": GraphQLInputField(list_nn(me)),
                "_not": GraphQLInputField(me),
                "_or": GraphQLInputField(list_nn(me)),
            }
            for column in self.selectable(table):
                base, scalar = self.column_base(table, column)
                is_enum = isinstance(base, GraphQLEnumType)
                out[table.column_names[column.name]] = GraphQLInputField(
                    self.comparison_exp(base, scalar, is_enum)
                )
            for rel in table.relationships:
                target_select = self.access[rel.target].select
                if target_select is None:
                    continue
                out[rel.name] = GraphQLInputField(self.bool_exp(self.tables[rel.target]))
                hidden = "hide_aggregation_predicates" in self.features
                if rel.kind == "array" and target_select.allow_aggregations and not hidden:
                    predicates = self.aggregate_bool_exp(self.tables[rel.target])
                    out[f"{rel.name}_aggregate"] = GraphQLInputField(predicates)
            for computed in self.computed(table):
                scalar = scalar_of(computed.pg_type, self.catalog.domains)
                base = self.scalar(scalar.name)
                out[computed.name] = GraphQLInputField(
                    self.comparison_exp(list_nn(base) if scalar.is_array else base, scalar, False)
                )
            return out

        return self._named(name, table.key, lambda: GraphQLInputObjectType(name, fields))

    def aggregate_bool_exp(self, table: TrackedTable) -> GraphQLInputObjectType:
        """Aggregation predicates over an array relationship's target (GS/BoolExp/AggregationPredicates.hs):
        `count` always, `bool_and` / `bool_or` when a boolean column is selectable. Newer servers
        add more functions (avg, corr, max, ...); those are not modelled."""
        name = f"{table.identifier}_aggregate_bool_exp"

        def function_input(
            function: str, arguments: Any, predicate: GraphQLInputObjectType
        ) -> GraphQLInputObjectType:
            fields = {
                "arguments": GraphQLInputField(arguments),
                "distinct": GraphQLInputField(GraphQLBoolean),
                "filter": GraphQLInputField(self.bool_exp(table)),
                "predicate": GraphQLInputField(nn(predicate)),
            }
            if arguments is None:
                del fields["arguments"]
            return self._input_object(f"{name}_{function}", table.key, fields)

        def fields() -> dict[str, GraphQLInputField]:
            select_column = self.select_column(table)
            int_exp = self.comparison_exp(GraphQLInt, scalar_of("integer", {}), False)
            out = {"count": GraphQLInputField(function_input(
                "count", list_nn(select_column) if select_column else None, int_exp))}  # fmt: skip
            booleans = [
                c
                for c in self.selectable(table)
                if scalar_of(c.pg_type, self.catalog.domains).name == "Boolean"
            ]
            if booleans:
                bool_exp = self.comparison_exp(GraphQLBoolean, scalar_of("boolean", {}), False)
                for function in ("bool_and", "bool_or"):
                    enum_name = f"{table.identifier}_select_column_{name}_{function}_arguments_columns"
                    values = {table.column_names[c.name]: GraphQLEnumValue(c.name) for c in booleans}
                    columns = self._enum(enum_name, table.key, values)
                    out[function] = GraphQLInputField(function_input(function, nn(columns), bool_exp))
            return dict(sorted(out.items()))

        return self._named(name, table.key, lambda: GraphQLInputObjectType(name, fields))

    def order_by(self, table: TrackedTable) -> GraphQLInputObjectType:
        name = f"{table.identifier}_order_by"

        def fields() -> dict[str, GraphQLInputField]:
            out = {
                table.column_names[c.name]: GraphQLInputField(self.order_by_enum())
                for c in self.selectable(table)
            }
            for rel in table.relationships:
                target_select = self.access[rel.target].select
                target = self.tables[rel.target]
                if target_select is None:
                    continue
                if rel.kind == "object":
                    out[rel.name] = GraphQLInputField(self.order_by(target))
                elif target_select.allow_aggregations:
                    out[f"{rel.name}_aggregate"] = GraphQLInputField(self.aggregate_order_by(target))
            for computed in self.computed(table):
                out[computed.name] = GraphQLInputField(self.order_by_enum())
            return out

        return self._named(name, table.key, lambda: GraphQLInputObjectType(name, fields))

    def _op_columns(self, table: TrackedTable, op: str) -> list[ColumnInfo]:
        columns = [(c, scalar_of(c.pg_type, self.catalog.domains)) for c in self.selectable(table)]
        if op in ("max", "min"):
            return [c for c, s in columns if s.is_comparable and self._enum_table_of(table, c) is None]
        return [c for c, s in columns if s.is_numeric]

    def aggregate_order_by(self, table: TrackedTable) -> GraphQLInputObjectType:
        name = f"{table.identifier}_aggregate_order_by"

        def fields() -> dict[str, GraphQLInputField]:
            out = {"count": GraphQLInputField(self.order_by_enum())}
            for op in sorted((*_NUMERIC_OPS, "max", "min")):
                columns = self._op_columns(table, op)
                if columns:
                    op_name = f"{table.identifier}_{op}_order_by"
                    op_fields = {
                        table.column_names[c.name]: GraphQLInputField(self.order_by_enum()) for c in columns
                    }
                    out[op] = GraphQLInputField(self._input_object(op_name, table.key, op_fields))
            return out

        return self._named(name, table.key, lambda: GraphQLInputObjectType(name, fields))

    def aggregate_type(self, table: TrackedTable) -> GraphQLObjectType:
        name, fields_name = f"{table.identifier}_aggregate", f"{table.identifier}_aggregate_fields"

        def aggregate_fields() -> dict[str, GraphQLField]:
            count_args = {"distinct": GraphQLArgument(GraphQLBoolean)}
            select_column = self.select_column(table)
            if select_column is not None:
                count_args = {"columns": GraphQLArgument(list_nn(select_column)), **count_args}
            out = {"count": GraphQLField(nn(GraphQLInt), count_args)}
            for op in sorted((*_NUMERIC_OPS, "max", "min")):
                columns = self._op_columns(table, op)
                if not columns:
                    continue
                keep_type = op in ("max", "min", "sum")  # the others are Float (GS/Select.hs)
                op_fields = {
                    table.column_names[c.name]: GraphQLField(
                        self.column_base(table, c)[0] if keep_type else GraphQLFloat
                    )
                    for c in columns
                }
                op_name = f"{table.identifier}_{op}_fields"
                out[op] = GraphQLField(self._object(op_name, table.key, op_fields))
            return out

        def make() -> GraphQLObjectType:
            agg_fields = self._named(
                fields_name, table.key, lambda: GraphQLObjectType(fields_name, aggregate_fields)
            )
            return GraphQLObjectType(
                name,
                lambda: {
                    "aggregate": GraphQLField(agg_fields),
                    "nodes": GraphQLField(nn(list_nn(self.object_type(table)))),
                },
            )

        return self._named(name, table.key, make)

    def stream_cursor_input(self, table: TrackedTable) -> GraphQLInputObjectType:
        name, value_name = (
            f"{table.identifier}_stream_cursor_input",
            f"{table.identifier}_stream_cursor_value_input",
        )
        ordering = self._named(
            "cursor_ordering",
            None,
            lambda: GraphQLEnumType(
                "cursor_ordering", {"ASC": GraphQLEnumValue("ASC"), "DESC": GraphQLEnumValue("DESC")}
            ),
        )

        def value_fields() -> dict[str, GraphQLInputField]:
            return {
                table.column_names[c.name]: GraphQLInputField(self.column_base(table, c)[0])
                for c in self.selectable(table)
            }

        value = self._named(value_name, table.key, lambda: GraphQLInputObjectType(value_name, value_fields))
        return self._named(
            name,
            table.key,
            lambda: GraphQLInputObjectType(
                name,
                {
                    "initial_value": GraphQLInputField(nn(value)),
                    "ordering": GraphQLInputField(ordering),
                },
            ),
        )
