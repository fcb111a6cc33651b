"""Synthetic PostgreSQL schemas for the `kedge-hasura diff` benchmark (bench/diff_bench.py).

One schema `bench` with N tables `t0001..tNNNN`. Each table has 10 columns (identity bigint, text,
varchar(32), numeric(12,2) with default, enum with default, timestamptz with and without default,
jsonb default '{}', two FK columns to earlier tables; every 25th table adds a stored generated
column), a PK, 1-2 FKs, a CHECK, two indexes (one partial), a BEFORE UPDATE trigger calling one
shared plpgsql function and a table comment. N/10 views join two tables each. One each of: enum,
domain, composite type, standalone sequence, extension (pg_trgm, in public: available on the
Debian PostgreSQL 15 and the embedded PostgreSQL 18), exclusion-constraint table, materialized
view with a unique index, procedure, SQL function, RLS policy, and grants to a role.

Variants:
  base  the schema, one CREATE per object.
  b     base with 10 planted differences of 3 kinds: column properties, dropped indexes, views.
  m     the SAME schema as base reached through 40 migration-like steps (tables created in an
        older shape, columns added, dropped and retyped, constraints added by ALTER, an index
        renamed back, a view and a function replaced): diff(base, m) must be empty.
  x     base with 19 planted differences, one each of other kinds (comments, constraints, index,
        trigger, column order, identity and sequence options, RLS, grant, generated expression,
        enum, domain, routines, extension, materialized view).

`manifest(variant, n)` lists the planted differences of b and x: each has an `id`, a `kind`,
the `object` it touches and a `level` saying how a tool's output must name it for the difference
to count as detected (bench/diff_coverage.py). Every x plant touches its own table (asserted).

Run:   python bench/schema_gen.py --tables N --variant base|b|m|x > file.sql
       python bench/schema_gen.py --tables N --variant x --manifest > manifest.json
Roles are cluster-wide, so the script creates `bench_reader` only if it does not exist.
N must be at least 100 (the plants live in tables 1..100 and views 1..10).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable

SCHEMA = "bench"
ROLE = "bench_reader"
VARIANTS = ("base", "b", "m", "x")
MIN_TABLES = 100
GENERATED_EVERY = 25
M_BATCHES = 10

TOUCH_BODY = """
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
"""
TOUCH_BODY_V1 = """
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
"""

# -- planted differences -----------------------------------------------------------------------
# (id, kind, level, object, description). `level` says how a tool's output must name the object:
#   column  the table and one of the columns (object "bench.t0013.code" or "bench.t0059.name|code")
#   table   the table itself, in a statement/difference about the table, not one of its columns
#   object  the object's own name (the last dotted part of `object`, before any "(")
B_PLANTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("b01", "column", "column", "bench.t0020.code", "varchar(32) -> varchar(64)"),
    ("b02", "column", "column", "bench.t0030.name", "NOT NULL dropped"),
    ("b03", "column", "column", "bench.t0040.amount", "default 0 -> 1"),
    ("b04", "column", "column", "bench.t0050.updated_at", "default now() added"),
    ("b05", "index", "object", "bench.t0060_name_idx", "index dropped"),
    ("b06", "index", "object", "bench.t0070_active_idx", "partial index dropped"),
    ("b07", "index", "object", "bench.t0080_name_idx", "index dropped"),
    ("b08", "view", "object", "bench.v0002", "WHERE added"),
    ("b09", "view", "object", "bench.v0004", "output column added"),
    ("b10", "view", "object", "bench.v0006", "JOIN -> LEFT JOIN"),
)
X_PLANTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("x01", "comment", "table", "bench.t0011", "table comment changed"),
    ("x02", "comment", "column", "bench.t0013.code", "column comment added"),
    ("x03", "constraint", "object", "bench.t0017.t0017_amount_check", "CHECK changed"),
    ("x04", "constraint", "object", "bench.t0043.t0043_parent_id_fkey", "FK gets ON DELETE CASCADE"),
    ("x05", "index", "object", "bench.t0019.t0019_name_idx", "(name) -> (name, code)"),
    ("x06", "trigger", "object", "bench.t0031.t0031_touch", "BEFORE UPDATE -> BEFORE INSERT OR UPDATE"),
    ("x07", "column-order", "column", "bench.t0059.name|code", "name and code swapped"),
    ("x08", "identity", "column", "bench.t0061.id", "identity INCREMENT BY 1 -> 10"),
    ("x09", "sequence", "object", "bench.ticket_seq", "INCREMENT BY 1 -> 5"),
    ("x10", "policy", "object", "bench.t0001.t0001_visible", "USING changed"),
    ("x11", "rls", "table", "bench.t0053", "ROW LEVEL SECURITY enabled"),
    ("x12", "grant", "table", "bench.t0047", "GRANT SELECT TO bench_reader added"),
    ("x13", "generated", "column", "bench.t0075.total", "amount * 2 -> amount * 3"),
    ("x14", "enum", "object", "bench.row_status", "label 'deleted' appended"),
    ("x15", "domain", "object", "bench.positive_amount", "CHECK tightened"),
    ("x16", "routine", "object", "bench.archive_old(timestamptz)", "procedure body changed"),
    ("x17", "routine", "object", "bench.normalize_code(text)", "IMMUTABLE -> STABLE"),
    ("x18", "extension", "object", "citext", "extension added"),
    ("x19", "materialized-view", "object", "bench.status_counts", "definition changed"),
)


def _plant_ids(variant: str) -> frozenset[str]:
    if variant == "b":
        return frozenset(p[0] for p in B_PLANTS)
    if variant == "x":
        return frozenset(p[0] for p in X_PLANTS)
    return frozenset()


def manifest(variant: str, n: int) -> list[dict[str, object]]:
    """The planted differences of variant b or x (empty for base and m).

    Each: id, kind, level, object, description, and for matching: `table` (column and table
    levels), `columns` (column level) and `name` (object level).
    """
    _check_size(n)
    plants = {"b": B_PLANTS, "x": X_PLANTS}.get(variant, ())
    out: list[dict[str, object]] = []
    for pid, kind, level, obj, text in plants:
        entry: dict[str, object] = {"id": pid, "kind": kind, "level": level, "object": obj}
        parts = obj.split("(")[0].split(".")
        if level == "column":
            entry["table"], entry["columns"] = parts[1], parts[2].split("|")
        elif level == "table":
            entry["table"] = parts[1]
        else:
            entry["name"] = parts[-1]
        entry["description"] = text
        out.append(entry)
    return out


def _check_size(n: int) -> None:
    if n < MIN_TABLES:
        raise ValueError(f"--tables must be at least {MIN_TABLES} (the planted differences need them)")


def _refs(i: int) -> list[tuple[str, int]]:
    """The FK columns of table i and the tables they point at (1 or 2 FKs)."""
    refs = [("parent_id", max(1, i - 1))]
    if i % 2 == 0:
        refs.append(("other_id", max(1, i // 2)))
    return refs


def _assert_plants_distinct() -> None:
    """Each x plant touches its own table, and the FK plant does not point at another's table."""
    tables = [int(p[3][7:11]) for p in X_PLANTS if p[3].startswith("bench.t0")]
    assert len(tables) == len(set(tables)), "two x plants on one table"
    fk_table = int(X_PLANTS[3][3][7:11])
    assert not {target for _, target in _refs(fk_table)} & set(tables), "x04 references a plant's table"


