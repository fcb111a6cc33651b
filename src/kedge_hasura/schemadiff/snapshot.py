"""Read a database's schema into a `Snapshot` with a fixed number of catalog queries.

One query per object kind (schemas/queries/*.sql), never one per object, each returning a single
row holding a single JSON value: the same text runs over a psycopg connection or through Hasura's
`run_sql`, whose results arrive as strings. The queries read `pg_catalog` only (information_schema
hides what the role cannot access) and filter schemas in SQL. An `Executor` runs them; the
psycopg one (pg.catalog) reads all of them in one read-only REPEATABLE READ transaction with
`search_path = pg_catalog`, so every name in deparsed text is schema-qualified.
"""

from __future__ import annotations

import gc
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
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
from kedge_hasura.sql.quoting import literal_list, quote_literal

# Schemas that belong to PostgreSQL or to Hasura (its catalogue, and v1's views), never to migrations.
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
# kedge_hasura holds kedge-hasura's own deploy ledger (actions.deploy.ledger); it is tooling, not schema.
HASURA_SCHEMAS = ("hdb_catalog", "hdb_views", "hdb_pro_catalog", "kedge_hasura")
_SCOPE_MARKER = re.compile(r"\$SCOPE\(([^)]+)\)")


Session = tuple[tuple[str, str], ...]

