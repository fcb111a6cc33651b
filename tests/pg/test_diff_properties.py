"""Properties of the schema comparator that no single planted difference shows.

* `read_snapshot` runs a fixed number of catalog queries, whatever the schema's size.
* The same schema reached by one script and by a long migration-like history compares identical
  (apart from the auto-generated names that keep old table names, reported as info renames), on
  every PostgreSQL major installed.
* The same schema built on two majors has no error or warning changes, and the result says the
  majors differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import KEDGE_PROJECT, available_majors, require_majors

from kedge_hasura.actions.replay import replay_migrations
from kedge_hasura.findings import Severity
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import open_project
from kedge_hasura.schemadiff.compare import SchemaDiff, compare
from kedge_hasura.schemadiff.snapshot import QUERY_NAMES, Snapshot, read_snapshot

from .diff_helpers import reduce, run_sql, snapshot_of

# Every major installed, plus those CI requires and the two the notes measured (skipped if absent).
MAJORS = tuple(sorted(set(available_majors()) | require_majors() | {15, 18}))
# The cross-version pair: before and after PostgreSQL 16's view deparse change (notes §4.2).
OLD_MAJOR, NEW_MAJOR = 15, 18


# -- clusters per major ------------------------------------------------------------------------


class MajorClusters:
    """One scratch cluster per PostgreSQL major, started on first use, stopped at module end.

    A major that is not installed skips the test, unless KEDGE_TEST_REQUIRE_PG_MAJORS names it:
    then the test fails. The session cluster is reused for its own major.
    """

    def __init__(self, session_cluster: ScratchCluster):
        self._session = session_cluster
        self._installed = available_majors()
        self._required = require_majors()
        self._started: dict[int, ScratchCluster] = {}

    def get(self, major: int) -> ScratchCluster:
        if self._session.installation is not None and self._session.major == major:
            return self._session
        if major not in self._started:
            installation = self._installed.get(major)
            if installation is None:
                message = f"PostgreSQL {major} is not installed (found: {sorted(self._installed) or 'none'})"
                if major in self._required:
                    pytest.fail(f"{message}, and KEDGE_TEST_REQUIRE_PG_MAJORS requires it", pytrace=False)
                pytest.skip(message)
            self._started[major] = ScratchCluster(installation=installation).start()
        return self._started[major]

    def close(self) -> None:
        for cluster in self._started.values():
            cluster.close()
        self._started.clear()


@pytest.fixture(scope="module")
def clusters(pg_cluster: ScratchCluster) -> Iterator[MajorClusters]:
    holder = MajorClusters(pg_cluster)
    try:
        yield holder
    finally:
        holder.close()


def test_a_required_major_that_is_missing_fails_the_run() -> None:
    missing = require_majors() - set(available_majors())
    assert not missing, f"KEDGE_TEST_REQUIRE_PG_MAJORS requires PostgreSQL {sorted(missing)}: not installed"


# -- query count ---------------------------------------------------------------------------------


class CountingExecutor:
    """Wraps an executor and counts its catalog queries."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.calls = 0

    def fetch_json(self, sql: str, *, session: Any = ()) -> Any:
        self.calls += 1
        return self.inner.fetch_json(sql, session=session)

    def fetch_json_batch(self, queries: dict[str, str], *, session: Any = ()) -> dict[str, Any]:
        return {name: self.fetch_json(sql, session=session) for name, sql in queries.items()}


def _schema_of_size(tables: int) -> str:
    statements = [
        "CREATE SCHEMA big;",
        "CREATE FUNCTION big.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
    ]
    for n in range(tables):
        statements += [
            f"CREATE TABLE big.t{n} (id serial PRIMARY KEY, name text NOT NULL, "
            f"parent integer REFERENCES big.t{max(n - 1, 0)} (id), at timestamptz DEFAULT now());",
            f"CREATE INDEX t{n}_name_idx ON big.t{n} (name);",
            f"CREATE VIEW big.v{n} AS SELECT t.id, t.name FROM big.t{n} t;",
            f"CREATE TRIGGER t{n}_touch BEFORE UPDATE ON big.t{n} FOR EACH ROW EXECUTE FUNCTION big.touch();",
        ]
    return "\n".join(statements)


def _counted_snapshot(cluster: ScratchCluster, sql: str) -> tuple[int, Snapshot]:
    with cluster.database("size") as database:
        run_sql(database.conninfo, sql)
        with PsycopgExecutor(database.conninfo) as executor:
            counting = CountingExecutor(executor)
            snapshot = read_snapshot(counting)
    return counting.calls, snapshot


def test_read_snapshot_runs_the_same_number_of_queries_for_1_and_200_tables(
    pg_cluster: ScratchCluster,
) -> None:
    small_count, small = _counted_snapshot(pg_cluster, _schema_of_size(1))
    large_count, large = _counted_snapshot(pg_cluster, _schema_of_size(200))

    assert len(large.of_kind("table")) == 200 and len(large.of_kind("view")) == 200
    assert len(large.of_kind("index")) == 200 and len(large.of_kind("trigger")) == 200
    assert small_count == large_count == len(QUERY_NAMES)
    assert small.query_count == large.query_count == large_count