_assert_plants_distinct()


def t(i: int) -> str:
    return f"t{i:04d}"


def v(k: int) -> str:
    return f"v{k:04d}"


# -- base (and b, x) -------------------------------------------------------------------------


def _preamble(plants: frozenset[str]) -> list[str]:
    out = [
        f"CREATE SCHEMA {SCHEMA};",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;",
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') "
        f"THEN CREATE ROLE {ROLE} NOLOGIN; END IF; END $$;",
    ]
    if "x18" in plants:
        out.append("CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;")
    labels = "'draft', 'active', 'archived'" + (", 'deleted'" if "x14" in plants else "")
    out.append(f"CREATE TYPE {SCHEMA}.row_status AS ENUM ({labels});")
    out.append(f"CREATE TYPE {SCHEMA}.address AS (street text, city text, zip varchar(10));")
    check = "VALUE >= 0 AND VALUE < 1000000" if "x15" in plants else "VALUE >= 0"
    out.append(
        f"CREATE DOMAIN {SCHEMA}.positive_amount AS numeric(12,2) "
        f"CONSTRAINT positive_amount_check CHECK ({check});"
    )
    increment = 5 if "x09" in plants else 1
    out.append(
        f"CREATE SEQUENCE {SCHEMA}.ticket_seq AS bigint START WITH 1000 INCREMENT BY {increment} CACHE 1;"
    )
    out.append(_touch_function(TOUCH_BODY, replace=False))
    return out


