"""Read a database's schema into a `Snapshot` with a fixed number of catalog queries.

One query per object kind (schemas/queries/*.sql), never one per object, each returning a single
row holding a single JSON value: the same text runs over a psycopg connection or through Hasura's
`run_sql`, whose results arrive as strings. The queries read `pg_catalog` only (information_schema
hides what the role cannot access) and filter schemas in SQL. An `Executor` runs them; the
psycopg one (pg.catalog) reads all of them in one read-only REPEATABLE READ transaction with
`search_path = pg_catalog`, so every name in deparsed text is schema-qualified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib.resources import files
from typing import Any, Protocol

from kedge_hasura.schemadiff.model import (
    Column,
    Constraint,
    DbObject,
    EventTrigger,
    Extension,
    Function,
    Grant,
    Grants,
    Index,
    Key,
    MaterializedView,
    Policy,
    Schema,
    Sequence,
    ServerInfo,
    Snapshot,
    Table,
    Trigger,
    Type,
    View,
)

# Schemas that belong to PostgreSQL or to Hasura (its catalogue, and v1's views), never to migrations.
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
HASURA_SCHEMAS = ("hdb_catalog", "hdb_views", "hdb_pro_catalog")
_SCOPE_MARKER = re.compile(r"\$SCOPE\(([^)]+)\)")


class Executor(Protocol):
    """Runs one catalog query and returns the single JSON value of its single row (parsed)."""

    def fetch_json(self, sql: str) -> Any: ...


@dataclass(frozen=True)
class Scope:
    """Which schemas a snapshot covers: `include` (if given) minus `exclude` minus system schemas."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = field(default=HASURA_SCHEMAS)

    def predicate(self, column: str) -> str:
        """A SQL condition on a schema-name column, with literals (run_sql takes no parameters)."""
        conditions = [
            f"{column} NOT IN ({_literals(SYSTEM_SCHEMAS)})",
            f"{column} NOT LIKE 'pg\\_temp\\_%'",
            f"{column} NOT LIKE 'pg\\_toast\\_temp\\_%'",
        ]
        if self.include:
            conditions.append(f"{column} IN ({_literals(self.include)})")
        if self.exclude:
            conditions.append(f"{column} NOT IN ({_literals(self.exclude)})")
        return "(" + " AND ".join(conditions) + ")"


def _literals(values: Iterable[str]) -> str:
    # standard_conforming_strings is on in every supported server: only quotes need doubling.
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def catalog_query(name: str, scope: Scope) -> str:
    """The text of queries/<name>.sql with the schema scope filled in."""
    text = (files("kedge_hasura.schemadiff") / "queries" / f"{name}.sql").read_text(encoding="utf-8")
    return _SCOPE_MARKER.sub(lambda match: scope.predicate(match.group(1)), text)


QUERY_NAMES = (
    "server", "schemas", "extensions", "relations", "columns", "constraints", "indexes", "sequences",
    "functions", "triggers", "event_triggers", "types", "policies", "inventory",
)  # fmt: skip


def read_snapshot(executor: Executor, scope: Scope | None = None) -> Snapshot:
    """Run every catalog query through `executor` and build the snapshot."""
    scope = scope or Scope()
    raw = {name: executor.fetch_json(catalog_query(name, scope)) for name in QUERY_NAMES}
    return build_snapshot(raw, query_count=len(QUERY_NAMES))


def build_snapshot(raw: dict[str, Any], *, query_count: int = 0) -> Snapshot:
    """Build a Snapshot from the parsed JSON results of the catalog queries."""
    server = ServerInfo(**raw["server"])
    objects: dict[str, dict[Key, DbObject]] = {}

    def add(items: Iterable[DbObject]) -> None:
        for item in items:
            objects.setdefault(item.KIND, {})[item.key] = item

    add(_schema(row) for row in raw["schemas"])
    add(
        Extension(name=row["name"], schema=row["schema"], version=row["version"]) for row in raw["extensions"]
    )
    for row in raw["relations"]:
        add([_relation(row)])
    add(_column(row) for row in raw["columns"])
    add(_constraint(row) for row in raw["constraints"])
    add(_index(row) for row in raw["indexes"])
    add(_sequence(row) for row in raw["sequences"])
    add(_function(row) for row in raw["functions"])
    add(_trigger(row) for row in raw["triggers"])
    add(_event_trigger(row) for row in raw["event_triggers"])
    add(_type(row) for row in raw["types"])
    add(_policy(row) for row in raw["policies"])
    _attach_view_columns(objects)
    inventory = {key: int(value) for key, value in (raw.get("inventory") or {}).items()}
    return Snapshot(server=server, objects=objects, inventory=inventory, query_count=query_count)


