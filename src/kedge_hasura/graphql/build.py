"""Build one role's GraphQL schema (graphql-core) from the tracked tables and their permissions.

Follows Hasura v2's schema generation with the `hasura-default` naming convention; the rules and
their sources are in ../shared/hasura-graphql-surface.md (GS/ = server/src-lib/Hasura/GraphQL/Schema/).
Types are created on first reference, so only what is reachable from the root types exists,
as in Hasura. Descriptions are left out: they are not part of what a client depends on.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
)

from kedge_hasura.graphql.access import TrackedTable
from kedge_hasura.graphql.catalog import DbCatalog, TableKey
from kedge_hasura.graphql.functions import GraphQLFunction
from kedge_hasura.graphql.scalars import scalar_of
from kedge_hasura.graphql.types import TypeBuilder, list_nn, nn


class SchemaBuilder(TypeBuilder):
    """Builds the schema of `role`; `origins` then maps each type and root field to its table
    (or, for a tracked function's fields and arguments type, to the function)."""

    functions: Sequence[GraphQLFunction] = ()  # the tracked functions visible to the role

    def build(self) -> GraphQLSchema:
        query: dict[str, GraphQLField] = {}
        subscription: dict[str, GraphQLField] = {}
        mutation: dict[str, GraphQLField] = {}
        for key in sorted(self.tables):
            table = self.tables[key]
            for root, fields in self._query_fields(table).items():
                (query if root == "query" else subscription).update(fields)
            mutation.update(self._mutation_fields(table))
        for function in sorted(self.functions, key=lambda f: f.key):
            if function.exposed_as == "mutation":
                mutation.update(self._function_fields(function, "mutation", aggregate=False))
            else:
                query.update(self._function_fields(function, "query", aggregate=True))
                subscription.update(self._function_fields(function, "subscription", aggregate=True))
        if not query:
            # Schema.hs queryWithIntrospectionHelper: a role without query fields gets a placeholder.
            query["no_queries_available"] = GraphQLField(nn(GraphQLString))
        return GraphQLSchema(
            query=GraphQLObjectType("query_root", query),
            mutation=GraphQLObjectType("mutation_root", mutation) if mutation else None,
            subscription=GraphQLObjectType("subscription_root", subscription) if subscription else None,
        )

    def _root(
        self, root: str, table: TrackedTable, fields: dict[str, GraphQLField], key: str, f: GraphQLField
    ) -> None:
        name = table.root_fields[key]
        fields[name] = f
        self.origins[f"{root}_root.{name}"] = table.key

    def _query_fields(self, table: TrackedTable) -> dict[str, dict[str, GraphQLField]]:
        select = self.access[table.key].select
        out: dict[str, dict[str, GraphQLField]] = {"query": {}, "subscription": {}}
        if select is None:
            return out
        obj = self.object_type(table)
        pk = table.info.primary_key
        for root in ("query", "subscription"):
            fields = out[root]
            if select.allows(root, "select"):
                self._root(
                    root, table, fields, "select", GraphQLField(nn(list_nn(obj)), self.select_args(table))
                )
            # *_by_pk needs every primary key column in the permission (GS/Select.hs selectTableByPk).
            if pk and set(pk) <= set(select.columns) and select.allows(root, "select_by_pk"):
                self._root(root, table, fields, "select_by_pk", GraphQLField(obj, self.pk_args(table)))
            if select.allow_aggregations and select.allows(root, "select_aggregate"):
                self._root(
                    root,
                    table,
                    fields,
                    "select_aggregate",
                    GraphQLField(nn(self.aggregate_type(table)), self.select_args(table)),
                )
        streams = "hide_stream_fields" not in self.features
        if streams and select.columns and select.allows("subscription", "select_stream"):
            # GS/SubscriptionStream.hs: needs at least one selectable column.
            args = {
                "batch_size": GraphQLArgument(nn(GraphQLInt)),
                "cursor": GraphQLArgument(nn(GraphQLList(self.stream_cursor_input(table)))),
                "where": GraphQLArgument(self.bool_exp(table)),
            }
            self._root(
                "subscription",
                table,
                out["subscription"],
                "select_stream",
                GraphQLField(nn(list_nn(obj)), args),
            )
        return out

    def _function_fields(
        self, function: GraphQLFunction, root: str, *, aggregate: bool
    ) -> dict[str, GraphQLField]:
        """`fn(args, distinct_on, limit, offset, order_by, where)` and maybe `fn_aggregate(...)`,
        when the role may select the returned table (PGS/Select.hs selectFunction)."""
        table = self.tables[function.returns]
        select = self.access[table.key].select
        if select is None:
            return {}
        args: dict[str, GraphQLArgument] = {}
        if function.arguments:
            args_type = self._named(
                function.args_type,
                function.key,
                lambda: GraphQLInputObjectType(
                    function.args_type,
                    {a.name: GraphQLInputField(self.scalar(a.scalar)) for a in function.arguments},
                ),
            )
            args["args"] = GraphQLArgument(nn(args_type) if function.args_required else args_type)
        args.update(self.select_args(table))
        obj = self.object_type(table)
        fields = {function.field_name: GraphQLField(nn(list_nn(obj)) if function.returns_set else obj, args)}
        self.origins[f"{root}_root.{function.field_name}"] = function.key
        if aggregate and select.allow_aggregations:
            fields[function.aggregate_name] = GraphQLField(nn(self.aggregate_type(table)), args)
            self.origins[f"{root}_root.{function.aggregate_name}"] = function.key
        return fields

    def _mutation_fields(self, table: TrackedTable) -> dict[str, GraphQLField]:
        access, mutability = self.access[table.key], table.info.mutability
        fields: dict[str, GraphQLField] = {}
        select = access.select
        pk = table.info.primary_key
        by_pk = bool(pk) and select is not None and set(pk) <= set(select.columns)
        # backend_only permissions leave the frontend schema (Schema.hs buildMutationFields Frontend).
        if access.insert is not None and not access.insert.backend_only and mutability.insertable:
            args = {"objects": GraphQLArgument(nn(list_nn(self.insert_input(table))))}
            one = {"object": GraphQLArgument(nn(self.insert_input(table)))}
            if table.info.unique_constraints:
                args["on_conflict"] = one["on_conflict"] = GraphQLArgument(self.on_conflict(table))
            self._root("mutation", table, fields, "insert", GraphQLField(self.mutation_response(table), args))
            if select is not None:  # GS/Mutation.hs insertOneIntoTable needs select
                self._root(
                    "mutation", table, fields, "insert_one", GraphQLField(self.object_type(table), one)
                )
        if access.update is not None and not access.update.backend_only and mutability.updatable:
            ops = self.update_operator_args(table)
            where = {"where": GraphQLArgument(nn(self.bool_exp(table)))}
            self._root(
                "mutation",
                table,
                fields,
                "update",
                GraphQLField(self.mutation_response(table), {**ops, **where}),
            )
            if by_pk:
                pk_arg = {"pk_columns": GraphQLArgument(nn(self.pk_columns_input(table)))}
                self._root(
                    "mutation",
                    table,
                    fields,
                    "update_by_pk",
                    GraphQLField(self.object_type(table), {**ops, **pk_arg}),
                )
            updates = self._named(
                f"{table.identifier}_updates",
                table.key,
                lambda: GraphQLInputObjectType(
                    f"{table.identifier}_updates",
                    lambda: {
                        **{k: GraphQLInputField(a.type) for k, a in ops.items()},
                        "where": GraphQLInputField(nn(self.bool_exp(table))),
                    },
                ),
            )
            if "hide_update_many_fields" not in self.features:
                self._root(
                    "mutation",
                    table,
                    fields,
                    "update_many",
                    GraphQLField(
                        GraphQLList(self.mutation_response(table)),
                        {"updates": GraphQLArgument(nn(list_nn(updates)))},
                    ),
                )
        if access.delete is not None and not access.delete.backend_only and mutability.deletable:
            where = {"where": GraphQLArgument(nn(self.bool_exp(table)))}
            self._root(
                "mutation", table, fields, "delete", GraphQLField(self.mutation_response(table), where)
            )
            if by_pk:
                self._root(
                    "mutation",
                    table,
                    fields,
                    "delete_by_pk",
                    GraphQLField(self.object_type(table), self.pk_args(table)),
                )
        return fields

    def _write_inputs(self, table: TrackedTable, kind: str) -> dict[str, GraphQLInputField]:
        access = self.access[table.key]
        write = access.insert if kind == "insert" else access.update
        if write is None:
            return {}
        wanted = set(write.columns)
        flag = "insertable" if kind == "insert" else "updatable"
        return {
            table.column_names[c.name]: GraphQLInputField(self.column_base(table, c)[0])
            for c in table.info.columns
            if c.name in wanted and getattr(c, flag)
        }

    def insert_input(self, table: TrackedTable) -> GraphQLInputObjectType:
        name = f"{table.identifier}_insert_input"

        def fields() -> dict[str, GraphQLInputField]:
            out = self._write_inputs(table, "insert")  # all optional (GS/Mutation.hs tableFieldsInput)
            for rel in table.relationships:
                target_access = self.access[rel.target]
                if target_access.insert is None or target_access.insert.backend_only:
                    continue
                target = self.tables[rel.target]
                out[rel.name] = GraphQLInputField(self.rel_insert_input(target, rel.kind))
            return out

        return self._named(name, table.key, lambda: GraphQLInputObjectType(name, fields))

    def rel_insert_input(self, table: TrackedTable, kind: str) -> GraphQLInputObjectType:
        name = f"{table.identifier}_{'obj' if kind == 'object' else 'arr'}_rel_insert_input"

        def fields() -> dict[str, GraphQLInputField]:
            data = self.insert_input(table)
            out = {"data": GraphQLInputField(nn(data) if kind == "object" else nn(list_nn(data)))}
            if table.info.unique_constraints:
                out["on_conflict"] = GraphQLInputField(self.on_conflict(table))
            return out

        return self._named(name, table.key, lambda: GraphQLInputObjectType(name, fields))

    def on_conflict(self, table: TrackedTable) -> GraphQLInputObjectType:
        # Offered whenever the table has a primary key or unique constraint, whatever the update
        # permission (PGS/OnConflict.hs in current code; v2.2 required update, issue #8260).
        name = f"{table.identifier}_on_conflict"
        constraint = self._named(
            f"{table.identifier}_constraint",
            table.key,
            lambda: GraphQLEnumType(
                f"{table.identifier}_constraint",
                {c: GraphQLEnumValue(c) for c in table.info.unique_constraints},
            ),
        )
        columns = list(self._write_inputs(table, "update"))
        update_column_name = f"{table.identifier}_update_column"
        # GS/Table.hs updateColumnsPlaceholderParser: `_PLACEHOLDER` when nothing is updatable.
        values = {c: GraphQLEnumValue(c) for c in columns} or {
            "_PLACEHOLDER": GraphQLEnumValue("_PLACEHOLDER")
        }
        update_column = self._named(
            update_column_name, table.key, lambda: GraphQLEnumType(update_column_name, values)
        )
        return self._named(
            name,
            table.key,
            lambda: GraphQLInputObjectType(
                name,
                lambda: {
                    "constraint": GraphQLInputField(nn(constraint)),
                    "update_columns": GraphQLInputField(nn(list_nn(update_column)), default_value=[]),
                    "where": GraphQLInputField(self.bool_exp(table)),
                },
            ),
        )

    def update_operator_args(self, table: TrackedTable) -> dict[str, GraphQLArgument]:
        fields = self._write_inputs(table, "update")
        args: dict[str, GraphQLArgument] = {}
        if fields:
            set_name = f"{table.identifier}_set_input"
            args["_set"] = GraphQLArgument(
                self._named(set_name, table.key, lambda: GraphQLInputObjectType(set_name, fields))
            )
        by_name = {table.column_names[c.name]: c for c in table.info.columns}
        numeric = {
            n: f for n, f in fields.items() if scalar_of(by_name[n].pg_type, self.catalog.domains).is_numeric
        }
        if numeric:
            args["_inc"] = GraphQLArgument(
                self._input_object(f"{table.identifier}_inc_input", table.key, numeric)
            )
        jsonb = [n for n in fields if scalar_of(by_name[n].pg_type, self.catalog.domains).name == "jsonb"]
        if jsonb:
            # PGI pgkParseUpdateOperators: jsonb columns add _append, _prepend, _delete_key,
            # _delete_elem and _delete_at_path, each an input of the updatable jsonb columns.
            jsonb_type = self.scalar("jsonb")
            for op, suffix, field_type in (
                ("_append", "append_input", jsonb_type),
                ("_prepend", "prepend_input", jsonb_type),
                ("_delete_key", "delete_key_input", GraphQLString),
                ("_delete_elem", "delete_elem_input", GraphQLInt),
                ("_delete_at_path", "delete_at_path_input", list_nn(GraphQLString)),
            ):
                op_fields = {n: GraphQLInputField(field_type) for n in jsonb}
                args[op] = GraphQLArgument(
                    self._input_object(f"{table.identifier}_{suffix}", table.key, op_fields)
                )
        return dict(sorted(args.items()))

    def pk_columns_input(self, table: TrackedTable) -> GraphQLInputObjectType:
        name = f"{table.identifier}_pk_columns_input"
        fields = {n: GraphQLInputField(a.type) for n, a in self.pk_args(table).items()}
        return self._named(name, table.key, lambda: GraphQLInputObjectType(name, fields))

    def mutation_response(self, table: TrackedTable) -> GraphQLObjectType:
        name = f"{table.identifier}_mutation_response"

        def fields() -> dict[str, GraphQLField]:
            out = {"affected_rows": GraphQLField(nn(GraphQLInt))}
            if self.access[table.key].select is not None:  # no select permission: no `returning`
                out["returning"] = GraphQLField(nn(list_nn(self.object_type(table))))
            return out

        return self._named(name, table.key, lambda: GraphQLObjectType(name, fields))


def build_role_schema(
    role: str,
    tables: list[TrackedTable],
    catalog: DbCatalog,
    features: frozenset[str] = frozenset(),
    functions: Sequence[GraphQLFunction] = (),
) -> tuple[GraphQLSchema, dict[str, TableKey]]:
    """The schema of `role` and, for each type and root field, the table (or function) it comes
    from; `functions` are the tracked functions visible to the role."""
    builder = SchemaBuilder(role, tables, catalog, features)
    builder.functions = functions
    schema = builder.build()
    return schema, {k: v for k, v in builder.origins.items() if v}
