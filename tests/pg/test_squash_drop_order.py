"""down.sql drops in PostgreSQL's real dependency order (issue 11, item 3).

One case per kind of dependency a migration can create. The cases marked `KIND_ORDER_FAILS`
made the down.sql of the kind-based order fail ("cannot drop ... because other objects depend on
it"); the others passed already and stay as regression cases. Each is checked independently of
kedge-hasura's comparator: psql applies the squashed up.sql and then its down.sql to a fresh
database, and `pg_dump --schema-only` must then equal the dump taken before up.sql.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from .squash_helpers import SQUASH_FIXTURES, fresh_database, migrations_dir, run_squash

CASES: dict[str, str] = {
    # -- the kind-based order failed on these -----------------------------------------------------
    "function returning setof a view": """
        CREATE TABLE public.people (id int PRIMARY KEY, name text);
        CREATE VIEW public.named AS SELECT id, name FROM public.people WHERE name IS NOT NULL;
        CREATE FUNCTION public.all_named() RETURNS SETOF public.named LANGUAGE sql STABLE
          AS $$ SELECT * FROM public.named $$;
    """,
    "function returning setof a materialized view": """
        CREATE TABLE public.events (id int PRIMARY KEY, day date);
        CREATE MATERIALIZED VIEW public.days AS SELECT DISTINCT day FROM public.events;
        CREATE FUNCTION public.recent_days() RETURNS SETOF public.days LANGUAGE sql STABLE
          AS $$ SELECT * FROM public.days $$;
    """,
    "view row type as a function argument": """
        CREATE TABLE public.orders (id int PRIMARY KEY, total numeric);
        CREATE VIEW public.big_orders AS SELECT id, total FROM public.orders WHERE total > 100;
        CREATE FUNCTION public.doubled(o public.big_orders) RETURNS numeric LANGUAGE sql IMMUTABLE
          AS $$ SELECT o.total * 2 $$;
    """,
    "table row type function used by another table's check": """
        CREATE TABLE public.limits (id int PRIMARY KEY, cap int);
        CREATE FUNCTION public.cap_of(l public.limits) RETURNS int LANGUAGE sql IMMUTABLE
          AS $$ SELECT l.cap $$;
        CREATE TABLE public.usage (id int, used int,
          CHECK (used <= public.cap_of(ROW(1, 10)::public.limits)));
    """,
    "domain check calling a function": """
        CREATE FUNCTION public.is_slug(value text) RETURNS boolean LANGUAGE sql IMMUTABLE
          AS $$ SELECT value ~ '^[a-z-]+$' $$;
        CREATE DOMAIN public.slug AS text CHECK (public.is_slug(VALUE));
        CREATE TABLE public.pages (id int PRIMARY KEY, slug public.slug);
    """,
    "domain over a composite type": """
        CREATE TYPE public.point2 AS (x int, y int);
        CREATE DOMAIN public.positive_point AS public.point2 CHECK ((VALUE).x > 0);
    """,
    "range type over a domain": """
        CREATE DOMAIN public.score AS numeric CHECK (VALUE >= 0);
        CREATE TYPE public.score_range AS RANGE (subtype = public.score);
    """,
    "sql-standard function body reading a table": """
        CREATE TABLE public.settings (key text PRIMARY KEY, value text);
        CREATE FUNCTION public.setting(k text) RETURNS text LANGUAGE sql STABLE
        BEGIN ATOMIC
          SELECT value FROM public.settings WHERE key = k;
        END;
    """,
    "extension in a schema the migrations create": """
        CREATE SCHEMA extensions;
        CREATE EXTENSION citext SCHEMA extensions;
        CREATE TABLE public.users (id int PRIMARY KEY, email extensions.citext);
    """,
    "aggregate over a created state function": """
        CREATE FUNCTION public.add_len(state int, value text) RETURNS int LANGUAGE sql IMMUTABLE
          AS $$ SELECT state + length(value) $$;
        CREATE AGGREGATE public.total_length(text) (sfunc = public.add_len, stype = int, initcond = '0');
    """,
    "cycle: a default calling a function that returns the table's rows": """
        CREATE TABLE public.nodes (id int PRIMARY KEY, parent int);
        CREATE FUNCTION public.roots() RETURNS SETOF public.nodes LANGUAGE sql STABLE
          AS $$ SELECT * FROM public.nodes WHERE parent IS NULL $$;
        CREATE FUNCTION public.root_count() RETURNS int LANGUAGE sql STABLE
        BEGIN ATOMIC
          SELECT count(*)::int FROM public.roots();
        END;
        ALTER TABLE public.nodes ALTER COLUMN parent SET DEFAULT public.root_count();
    """,
    # -- regression cases: the kind-based order already handled these ------------------------------
    "view on a view": """
        CREATE TABLE public.items (id int PRIMARY KEY, price int);
        CREATE VIEW public.priced AS SELECT id, price FROM public.items;
        CREATE VIEW public.expensive AS SELECT id FROM public.priced WHERE price > 10;
        CREATE MATERIALIZED VIEW public.expensive_count AS SELECT count(*) FROM public.expensive;
    """,
    "column default calling a function": """
        CREATE FUNCTION public.new_code() RETURNS text LANGUAGE sql VOLATILE
          AS $$ SELECT md5(random()::text) $$;
        CREATE TABLE public.codes (id int PRIMARY KEY, code text DEFAULT public.new_code());
    """,
    "trigger function": """
        CREATE TABLE public.audit (id int PRIMARY KEY, touched timestamptz);
        CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql
          AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$;
        CREATE TRIGGER touch BEFORE UPDATE ON public.audit FOR EACH ROW EXECUTE FUNCTION public.touch();
    """,
    "policy using a function": """
        CREATE FUNCTION public.current_tenant() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$;
        CREATE TABLE public.docs (id int PRIMARY KEY, tenant int);
        ALTER TABLE public.docs ENABLE ROW LEVEL SECURITY;
        CREATE POLICY tenant_only ON public.docs USING (tenant = public.current_tenant());
    """,
    "index expression using a function": """
        CREATE FUNCTION public.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
        CREATE TABLE public.tags (id int PRIMARY KEY, name text);
        CREATE INDEX tags_norm ON public.tags (public.norm(name));
    """,
    "generated column calling a function": """
        CREATE FUNCTION public.cents(amount numeric) RETURNS bigint LANGUAGE sql IMMUTABLE
          AS $$ SELECT (amount * 100)::bigint $$;
        CREATE TABLE public.prices (id int PRIMARY KEY, amount numeric,
          amount_cents bigint GENERATED ALWAYS AS (public.cents(amount)) STORED);
    """,
    "composite type used in a table column": """
        CREATE TYPE public.address AS (street text, city text);
        CREATE TABLE public.customers (id int PRIMARY KEY, home public.address);
    """,
    "enum and domain used by a function": """
        CREATE TYPE public.mood AS ENUM ('ok', 'sad');
        CREATE DOMAIN public.percent AS int CHECK (VALUE BETWEEN 0 AND 100);
        CREATE FUNCTION public.rate(m public.mood, p public.percent) RETURNS text LANGUAGE sql IMMUTABLE
          AS $$ SELECT m::text || p $$;
    """,
    "sequence owned by a column and used by another table": """
        CREATE SEQUENCE public.ticket_seq;
        CREATE TABLE public.tickets (id int PRIMARY KEY DEFAULT nextval('public.ticket_seq'));
        ALTER SEQUENCE public.ticket_seq OWNED BY public.tickets.id;
        CREATE TABLE public.ticket_copies (id int DEFAULT nextval('public.ticket_seq'));
    """,
    "foreign keys between schemas, both ways": """
        CREATE SCHEMA sales;
        CREATE SCHEMA stock;
        CREATE TABLE stock.products (id int PRIMARY KEY, best_order int);
        CREATE TABLE sales.orders (id int PRIMARY KEY, product int REFERENCES stock.products (id));
        ALTER TABLE stock.products ADD FOREIGN KEY (best_order) REFERENCES sales.orders (id);
    """,
    "extension type in a column": """
        CREATE EXTENSION pg_trgm;
        CREATE TABLE public.words (id int PRIMARY KEY, word text);
        CREATE INDEX words_trgm ON public.words USING gin (word public.gin_trgm_ops);
    """,
}

# Each case that made the kind-based order fail runs on its own; the others run together, in one
# history with every case (a larger graph, the way real histories mix these).
KIND_ORDER_FAILS = {
    "function returning setof a view",
    "function returning setof a materialized view",
    "view row type as a function argument",
    "table row type function used by another table's check",
    "domain check calling a function",
    "domain over a composite type",
    "range type over a domain",
    "sql-standard function body reading a table",
    "extension in a schema the migrations create",
    "aggregate over a created state function",
    "cycle: a default calling a function that returns the table's rows",
}


def _client(pg_cluster: ScratchCluster, name: str) -> str:
    return str(pg_cluster.client_installation().binary(name))


def _run(argv: list[str]) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C"}
    result = subprocess.run(argv, capture_output=True, check=False, env=environment)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode()


def _psql_file(pg_cluster: ScratchCluster, conninfo: str, path: Path) -> None:
    _run(
        [
            _client(pg_cluster, "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-1",
            "-d",
            conninfo,
            "-f",
            str(path),
        ]
    )


def _schema_dump(pg_cluster: ScratchCluster, conninfo: str) -> str:
    text = _run([_client(pg_cluster, "pg_dump"), "--schema-only", "--no-owner", "-d", conninfo])
    # \restrict carries a random key on every run (pg_dump of August 2025 and later).
    return "\n".join(line for line in text.split("\n") if not line.startswith(("\\restrict", "\\unrestrict")))


RUNS = {case: [case] for case in sorted(KIND_ORDER_FAILS)} | {"every case in one history": sorted(CASES)}


@pytest.mark.parametrize("run", sorted(RUNS), ids=lambda run: run.replace(" ", "-"))
def test_down_sql_drops_in_dependency_order(tmp_path: Path, pg_cluster: ScratchCluster, run: str) -> None:
    root = tmp_path / "project"
    shutil.copytree(SQUASH_FIXTURES / "functions_and_triggers", root)
    shutil.rmtree(migrations_dir(root))
    for number, case in enumerate(RUNS[run]):
        folder = migrations_dir(root) / f"{1700000000000 + number}_objects"
        folder.mkdir(parents=True)
        (folder / "up.sql").write_text(CASES[case], encoding="utf-8")

    # The squash's own verification would refuse a failing down.sql; psql checks it here instead.
    result = run_squash(root, pg_cluster, verify=False)

    written = migrations_dir(root) / f"{1700000000000 + len(RUNS[run]) - 1}_squashed"
    assert (written / "down.sql").read_text(encoding="utf-8") == result.down_sql
    with fresh_database(pg_cluster, "drop_order") as database:
        before = _schema_dump(pg_cluster, database.conninfo)
        _psql_file(pg_cluster, database.conninfo, written / "up.sql")
        assert _schema_dump(pg_cluster, database.conninfo) != before
        _psql_file(pg_cluster, database.conninfo, written / "down.sql")
        assert _schema_dump(pg_cluster, database.conninfo) == before
    assert "CASCADE" not in result.down_sql.split("\n\n", 1)[1]
