"""`kedge-hasura squash` against the bare sequential replay of the same history, whole process.

Projects (rebuilt under bench/.work/squash/ on every run of this script):
  kedge      the shipped Kedge project with its 17 original migrations live again: config.yaml,
             metadata/ and the migration folders of its squash archive
             (hasura/migrations/default/squashed_*), without MANIFEST.json and the consolidated one
  synthetic  a generated, seeded (deterministic) config-v3 history of --migrations migrations, each
             with up.sql and down.sql: schemas, tables with primary and foreign keys, checks and
             defaults (identity, serial, uuid keys), added / renamed / dropped / retyped columns,
             indexes (partial, unique, GIN), constraints, comments, SQL and PL/pgSQL functions
             created then replaced, triggers, views (some in a second schema), seed rows, a table
             renamed, and tables created then dropped (one after moving its rows elsewhere)

Timed, each a whole process from spawn to exit, interleaved (the order rotates every round),
median of --runs rounds after one untimed warm-up of each:
  squash  `kedge-hasura -v -o json --pg-version N --project <copy> squash --dry-run`: starts its
          own scratch PostgreSQL, replays, dumps and verifies everything, writes nothing (so the
          copy is reused); stdout (the JSON result) goes to a file
  replay  the bare sequential replay, driven from this process as a shell script would: initdb,
          `pg_ctl start -w` (unix socket, fsync=off, as the postgres user when we are root), one
          `psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f up.sql` per migration in order,
          `pg_ctl stop -m immediate`, rm -rf; same PostgreSQL major as the squash
Targets: squash (verification included) within 3x the bare replay; the Kedge project under 5 s.

Phases come from squash's -v progress lines on stderr, timestamped here as they arrive (medians
over the timed runs; the phase medians need not add up to the median total):
  other         process start to "Squashing" (imports, project scan), the "before" database,
                and "done in" to exit (report, exit)
  server start  initdb, server start, template database
  replay        the replay of the originals
  dump          pg_dump of the final and the "before" state, up.sql and down.sql rendering
  verification  the second replay and row comparison that finds frozen values (with the
                snapshots of the final state that the dump strategy also uses), applying up.sql to
                a fresh copy and comparing schema and rows, applying down.sql and comparing; the
                last segment also holds the server stop (about 0.03 s, see RESULTS.md)

Run: .venv/bin/python bench/squash_bench.py [--runs 3] [--migrations 300] [--seed 20260101]
     [--pg-version N] [--projects kedge,synthetic]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import bare_server, load_average, machine
from data_history import data_history

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work" / "squash"
KEDGE_MIGRATIONS = REPO / "hasura" / "migrations" / "default"
KEDGE = Path(sys.executable).parent / "kedge-hasura"

CONFIG = "version: 3\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n"
DATABASES = """\
- name: default
  kind: postgres
  configuration:
    connection_info:
      database_url:
        from_env: HASURA_GRAPHQL_DATABASE_URL
      isolation_level: read-committed
  tables: []
"""


# -- the Kedge project, originals live again ------------------------------------------------------


def write_kedge() -> tuple[Path, list[Path]]:
    archives = sorted(KEDGE_MIGRATIONS.glob("squashed_*_to_*"))
    if len(archives) != 1:
        raise SystemExit(f"expected one squash archive in {KEDGE_MIGRATIONS}, found {len(archives)}")
    project = WORK / "kedge"
    shutil.rmtree(project, ignore_errors=True)
    target = project / "migrations" / "default"
    target.mkdir(parents=True)
    shutil.copy2(REPO / "hasura" / "config.yaml", project / "config.yaml")
    shutil.copytree(REPO / "hasura" / "metadata", project / "metadata")
    for folder in sorted(archives[0].iterdir()):  # MANIFEST.json is a file: left out
        if folder.is_dir() and folder.name.split("_", 1)[0].isdigit():
            shutil.copytree(folder, target / folder.name)
    return project, migration_files(project)


def migration_files(project: Path) -> list[Path]:
    """The up.sql files of the project's default database, in version order."""
    folders = [
        p for p in (project / "migrations" / "default").iterdir() if p.is_dir() and p.name[0].isdigit()
    ]
    return [p / "up.sql" for p in sorted(folders, key=lambda p: int(p.name.split("_", 1)[0]))]


# -- the synthetic history --------------------------------------------------------------------------