def _touch_function(body: str, *, replace: bool) -> str:
    verb = "CREATE OR REPLACE" if replace else "CREATE"
    return f"{verb} FUNCTION {SCHEMA}.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $${body}$$;"


def _columns(i: int, plants: frozenset[str]) -> list[str]:
    identity = " (INCREMENT BY 10)" if (i == 61 and "x08" in plants) else ""
    code_len = 64 if (i == 20 and "b01" in plants) else 32
    name_null = "" if (i == 30 and "b02" in plants) else " NOT NULL"
    amount_default = 1 if (i == 40 and "b03" in plants) else 0
    updated_default = " DEFAULT now()" if (i == 50 and "b04" in plants) else ""
    name = f"name text{name_null}"
    code = f"code varchar({code_len})"
    cols = [
        f"id bigint GENERATED ALWAYS AS IDENTITY{identity}",
        *((code, name) if (i == 59 and "x07" in plants) else (name, code)),
        f"amount numeric(12,2) NOT NULL DEFAULT {amount_default}",
        f"status {SCHEMA}.row_status NOT NULL DEFAULT 'draft'",
        "created_at timestamptz NOT NULL DEFAULT now()",
        f"updated_at timestamptz{updated_default}",
        "attrs jsonb NOT NULL DEFAULT '{}'",
        "parent_id bigint",
        "other_id bigint",
    ]
    if i % GENERATED_EVERY == 0:
        factor = 3 if (i == 75 and "x13" in plants) else 2
        cols.append(f"total numeric(12,2) GENERATED ALWAYS AS (amount * {factor}) STORED")
    return cols


def _check(i: int, plants: frozenset[str]) -> str:
    return "amount > 0" if (i == 17 and "x03" in plants) else "amount >= 0"


def _fk(i: int, column: str, target: int, plants: frozenset[str]) -> str:
    cascade = " ON DELETE CASCADE" if (i == 43 and column == "parent_id" and "x04" in plants) else ""
    return (
        f"CONSTRAINT {t(i)}_{column}_fkey FOREIGN KEY ({column}) "
        f"REFERENCES {SCHEMA}.{t(target)} (id){cascade}"
    )


def _name_index(i: int, plants: frozenset[str], *, name: str | None = None) -> str | None:
    if (i == 60 and "b05" in plants) or (i == 80 and "b07" in plants):
        return None
    columns = "name, code" if (i == 19 and "x05" in plants) else "name"
    return f"CREATE INDEX {name or t(i) + '_name_idx'} ON {SCHEMA}.{t(i)} ({columns});"


def _active_index(i: int, plants: frozenset[str]) -> str | None:
    if i == 70 and "b06" in plants:
        return None
    return f"CREATE INDEX {t(i)}_active_idx ON {SCHEMA}.{t(i)} (created_at) WHERE status = 'active';"


def _trigger(i: int, plants: frozenset[str]) -> str:
    events = "INSERT OR UPDATE" if (i == 31 and "x06" in plants) else "UPDATE"
    return (
        f"CREATE TRIGGER {t(i)}_touch BEFORE {events} ON {SCHEMA}.{t(i)} "
        f"FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.touch_updated_at();"
    )


