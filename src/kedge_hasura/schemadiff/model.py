"""The schema snapshot model: immutable objects keyed by identity (names, never OIDs).

Each kind declares `FIELDS`, the attributes the comparator checks, in the order they are
reported. Texts (definitions, defaults, bodies) are as PostgreSQL deparses them with
`search_path = pg_catalog`, so every user object is schema-qualified the same way on both sides.
Grants are sets of `Grant`; a grant to the object's owner is recorded with the grantee `OWNER`,
so two databases whose objects belong to different roles still compare equal when owners are not
compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    grantee: str  # a role name, PUBLIC, or OWNER (the object's owner)
    privilege: str  # SELECT, INSERT, USAGE, EXECUTE, ...
    grantable: bool = False

    def __str__(self) -> str:
        return f"{self.privilege} to {self.grantee}{' with grant option' if self.grantable else ''}"


Grants = frozenset[Grant]


@dataclass(frozen=True, slots=True)
class DbObject:
    """Base of every snapshot object; `key` identifies it, `parent` groups it for rename pairing."""

    KIND: ClassVar[str] = ""
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ()  # the attributes whose values make up `key`
    FIELDS: ClassVar[tuple[str, ...]] = ()
    # Fields that hold SQL expression text, compared with the "probably equivalent" fallback.
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset()

    @property
    def key(self) -> Key:
        return tuple(getattr(self, name) for name in self.KEY_FIELDS)

    @property
    def parent(self) -> Key:
        """Objects are paired as renames only within the same parent (schema or table)."""
        return self.key[:-1]

    @property
    def display(self) -> str:
        return ".".join(self.key)

    def id_fields(self) -> dict[str, str]:
        parts = dict(zip(("schema", "table", "name"), self.key, strict=False)) if len(self.key) == 3 else {}
        return parts or {"name": self.display}

    def value(self, name: str) -> Any:
        return getattr(self, name)

    @property
    def compared_fields(self) -> tuple[str, ...]:
        return self.FIELDS


@dataclass(frozen=True, slots=True)
class Schema(DbObject):
    KIND: ClassVar[str] = "schema"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("name",)
    FIELDS: ClassVar[tuple[str, ...]] = ("owner", "comment", "grants")
    name: str
    owner: str
    comment: str | None = None
    grants: Grants = frozenset()

    @property
    def parent(self) -> Key:
        return ()

    def id_fields(self) -> dict[str, str]:
        return {"schema": self.name}


@dataclass(frozen=True, slots=True)
class Extension(DbObject):
    KIND: ClassVar[str] = "extension"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("name",)
    FIELDS: ClassVar[tuple[str, ...]] = ("schema", "version")
    name: str
    schema: str
    version: str

    @property
    def parent(self) -> Key:
        return ()

    def id_fields(self) -> dict[str, str]:
        return {"name": self.name}


@dataclass(frozen=True, slots=True)
class Table(DbObject):
    KIND: ClassVar[str] = "table"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "name")
    FIELDS: ClassVar[tuple[str, ...]] = (
        "table_kind", "persistence", "rls_enabled", "rls_forced", "options", "partition_key",
        "partition_bound", "inherits", "replica_identity", "access_method", "owner", "comment", "grants",
    )  # fmt: skip
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset({"partition_bound"})
    schema: str
    name: str
    table_kind: str  # table, partitioned table, foreign table
    persistence: str  # permanent, unlogged
    rls_enabled: bool
    rls_forced: bool
    options: tuple[str, ...]
    partition_key: str | None
    partition_bound: str | None
    inherits: tuple[str, ...]
    replica_identity: str
    access_method: str | None
    owner: str
    comment: str | None
    grants: Grants

    def id_fields(self) -> dict[str, str]:
        return {"schema": self.schema, "name": self.name}


@dataclass(frozen=True, slots=True)
class Column(DbObject):
    """A column of a table, view, materialized view or foreign table."""

    KIND: ClassVar[str] = "column"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "table", "name")
    FIELDS: ClassVar[tuple[str, ...]] = (
        "type", "not_null", "default", "identity", "identity_options", "generated", "collation",
        "position", "comment", "grants",
    )  # fmt: skip
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset({"default"})
    schema: str
    table: str
    name: str
    position: int  # rank among live columns (dropped columns leave attnum gaps; ranks do not)
    type: str
    not_null: bool
    default: str | None  # for generated columns: the generation expression
    identity: str | None  # "always" or "by default"
    identity_options: str | None  # "start 1 increment 1 min 1 max ... cache 1 no cycle"
    generated: str | None  # "stored" or "virtual"
    collation: str | None  # only when it differs from the type's default
    comment: str | None
    grants: Grants
    relation_kind: str = "table"  # which kind of relation the column belongs to

    @property
    def of_view(self) -> bool:
        return self.relation_kind in ("view", "materialized view")

    @property
    def compared_fields(self) -> tuple[str, ...]:
        # A view's column names and types are compared as the view's `columns`; what only the
        # column carries is its comment (Hasura's GraphQL field description) and its grants.
        return ("comment", "grants") if self.of_view else self.FIELDS


@dataclass(frozen=True, slots=True)
class Constraint(DbObject):
    KIND: ClassVar[str] = "constraint"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "table", "name")
    FIELDS: ClassVar[tuple[str, ...]] = ("constraint_type", "definition", "comment")
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset({"definition"})
    schema: str
    table: str
    name: str
    constraint_type: str  # primary key, foreign key, unique, check, exclusion
    definition: str  # pg_get_constraintdef: includes actions, deferrability, NOT VALID, NO INHERIT
    comment: str | None
    columns: tuple[str, ...] = ()  # key columns, in order (not compared: the definition covers them)


@dataclass(frozen=True, slots=True)
class Index(DbObject):
    """A standalone index (those backing PRIMARY KEY, UNIQUE and EXCLUDE are their constraint's)."""

    KIND: ClassVar[str] = "index"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "table", "name")
    FIELDS: ClassVar[tuple[str, ...]] = ("definition", "valid", "comment")
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset({"definition"})
    schema: str
    table: str
    name: str
    definition: str  # pg_get_indexdef without the index name (so a rename is not a definition change)
    unique: bool
    method: str
    predicate: str | None
    valid: bool
    comment: str | None