_NOUNS = (
    "accounts customers products orders order_items invoices payments shipments warehouses suppliers "
    "categories reviews coupons carts addresses employees departments projects tasks comments tags "
    "notifications subscriptions plans devices events tickets messages attachments reports regions "
    "stores promotions refunds vendors contracts assets budgets expenses courses lessons quizzes "
    "answers enrollments badges schedules rooms bookings teams members invitations webhooks api_keys "
    "feature_flags translations currencies"
)
NOUNS = tuple(_NOUNS.split())
STATUSES = ("active", "archived", "deleted")
# name -> column definition; added by add_column, re-added by the down.sql of drop_column
EXTRAS = {
    "note": "text",
    "priority": "integer NOT NULL DEFAULT 0",
    "is_active": "boolean NOT NULL DEFAULT true",
    "metadata": "jsonb NOT NULL DEFAULT '{}'::jsonb",
    "due_date": "date",
    "external_ref": "uuid",
    "score": "numeric(5,2) CHECK (score BETWEEN 0 AND 100)",
    "tags": "text[] NOT NULL DEFAULT '{}'",
    "updated_at": "timestamptz NOT NULL DEFAULT now()",
    "sort_order": "integer",
    "currency": "char(3) NOT NULL DEFAULT 'EUR'",
}
RENAMES = {
    "label": "title",
    "title": "display_name",
    "amount": "total",
    "total": "total_amount",
    "note": "remarks",
    "remarks": "internal_note",
    "priority": "rank",
    "is_active": "enabled",
    "due_date": "due_on",
    "score": "rating",
    "external_ref": "external_id",
    "tags": "labels",
    "metadata": "attributes",
    "sort_order": "position",
}


@dataclass
class Column:
    name: str
    definition: str
    role: str  # id, label, status, amount, fk, created, extra
    pinned: bool = False  # used by an index, a view, a trigger or a function body: never dropped
    frozen_name: bool = False  # named in a PL/pgSQL body: never renamed
    references: Table | None = None  # the parent table of a foreign key column