def _comments(i: int, plants: frozenset[str]) -> list[str]:
    text = f"synthetic table {i}" + (" (renamed)" if (i == 11 and "x01" in plants) else "")
    out = [f"COMMENT ON TABLE {SCHEMA}.{t(i)} IS '{text}';"]
    if i == 13 and "x02" in plants:
        out.append(f"COMMENT ON COLUMN {SCHEMA}.{t(i)}.code IS 'external code';")
    return out


def _table(i: int, plants: frozenset[str]) -> list[str]:
    body = [
        *_columns(i, plants),
        f"CONSTRAINT {t(i)}_pkey PRIMARY KEY (id)",
        f"CONSTRAINT {t(i)}_amount_check CHECK ({_check(i, plants)})",
        *(_fk(i, column, target, plants) for column, target in _refs(i)),
    ]
    out = [f"CREATE TABLE {SCHEMA}.{t(i)} (\n    " + ",\n    ".join(body) + "\n);"]
    out += [s for s in (_name_index(i, plants), _active_index(i, plants)) if s]
    out.append(_trigger(i, plants))
    out += _comments(i, plants)
    return out


def _view(k: int, plants: frozenset[str], *, old: bool = False) -> str:
    """View k joins table 10k with its parent table 10k-1."""
    a, p = t(10 * k), t(10 * k - 1)
    columns = "a.id, a.name" if old else "a.id, a.name, a.status"
    if k == 4 and "b09" in plants:
        columns += ", a.amount"
    join = "LEFT JOIN" if (k == 6 and "b10" in plants) else "JOIN"
    where = " WHERE a.status = 'active'" if (k == 2 and "b08" in plants) else ""
    return (
        f"CREATE VIEW {SCHEMA}.{v(k)} AS SELECT {columns}, p.name AS parent_name "
        f"FROM {SCHEMA}.{a} a {join} {SCHEMA}.{p} p ON p.id = a.parent_id{where};"
    )


def _booking(*, exclusion_inline: bool = True) -> list[str]:
    body = [
        "id bigint GENERATED ALWAYS AS IDENTITY",
        "room integer NOT NULL",
        "during tstzrange NOT NULL",
        f"price {SCHEMA}.positive_amount",
        f"location {SCHEMA}.address",
        "CONSTRAINT booking_pkey PRIMARY KEY (id)",
    ]
    exclusion = "CONSTRAINT booking_no_overlap EXCLUDE USING gist (during WITH &&)"
    if exclusion_inline:
        body.append(exclusion)
    out = [f"CREATE TABLE {SCHEMA}.booking (\n    " + ",\n    ".join(body) + "\n);"]
    if not exclusion_inline:
        out.append(f"ALTER TABLE {SCHEMA}.booking ADD {exclusion};")
    return out


def _matview(plants: frozenset[str]) -> list[str]:
    where = " WHERE status <> 'archived'" if "x19" in plants else ""
    return [
        f"CREATE MATERIALIZED VIEW {SCHEMA}.status_counts AS "
        f"SELECT status, count(*) AS n FROM {SCHEMA}.t0001{where} GROUP BY status;",
        f"CREATE UNIQUE INDEX status_counts_status_idx ON {SCHEMA}.status_counts (status);",
    ]


def _procedure(plants: frozenset[str]) -> str:
    extra = " AND status <> 'archived'" if "x16" in plants else ""
    return (
        f"CREATE PROCEDURE {SCHEMA}.archive_old(p_before timestamptz) LANGUAGE sql AS $$ "
        f"UPDATE {SCHEMA}.t0001 SET status = 'archived' WHERE created_at < p_before{extra} $$;"
    )


def _function(plants: frozenset[str], volatility: str | None = None) -> str:
    volatility = volatility or ("STABLE" if "x17" in plants else "IMMUTABLE")
    return (
        f"CREATE FUNCTION {SCHEMA}.normalize_code(p_code text) RETURNS text LANGUAGE sql "
        f"{volatility} AS $$ SELECT lower(trim(p_code)) $$;"
    )