# Settings every executor applies before the catalog queries, so deparsed text compares equal
# between databases: search_path = pg_catalog schema-qualifies every user object in pg_get_*
# output (schema-diff notes §4.1); fixed TimeZone/DateStyle/extra_float_digits keep literal
# defaults and row values stable. jit = off: catalog queries over thousands of relations cross
# jit_above_cost, and compiling them took 1.25 s of a 1.7 s query on a 3,000-table schema (PG15
# with LLVM, as Debian and most production servers ship it), for no gain.
SESSION_SETTINGS: Session = (
    ("jit", "off"),
    ("search_path", "pg_catalog"),
    ("TimeZone", "UTC"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
)


class Executor(Protocol):
    """Runs catalog queries: each returns one row holding one JSON value, returned parsed.

    `session` are settings (name, value) to apply first, for the transaction. `fetch_json_batch`
    runs several queries at once; an executor over HTTP answers them in one request, which also
    puts them in one transaction (one consistent snapshot).
    """

    def fetch_json(self, sql: str, *, session: Session = ()) -> Any: ...

    def fetch_json_batch(self, queries: dict[str, str], *, session: Session = ()) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Scope:
    """Which schemas a snapshot covers: `include` (if given) minus `exclude` minus system schemas."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = field(default=HASURA_SCHEMAS)

    def predicate(self, column: str) -> str:
        """A SQL condition on a schema-name column, with literals (run_sql takes no parameters)."""
        conditions = [
            f"{column} NOT IN ({literal_list(SYSTEM_SCHEMAS)})",
            f"{column} NOT LIKE 'pg\\_temp\\_%'",
            f"{column} NOT LIKE 'pg\\_toast\\_temp\\_%'",
        ]
        if self.include:
            conditions.append(f"{column} IN ({literal_list(self.include)})")
        if self.exclude:
            conditions.append(f"{column} NOT IN ({literal_list(self.exclude)})")
        return "(" + " AND ".join(conditions) + ")"


def catalog_query(name: str, scope: Scope) -> str:
    """The text of queries/<name>.sql with the schema scope filled in."""
    text = (files("kedge_hasura.schemadiff") / "queries" / f"{name}.sql").read_text(encoding="utf-8")
    return _SCOPE_MARKER.sub(lambda match: scope.predicate(match.group(1)), text)


QUERY_NAMES = (
    "server", "comments", "schemas", "extensions", "relations", "columns", "constraints", "indexes",
    "sequences", "functions", "triggers", "event_triggers", "types", "policies", "inventory",
)  # fmt: skip


def read_snapshot(executor: Executor, scope: Scope | None = None) -> Snapshot:
    """Run every catalog query through `executor` and build the snapshot."""
    scope = scope or Scope()
    with collector_paused():
        raw = executor.fetch_json_batch(
            {name: catalog_query(name, scope) for name in QUERY_NAMES}, session=SESSION_SETTINGS
        )
        return build_snapshot(raw, query_count=len(QUERY_NAMES))


_collector_lock = threading.Lock()
_collector_pauses = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a snapshot is parsed and built.

    A large schema allocates hundreds of thousands of containers (parsed JSON, objects), each
    allocation counting towards a collection that then walks everything alive: at 3,000 tables
    that was 40% of building a snapshot, for nothing, since none of it forms cycles. Reference
    counting still frees everything. Re-entrant and shared by threads (both sides of a diff).
    """
    global _collector_pauses  # noqa: PLW0603 - one process-wide switch, guarded by the lock
    with _collector_lock:
        # Collection already off by the caller's choice (no pause of ours running): leave it be.
        counted = _collector_pauses > 0 or gc.isenabled()
        if counted:
            gc.disable()
            _collector_pauses += 1
    try:
        yield
    finally:
        if counted:
            with _collector_lock:
                _collector_pauses -= 1
                if _collector_pauses == 0:
                    gc.enable()


def build_snapshot(raw: Mapping[str, Any], *, query_count: int = 0) -> Snapshot:
    """Build a Snapshot from the parsed JSON results of the catalog queries.

    Each answer is read once (an executor may parse on access, see pg.catalog.JsonAnswers).
    """
    server = ServerInfo(**raw["server"])
    columns = raw.get("columns") or []
    rows = _Rows(raw.get("comments") or [], columns)
    objects: dict[str, dict[Key, DbObject]] = {}

    def add(items: Iterable[DbObject]) -> None:
        for item in items:
            objects.setdefault(item.KIND, {})[item.key] = item

    add(rows.schema(row) for row in raw["schemas"])
    add(
        Extension(name=row["name"], schema=row["schema"], version=row["version"]) for row in raw["extensions"]
    )
    add(rows.relation(row) for row in raw["relations"])
    add(rows.column(row) for row in columns)
    del columns
    add(rows.constraint(row) for row in raw["constraints"])
    add(rows.index(row) for row in raw["indexes"])
    add(rows.sequence(row) for row in raw["sequences"])
    add(rows.function(row) for row in raw["functions"])
    add(rows.trigger(row) for row in raw["triggers"])
    add(rows.event_trigger(row) for row in raw["event_triggers"])
    add(rows.type(row) for row in raw["types"])
    add(rows.policy(row) for row in raw["policies"])
    _attach_view_columns(objects)
    inventory = {key: int(value) for key, value in (raw.get("inventory") or {}).items()}
    return Snapshot(server=server, objects=objects, inventory=inventory, query_count=query_count)


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


# aclitem privilege letters (PostgreSQL's acl.h), as aclexplode() names them.
_PRIVILEGES = {
    "r": "SELECT", "w": "UPDATE", "a": "INSERT", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
    "t": "TRIGGER", "X": "EXECUTE", "U": "USAGE", "C": "CREATE", "T": "TEMPORARY", "c": "CONNECT",
    "s": "SET", "A": "ALTER SYSTEM", "m": "MAINTAIN",
}  # fmt: skip


def parse_acl(items: Iterable[str] | None, owner: str) -> Grants:
    """Expand aclitem texts (`grantee=privileges/grantor`) into grants; PUBLIC and OWNER named as such.

    Most objects of a schema share one ACL, so results are cached: equal ACLs share one frozenset.
    """
    return _parse_acl(tuple(items or ()), owner)


@lru_cache(maxsize=4096)
def _parse_acl(items: tuple[str, ...], owner: str) -> Grants:
    grants = set()
    for item in items or ():
        grantee, rest = _acl_role(item)
        privileges = rest[1:].split("/", 1)[0]  # skip "=", drop "/grantor"
        who = "PUBLIC" if grantee == "" else "OWNER" if grantee == owner else grantee
        for index, letter in enumerate(privileges):
            if letter == "*":
                continue
            grantable = index + 1 < len(privileges) and privileges[index + 1] == "*"
            grants.add(Grant(grantee=who, privilege=_PRIVILEGES.get(letter, letter), grantable=grantable))
    return frozenset(grants)


def _acl_role(item: str) -> tuple[str, str]:
    """Split an aclitem into the role name and the rest (`=privileges/grantor`)."""
    name, end = read_identifier(item, 0, stops="=")
    return name, item[end:]


def read_identifier(text: str, position: int, *, stops: str = ' .,()"') -> tuple[str, int]:
    """Read one identifier as PostgreSQL prints it, from `position`: (the name, where it ends).

    A quoted identifier ends at its closing quote (`""` inside is one quote); a plain one at the
    first character of `stops`.
    """
    if text[position : position + 1] == '"':
        characters: list[str] = []
        position += 1
        while position < len(text):
            char = text[position]
            if char == '"':
                if text[position + 1 : position + 2] == '"':
                    characters.append('"')
                    position += 2
                    continue
                return "".join(characters), position + 1
            characters.append(char)
            position += 1
        return "".join(characters), position
    end = position
    while end < len(text) and text[end] not in stops:
        end += 1
    return text[position:end], end


TABLE_PLACEHOLDER = '"<table>"'


def _generic_definition(definition: str, quoted_name: str, quoted_table: str) -> str:
    """A CREATE INDEX / CREATE TRIGGER text without its own name and its table's.

    Both are in the object's key already; leaving them in the text would report a renamed index,
    or the index of a renamed table, as a changed definition too. The placeholder keeps the text
    valid SQL for the "probably equivalent" check.
    """
    text = definition.replace(f" {quoted_name} ", " ", 1)
    for on in (" ON ONLY ", " ON "):
        text = text.replace(f"{on}{quoted_table} ", f"{on}{TABLE_PLACEHOLDER} ", 1)
    return text


def _owned_sequence_placeholder(default: str, sequences: list[str]) -> str:
    """A serial column's default with the name of the sequence it owns replaced by a placeholder.

    `nextval('app.orders_id_seq'::regclass)` names the sequence; with the name in the default, a
    renamed sequence would be reported twice (as the sequence and as every column using it).
    The name is written as ruleutils writes a regclass constant (standard_conforming_strings on).
    """
    if not default.startswith("nextval("):
        return default
    for sequence in sequences:
        literal = quote_literal(sequence) + "::regclass"
        if literal in default:
            return default.replace(literal, "<owned sequence>")
    return default


def _tuple(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(str(value) for value in values or ())


# Positions in a row of queries/columns.sql (the whole order is unpacked in _Rows.column).
_NAME, _ATTNUM, _RELATION = 3, 4, 13


class _Rows:
    """Turns query rows into objects, attaching comments read once for the whole database."""

    def __init__(self, comments: list[list[Any]], columns: list[list[Any]]):
        self.comments = {(str(c), int(o), int(s)): str(d) for c, o, s, d in comments}
        # Each relation's live columns by attnum, in order: positions (ranks, since dropped
        # columns leave attnum gaps) and the names in constraint keys.
        self.column_names: dict[int, dict[int, str]] = {}
        for row in sorted(columns, key=lambda row: (int(row[_RELATION]), int(row[_ATTNUM]))):
            self.column_names.setdefault(int(row[_RELATION]), {})[int(row[_ATTNUM])] = row[_NAME]
        self.positions = {
            relation: {attnum: rank for rank, attnum in enumerate(names, start=1)}
            for relation, names in self.column_names.items()
        }

    def comment(self, catalog: str, oid: Any, sub: int = 0) -> str | None:
        return self.comments.get((catalog, int(oid), sub))

    def schema(self, row: dict[str, Any]) -> Schema:
        return Schema(
            name=row["name"],
            owner=row["owner"],
            comment=self.comment("pg_namespace", row["oid"]),
            grants=parse_acl(row["acl"], row["owner"]),
        )

    def relation(self, row: dict[str, Any]) -> DbObject:
        kind = row["relkind"]
        common = {
            "schema": row["schema"],
            "name": row["name"],
            "owner": row["owner"],
            "comment": self.comment("pg_class", row["oid"]),
            "grants": parse_acl(row["acl"], row["owner"]),
        }
        options = _tuple(sorted(row["options"] or ()))  # WITH (a, b) and WITH (b, a) are the same
        if kind == "v":
            return View(definition=row["definition"], options=options, columns=(), **common)
        if kind == "m":
            return MaterializedView(
                definition=row["definition"],
                options=options,
                columns=(),
                populated=bool(row["populated"]),
                **common,
            )
        return Table(
            table_kind=_RELKIND[kind],
            persistence=_PERSISTENCE.get(row["persistence"], row["persistence"]),
            rls_enabled=bool(row["rls_enabled"]),
            rls_forced=bool(row["rls_forced"]),
            options=options,
            partition_key=row["partition_key"],
            partition_bound=row["partition_bound"],
            inherits=_tuple(row["inherits"]),
            replica_identity=_REPLICA_IDENTITY.get(row["replica_identity"], row["replica_identity"]),
            access_method=row["access_method"],
            **common,
        )

    def column(self, row: list[Any]) -> Column:
        # Positional (see queries/columns.sql): the largest result, kept compact.
        (schema, table, relkind, name, attnum, type_, not_null, default, sequences, identity,
         identity_options, generated, collation, relation_oid, acl, owner) = row  # fmt: skip
        if default is not None and sequences and not generated:
            default = _owned_sequence_placeholder(default, sequences)
        # Interned: the same few schema, table and type names repeat across tens of thousands of
        # columns, and parsed JSON gives each occurrence its own string.
        return Column(
            schema=sys.intern(schema),
            table=sys.intern(table),
            name=sys.intern(name),
            position=self.positions[int(relation_oid)][int(attnum)],
            type=sys.intern(type_),
            not_null=bool(not_null),
            default=None if default is None else sys.intern(default),
            identity=_IDENTITY.get(identity or ""),
            identity_options=identity_options,
            generated=_GENERATED.get(generated or ""),
            collation=collation,
            comment=self.comment("pg_class", relation_oid, int(attnum)),
            # Column ACLs have no defaults: NULL means no column-level grants.
            grants=parse_acl(acl, owner) if acl else frozenset(),
            relation_kind=_RELKIND.get(relkind, "table"),
        )

    def key_names(self, relation: Any, attnums: list[Any] | None) -> tuple[str, ...]:
        """A constraint's key columns by name (attnum 0, an expression, has none)."""
        names = self.column_names.get(int(relation), {})
        return tuple(names[int(attnum)] for attnum in attnums or () if int(attnum) in names)

    def constraint(self, row: dict[str, Any]) -> Constraint:
        return Constraint(
            schema=sys.intern(row["schema"]),
            table=sys.intern(row["table"]),
            name=row["name"],
            constraint_type=_CONSTRAINT.get(row["type"], row["type"]),
            definition=row["definition"],
            comment=self.comment("pg_constraint", row["oid"]),
            columns=self.key_names(row["relation"], row["key"]),
        )

    def index(self, row: dict[str, Any]) -> Index:
        return Index(
            schema=sys.intern(row["schema"]),
            table=sys.intern(row["table"]),
            name=row["name"],
            definition=_generic_definition(row["definition"], row["quoted_name"], row["quoted_table"]),
            unique=bool(row["unique"]),
            method=row["method"],
            predicate=row["predicate"],
            valid=bool(row["valid"]),
            comment=self.comment("pg_class", row["oid"]),
        )

    def sequence(self, row: dict[str, Any]) -> Sequence:
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
            comment=self.comment("pg_class", row["oid"]),
            grants=parse_acl(row["acl"], row["owner"]),
        )

    def function(self, row: dict[str, Any]) -> Function:
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
            comment=self.comment("pg_proc", row["oid"]),
            grants=parse_acl(row["acl"], row["owner"]),
        )

    def trigger(self, row: dict[str, Any]) -> Trigger:
        return Trigger(
            schema=sys.intern(row["schema"]),
            table=sys.intern(row["table"]),
            name=row["name"],
            definition=_generic_definition(row["definition"], row["quoted_name"], row["quoted_table"]),
            enabled=_ENABLED.get(row["enabled"], row["enabled"]),
            function=row["function"],
            comment=self.comment("pg_trigger", row["oid"]),
        )

    def event_trigger(self, row: dict[str, Any]) -> EventTrigger:
        return EventTrigger(
            name=row["name"],
            event=row["event"],
            function=row["function"],
            tags=_tuple(sorted(row["tags"] or ())),
            enabled=_ENABLED.get(row["enabled"], row["enabled"]),
            owner=row["owner"],
            comment=self.comment("pg_event_trigger", row["oid"]),
        )

    def type(self, row: dict[str, Any]) -> Type:
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
            comment=self.comment("pg_type", row["oid"]),
            grants=parse_acl(row["acl"], row["owner"]),
        )

    def policy(self, row: dict[str, Any]) -> Policy:
        return Policy(
            schema=row["schema"],
            table=row["table"],
            name=row["name"],
            command=_POLICY_COMMAND.get(row["command"], row["command"]),
            permissive=bool(row["permissive"]),
            roles=_tuple(row["roles"]),
            using=row["using"],
            with_check=row["with_check"],
            comment=self.comment("pg_policy", row["oid"]),
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
            # The view's columns stay as column objects for their comments and grants only
            # (Column.compared_fields); their names and types are compared as the view's `columns`.


def _replace_columns(view: View | MaterializedView, columns: tuple[str, ...]) -> DbObject:
    return replace(view, columns=columns)