@dataclass
class Table:
    name: str
    key: str  # identity, serial, uuid
    columns: list[Column]
    schema: str = "app"
    legacy: bool = False  # created to be dropped later: never referenced, indexed or viewed
    has_trigger: bool = False
    has_normaliser: bool = False
    has_label_check: bool = False
    seeded: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, role: str) -> Column | None:
        return next((c for c in self.columns if c.role == role), None)

    def named(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass
class Function:
    name: str
    signature: str  # for DROP FUNCTION
    make: Callable[[int], str]  # variant -> its CREATE OR REPLACE FUNCTION text
    variant: int = 0


@dataclass
class History:
    """Generates the migrations one at a time, tracking what exists so that every one applies."""

    rng: random.Random
    migrations: list[tuple[str, str, str]] = field(default_factory=list)  # slug, up, down
    tables: list[Table] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    names: set[str] = field(default_factory=set)  # relation and index names in use (per schema)
    rows: int = 0
    reporting: bool = False

    def add(self, slug: str, up: str, down: str) -> None:
        self.migrations.append((slug, up.strip() + "\n", down.strip() + "\n"))

    def fresh(self, wanted: str) -> str:
        name, suffix = wanted, 2
        while name in self.names:
            name, suffix = f"{wanted}_{suffix}", suffix + 1
        self.names.add(name)
        return name

    def live(self) -> list[Table]:
        return [t for t in self.tables if not t.legacy]

    def labels(self, count: int) -> list[str]:
        self.rows += count
        return [f"item {self.rows - count + k + 1:05d}" for k in range(count)]

    # -- the steps ------------------------------------------------------------------------------

    def init(self) -> None:
        self.add(
            "init_app_schema",
            """
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'Application tables';

CREATE FUNCTION app.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
""",
            "DROP FUNCTION app.set_updated_at();\nDROP SCHEMA app;",
        )

    def create_table(self, *, legacy: bool = False, noun: str | None = None) -> Table:
        rng = self.rng
        name = self.fresh(noun or rng.choice(NOUNS))
        key = rng.choice(("identity", "identity", "serial", "uuid"))
        key_definition = {
            "identity": "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "serial": "serial PRIMARY KEY",
            "uuid": "uuid PRIMARY KEY DEFAULT gen_random_uuid()",
        }[key]
        columns = [
            Column("id", key_definition, "id", pinned=True, frozen_name=True),
            Column("label", "text NOT NULL", "label"),
        ]
        if not legacy:
            columns.append(
                Column(
                    "status",
                    "text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'deleted'))",
                    "status",
                    pinned=True,
                    frozen_name=True,
                )
            )
            columns.append(Column("amount", "numeric(12,2) NOT NULL DEFAULT 0 CHECK (amount >= 0)", "amount"))
        parents = [t for t in self.live() if t.schema == "app"]
        parent = rng.choice(parents) if parents and not legacy and rng.random() < 0.6 else None
        if parent is not None:
            key_type = {"identity": "bigint", "serial": "integer", "uuid": "uuid"}[parent.key]
            action = rng.choice(("CASCADE", "SET NULL"))
            parent_column = f"{parent.name.removesuffix('s')}_id"
            if parent_column in ("label_id", "id"):
                parent_column = "parent_id"
            columns.append(
                Column(
                    parent_column,
                    f"{key_type} REFERENCES {parent.qualified} (id) ON DELETE {action}",
                    "fk",
                    pinned=True,
                    references=parent,
                )
            )
        columns.append(
            Column(
                "created_at", "timestamptz NOT NULL DEFAULT now()", "created", pinned=True, frozen_name=True
            )
        )
        if not legacy and rng.random() < 0.4:
            columns.append(Column("updated_at", EXTRAS["updated_at"], "extra", pinned=True, frozen_name=True))
        table = Table(name, key, columns, legacy=legacy)
        body = ",\n".join(f"    {c.name} {c.definition}" for c in columns)
        up = [f"CREATE TABLE {table.qualified} (\n{body}\n);"]
        fk = table.column("fk")
        if fk is not None:
            index = self.fresh(f"{name}_{fk.name}_idx")
            up.append(f"CREATE INDEX {index} ON {table.qualified} ({fk.name});")
        if rng.random() < 0.5:
            up.append(f"COMMENT ON TABLE {table.qualified} IS 'The {name.replace('_', ' ')}';")
        self.tables.append(table)
        self.add(f"create_{name}", "\n".join(up), f"DROP TABLE {table.qualified};")
        return table

    def add_column(self) -> bool:
        table = self.rng.choice(self.live())
        choices = [n for n in EXTRAS if table.named(n) is None]
        if not choices:
            return False
        name = self.rng.choice(choices)
        pinned = name == "updated_at"
        table.columns.append(Column(name, EXTRAS[name], "extra", pinned=pinned, frozen_name=pinned))
        self.add(
            f"add_{name}_to_{table.name}",
            f"ALTER TABLE {table.qualified} ADD COLUMN {name} {EXTRAS[name]};",
            f"ALTER TABLE {table.qualified} DROP COLUMN {name};",
        )
        return True

    def rename_column(self) -> bool:
        candidates = [
            (t, c)
            for t in self.live()
            for c in t.columns
            if not c.frozen_name and c.name in RENAMES and t.named(RENAMES[c.name]) is None
        ]
        if not candidates:
            return False
        table, column = self.rng.choice(candidates)
        old, new = column.name, RENAMES[column.name]
        column.name = new
        self.add(
            f"rename_{table.name}_{old}_to_{new}",
            f"ALTER TABLE {table.qualified} RENAME COLUMN {old} TO {new};",
            f"ALTER TABLE {table.qualified} RENAME COLUMN {new} TO {old};",
        )
        return True

    def drop_column(self) -> bool:
        candidates = [(t, c) for t in self.live() for c in t.columns if c.role == "extra" and not c.pinned]
        if not candidates:
            return False
        table, column = self.rng.choice(candidates)
        table.columns.remove(column)
        self.add(
            f"drop_{table.name}_{column.name}",
            f"ALTER TABLE {table.qualified} DROP COLUMN {column.name};",
            f"ALTER TABLE {table.qualified} ADD COLUMN {column.name} {column.definition};",
        )
        return True

    def retype_column(self) -> bool:
        candidates = [
            (t, c)
            for t in self.live()
            for c in t.columns
            if c.definition.startswith("integer") and not c.pinned
        ]
        if not candidates:
            return False
        table, column = self.rng.choice(candidates)
        old_type = "integer"
        column.definition = "bigint" + column.definition.removeprefix("integer")
        self.add(
            f"widen_{table.name}_{column.name}",
            f"ALTER TABLE {table.qualified} ALTER COLUMN {column.name} TYPE bigint;",
            f"ALTER TABLE {table.qualified} ALTER COLUMN {column.name} TYPE {old_type};",
        )
        return True

    def add_index(self) -> bool:
        rng = self.rng
        table = rng.choice(self.live())
        columns = [c for c in table.columns if c.role != "id"]
        column = rng.choice(columns)
        method = " USING gin" if column.definition.startswith(("jsonb", "text[]")) else ""
        unique = "UNIQUE " if column.role == "label" and not method and rng.random() < 0.4 else ""
        where = ""
        if (
            table.column("status") is not None
            and column.role != "status"
            and not unique
            and rng.random() < 0.3
        ):
            where = " WHERE status = 'active'"
        index = self.fresh(f"{table.name}_{column.name}_{'key' if unique else 'idx'}")
        column.pinned = True
        self.add(
            f"index_{table.name}_{column.name}",
            f"CREATE {unique}INDEX {index} ON {table.qualified}{method} ({column.name}){where};",
            f"DROP INDEX app.{index};",
        )
        return True

    def add_check(self) -> bool:
        candidates = [t for t in self.live() if not t.has_label_check]
        if not candidates:
            return False
        table = self.rng.choice(candidates)
        label = table.column("label")
        assert label is not None
        table.has_label_check = True
        constraint = f"{table.name}_label_not_blank"
        self.add(
            f"check_{table.name}_label_not_blank",
            f"ALTER TABLE {table.qualified} ADD CONSTRAINT {constraint} CHECK (btrim({label.name}) <> '');",
            f"ALTER TABLE {table.qualified} DROP CONSTRAINT {constraint};",
        )
        return True

    def comment(self) -> bool:
        table = self.rng.choice(self.live())
        column = self.rng.choice(table.columns)
        target = f"{table.qualified}.{column.name}"
        self.add(
            f"comment_{table.name}_{column.name}",
            f"COMMENT ON COLUMN {target} IS 'The {column.name.replace('_', ' ')} of a {table.name} row';",
            f"COMMENT ON COLUMN {target} IS NULL;",
        )
        return True

    def function(self) -> bool:
        rng = self.rng
        if self.functions and rng.random() < 0.45:  # replace one: a new body, same signature
            function = rng.choice(self.functions)
            previous = function.make(function.variant)
            function.variant += 1
            self.add(f"replace_{function.name}", function.make(function.variant), previous)
            return True
        if rng.random() < 0.5:
            name = self.fresh(f"fn_{rng.choice(('scaled', 'rounded', 'taxed', 'discounted'))}_amount")
            base = rng.randint(1, 9)

            def make(variant: int, name: str = name, base: int = base) -> str:
                return (
                    f"CREATE OR REPLACE FUNCTION app.{name}(p_amount numeric) RETURNS numeric\n"
                    "    LANGUAGE sql IMMUTABLE\n"
                    f"    AS $$ SELECT round(p_amount * 1.{base + variant}, 2) $$;"
                )

            signature = f"app.{name}(numeric)"
        else:
            table = rng.choice([t for t in self.live() if t.column("status") is not None])
            name = self.fresh(f"count_active_{table.name}")

            def make(variant: int, name: str = name, table: Table = table) -> str:
                recent = f" AND created_at > now() - interval '{30 * variant} days'" if variant else ""
                return (
                    f"CREATE OR REPLACE FUNCTION app.{name}() RETURNS bigint\n"
                    "    LANGUAGE plpgsql STABLE\n"
                    "    AS $$\n"
                    "BEGIN\n"
                    f"    RETURN (SELECT count(*) FROM {table.qualified} WHERE status = 'active'{recent});\n"
                    "END;\n"
                    "$$;"
                )

            signature = f"app.{name}()"
        self.functions.append(Function(name, signature, make))
        self.add(f"create_function_{name}", make(0), f"DROP FUNCTION {signature};")
        return True

    def trigger(self) -> bool:
        rng = self.rng
        updated = [t for t in self.live() if t.named("updated_at") and not t.has_trigger]
        if updated and rng.random() < 0.6:
            table = rng.choice(updated)
            table.has_trigger = True
            name = f"set_{table.name}_updated_at"
            self.add(
                f"trigger_{name}",
                f"CREATE TRIGGER {name}\n    BEFORE UPDATE ON {table.qualified}\n"
                "    FOR EACH ROW EXECUTE FUNCTION app.set_updated_at();",
                f"DROP TRIGGER {name} ON {table.qualified};",
            )
            return True
        candidates = [t for t in self.live() if not t.has_normaliser]
        if not candidates:
            return False
        table = rng.choice(candidates)
        label = table.column("label")
        assert label is not None
        label.frozen_name = label.pinned = True  # the body names it
        table.has_normaliser = True
        function = self.fresh(f"normalise_{table.name}_label")
        self.add(
            f"normalise_{table.name}_{label.name}",
            f"""
CREATE FUNCTION app.{function}() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.{label.name} := btrim(NEW.{label.name});
    RETURN NEW;
END;
$$;

CREATE TRIGGER {function}
    BEFORE INSERT OR UPDATE ON {table.qualified}
    FOR EACH ROW EXECUTE FUNCTION app.{function}();
""",
            f"DROP TRIGGER {function} ON {table.qualified};\nDROP FUNCTION app.{function}();",
        )
        return True

    def view(self) -> bool:
        rng = self.rng
        tables = [t for t in self.live() if t.column("status") is not None]
        if not tables:
            return False
        table = rng.choice(tables)
        label, status, amount = (table.column(r) for r in ("label", "status", "amount"))
        assert label is not None and status is not None and amount is not None
        fk = table.column("fk")
        parent = fk.references if fk is not None else None
        schema = "reporting" if self.reporting and rng.random() < 0.5 else "app"
        kind = rng.choice(("active", "totals", "joined" if parent else "active"))
        if kind == "active":
            name = self.fresh(f"active_{table.name}")
            select = (
                f"SELECT id, {label.name}, {amount.name}, created_at\n"
                f"    FROM {table.qualified}\n    WHERE {status.name} = 'active'"
            )
        elif kind == "totals":
            name = self.fresh(f"{table.name}_totals")
            select = (
                f"SELECT {status.name}, count(*) AS row_count, sum({amount.name}) AS total\n"
                f"    FROM {table.qualified}\n    GROUP BY {status.name}"
            )
        else:
            assert parent is not None and fk is not None
            parent_label = parent.column("label")
            assert parent_label is not None
            parent_label.pinned = True
            name = self.fresh(f"{table.name}_with_{parent.name}")
            select = (
                f"SELECT c.id, c.{label.name}, p.{parent_label.name} AS parent_label\n"
                f"    FROM {table.qualified} AS c\n"
                f"    LEFT JOIN {parent.qualified} AS p ON p.id = c.{fk.name}"
            )
        label.pinned = amount.pinned = True
        self.add(
            f"create_view_{name}",
            f"CREATE VIEW {schema}.{name} AS\n    {select};",
            f"DROP VIEW {schema}.{name};",
        )
        return True

    def seed(self, table: Table | None = None) -> bool:
        rng = self.rng
        table = table or rng.choice(self.live())
        label = table.column("label")
        assert label is not None
        columns = [label.name]
        status, amount, fk = table.column("status"), table.column("amount"), table.column("fk")
        if status is not None:
            columns.append(status.name)
        if amount is not None:
            columns.append(amount.name)
        parent_ref = None
        if fk is not None and fk.references is not None:
            parent = fk.references
            parent_label = parent.column("label")
            if parent.seeded and parent_label is not None:
                columns.append(fk.name)
                parent_ref = f"(SELECT id FROM {parent.qualified} ORDER BY {parent_label.name} LIMIT 1)"
        labels = self.labels(rng.randint(3, 6))
        rows = []
        for text in labels:
            values = [f"'{text}'"]
            if status is not None:
                values.append(f"'{rng.choice(STATUSES)}'")
            if amount is not None:
                values.append(f"{rng.randint(0, 99999) / 100:.2f}")
            if parent_ref is not None:
                values.append(parent_ref)
            rows.append(f"    ({', '.join(values)})")
        table.seeded = True
        quoted = ", ".join(f"'{text}'" for text in labels)
        self.add(
            f"seed_{table.name}",
            f"INSERT INTO {table.qualified} ({', '.join(columns)}) VALUES\n" + ",\n".join(rows) + ";",
            f"DELETE FROM {table.qualified} WHERE {label.name} IN ({quoted});",
        )
        return True

    def rename_table(self) -> None:
        table = self.tables[0]  # the first table (accounts): foreign keys and views follow it
        old, new = table.name, self.fresh(f"customer_{table.name}")
        table.name = new
        self.add(
            f"rename_{old}_to_{new}",
            f"ALTER TABLE app.{old} RENAME TO {new};",
            f"ALTER TABLE app.{new} RENAME TO {old};",
        )

    def create_reporting(self) -> None:
        self.reporting = True
        self.add(
            "create_reporting_schema",
            "CREATE SCHEMA reporting;\nCOMMENT ON SCHEMA reporting IS 'Read-only views for dashboards';",
            "DROP SCHEMA reporting;",
        )

    def drop_table(self, table: Table) -> None:
        self.tables.remove(table)
        body = ",\n".join(f"    {c.name} {c.definition}" for c in table.columns)
        self.add(
            f"drop_{table.name}",
            f"DROP TABLE {table.qualified};",
            f"CREATE TABLE {table.qualified} (\n{body}\n);",
        )

    def move_and_drop(self, legacy: Table) -> None:
        target = next(t for t in self.live() if t.column("status") is not None)
        label, old_label = target.column("label"), legacy.column("label")
        assert label is not None and old_label is not None
        self.tables.remove(legacy)
        body = ",\n".join(f"    {c.name} {c.definition}" for c in legacy.columns)
        self.add(
            f"move_{legacy.name}_into_{target.name}",
            f"""
INSERT INTO {target.qualified} ({label.name}, status)
    SELECT 'legacy ' || {old_label.name}, 'archived' FROM {legacy.qualified} ORDER BY {old_label.name};
DROP TABLE {legacy.qualified};
""",
            f"""
CREATE TABLE {legacy.qualified} (
{body}
);
INSERT INTO {legacy.qualified} ({old_label.name})
    SELECT substr({label.name}, 8) FROM {target.qualified} WHERE {label.name} LIKE 'legacy %';
DELETE FROM {target.qualified} WHERE {label.name} LIKE 'legacy %';
""",
        )


def synthetic_history(count: int, seed: int) -> list[tuple[str, str, str]]:
    """`count` migrations (slug, up.sql, down.sql): fixed landmarks, random steps in between."""
    history = History(random.Random(seed))
    history.init()
    for noun in ("accounts", "customers", "products"):
        history.create_table(noun=noun)
    # Landmarks at fractions of the history, so any --migrations of 40 or more has them all.
    legacy: Table | None = None
    scratch: Table | None = None
    landmarks: dict[int, Callable[[], None]] = {}

    def make_legacy() -> None:
        nonlocal legacy
        legacy = history.create_table(legacy=True, noun="legacy_imports")

    def make_scratch() -> None:
        nonlocal scratch
        scratch = history.create_table(legacy=True, noun="tmp_export_batches")

    landmarks[count * 15 // 100] = make_legacy
    landmarks[count * 15 // 100 + 1] = lambda: history.seed(legacy)
    landmarks[count * 33 // 100] = history.create_reporting
    landmarks[count * 40 // 100] = make_scratch
    landmarks[count * 50 // 100] = lambda: history.drop_table(scratch) if scratch else None
    landmarks[count * 55 // 100] = history.rename_table
    landmarks[count * 65 // 100] = lambda: history.move_and_drop(legacy) if legacy else None
    steps: list[tuple[Callable[[], object], int]] = [
        (history.create_table, 14),
        (history.add_column, 16),
        (history.rename_column, 6),
        (history.drop_column, 5),
        (history.retype_column, 2),
        (history.add_index, 12),
        (history.add_check, 3),
        (history.comment, 4),
        (history.function, 8),
        (history.trigger, 6),
        (history.view, 7),
        (history.seed, 12),
    ]
    actions, weights = zip(*steps, strict=True)
    while len(history.migrations) < count:
        index = len(history.migrations)
        if index in landmarks:
            landmarks[index]()
            continue
        action = history.rng.choices(actions, weights)[0]
        if action() is False:
            history.create_table()
    return history.migrations[:count]


def write_synthetic(count: int, seed: int) -> tuple[Path, list[Path]]:
    project = WORK / f"synthetic-{count}"
    shutil.rmtree(project, ignore_errors=True)
    (project / "metadata" / "databases").mkdir(parents=True)
    (project / "config.yaml").write_text(CONFIG)
    (project / "metadata" / "version.yaml").write_text("version: 3\n")
    (project / "metadata" / "databases" / "databases.yaml").write_text(DATABASES)
    rng = random.Random(seed)
    version = 1_700_000_000_000
    for slug, up, down in synthetic_history(count, seed):
        version += rng.randint(3_600_000, 7 * 86_400_000)
        folder = project / "migrations" / "default" / f"{version}_{slug}"
        folder.mkdir(parents=True)
        (folder / "up.sql").write_text(up)
        (folder / "down.sql").write_text(down)
    return project, migration_files(project)


def write_data() -> tuple[Path, list[Path]]:
    """The data-heavy 28-migration history of issue 11 item 10 (see data_history.py)."""
    project = WORK / "data-28"
    shutil.rmtree(project, ignore_errors=True)
    (project / "metadata" / "databases").mkdir(parents=True)
    (project / "config.yaml").write_text(CONFIG)
    (project / "metadata" / "version.yaml").write_text("version: 3\n")
    (project / "metadata" / "databases" / "databases.yaml").write_text(DATABASES)
    version = 1_710_000_000_000
    for slug, up, down in data_history():
        version += 86_400_000
        folder = project / "migrations" / "default" / f"{version}_{slug}"
        folder.mkdir(parents=True)
        (folder / "up.sql").write_text(up)
        (folder / "down.sql").write_text(down)
    return project, migration_files(project)


# -- the contenders ---------------------------------------------------------------------------------

# progress line (stripped) -> mark; the phases are the segments between consecutive marks
MARKS = (
    ("Squashing ...", "squashing"),
    ("started ", "started"),
    ("replaying again", "replay_again"),
    ("dumping the final state", "dump"),
    ("verifying: applying the squashed migration", "verify_up"),
    ("verifying: applying the squashed down.sql", "verify_down"),
    ("done in ", "done"),
)
_REPLAY_START = re.compile(r"^replaying \d+ migrations$")
SEGMENTS = (  # label, from mark, to mark, phase
    ("start-up: imports, project scan", "spawn", "squashing", "other"),
    ("scratch server: initdb, start, template", "squashing", "started", "server start"),
    ("'before' database", "started", "replay", "other"),
    ("replay of the originals", "replay", "replay_again", "replay"),
    ("second replay + frozen-value check", "replay_again", "dump", "verification"),
    ("dump: pg_dump x2, up.sql, down.sql", "dump", "verify_up", "dump"),
    ("verify up.sql: apply, compare", "verify_up", "verify_down", "verification"),
    ("verify down.sql; server stop", "verify_down", "done", "verification"),
    ("report, exit", "done", "exit", "other"),
)
PHASES = ("server start", "replay", "dump", "verification", "other")


@dataclass
class Squash:
    seconds: float
    segments: dict[str, float]  # segment label -> seconds
    result: dict[str, Any]  # squash's JSON result


def clean_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HASURA_GRAPHQL_", "KEDGE_")) and k != "PGPASSWORD"
    }
    env["NO_COLOR"] = "1"
    return env


def run_squash(project: Path, major: int, name: str) -> Squash:
    output = WORK / f"{name}.squash.json"
    command = [str(KEDGE), "-v", "-o", "json", "--pg-version", str(major), "--project", str(project)]
    command += ["squash", "--dry-run"]
    marks: dict[str, float] = {}
    lines: list[str] = []
    with output.open("wb") as stdout:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, env=clean_env())
        assert child.stderr is not None
        for raw in child.stderr:  # line by line, as they arrive
            now = time.perf_counter() - started
            line = raw.decode(errors="replace").strip()
            lines.append(line)
            if _REPLAY_START.match(line):
                marks.setdefault("replay", now)
                continue
            for prefix, mark in MARKS:
                if line.startswith(prefix):
                    marks.setdefault(mark, now)
        code = child.wait()
        marks["exit"] = time.perf_counter() - started
    marks["spawn"] = 0.0
    if code != 0:
        tail = "\n".join(lines[-40:])
        raise SystemExit(f"squash of {project} failed (exit {code}); end of its stderr:\n{tail}")
    result = json.loads(output.read_text())["result"]
    missing = [m for _, m in MARKS if m not in marks] + ([] if "replay" in marks else ["replay"])
    if missing:
        raise SystemExit(f"squash of {project}: no progress line for {missing}; is -v still printing them?")
    segments = {label: marks[end] - marks[begin] for label, begin, end, _ in SEGMENTS}
    return Squash(marks["exit"], segments, result)


@dataclass
class Replay:
    seconds: float  # initdb, start, CREATE DATABASE, the psql loop, stop, rm -rf
    psql_seconds: float  # CREATE DATABASE on the running server + the psql loop only
    tables: int | None = None


def run_replay(bindir: Path, files: list[Path], *, count_tables: bool = False) -> Replay:
    """The bare sequential replay: initdb, pg_ctl start, a fresh database, one psql per up.sql
    (`psql -v ON_ERROR_STOP=1 -1 -f`), stop, rm -rf. Also timed alone: the fresh database and the
    psql loop, the replay on an already running server."""
    tables = None
    started = time.perf_counter()
    with bare_server(bindir) as folder:
        psql = [f"{bindir}/psql", "-X", "-q", "-h", folder, "-U", "postgres"]
        loop_started = time.perf_counter()
        subprocess.run(
            [*psql, "-d", "postgres", "-c", "CREATE DATABASE replay"], capture_output=True, check=True
        )
        for up in files:
            completed = subprocess.run(
                [*psql, "-d", "replay", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", str(up)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            if completed.returncode != 0:
                raise SystemExit(f"bare replay: psql -f {up} failed:\n{completed.stderr}")
        psql_seconds = time.perf_counter() - loop_started
        if count_tables:  # untimed use only (the warm-up)
            query = (
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%'"
            )
            out = subprocess.run(
                [*psql, "-d", "replay", "-Atc", query], capture_output=True, text=True, check=True
            ).stdout
            tables = int(out.strip())
    return Replay(time.perf_counter() - started, psql_seconds, tables)


# -- main ---------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):6.2f} s  (min–max {min(values):.2f}–{max(values):.2f})"


def bench_project(name: str, project: Path, files: list[Path], major: int, bindir: Path, runs: int) -> None:
    print(
        f"\n== {name}: {project.relative_to(REPO)} · {len(files)} migrations · load {load_average()}",
        flush=True,
    )
    command = [str(KEDGE), "--project", str(project), "status"]
    status = subprocess.run(command, capture_output=True, text=True, env=clean_env(), check=False)
    if status.returncode != 0:
        raise SystemExit(f"kedge-hasura status of {project} failed:\n{status.stdout}\n{status.stderr}")
    # Untimed warm-up of both (page cache, imports); also checks that both build the same tables.
    warm = run_squash(project, major, name)
    tables = run_replay(bindir, files, count_tables=True).tables
    result = warm.result
    print(
        f"warm-up: squash verified={result['verification']['verified']}, {result['lines_before']} lines "
        f"-> {result['lines_after']}, tables created {result['objects'].get('table', 0)}, frozen columns "
        f"{len(result['frozen_values'])}; bare replay built {tables} tables"
    )
    squashes: list[Squash] = []
    replays: list[float] = []
    loops: list[float] = []
    for round_ in range(runs):
        order = ["squash", "replay"] if round_ % 2 == 0 else ["replay", "squash"]
        for contender in order:
            if contender == "squash":
                squashes.append(run_squash(project, major, name))
                seconds = squashes[-1].seconds
            else:
                replay = run_replay(bindir, files)
                seconds = replay.seconds
                replays.append(seconds)
                loops.append(replay.psql_seconds)
            print(f"  round {round_ + 1} {contender}: {seconds:.2f} s", file=sys.stderr, flush=True)
    squash_s = [s.seconds for s in squashes]
    s, r, p = statistics.median(squash_s), statistics.median(replays), statistics.median(loops)
    print(f"squash --dry-run, whole process : {spread(squash_s)}")
    print(f"bare sequential replay (psql)   : {spread(replays)}  (initdb, start, psql loop, stop)")
    print(f"  of which the psql loop alone  : {spread(loops)}  (fresh db on the running server)")
    print(f"ratio squash/replay             : {s / r:.2f}")
    print(f"ratio squash/psql loop alone    : {s / p:.2f}")
    internal = statistics.median(float(x.result["seconds_replay"]) for x in squashes)
    print(f"squash's own replay timer       : median {internal:6.2f} s  (seconds_replay in its result)")
    print(f"phases of squash (median of {runs} run(s); from its -v progress lines):")
    for label, _, _, phase in SEGMENTS:
        value = statistics.median(x.segments[label] for x in squashes)
        print(f"  {label:<42} {value:6.2f} s   {phase}")
    by_phase = {
        phase: statistics.median(
            sum(x.segments[label] for label, _, _, of in SEGMENTS if of == phase) for x in squashes
        )
        for phase in PHASES
    }
    summary = ", ".join(f"{phase} {seconds:.2f}" for phase, seconds in by_phase.items())
    print(f"  by phase (s): {summary}")
    print(f"target squash ≤ 3× bare replay  : {verdict(s / r <= 3)} ({s / r:.2f}×)")
    print(f"  (against the psql loop alone  : {verdict(s / p <= 3)} ({s / p:.2f}×); informative)")
    if name == "kedge":
        print(f"target Kedge squash under 5 s   : {verdict(s < 5)} ({s:.2f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="timed rounds per project; medians reported")
    parser.add_argument("--migrations", type=int, default=300, help="size of the synthetic history")
    parser.add_argument("--seed", type=int, default=20260101, help="seed of the synthetic history")
    parser.add_argument("--pg-version", type=int, default=None, help="PostgreSQL major (both contenders)")
    parser.add_argument(
        "--projects", default="data,kedge,synthetic", help="data, kedge, synthetic (comma-separated)"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  # progress goes to stderr
    if args.migrations < 40:
        parser.error("--migrations must be at least 40")

    from kedge_hasura import __version__
    from kedge_hasura.pg.binaries import choose_installation

    installation = choose_installation(pg_version=args.pg_version)
    WORK.mkdir(parents=True, exist_ok=True)
    print(
        f"kedge-hasura {__version__} (work tree, {KEDGE}); PostgreSQL {installation.version} "
        f"({installation.source}, {installation.bindir}); median of {args.runs} run(s), interleaved"
    )
    print(f"machine: {machine()}; load average {load_average()} (1/5/15 min)")
    projects = [p.strip() for p in args.projects.split(",") if p.strip()]
    for name in projects:
        if name == "kedge":
            project, files = write_kedge()
        elif name == "data":
            project, files = write_data()
        elif name == "synthetic":
            project, files = write_synthetic(args.migrations, args.seed)
        else:
            parser.error(f"unknown project {name!r}")
        bench_project(name, project, files, installation.major, installation.bindir, args.runs)
    print(f"\nload average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