@dataclass(frozen=True, slots=True)
class Sequence(DbObject):
    KIND: ClassVar[str] = "sequence"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "name")
    FIELDS: ClassVar[tuple[str, ...]] = (
        "data_type", "start", "increment", "min_value", "max_value", "cache", "cycle", "owned_by",
        "owner", "comment", "grants",
    )  # fmt: skip
    schema: str
    name: str
    data_type: str
    start: int
    increment: int
    min_value: int
    max_value: int
    cache: int
    cycle: bool
    owned_by: str | None  # "schema.table.column" of a serial column
    owner: str
    comment: str | None
    grants: Grants


@dataclass(frozen=True, slots=True)
class View(DbObject):
    KIND: ClassVar[str] = "view"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "name")
    FIELDS: ClassVar[tuple[str, ...]] = ("definition", "options", "columns", "owner", "comment", "grants")
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset({"definition"})
    schema: str
    name: str
    definition: str
    options: tuple[str, ...]  # security_invoker=true, security_barrier, check_option=...
    columns: tuple[str, ...]  # output columns "name type" in order (SELECT * freezes them)
    owner: str
    comment: str | None
    grants: Grants


@dataclass(frozen=True, slots=True)
class MaterializedView(DbObject):
    KIND: ClassVar[str] = "materialized_view"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "name")
    FIELDS: ClassVar[tuple[str, ...]] = (
        "definition", "options", "columns", "populated", "owner", "comment", "grants",
    )  # fmt: skip
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset({"definition"})
    schema: str
    name: str
    definition: str
    options: tuple[str, ...]
    columns: tuple[str, ...]
    populated: bool
    owner: str
    comment: str | None
    grants: Grants