# -- row → object ------------------------------------------------------------------------------

_RELKIND = {
    "r": "table",
    "p": "partitioned table",
    "f": "foreign table",
    "v": "view",
    "m": "materialized view",
}
_PERSISTENCE = {"p": "permanent", "u": "unlogged", "t": "temporary"}
_REPLICA_IDENTITY = {"d": "default", "n": "nothing", "f": "full", "i": "index"}
_IDENTITY = {"a": "always", "d": "by default"}
_GENERATED = {"s": "stored", "v": "virtual"}
_CONSTRAINT = {"p": "primary key", "f": "foreign key", "u": "unique", "c": "check", "x": "exclusion"}
_PROKIND = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window"}
_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
_PARALLEL = {"s": "safe", "r": "restricted", "u": "unsafe"}
_ENABLED = {"O": "origin", "D": "disabled", "R": "replica", "A": "always"}
_TYPE_KIND = {"e": "enum", "d": "domain", "c": "composite", "r": "range"}
_POLICY_COMMAND = {"*": "all", "r": "select", "a": "insert", "w": "update", "d": "delete"}


def _grants(rows: list[list[Any]] | None) -> Grants:
    return frozenset(Grant(grantee=str(g), privilege=str(p), grantable=bool(o)) for g, p, o in rows or [])


