"""What `check` needs to know about a replayed database, read from a schema snapshot.

Relations with their columns, primary and foreign keys; functions with their arguments; and the
rows of enum tables (Hasura reads those too: an enum table without rows is inconsistent). Type and
object names come from catalog text deparsed with `search_path = pg_catalog`, so user types are
schema-qualified ("public.author") and built-in ones are not ("text").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.schemadiff.model import Column, Constraint, Function, Snapshot, Table, Type
from kedge_hasura.schemadiff.snapshot import SESSION_SETTINGS, Scope, read_identifier, read_snapshot
from kedge_hasura.sql.quoting import quoted, quoted_path

TableKey = tuple[str, str]
ENUM_ROW_LIMIT = 10000

# Multi-word type names that pg_get_function_identity_arguments prints for unnamed arguments; the
# first word of an argument is its name unless the argument starts with one of these.
_MULTI_WORD_TYPES = (
    "double precision", "character varying", "bit varying", "timestamp ", "time ", "interval ",
)  # fmt: skip


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    target: TableKey
    target_columns: tuple[str, ...]


@dataclass
class Relation:
    """A table, view, materialized view or foreign table."""

    schema: str
    name: str
    kind: str
    is_partition: bool = False
    columns: dict[str, str] = field(default_factory=dict)  # name → type, in column order
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    @property
    def key(self) -> TableKey:
        return (self.schema, self.name)

    @property
    def display(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Argument:
    name: str | None
    type: str
    mode: str = "in"  # in, variadic (identity arguments leave OUT arguments out)


@dataclass(frozen=True)
class FunctionInfo:
    schema: str
    name: str
    kind: str  # function, procedure, aggregate, window
    arguments: tuple[Argument, ...]
    result: str | None
    volatility: str

    @property
    def returns_set(self) -> bool:
        return (self.result or "").startswith("SETOF ")

    @property
    def result_type(self) -> str:
        """The result type without SETOF."""
        return (self.result or "").removeprefix("SETOF ")


@dataclass
class DatabaseCatalog:
    """What the checks know about one replayed database."""

    relations: dict[TableKey, Relation] = field(default_factory=dict)
    functions: dict[TableKey, list[FunctionInfo]] = field(default_factory=dict)
    composite_types: set[str] = field(default_factory=set)  # "schema.name" of CREATE TYPE ... AS (...)
    enum_values: dict[TableKey, list[str]] = field(default_factory=dict)

    def relation_of_type(self, type_name: str) -> Relation | None:
        """The relation whose row type `type_name` is ("public.author" → public.author)."""
        schema, dot, name = unquote(type_name).partition(".")
        return self.relations.get((schema, name)) if dot else None


def catalog_from_snapshot(snapshot: Snapshot) -> DatabaseCatalog:
    """Relations (with columns and keys), functions and composite types of a snapshot."""
    catalog = DatabaseCatalog()
    for kind in ("table", "view", "materialized_view"):
        for obj in snapshot.of_kind(kind).values():
            schema, name = obj.key[0], obj.key[1]
            if isinstance(obj, Table):
                is_partition = obj.partition_bound is not None
                catalog.relations[(schema, name)] = Relation(schema, name, obj.table_kind, is_partition)
            else:
                catalog.relations[(schema, name)] = Relation(schema, name, kind.replace("_", " "))
    columns = sorted(
        (c for c in snapshot.of_kind("column").values() if isinstance(c, Column)), key=lambda c: c.position
    )
    for column in columns:
        owner = catalog.relations.get((column.schema, column.table))
        if owner is not None:
            owner.columns[column.name] = column.type
    for constraint in snapshot.of_kind("constraint").values():
        assert isinstance(constraint, Constraint)
        relation = catalog.relations.get((constraint.schema, constraint.table))
        if relation is None:
            continue
        if constraint.constraint_type == "primary key":
            relation.primary_key = constraint.columns
        elif constraint.constraint_type == "foreign key":
            parsed = parse_foreign_key(constraint.definition)
            if parsed is not None:
                relation.foreign_keys.append(
                    ForeignKey(columns=constraint.columns, target=parsed[0], target_columns=parsed[1])
                )
    for function in snapshot.of_kind("function").values():
        assert isinstance(function, Function)
        info = FunctionInfo(
            schema=function.schema,
            name=function.name,
            kind=function.function_kind,
            arguments=parse_arguments(function.identity_arguments),
            result=function.result,
            volatility=function.volatility,
        )
        catalog.functions.setdefault((function.schema, function.name), []).append(info)
    for type_ in snapshot.of_kind("type").values():
        if isinstance(type_, Type) and type_.type_kind == "composite":
            catalog.composite_types.add(f"{type_.schema}.{type_.name}")
    return catalog


def read_catalog(conninfo: str, *, label: str) -> DatabaseCatalog:
    """Snapshot a database, and read the rows of every table shaped like an enum table.

    Which tables the metadata marks `is_enum` is not known here (the metadata may still be loading),
    so the rows of every table that could be one are read: a one-column text primary key and at most
    one more column, of type text. On a database built by migrations those are small lookup tables.

    Raises:
        DatabaseError: the database cannot be read.
    """
    with PsycopgExecutor(conninfo, label=label) as executor:
        catalog = catalog_from_snapshot(read_snapshot(executor, Scope()))
        candidates = [
            (relation.key, relation.primary_key[0])
            for relation in catalog.relations.values()
            if _could_be_enum(relation)
        ]
        if candidates:
            rows = executor.fetch_json(enum_rows_query(candidates), session=SESSION_SETTINGS) or {}
            for index, (key, _) in enumerate(candidates):
                catalog.enum_values[key] = sorted(str(value) for value in rows.get(str(index)) or [])
    return catalog


def _could_be_enum(relation: Relation) -> bool:
    key = relation.primary_key
    others = [column for column in relation.columns if column not in key]
    return (
        relation.kind == "table"
        and len(key) == 1
        and relation.columns.get(key[0]) == "text"
        and len(others) <= 1
        and all(relation.columns[column] == "text" for column in others)
    )


def enum_rows_query(tables: list[tuple[TableKey, str]]) -> str:
    """One query returning {"<index>": [key values]} for every (table, key column), at most
    ENUM_ROW_LIMIT values each (Hasura reads them all; we only need to know they are valid)."""
    # One VALUES row per table: a list, where a chain of UNION ALL nests one level per table.
    parts = [
        f"('{index}', (SELECT coalesce(json_agg(x.v), '[]'::json) FROM "
        f"(SELECT {quoted(column)}::text AS v FROM {quoted_path((schema, name))} "
        f"LIMIT {ENUM_ROW_LIMIT}) AS x))"
        for index, ((schema, name), column) in enumerate(tables)
    ]
    if not parts:
        return "SELECT '{}'::json"
    return "SELECT coalesce(json_object_agg(k, v), '{}'::json) FROM (VALUES " + ", ".join(parts) + ") q(k, v)"


def unquote(text: str) -> str:
    """Type or object text with identifier quotes removed: public."User" → public.User."""
    return text.replace('"', "")


def parse_foreign_key(definition: str) -> tuple[TableKey, tuple[str, ...]] | None:
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
    if definition[position : position + 1] != "(":
        return target, ()
    columns: list[str] = []
    position += 1
    while position < len(definition):
        name, position = read_identifier(definition, position)
        columns.append(name)
        if definition[position : position + 2] == ", ":
            position += 2
            continue
        break
    return target, tuple(columns)


def parse_arguments(identity_arguments: str) -> tuple[Argument, ...]:
    """Arguments from pg_get_function_identity_arguments text ("a integer, b public.author")."""
    arguments = []
    for raw in _split_top_level(identity_arguments):
        text = raw.strip()
        mode = "in"
        for prefix in ("VARIADIC ", "INOUT ", "IN "):
            if text.startswith(prefix):
                mode = prefix.strip().lower()
                text = text[len(prefix) :]
        if text.startswith('"'):
            name, end = read_identifier(text, 0)
            arguments.append(Argument(name=name, type=text[end:].strip(), mode=mode))
            continue
        first, _, rest = text.partition(" ")
        is_type_only = not rest or any(text.startswith(word) for word in _MULTI_WORD_TYPES)
        arguments.append(
            Argument(name=None if is_type_only else first, type=text if is_type_only else rest, mode=mode)
        )
    return tuple(arguments)


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses and double quotes (numeric(10,2) stays whole)."""
    parts, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:index])
            start = index + 1
    if text[start:].strip():
        parts.append(text[start:])
    return parts