# -- the same schema built two ways ------------------------------------------------------------

CONSOLIDATED = """
CREATE SCHEMA shop;
CREATE TYPE shop.state AS ENUM ('draft', 'paid', 'shipped');
CREATE TABLE shop.customer (
    id bigint GENERATED BY DEFAULT AS IDENTITY,
    email varchar(200) NOT NULL,
    display_name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_pkey PRIMARY KEY (id),
    CONSTRAINT customer_email_key UNIQUE (email)
);
COMMENT ON TABLE shop.customer IS 'people who buy';
COMMENT ON COLUMN shop.customer.email IS 'login';
CREATE TABLE shop.purchase (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES shop.customer (id) ON DELETE CASCADE,
    total numeric(12,2) NOT NULL CHECK (total >= 0),
    state shop.state NOT NULL DEFAULT 'draft',
    note text
);
CREATE INDEX purchase_customer_idx ON shop.purchase (customer_id);
CREATE INDEX purchase_open_idx ON shop.purchase (customer_id) WHERE state <> 'shipped';
CREATE VIEW shop.open_purchases AS
    SELECT p.id, p.customer_id, p.total FROM shop.purchase p WHERE p.state <> 'shipped';
CREATE FUNCTION shop.customer_total(cid bigint) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(total), 0) FROM shop.purchase WHERE customer_id = cid
$$;
CREATE FUNCTION shop.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.note := coalesce(NEW.note, '');
    RETURN NEW;
END
$$;
CREATE TRIGGER purchase_stamp BEFORE INSERT ON shop.purchase FOR EACH ROW EXECUTE FUNCTION shop.stamp();
"""

# A migration-like history ending in the same state: tables created in an older shape under older
# names, columns added, dropped, retyped and renamed, constraints added later, objects replaced.
HISTORY = [
    "CREATE SCHEMA shop",
    "CREATE TYPE shop.state AS ENUM ('draft', 'shipped')",
    "CREATE TABLE shop.clients (id integer NOT NULL, mail varchar(100), name text, legacy_code integer)",
    "ALTER TABLE shop.clients ADD PRIMARY KEY (id)",
    "CREATE TABLE shop.orders (id serial PRIMARY KEY, client_id integer NOT NULL, total integer NOT NULL,"
    " obsolete boolean DEFAULT false)",
    "CREATE INDEX ON shop.orders (client_id)",
    "CREATE VIEW shop.open_purchases AS SELECT o.id, o.client_id FROM shop.orders o",
    "CREATE FUNCTION shop.customer_total(cid bigint) RETURNS numeric LANGUAGE sql STABLE AS $$"
    " SELECT 0::numeric $$",
    "ALTER TYPE shop.state ADD VALUE 'paid' BEFORE 'shipped'",
    "DROP VIEW shop.open_purchases",
    "ALTER TABLE shop.clients ALTER COLUMN id TYPE bigint",
    "ALTER TABLE shop.clients ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY",
    "ALTER TABLE shop.clients ALTER COLUMN mail TYPE varchar(200)",
    "ALTER TABLE shop.clients ALTER COLUMN mail SET NOT NULL",
    "ALTER TABLE shop.clients DROP COLUMN legacy_code",
    "ALTER TABLE shop.clients RENAME COLUMN mail TO email",
    "ALTER TABLE shop.clients RENAME COLUMN name TO display_name",
    "ALTER TABLE shop.clients ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()",
    "ALTER TABLE shop.clients ADD CONSTRAINT customer_email_key UNIQUE (email)",
    "ALTER TABLE shop.clients RENAME TO customer",
    "ALTER TABLE shop.customer RENAME CONSTRAINT clients_pkey TO customer_pkey",
    "COMMENT ON TABLE shop.customer IS 'people who buy'",
    "COMMENT ON COLUMN shop.customer.email IS 'login'",
    "ALTER TABLE shop.orders RENAME COLUMN client_id TO customer_id",
    "ALTER TABLE shop.orders ALTER COLUMN customer_id TYPE bigint",
    "ALTER TABLE shop.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id)"
    " REFERENCES shop.customer (id) ON DELETE CASCADE",
    "ALTER TABLE shop.orders DROP COLUMN obsolete",
    "ALTER TABLE shop.orders ADD COLUMN state shop.state NOT NULL DEFAULT 'draft'",
    "ALTER TABLE shop.orders ALTER COLUMN total TYPE numeric(12,2)",
    "ALTER TABLE shop.orders ADD CHECK (total >= 0)",
    "ALTER TABLE shop.orders ADD COLUMN note varchar(50)",
    "ALTER TABLE shop.orders ALTER COLUMN note TYPE text",
    "ALTER TABLE shop.orders RENAME TO purchase",
    "ALTER INDEX shop.orders_client_id_idx RENAME TO purchase_customer_idx",
    "CREATE INDEX purchase_open_idx ON shop.purchase (customer_id) WHERE state <> 'draft'",
    "DROP INDEX shop.purchase_open_idx",
    "CREATE INDEX purchase_open_idx ON shop.purchase (customer_id) WHERE state <> 'shipped'",
    "CREATE VIEW shop.open_purchases AS"
    " SELECT p.id, p.customer_id, p.total FROM shop.purchase p WHERE p.state <> 'shipped'",
    "CREATE OR REPLACE FUNCTION shop.customer_total(cid bigint) RETURNS numeric LANGUAGE sql STABLE AS $$\n"
    "    SELECT coalesce(sum(total), 0) FROM shop.purchase WHERE customer_id = cid\n$$",
    "CREATE FUNCTION shop.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "CREATE TRIGGER purchase_stamp BEFORE INSERT ON shop.purchase FOR EACH ROW EXECUTE FUNCTION shop.stamp()",
    "CREATE OR REPLACE FUNCTION shop.stamp() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n    NEW.note := coalesce(NEW.note, '');\n    RETURN NEW;\nEND\n$$",
    "CREATE TABLE shop.scratch (id integer)",
    "ALTER TABLE shop.scratch RENAME TO scratch_old",
    "DROP TABLE shop.scratch_old",
]