def _security(n: int, plants: frozenset[str]) -> list[str]:
    using = "status = 'active'" if "x10" in plants else "status <> 'archived'"
    out = [
        f"ALTER TABLE {SCHEMA}.t0001 ENABLE ROW LEVEL SECURITY;",
        f"CREATE POLICY t0001_visible ON {SCHEMA}.t0001 FOR SELECT TO {ROLE} USING ({using});",
        f"GRANT USAGE ON SCHEMA {SCHEMA} TO {ROLE};",
        f"GRANT SELECT ON {SCHEMA}.{v(1)} TO {ROLE};",
    ]
    if "x11" in plants:
        out.append(f"ALTER TABLE {SCHEMA}.t0053 ENABLE ROW LEVEL SECURITY;")
    if "x12" in plants:
        out.append(f"GRANT SELECT ON {SCHEMA}.t0047 TO {ROLE};")
    return out


def render_schema(n: int, plants: Iterable[str] = ()) -> str:
    """The consolidated schema script (base when `plants` is empty)."""
    _check_size(n)
    chosen = frozenset(plants)
    out = _preamble(chosen)
    for i in range(1, n + 1):
        out += _table(i, chosen)
    out += [_view(k, chosen) for k in range(1, n // 10 + 1)]
    out += _booking()
    out += _matview(chosen)
    out.append(_procedure(chosen))
    out.append(_function(chosen))
    out += _security(n, chosen)
    return "\n".join(out) + "\n"


# -- m: the same schema through 40 migration-like steps -----------------------------------------


def migration_steps(n: int) -> list[tuple[str, str]]:
    """40 (name, sql) steps whose end state is exactly `render_schema(n)`."""
    _check_size(n)
    none: frozenset[str] = frozenset()
    tables = range(1, n + 1)
    steps: list[tuple[str, list[str]]] = []

    def step(name: str, statements: Iterable[str]) -> None:
        steps.append((name, list(statements)))

    def each(template: str, which: Iterable[int] = tables) -> list[str]:
        return [template.format(s=SCHEMA, t=t(i), i=i) for i in which]

    step(
        "schema_and_extensions",
        [
            f"CREATE SCHEMA {SCHEMA};",
            "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;",
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') "
            f"THEN CREATE ROLE {ROLE} NOLOGIN; END IF; END $$;",
        ],
    )
    step(
        "types",
        [
            f"CREATE TYPE {SCHEMA}.row_status AS ENUM ('draft', 'active', 'archived');",
            f"CREATE TYPE {SCHEMA}.address AS (street text, city text, zip varchar(10));",
            f"CREATE DOMAIN {SCHEMA}.positive_amount AS numeric(12,2);",
            f"ALTER DOMAIN {SCHEMA}.positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE >= 0);",
        ],
    )
    step(
        "ticket_sequence",
        [
            f"CREATE SEQUENCE {SCHEMA}.ticket_seq AS bigint START WITH 1 INCREMENT BY 1 CACHE 1;",
            f"ALTER SEQUENCE {SCHEMA}.ticket_seq START WITH 1000 RESTART;",
        ],
    )
    step("touch_function_v1", [_touch_function(TOUCH_BODY_V1, replace=False)])
    size = -(-n // M_BATCHES)
    for batch in range(M_BATCHES):
        which = range(batch * size + 1, min(n, (batch + 1) * size) + 1)
        step(
            f"create_tables_{batch + 1:02d}",
            [
                f"CREATE TABLE {SCHEMA}.{t(i)} (\n    id bigint NOT NULL,\n    name text,\n"
                f"    code varchar(16),\n    amount numeric(10,2),\n"
                f"    status {SCHEMA}.row_status NOT NULL DEFAULT 'draft',\n"
                "    created_at timestamptz DEFAULT now(),\n    legacy_flag boolean DEFAULT false\n);\n"
                f"COMMENT ON TABLE {SCHEMA}.{t(i)} IS 'TODO';"
                for i in which
            ],
        )
    step("identity", each("ALTER TABLE {s}.{t} ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;"))
    step("primary_keys", each("ALTER TABLE {s}.{t} ADD CONSTRAINT {t}_pkey PRIMARY KEY (id);"))
    step("widen_code", each("ALTER TABLE {s}.{t} ALTER COLUMN code TYPE varchar(32);"))
    step("amount_precision", each("ALTER TABLE {s}.{t} ALTER COLUMN amount TYPE numeric(12,2);"))
    step(
        "amount_default",
        each("ALTER TABLE {s}.{t} ALTER COLUMN amount SET DEFAULT 0, ALTER COLUMN amount SET NOT NULL;"),
    )
    step("drop_legacy_flag", each("ALTER TABLE {s}.{t} DROP COLUMN legacy_flag;"))
    step(
        "timestamps",
        each("ALTER TABLE {s}.{t} ADD COLUMN updated_at timestamptz, ALTER COLUMN created_at SET NOT NULL;"),
    )
    step("attrs", each("ALTER TABLE {s}.{t} ADD COLUMN attrs jsonb NOT NULL DEFAULT '{{}}';"))
    step("links", each("ALTER TABLE {s}.{t} ADD COLUMN parent_id bigint, ADD COLUMN other_id bigint;"))
    step(
        "generated_totals",
        each(
            "ALTER TABLE {s}.{t} ADD COLUMN total numeric(12,2) GENERATED ALWAYS AS (amount * 2) STORED;",
            [i for i in tables if i % GENERATED_EVERY == 0],
        ),
    )
    step("name_not_null", each("ALTER TABLE {s}.{t} ALTER COLUMN name SET NOT NULL;"))
    step("amount_checks", each("ALTER TABLE {s}.{t} ADD CONSTRAINT {t}_amount_check CHECK (amount >= 0);"))
    step(
        "parent_fks",
        [f"ALTER TABLE {SCHEMA}.{t(i)} ADD {_fk(i, 'parent_id', max(1, i - 1), none)};" for i in tables],
    )
    step(
        "other_fks",
        [
            f"ALTER TABLE {SCHEMA}.{t(i)} ADD {_fk(i, 'other_id', max(1, i // 2), none)};"
            for i in tables
            if i % 2 == 0
        ],
    )
    step("name_indexes", [_name_index(i, none, name=f"{t(i)}_name_index") or "" for i in tables])
    step("rename_name_indexes", each("ALTER INDEX {s}.{t}_name_index RENAME TO {t}_name_idx;"))
    step("partial_indexes", [_active_index(i, none) or "" for i in tables])
    step("touch_function_v2", [_touch_function(TOUCH_BODY, replace=True)])
    step("triggers", [_trigger(i, none) for i in tables])
    step("table_comments", [s for i in tables for s in _comments(i, none)])
    step("views", [_view(k, none, old=(k == 1)) for k in range(1, n // 10 + 1)])
    step("replace_view", [f"DROP VIEW {SCHEMA}.{v(1)};", _view(1, none)])
    step("booking", _booking(exclusion_inline=False))
    step("status_counts", _matview(none))
    step(
        "routines",
        [
            _procedure(none),
            _function(none, volatility="VOLATILE"),
            f"ALTER FUNCTION {SCHEMA}.normalize_code(text) IMMUTABLE;",
        ],
    )
    step("row_level_security_and_grants", _security(n, none))
    assert len(steps) == 40, len(steps)
    return [(f"{number:03d}_{name}", "\n".join(sql)) for number, (name, sql) in enumerate(steps, 1)]


def render_migrations(n: int) -> str:
    """All migration steps in one script, each headed by its name."""
    return "".join(f"-- migration {name}\n{sql}\n" for name, sql in migration_steps(n))


def render(variant: str, n: int) -> str:
    if variant == "m":
        return render_migrations(n)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    return render_schema(n, _plant_ids(variant))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--variant", choices=VARIANTS, default="base")
    parser.add_argument(
        "--manifest", action="store_true", help="print the planted differences (JSON) instead of SQL"
    )
    args = parser.parse_args()
    try:
        if args.manifest:
            json.dump(manifest(args.variant, args.tables), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(render(args.variant, args.tables))
    except ValueError as exc:
        parser.error(str(exc))


if __name__ == "__main__":
    main()
