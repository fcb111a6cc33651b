"""The model of a generated history: what a Shape switches on, and the objects the builder tracks."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Identifiers that must be quoted: reserved words, capitals, non-ASCII letters.
RESERVED = ("order", "user", "group", "select", "from", "table", "check", "default", "limit", "offset")
UNICODE = ("straße", "données", "заказы", "Größe", "café_menu", "注文")
_NOUNS = """
accounts customers products orders invoices payments shipments suppliers categories reviews
coupons carts addresses employees departments projects tasks comments tags notifications
plans devices events tickets messages attachments reports regions stores refunds
vendors contracts assets budgets courses lessons quizzes answers badges schedules
rooms bookings teams members invitations webhooks currencies
"""
NOUNS = tuple(_NOUNS.split())
STATUSES = ("draft", "active", "archived", "deleted")
_SIMPLE = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def q(name: str) -> str:
    """The identifier as PostgreSQL needs it written (quoted when reserved, capitalised or non-ASCII)."""
    if name and set(name) <= _SIMPLE and not name[0].isdigit() and name not in RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Shape:
    """What a generated history contains. Defaults: a plain history of tables and seed rows."""

    seed: int = 1
    migrations: int = 40
    schemas: tuple[str, ...] = ("public",)
    digits: tuple[int, ...] = (13,)  # version widths in order of use: (10, 13) switches midway
    enums: bool = False  # CREATE TYPE ... AS ENUM, enum columns, ALTER TYPE ... ADD VALUE
    domains: bool = False
    composites: bool = False
    views: bool = False  # views on tables, and views on views
    setof_functions: bool = False  # SQL functions RETURNS SETOF a view or a table
    functions: bool = False  # PL/pgSQL helpers, column defaults that call a function
    triggers: bool = False
    policies: bool = False
    partitions: bool = False
    renames: bool = False  # tables and columns renamed along the way
    drops: bool = False  # columns and tables dropped along the way
    pg_dump_init: bool = False  # the first migration is a pg_dump-style schema dump (SET lines)
    explicit_transactions: bool = False  # some files hold their own BEGIN; ... COMMIT;
    do_blocks: bool = False
    crlf: bool = False  # some files (and the function bodies in them) end lines with CR LF
    odd_identifiers: bool = False  # reserved-word and unicode table and column names
    seed_rows: bool = True  # INSERT of literal rows
    volatile_defaults: bool = False  # now() and gen_random_uuid() defaults filled at insert
    random_row_counts: bool = False  # INSERT ... generate_series(1, 10 + random() * n)
    data_migrations: bool = False  # UPDATE / DELETE of seeded rows
    in_lists: bool = False  # CHECK / partial index / policy `col IN (...)` on varchar and char
    between: bool = False  # CHECK (x BETWEEN a AND b)
    array_casts: bool = False  # defaults and checks with ARRAY[...]::varchar[] and '{..}'::text[]
    like_any: bool = False  # CHECK (code LIKE ANY (ARRAY[...]))
    cast_defaults: bool = False  # DEFAULT 'x'::character varying, DEFAULT (0)::numeric
    function_crlf: bool = False  # a function body with CR LF inside a file with LF endings
    typed_functions: bool = False  # functions taking a table's row type, a domain or an enum
    rows_per_seed: int = 5
    # A history that does not replay: the middle migration fails on line 3 with this SQLSTATE
    # ("0A000": an extension the server does not have; "42P01": a table no migration created).
    breaks_with: str | None = None
    table_weight: float = 1.5  # how often a step creates a table (100: almost every step)
    config: int = 3  # 2: config v2 (migrations/<version>_<name>/, metadata/tables.yaml, functions.yaml)
    empty_up: bool = False  # the middle migration's up.sql has 0 bytes (as console-made ones can)

    def only(self, **switches: object) -> Shape:
        return replace(self, **switches)  # type: ignore[arg-type]


EVERYTHING = Shape(
    schemas=("public", "app", "reporting"),
    digits=(10, 13),
    enums=True,
    domains=True,
    composites=True,
    views=True,
    setof_functions=True,
    functions=True,
    triggers=True,
    policies=True,
    partitions=True,
    renames=True,
    drops=True,
    pg_dump_init=True,
    explicit_transactions=True,
    do_blocks=True,
    crlf=True,
    odd_identifiers=True,
    volatile_defaults=True,
    data_migrations=True,
    in_lists=True,
    between=True,
    array_casts=True,
    like_any=True,
    cast_defaults=True,
)


@dataclass
class Column:
    name: str
    definition: str
    kind: str  # id, label, status, code, qty, extra, fk, enum, volatile, tags
    pinned: bool = False  # used by a view, an index, a function or a policy: never dropped or renamed


@dataclass
class Table:
    schema: str
    name: str
    columns: list[Column]
    dependents: int = 0  # views, functions, foreign keys and policies that name this table
    rows: int = 0
    partitioned: bool = False
    random_rows: bool = False  # seeded with a random number of rows

    @property
    def ref(self) -> str:
        return f"{q(self.schema)}.{q(self.name)}"

    def of(self, kind: str) -> Column | None:
        return next((c for c in self.columns if c.kind == kind), None)


@dataclass
class View:
    schema: str
    name: str
    columns: tuple[str, ...]
    dependents: int = 0

    @property
    def ref(self) -> str:
        return f"{q(self.schema)}.{q(self.name)}"


@dataclass
class Migration:
    name: str
    up: str
    down: str
    crlf: bool = False
    own_transaction: bool = False