# Names PostgreSQL generated from the old table name "orders", which the history keeps; reported
# under the consolidated script's names.
def _renamed(kind: str, name: str) -> dict[str, Any]:
    return {"kind": kind, "change": "renamed", "field": "name", "object": name, "severity": "info",
            "classification": "renamed"}  # fmt: skip


EXPECTED_RENAMES = [
    _renamed("sequence", "shop.purchase_id_seq"),
    _renamed("constraint", "shop.purchase.purchase_customer_id_fkey"),
    _renamed("constraint", "shop.purchase.purchase_pkey"),
    _renamed("constraint", "shop.purchase.purchase_total_check"),
]


def _run_statements(conninfo: str, statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement.encode())


@pytest.mark.parametrize("major", MAJORS, ids=[f"pg{m}" for m in MAJORS])
def test_a_history_and_its_consolidated_script_compare_identical(clusters: MajorClusters, major: int) -> None:
    cluster = clusters.get(major)
    with cluster.database("history") as history, cluster.database("consolidated") as consolidated:
        _run_statements(history.conninfo, HISTORY)
        run_sql(consolidated.conninfo, CONSOLIDATED)
        result = compare(snapshot_of(history.conninfo), snapshot_of(consolidated.conninfo))

    assert result.is_identical(Severity.WARNING)
    assert [reduce(d) for d in result.differences] == EXPECTED_RENAMES
    assert result.warnings == []


# -- the same schema on two majors ----------------------------------------------------------------

# Unqualified GROUP BY columns: PostgreSQL 15 deparses them table-qualified, 16+ does not (§4.2).
MATVIEW = """
CREATE MATERIALIZED VIEW kedge_practice.session_status_counts AS
SELECT status, count(*) AS sessions
FROM kedge_practice.practice_sessions
GROUP BY status;
"""


def _kedge_snapshot(cluster: ScratchCluster) -> Snapshot:
    migrations = open_project(KEDGE_PROJECT).scan_migrations().databases["default"].migrations
    # From template0: the Hasura precondition (pgcrypto) is not installable on every major.
    with cluster.database("kedge", empty=True) as database:
        replay_migrations(cluster, database, migrations)
        run_sql(database.conninfo, MATVIEW)
        return snapshot_of(database.conninfo)


@pytest.fixture(scope="module")
def cross_version(clusters: MajorClusters) -> SchemaDiff:
    """The Kedge project (plus a matview) built on the oldest and the newest major, compared."""
    old, new = OLD_MAJOR, NEW_MAJOR
    return compare(_kedge_snapshot(clusters.get(old)), _kedge_snapshot(clusters.get(new)))


def test_a_cross_version_comparison_warns_about_both_majors(cross_version: SchemaDiff) -> None:
    old, new = OLD_MAJOR, NEW_MAJOR

    assert (cross_version.source.major, cross_version.target.major) == (old, new)
    assert len(cross_version.warnings) == 1
    assert f"major versions differ ({old} and {new})" in cross_version.warnings[0]


def test_a_cross_version_matview_qualifier_difference_is_probably_equivalent(
    cross_version: SchemaDiff,
) -> None:
    matview = [
        d for d in cross_version.differences if d.kind == "materialized_view" and d.field == "definition"
    ]

    assert [(d.object, d.severity, d.classification) for d in matview] == [
        ("kedge_practice.session_status_counts", Severity.INFO, "probably-equivalent")
    ]
    assert "practice_sessions.status" in matview[0].source  # PostgreSQL 15 qualifies the column,
    assert "practice_sessions.status" not in matview[0].target  # 16 and later do not


def test_the_same_schema_on_two_majors_has_no_error_or_warning_difference(cross_version: SchemaDiff) -> None:
    differences = cross_version.differences
    serious = [(d.kind, d.object, d.change, d.field) for d in differences if d.severity != Severity.INFO]

    assert serious == []
    assert all(d.classification == "probably-equivalent" for d in cross_version.differences)