@dataclass(frozen=True, slots=True)
class Function(DbObject):
    """A function, procedure, aggregate or window function; identity includes argument types."""

    KIND: ClassVar[str] = "function"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "function_kind", "result", "arguments", "language", "body", "volatility", "strict",
        "security_definer", "leakproof", "parallel", "cost", "rows", "config", "owner", "comment", "grants",
    )  # fmt: skip
    schema: str
    name: str
    identity_arguments: str
    function_kind: str  # function, procedure, aggregate, window
    result: str | None
    arguments: str  # with names, modes and defaults
    language: str
    body: str
    volatility: str
    strict: bool
    security_definer: bool
    leakproof: bool
    parallel: str
    cost: float
    rows: float
    config: tuple[str, ...]
    owner: str
    comment: str | None
    grants: Grants

    @property
    def key(self) -> Key:
        # Overloads share a name: the signature is part of the identity.
        return (self.schema, f"{self.name}({self.identity_arguments})")

    def id_fields(self) -> dict[str, str]:
        return {"schema": self.schema, "name": self.name, "arguments": self.identity_arguments}


@dataclass(frozen=True, slots=True)
class Trigger(DbObject):
    KIND: ClassVar[str] = "trigger"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "table", "name")
    FIELDS: ClassVar[tuple[str, ...]] = ("definition", "enabled", "comment")
    schema: str
    table: str
    name: str
    definition: str  # pg_get_triggerdef without the trigger name
    enabled: str  # origin, disabled, replica, always
    function: str
    comment: str | None


@dataclass(frozen=True, slots=True)
class EventTrigger(DbObject):
    KIND: ClassVar[str] = "event_trigger"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("name",)
    FIELDS: ClassVar[tuple[str, ...]] = ("event", "function", "tags", "enabled", "owner", "comment")
    name: str
    event: str
    function: str
    tags: tuple[str, ...]
    enabled: str
    owner: str
    comment: str | None

    @property
    def parent(self) -> Key:
        return ()


@dataclass(frozen=True, slots=True)
class Type(DbObject):
    """An enum, domain, composite or range type."""

    KIND: ClassVar[str] = "type"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "name")
    FIELDS: ClassVar[tuple[str, ...]] = (
        "type_kind", "labels", "base_type", "default", "not_null", "checks", "collation", "attributes",
        "subtype", "owner", "comment", "grants",
    )  # fmt: skip
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset({"default"})
    schema: str
    name: str
    type_kind: str  # enum, domain, composite, range
    labels: tuple[str, ...]  # enum labels in sort order
    base_type: str | None  # domain
    default: str | None  # domain
    not_null: bool  # domain
    checks: tuple[str, ...]  # domain constraints "name: definition", sorted
    collation: str | None
    attributes: tuple[str, ...]  # composite: "name type [COLLATE c]" in order
    subtype: str | None  # range
    owner: str
    comment: str | None
    grants: Grants


@dataclass(frozen=True, slots=True)
class Policy(DbObject):
    KIND: ClassVar[str] = "policy"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("schema", "table", "name")
    FIELDS: ClassVar[tuple[str, ...]] = ("command", "permissive", "roles", "using", "with_check", "comment")
    EXPRESSION_FIELDS: ClassVar[frozenset[str]] = frozenset({"using", "with_check"})
    schema: str
    table: str
    name: str
    command: str  # all, select, insert, update, delete
    permissive: bool
    roles: tuple[str, ...]  # sorted
    using: str | None
    with_check: str | None
    comment: str | None


# The order kinds are read, compared and reported in (dependencies first).
KINDS: tuple[type[DbObject], ...] = (
    Schema, Extension, Type, Sequence, Table, Column, Constraint, Index, View, MaterializedView,
    Function, Trigger, EventTrigger, Policy,
)  # fmt: skip
KIND_NAMES: tuple[str, ...] = tuple(kind.KIND for kind in KINDS)


@dataclass(frozen=True)
class ServerInfo:
    version_num: int
    version: str
    database: str
    user: str
    is_superuser: bool

    @property
    def major(self) -> int:
        return self.version_num // 10000


@dataclass(frozen=True)
class Snapshot:
    """A database's schema at one instant (read in one read-only transaction where possible)."""

    server: ServerInfo
    objects: dict[str, dict[Key, DbObject]]
    # Counts of object kinds we do not compare in depth (rules, publications, operators, ...):
    # a differing count is reported rather than silently ignored.
    inventory: dict[str, int] = field(default_factory=dict)
    query_count: int = 0

    def of_kind(self, kind: str) -> dict[Key, DbObject]:
        return self.objects.get(kind, {})

    def counts(self) -> dict[str, int]:
        return {kind: len(self.of_kind(kind)) for kind in KIND_NAMES}