def _tuple(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(str(value) for value in values or ())


def _schema(row: dict[str, Any]) -> Schema:
    return Schema(name=row["name"], owner=row["owner"], comment=row["comment"], grants=_grants(row["grants"]))


def _relation(row: dict[str, Any]) -> DbObject:
    kind = row["relkind"]
    common = {
        "schema": row["schema"],
        "name": row["name"],
        "owner": row["owner"],
        "comment": row["comment"],
        "grants": _grants(row["grants"]),
    }
    if kind == "v":
        return View(definition=row["definition"], options=_tuple(row["options"]), columns=(), **common)
    if kind == "m":
        return MaterializedView(
            definition=row["definition"],
            options=_tuple(row["options"]),
            columns=(),
            populated=bool(row["populated"]),
            **common,
        )
    return Table(
        table_kind=_RELKIND[kind],
        persistence=_PERSISTENCE.get(row["persistence"], row["persistence"]),
        rls_enabled=bool(row["rls_enabled"]),
        rls_forced=bool(row["rls_forced"]),
        options=_tuple(row["options"]),
        partition_key=row["partition_key"],
        partition_bound=row["partition_bound"],
        inherits=_tuple(row["inherits"]),
        replica_identity=_REPLICA_IDENTITY.get(row["replica_identity"], row["replica_identity"]),
        access_method=row["access_method"],
        **common,
    )


def _column(row: dict[str, Any]) -> Column:
    return Column(
        schema=row["schema"],
        table=row["table"],
        name=row["name"],
        position=int(row["position"]),
        type=row["type"],
        not_null=bool(row["not_null"]),
        default=row["default"],
        identity=_IDENTITY.get(row["identity"] or ""),
        identity_options=row["identity_options"],
        generated=_GENERATED.get(row["generated"] or ""),
        collation=row["collation"],
        comment=row["comment"],
        grants=_grants(row["grants"]),
        relation_kind=_RELKIND.get(row["relkind"], "table"),
    )


def _constraint(row: dict[str, Any]) -> Constraint:
    return Constraint(
        schema=row["schema"],
        table=row["table"],
        name=row["name"],
        constraint_type=_CONSTRAINT.get(row["type"], row["type"]),
        definition=row["definition"],
        comment=row["comment"],
        columns=_tuple(row["columns"]),
    )


def _index(row: dict[str, Any]) -> Index:
    return Index(
        schema=row["schema"],
        table=row["table"],
        name=row["name"],
        definition=row["definition"],
        unique=bool(row["unique"]),
        method=row["method"],
        predicate=row["predicate"],
        valid=bool(row["valid"]),
        comment=row["comment"],
    )


def _sequence(row: dict[str, Any]) -> Sequence:
    return Sequence(
        schema=row["schema"],
        name=row["name"],
        data_type=row["data_type"],
        start=int(row["start"]),
        increment=int(row["increment"]),
        min_value=int(row["min_value"]),
        max_value=int(row["max_value"]),
        cache=int(row["cache"]),
        cycle=bool(row["cycle"]),
        owned_by=row["owned_by"],
        owner=row["owner"],
        comment=row["comment"],
        grants=_grants(row["grants"]),
    )


def _function(row: dict[str, Any]) -> Function:
    return Function(
        schema=row["schema"],
        name=row["name"],
        identity_arguments=row["identity_arguments"],
        function_kind=_PROKIND.get(row["kind"], row["kind"]),
        result=row["result"],
        arguments=row["arguments"],
        language=row["language"],
        body=row["body"] or "",
        volatility=_VOLATILITY.get(row["volatility"], row["volatility"]),
        strict=bool(row["strict"]),
        security_definer=bool(row["security_definer"]),
        leakproof=bool(row["leakproof"]),
        parallel=_PARALLEL.get(row["parallel"], row["parallel"]),
        cost=float(row["cost"]),
        rows=float(row["rows"]),
        config=_tuple(row["config"]),
        owner=row["owner"],
        comment=row["comment"],
        grants=_grants(row["grants"]),
    )


def _trigger(row: dict[str, Any]) -> Trigger:
    return Trigger(
        schema=row["schema"],
        table=row["table"],
        name=row["name"],
        definition=row["definition"],
        enabled=_ENABLED.get(row["enabled"], row["enabled"]),
        function=row["function"],
        comment=row["comment"],
    )


def _event_trigger(row: dict[str, Any]) -> EventTrigger:
    return EventTrigger(
        name=row["name"],
        event=row["event"],
        function=row["function"],
        tags=_tuple(sorted(row["tags"] or ())),
        enabled=_ENABLED.get(row["enabled"], row["enabled"]),
        owner=row["owner"],
        comment=row["comment"],
    )


def _type(row: dict[str, Any]) -> Type:
    return Type(
        schema=row["schema"],
        name=row["name"],
        type_kind=_TYPE_KIND.get(row["kind"], row["kind"]),
        labels=_tuple(row["labels"]),
        base_type=row["base_type"],
        default=row["default"],
        not_null=bool(row["not_null"]),
        checks=_tuple(row["checks"]),
        collation=row["collation"],
        attributes=_tuple(row["attributes"]),
        subtype=row["subtype"],
        owner=row["owner"],
        comment=row["comment"],
        grants=_grants(row["grants"]),
    )


def _policy(row: dict[str, Any]) -> Policy:
    return Policy(
        schema=row["schema"],
        table=row["table"],
        name=row["name"],
        command=_POLICY_COMMAND.get(row["command"], row["command"]),
        permissive=bool(row["permissive"]),
        roles=_tuple(row["roles"]),
        using=row["using"],
        with_check=row["with_check"],
        comment=row["comment"],
    )


def _attach_view_columns(objects: dict[str, dict[Key, DbObject]]) -> None:
    """Give views their output columns ("name type"), which SELECT * freezes at creation time."""
    by_relation: dict[Key, list[Column]] = {}
    for item in objects.get("column", {}).values():
        assert isinstance(item, Column)
        by_relation.setdefault((item.schema, item.table), []).append(item)
    for kind in ("view", "materialized_view"):
        for key, view in list(objects.get(kind, {}).items()):
            columns = sorted(by_relation.get(key, []), key=lambda c: c.position)
            described = tuple(f"{c.name} {c.type}" for c in columns)
            assert isinstance(view, View | MaterializedView)
            objects[kind][key] = _replace_columns(view, described)
            for column in columns:  # a view's columns are compared as part of the view
                objects["column"].pop(column.key, None)


def _replace_columns(view: View | MaterializedView, columns: tuple[str, ...]) -> DbObject:
    return replace(view, columns=columns)
