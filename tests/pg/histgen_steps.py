"""The steps of a generated history: each returns one migration and updates the model, so that every
statement applies and no drop or rename breaks a later migration."""

from __future__ import annotations

import random

from .histgen_model import (
    NOUNS,
    RESERVED,
    STATUSES,
    UNICODE,
    Column,
    Migration,
    Shape,
    Table,
    View,
    q,
)


class Builder:
    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.tables: list[Table] = []
        self.views: list[View] = []
        self.enums: dict[str, list[str]] = {}  # "schema.name" -> labels
        self.domains: list[str] = []
        self.composites: list[str] = []
        self.functions: list[str] = []  # qualified names of helpers (for defaults and triggers)
        self.used: set[str] = set()
        self.counter = 0

    # -- names -----------------------------------------------------------------------------

    def fresh(self, stem: str) -> str:
        self.counter += 1
        name = f"{stem}_{self.counter}"
        self.used.add(name)
        return name

    def table_name(self) -> str:
        if self.shape.odd_identifiers and self.rng.random() < 0.25:
            pool = [n for n in (*RESERVED[:4], *UNICODE) if n not in self.used]
            if pool:
                name = self.rng.choice(pool)
                self.used.add(name)
                return name
        return self.fresh(self.rng.choice(NOUNS))

    def schema(self) -> str:
        return self.rng.choice(self.shape.schemas)

    # -- migrations ------------------------------------------------------------------------

    def steps(self) -> list[Migration]:
        out: list[Migration] = []
        if self.shape.pg_dump_init:
            out.append(self.pg_dump_init())
        for schema in self.shape.schemas:
            if schema != "public":
                out.append(
                    Migration(
                        f"create_schema_{schema}",
                        f"CREATE SCHEMA {q(schema)};\n",
                        f"DROP SCHEMA {q(schema)} CASCADE;\n",
                    )
                )
        if self.shape.enums:
            out.append(self.create_enum())
        if self.shape.domains:
            out.append(self.create_domain())
        if self.shape.composites:
            out.append(self.create_composite())
        while len(out) < self.shape.migrations:
            out.append(self.one_step(len(out)))
        out = out[: self.shape.migrations]
        if self.shape.breaks_with is not None:
            out[len(out) // 2] = self.broken(self.shape.breaks_with)
        return out

    @staticmethod
    def broken(sqlstate: str) -> Migration:
        """A migration that fails on its line 3, as real histories do that were never replayed."""
        statement = {
            "0A000": "CREATE EXTENSION IF NOT EXISTS kedge_no_such_extension;",
            "42P01": "ALTER TABLE public.created_outside_migrations ADD COLUMN is_read boolean;",
        }[sqlstate]
        up = f"-- the table (or extension) comes from outside the migrations\nSELECT 1;\n{statement}\n"
        return Migration("breaks_the_replay", up, "-- nothing\n")

    def one_step(self, index: int) -> Migration:
        s = self.shape
        choices: list[tuple[str, float]] = [
            ("create_table", max(3.0, s.table_weight) if len(self.tables) < 4 else s.table_weight)
        ]
        if self.tables:
            choices += [("add_column", 1.5), ("create_index", 1.0)]
            if s.seed_rows:
                choices.append(("seed", 1.5))
            if s.random_row_counts:
                choices.append(("seed_random", 0.7))
            if s.data_migrations:
                choices.append(("data_migration", 0.8))
            if s.views:
                choices.append(("view", 1.0))
            if s.setof_functions and (self.views or self.tables):
                choices.append(("setof_function", 0.7))
            if s.typed_functions:
                choices.append(("typed_function", 0.7))
            if s.functions:
                choices.append(("function_default", 0.6))
            if s.triggers:
                choices.append(("trigger", 0.6))
            if s.policies:
                choices.append(("policy", 0.5))
            if s.renames:
                choices += [("rename_column", 0.6), ("rename_table", 0.4)]
            if s.drops:
                choices += [("drop_column", 0.5), ("drop_table", 0.3)]
            if s.do_blocks:
                choices.append(("do_block", 0.4))
            if s.function_crlf:
                choices.append(("crlf_function", 0.5))
        if s.partitions:
            choices.append(("partitioned", 0.4))
        if s.enums and self.enums:
            choices.append(("add_enum_value", 0.4))
        kinds, weights = zip(*choices, strict=True)
        kind = self.rng.choices(kinds, weights)[0]
        step: Migration = getattr(self, kind)()
        if s.explicit_transactions and self.rng.random() < 0.1 and "ALTER TYPE" not in step.up:
            step.up = f"BEGIN;\n{step.up}COMMIT;\n"
            step.own_transaction = True
        if s.crlf and self.rng.random() < 0.15:
            step.crlf = True
        return step

    # -- types -----------------------------------------------------------------------------

    def create_enum(self) -> Migration:
        name = f"{self.schema()}.{self.fresh('status_kind')}"
        self.enums[name] = ["new", "open", "closed"]
        labels = ", ".join(f"'{v}'" for v in self.enums[name])
        ref = ".".join(q(p) for p in name.split("."))
        return Migration("create_enum", f"CREATE TYPE {ref} AS ENUM ({labels});\n", f"DROP TYPE {ref};\n")

    def add_enum_value(self) -> Migration:
        name = self.rng.choice(sorted(self.enums))
        label = self.fresh("state")
        self.enums[name].append(label)
        ref = ".".join(q(p) for p in name.split("."))
        return Migration(
            "add_enum_value", f"ALTER TYPE {ref} ADD VALUE '{label}';\n", "-- enum labels stay\n"
        )

    def create_domain(self) -> Migration:
        name = f"{q(self.schema())}.{q(self.fresh('positive_amount'))}"
        self.domains.append(name)
        up = f"CREATE DOMAIN {name} AS numeric(12,2) CHECK (VALUE >= 0) DEFAULT 0;\n"
        return Migration("create_domain", up, f"DROP DOMAIN {name};\n")

    def create_composite(self) -> Migration:
        name = f"{q(self.schema())}.{q(self.fresh('money_pair'))}"
        self.composites.append(name)
        up = f"CREATE TYPE {name} AS (amount numeric(12,2), currency char(3));\n"
        return Migration("create_composite", up, f"DROP TYPE {name};\n")

    # -- tables ----------------------------------------------------------------------------

    def new_columns(self) -> list[Column]:
        s, rng = self.shape, self.rng
        columns = [Column("id", "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "id", pinned=True)]
        label = "select" if s.odd_identifiers and rng.random() < 0.2 else "name"
        columns.append(Column(label, "text NOT NULL", "label", pinned=True))
        if s.in_lists:
            statuses = ", ".join(f"'{v}'" for v in STATUSES[:3])
            columns.append(
                Column(
                    "status",
                    f"varchar(20) NOT NULL DEFAULT 'draft' CHECK (status IN ({statuses}))",
                    "status",
                    pinned=True,
                )
            )
            columns.append(
                Column("code", "char(3) CHECK (code IN ('EUR', 'USD', 'GBP'))", "code", pinned=True)
            )
        if s.between:
            columns.append(Column("qty", "integer NOT NULL DEFAULT 1 CHECK (qty BETWEEN 0 AND 1000)", "qty"))
        if s.array_casts:
            columns.append(
                Column("tags", "varchar(30)[] NOT NULL DEFAULT ARRAY['new']::varchar(30)[]", "tags")
            )
            columns.append(
                Column(
                    "flags", "text[] DEFAULT '{}'::text[] CHECK (flags <@ ARRAY['a', 'b']::text[])", "extra"
                )
            )
        if s.like_any:
            columns.append(
                Column("sku", "varchar(40) CHECK (sku LIKE ANY (ARRAY['SKU-%', 'TMP-%']))", "extra")
            )
        if s.cast_defaults:
            columns.append(
                Column("kind", "character varying(16) DEFAULT 'basic'::character varying", "extra")
            )
            columns.append(Column("price", "numeric(10,2) DEFAULT (0)::numeric", "extra"))
        if s.enums and self.enums:
            enum = rng.choice(sorted(self.enums))
            ref = ".".join(q(p) for p in enum.split("."))
            columns.append(Column("state", f"{ref} NOT NULL DEFAULT 'new'", "enum"))
        if s.domains and self.domains:
            columns.append(Column("amount", f"{rng.choice(self.domains)}", "extra"))
        if s.composites and self.composites:
            columns.append(Column("money", rng.choice(self.composites), "extra"))
        if s.volatile_defaults:
            columns.append(Column("created_at", "timestamptz NOT NULL DEFAULT now()", "volatile"))
            columns.append(Column("uid", "uuid NOT NULL DEFAULT gen_random_uuid()", "volatile"))
        return columns

    def create_table(self) -> Migration:
        schema, name = self.schema(), self.table_name()
        columns = self.new_columns()
        parents = [t for t in self.tables if not t.partitioned]
        if parents and self.rng.random() < 0.4:
            parent = self.rng.choice(parents)
            parent.dependents += 1
            columns.append(
                Column(
                    f"{parent.name}_id",
                    f"bigint REFERENCES {parent.ref}(id) ON DELETE CASCADE",
                    "fk",
                    pinned=True,
                )
            )
        table = Table(schema, name, columns)
        self.tables.append(table)
        body = ",\n".join(f"  {q(c.name)} {c.definition}" for c in columns)
        up = f"CREATE TABLE {table.ref} (\n{body}\n);\n"
        if self.rng.random() < 0.3:
            up += f"COMMENT ON TABLE {table.ref} IS 'The {name.replace(chr(39), chr(39) * 2)} of the app';\n"
        return Migration(f"create_table_{self.slug(name)}", up, f"DROP TABLE {table.ref};\n")

    def partitioned(self) -> Migration:
        schema, name = self.schema(), self.fresh("measurements")
        ref = f"{q(schema)}.{q(name)}"
        up = (
            f"CREATE TABLE {ref} (\n  id bigint NOT NULL,\n  taken_on date NOT NULL,\n  value numeric,\n"
            f"  PRIMARY KEY (id, taken_on)\n) PARTITION BY RANGE (taken_on);\n"
        )
        for year in (2024, 2025):
            part = f"{q(schema)}.{q(name + '_' + str(year))}"
            bounds = f"FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
            up += f"CREATE TABLE {part} PARTITION OF {ref} FOR VALUES {bounds};\n"
        up += f"INSERT INTO {ref} VALUES (1, '2024-03-01', 1.5), (2, '2025-07-01', 2.5);\n"
        return Migration(f"create_partitioned_{name}", up, f"DROP TABLE {ref};\n")

    def add_column(self) -> Migration:
        table = self.pick_table()
        name = self.fresh(self.rng.choice(("note", "priority", "due_on", "score", "ref")))
        definition = self.rng.choice(
            ("text", "integer NOT NULL DEFAULT 0", "date", "numeric(6,2)", "boolean NOT NULL DEFAULT false")
        )
        table.columns.append(Column(name, definition, "extra"))
        up = f"ALTER TABLE {table.ref} ADD COLUMN {q(name)} {definition};\n"
        return Migration(f"add_{name}", up, f"ALTER TABLE {table.ref} DROP COLUMN {q(name)};\n")

    def rename_column(self) -> Migration:
        table, column = self.pick_extra()
        if column is None:
            return self.add_column()
        old, column.name = column.name, self.fresh("renamed")
        up = f"ALTER TABLE {table.ref} RENAME COLUMN {q(old)} TO {q(column.name)};\n"
        return Migration(
            f"rename_{old}", up, f"ALTER TABLE {table.ref} RENAME COLUMN {q(column.name)} TO {q(old)};\n"
        )

    def drop_column(self) -> Migration:
        table, column = self.pick_extra()
        if column is None:
            return self.add_column()
        table.columns.remove(column)
        up = f"ALTER TABLE {table.ref} DROP COLUMN {q(column.name)};\n"
        return Migration(
            f"drop_{self.slug(column.name)}",
            up,
            f"ALTER TABLE {table.ref} ADD COLUMN {q(column.name)} {column.definition};\n",
        )

    def rename_table(self) -> Migration:
        free = [t for t in self.tables if t.dependents == 0 and not t.partitioned]
        if not free:
            return self.create_table()
        table = self.rng.choice(free)
        old, table.name = table.name, self.fresh("renamed_table")
        up = f"ALTER TABLE {q(table.schema)}.{q(old)} RENAME TO {q(table.name)};\n"
        return Migration(f"rename_{self.slug(old)}", up, f"ALTER TABLE {table.ref} RENAME TO {q(old)};\n")

    def drop_table(self) -> Migration:
        free = [t for t in self.tables if t.dependents == 0 and not t.partitioned]
        if not free or len(self.tables) < 3:
            return self.create_table()
        table = self.rng.choice(free)
        self.tables.remove(table)
        for column in table.columns:
            if column.kind == "fk":
                parent = next((t for t in self.tables if column.definition.find(t.ref + "(") > 0), None)
                if parent is not None:
                    parent.dependents -= 1
        return Migration(f"drop_{self.slug(table.name)}", f"DROP TABLE {table.ref};\n", "-- not restorable\n")

    def create_index(self) -> Migration:
        table = self.pick_table()
        name = self.fresh("idx")
        label = table.of("label")
        assert label is not None
        status = table.of("status")
        if status is not None and self.rng.random() < 0.5:
            up = (
                f"CREATE INDEX {q(name)} ON {table.ref} ({q(label.name)}) "
                f"WHERE {q(status.name)} IN ('draft', 'active');\n"
            )
        elif self.rng.random() < 0.3:
            up = f"CREATE UNIQUE INDEX {q(name)} ON {table.ref} (lower({q(label.name)}), id);\n"
        else:
            up = f"CREATE INDEX {q(name)} ON {table.ref} ({q(label.name)});\n"
        return Migration(f"index_{self.slug(table.name)}", up, f"DROP INDEX {q(table.schema)}.{q(name)};\n")

    # -- rows ------------------------------------------------------------------------------

    def literal_row(self, table: Table, n: int) -> tuple[list[str], list[str]]:
        names, values = [], []
        for column in table.columns:
            if column.kind == "label":
                names.append(q(column.name))
                values.append(f"'row {n} of {table.name.replace(chr(39), chr(39) * 2)}'")
            elif column.kind == "status":
                names.append(q(column.name))
                values.append(f"'{STATUSES[n % 3]}'")
            elif column.kind == "qty":
                names.append(q(column.name))
                values.append(str(n * 7 % 1000))
        return names, values

    def seed(self) -> Migration:
        table = self.pick_table(seedable=True)
        if table is None:
            return self.create_table()
        rows = []
        names: list[str] = []
        for n in range(table.rows + 1, table.rows + 1 + self.shape.rows_per_seed):
            names, values = self.literal_row(table, n)
            rows.append(f"  ({', '.join(values)})")
        table.rows += self.shape.rows_per_seed
        up = f"INSERT INTO {table.ref} ({', '.join(names)}) VALUES\n" + ",\n".join(rows) + ";\n"
        return Migration(f"seed_{self.slug(table.name)}", up, f"DELETE FROM {table.ref};\n")

    def seed_random(self) -> Migration:
        table = self.pick_table(seedable=True)
        if table is None:
            return self.create_table()
        label = table.of("label")
        assert label is not None
        table.rows += 1000
        table.random_rows = True
        up = (
            f"INSERT INTO {table.ref} ({q(label.name)})\n"
            f"SELECT 'generated ' || g FROM generate_series(1, 10 + (random() * 200)::int) AS g;\n"
        )
        return Migration(f"seed_random_{self.slug(table.name)}", up, f"DELETE FROM {table.ref};\n")

    def data_migration(self) -> Migration:
        table = self.pick_table(seedable=True)
        if table is None or table.rows == 0:
            return self.seed()
        label = table.of("label")
        assert label is not None
        up = (
            f"UPDATE {table.ref} SET {q(label.name)} = upper({q(label.name)}) WHERE id % 3 = 0;\n"
            f"DELETE FROM {table.ref} WHERE id % 5 = 4;\n"
        )
        return Migration(f"backfill_{self.slug(table.name)}", up, "-- data migration: not reversible\n")

    # -- views and functions ---------------------------------------------------------------

    def view(self) -> Migration:
        name = self.fresh("v")
        schema = self.schema()
        if self.views and self.rng.random() < 0.5:
            base = self.rng.choice(self.views)
            base.dependents += 1
            cols = base.columns
            select = f"SELECT {', '.join(q(c) for c in cols)} FROM {base.ref} WHERE id > 0"
        else:
            table = self.pick_table()
            table.dependents += 1
            label = table.of("label")
            assert label is not None
            cols = ("id", label.name)
            select = f"SELECT id, {q(label.name)} FROM {table.ref}"
        view = View(schema, name, cols)
        self.views.append(view)
        return Migration(
            f"create_view_{name}", f"CREATE VIEW {view.ref} AS\n  {select};\n", f"DROP VIEW {view.ref};\n"
        )

    def setof_function(self) -> Migration:
        name = f"{q(self.schema())}.{q(self.fresh('list'))}"
        if self.views and self.rng.random() < 0.6:
            target = self.rng.choice(self.views)
            target.dependents += 1
            ref = target.ref
        else:
            table = self.pick_table()
            table.dependents += 1
            ref = table.ref
        up = (
            f"CREATE FUNCTION {name}(min_id bigint DEFAULT 0) RETURNS SETOF {ref}\n"
            f"LANGUAGE sql STABLE AS $$ SELECT * FROM {ref} WHERE id >= min_id $$;\n"
        )
        return Migration("create_setof_function", up, f"DROP FUNCTION {name}(bigint);\n")

    def typed_function(self) -> Migration:
        """A function whose signature uses a table's row type, and one over a domain or an enum."""
        table = self.pick_table()
        table.dependents += 1
        label = table.of("label")
        assert label is not None
        name = f"{q(self.schema())}.{q(self.fresh('describe_row'))}"
        up = (
            f"CREATE FUNCTION {name}(r {table.ref}) RETURNS text\n"
            f"LANGUAGE sql IMMUTABLE AS $$ SELECT r.{q(label.name)} || ' #' || r.id $$;\n"
        )
        down = f"DROP FUNCTION {name}({table.ref});\n"
        typed = [*self.domains, *(".".join(q(p) for p in e.split(".")) for e in sorted(self.enums))]
        if typed:
            kind = self.rng.choice(typed)
            other = f"{q(self.schema())}.{q(self.fresh('echo'))}"
            up += f"CREATE FUNCTION {other}(x {kind}) RETURNS {kind}\n"
            up += "LANGUAGE sql IMMUTABLE AS $$ SELECT x $$;\n"
            down = f"DROP FUNCTION {other}({kind});\n" + down
        return Migration("create_typed_function", up, down)

    def helper(self) -> str:
        if not self.functions:
            name = f"{q(self.schema())}.{q(self.fresh('next_code'))}"
            self.functions.append(name)
        return self.functions[-1]

    def function_default(self) -> Migration:
        table = self.pick_table()
        fresh = not self.functions
        name = self.helper()
        column = self.fresh("code")
        up = ""
        if fresh:
            up += (
                f"CREATE FUNCTION {name}() RETURNS text LANGUAGE plpgsql AS $$\nBEGIN\n"
                f"  RETURN 'C-' || to_char(42, 'FM000');\nEND;\n$$;\n"
            )
        up += f"ALTER TABLE {table.ref} ADD COLUMN {q(column)} text DEFAULT {name}();\n"
        table.columns.append(Column(column, f"text DEFAULT {name}()", "extra", pinned=True))
        return Migration(f"default_{column}", up, f"ALTER TABLE {table.ref} DROP COLUMN {q(column)};\n")

    def trigger(self) -> Migration:
        table = self.pick_table()
        if table.partitioned:
            return self.add_column()
        label = table.of("label")
        assert label is not None
        func = f"{q(table.schema)}.{q(self.fresh('trim_label'))}"
        name = self.fresh("trg")
        table.dependents += 1
        label.pinned = True
        up = (
            f"CREATE FUNCTION {func}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
            f"  NEW.{q(label.name)} := btrim(NEW.{q(label.name)});\n  RETURN NEW;\nEND;\n$$;\n"
            f"CREATE TRIGGER {q(name)} BEFORE INSERT OR UPDATE ON {table.ref}\n"
            f"  FOR EACH ROW EXECUTE FUNCTION {func}();\n"
        )
        down = f"DROP TRIGGER {q(name)} ON {table.ref};\nDROP FUNCTION {func}();\n"
        return Migration(f"trigger_{self.slug(table.name)}", up, down)

    def crlf_function(self) -> Migration:
        name = f"{q(self.schema())}.{q(self.fresh('describe'))}"
        body = "\r\nBEGIN\r\n  RETURN 'line one' || E'\\n' || x;\r\nEND;\r\n"
        up = f"CREATE FUNCTION {name}(x text) RETURNS text LANGUAGE plpgsql AS $${body}$$;\n"
        return Migration("crlf_function_body", up, f"DROP FUNCTION {name}(text);\n")

    def policy(self) -> Migration:
        table = self.pick_table()
        table.dependents += 1
        name = self.fresh("policy")
        status = table.of("status")
        using = f"{q(status.name)} IN ('active', 'draft')" if status is not None else "id > 0"
        up = (
            f"ALTER TABLE {table.ref} ENABLE ROW LEVEL SECURITY;\n"
            f"CREATE POLICY {q(name)} ON {table.ref} FOR SELECT USING ({using});\n"
        )
        return Migration(f"policy_{self.slug(table.name)}", up, f"DROP POLICY {q(name)} ON {table.ref};\n")

    def do_block(self) -> Migration:
        table = self.pick_table()
        column = self.fresh("flag")
        table.columns.append(Column(column, "boolean", "extra"))
        literal = table.ref.replace("'", "''")
        up = (
            "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM information_schema.columns\n"
            f"                 WHERE table_schema = '{table.schema}' AND table_name = '{table.name}'\n"
            f"                   AND column_name = '{column}') THEN\n"
            f"    EXECUTE 'ALTER TABLE {literal} ADD COLUMN {column} boolean';\n"
            "  END IF;\nEND\n$$;\n"
        )
        return Migration(f"do_add_{column}", up, f"ALTER TABLE {table.ref} DROP COLUMN {q(column)};\n")

    def pg_dump_init(self) -> Migration:
        """A first migration the way `hasura migrate create --from-server` writes it (pg_dump output)."""
        table = Table(
            "public",
            self.fresh("legacy_users"),
            [Column("id", "integer NOT NULL", "id", True), Column("name", "text NOT NULL", "label", True)],
        )
        self.tables.append(table)
        seq = f"{table.name}_id_seq"
        up = (
            "SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET client_encoding = 'UTF8';\n"
            "SET standard_conforming_strings = on;\n"
            "SELECT pg_catalog.set_config('search_path', '', false);\n"
            "SET check_function_bodies = false;\nSET client_min_messages = warning;\n"
            "SET row_security = off;\n\n"
            f"CREATE TABLE public.{table.name} (\n    id integer NOT NULL,\n    name text NOT NULL\n);\n"
            f"CREATE SEQUENCE public.{seq}\n    AS integer\n    START WITH 1\n    INCREMENT BY 1\n"
            "    NO MINVALUE\n    NO MAXVALUE\n    CACHE 1;\n"
            f"ALTER SEQUENCE public.{seq} OWNED BY public.{table.name}.id;\n"
            f"ALTER TABLE ONLY public.{table.name} ALTER COLUMN id SET DEFAULT "
            f"nextval('public.{seq}'::regclass);\n"
            f"ALTER TABLE ONLY public.{table.name}\n    ADD CONSTRAINT {table.name}_pkey PRIMARY KEY (id);\n"
        )
        return Migration("init", up, f"DROP TABLE public.{table.name};\n")

    # -- picking ---------------------------------------------------------------------------

    def pick_table(self, *, seedable: bool = False) -> Table:
        pool = [t for t in self.tables if not (seedable and t.partitioned)]
        return self.rng.choice(pool) if pool else None  # type: ignore[return-value]

    def pick_extra(self) -> tuple[Table, Column | None]:
        table = self.pick_table()
        extras = [c for c in table.columns if c.kind == "extra" and not c.pinned]
        return table, (self.rng.choice(extras) if extras else None)

    @staticmethod
    def slug(name: str) -> str:
        text = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in name.lower())
        return text.strip("_") or "t"
