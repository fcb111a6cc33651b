"""`kedge-hasura deploy --rehearse` and the metadata check of `deploy --dry-run`, end to end against
the Hasura double on a POPULATED database.

A base migration is deployed and filled with rows that make planted migrations fail (duplicates,
nulls, text that does not cast, orphans, ...). The rehearsal must report each planted failure at
its file and line, and leave the database exactly as it was: the catalog fingerprint and every
table's row hash are compared before and after, through the double's API as an operator would,
and catalog state and the ledger must not change.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from ..hasura_double import HasuraDouble
from .conftest import StartDouble
from .deploy_helpers import Cli, add_migration, snapshot, sql_rows, write_project

pytestmark = pytest.mark.pg

SCHEMA = "gen"
BASE = 1_700_000_000_000
# The base schema and the rows that make the planted migrations fail.
BASE_SQL = f"""CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.people (id serial PRIMARY KEY, email text, nick text, age text, born text,
                              code varchar(40), big int, ratio int, parent_id int);
CREATE TABLE {SCHEMA}.parents (id int PRIMARY KEY);
CREATE TABLE {SCHEMA}.children (id int PRIMARY KEY, parent_id int REFERENCES {SCHEMA}.parents (id));
CREATE TABLE {SCHEMA}.wide (id int PRIMARY KEY);
CREATE SEQUENCE {SCHEMA}.tickets;
"""
POPULATE_SQL = f"""INSERT INTO {SCHEMA}.parents VALUES (1), (2);
INSERT INTO {SCHEMA}.children VALUES (1, 1);
INSERT INTO {SCHEMA}.people (email, nick, age, born, code, big, ratio, parent_id) VALUES
  ('a@example.com', 'ann', '31', '2001-02-03', 'short', 1, 1, 1),
  ('A@example.com', NULL, 'thirty', '2001-13-45', 'a code that is too long', 100000, 0, 99),
  ('a@example.com', 'bob', '-5', '1999-01-01', 'x', 2, 2, 2);
INSERT INTO {SCHEMA}.wide SELECT generate_series(1, 50);
"""

# Each kind: a statement that runs on an empty table and fails on today's rows, with its SQLSTATE.
PLANTED: dict[str, tuple[str, str]] = {
    "unique-index-over-duplicates": (
        f"CREATE UNIQUE INDEX people_email ON {SCHEMA}.people (email);",
        "23505",
    ),
    "unique-expression-index": (
        f"CREATE UNIQUE INDEX people_lower ON {SCHEMA}.people (lower(email));",
        "23505",
    ),
    "set-not-null-over-nulls": (f"ALTER TABLE {SCHEMA}.people ALTER COLUMN nick SET NOT NULL;", "23502"),
    "failing-cast": (f"ALTER TABLE {SCHEMA}.people ALTER COLUMN age TYPE int USING age::int;", "22P02"),
    "failing-date-cast": (
        f"ALTER TABLE {SCHEMA}.people ALTER COLUMN born TYPE date USING born::date;",
        "22008",
    ),
    "fk-validation": (
        f"ALTER TABLE {SCHEMA}.people ADD CONSTRAINT people_parent "
        f"FOREIGN KEY (parent_id) REFERENCES {SCHEMA}.parents (id);",
        "23503",
    ),
    "check-over-violating-rows": (
        f"ALTER TABLE {SCHEMA}.people ADD CONSTRAINT adult CHECK (big < 1000);",
        "23514",
    ),
    "varchar-shrink": (f"ALTER TABLE {SCHEMA}.people ALTER COLUMN code TYPE varchar(10);", "22001"),
    "numeric-overflow": (f"ALTER TABLE {SCHEMA}.people ALTER COLUMN big TYPE smallint;", "22003"),
    "division-by-zero-backfill": (f"UPDATE {SCHEMA}.people SET big = big / ratio;", "22012"),
    "add-not-null-column-without-default": (
        f"ALTER TABLE {SCHEMA}.wide ADD COLUMN must int NOT NULL;",
        "23502",
    ),
    "seed-row-exists": (f"INSERT INTO {SCHEMA}.parents (id) VALUES (1);", "23505"),
    "delete-referenced-row": (f"DELETE FROM {SCHEMA}.parents WHERE id = 1;", "23503"),
}


@pytest.fixture
def cli(run_cli, hasura_double: HasuraDouble, use_session_server: str) -> Iterator[Cli]:  # type: ignore[no-untyped-def]
    runner = Cli(run_cli, hasura_double)
    yield runner
    assert not runner.secrets_leaked(), "the admin secret was printed"


@dataclass(frozen=True)
class Planted:
    kind: str
    version: int
    line: int
    sqlstate: str


def _populated(cli: Cli, double: HasuraDouble, root: Path) -> Path:
    project = write_project(root, [(BASE, "base", BASE_SQL, None)])
    deployed = cli.deploy(project, "--skip-metadata")
    assert deployed.exit_code == 0, deployed
    with psycopg.connect(double.config.database_url, autocommit=True) as conn:
        conn.execute(POPULATE_SQL)
        conn.execute(f"SELECT nextval('{SCHEMA}.tickets')")
    return project


def _history(project: Path, count: int, kinds: list[str], seed: int) -> list[Planted]:
    """`count` pending migrations; the planted kinds at seeded positions, each at line 3 or later."""
    rng = random.Random(seed)
    positions = sorted(rng.sample(range(1, count), len(kinds)))
    planted = dict(zip(positions, kinds, strict=True))
    result = []
    for index in range(count):
        version = BASE + 1 + index
        if index in planted:
            kind = planted[index]
            statement, sqlstate = PLANTED[kind]
            padding = rng.randint(0, 3)
            up = (
                f"-- {kind}\nCREATE TABLE {SCHEMA}.before_{index} (id int);\n"
                + "\n" * padding
                + statement
                + "\n"
            )
            result.append(Planted(kind, version, 3 + padding, sqlstate))
            add_migration(project, version, kind.replace("-", "_"), up)
        elif index % 7 == 3:
            # Sequences move even in a rolled-back transaction: the rehearsal says which did.
            add_migration(project, version, f"tick_{index}", f"SELECT nextval('{SCHEMA}.tickets');\n")
        else:
            up = f"CREATE TABLE {SCHEMA}.filler_{index} (id serial PRIMARY KEY, note text);\n"
            add_migration(project, version, f"filler_{index}", up)
    return result


def fingerprint(double: HasuraDouble) -> tuple[str, dict[str, str]]:
    """The catalog fingerprint of the user schemas, and every user table's row hash."""
    catalog = sql_rows(
        double,
        "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
        " SELECT format('%s.%s:%s', n.nspname, c.relname, c.relkind) AS x FROM pg_class c"
        "  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT LIKE 'pg_%'"
        "  AND n.nspname <> 'information_schema'"
        " UNION ALL SELECT format('%s.%s.%s:%s:%s', a.attrelid::regclass, a.attnum, a.attname,"
        "  format_type(a.atttypid, a.atttypmod), a.attnotnull) FROM pg_attribute a"
        "  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        "  WHERE n.nspname NOT LIKE 'pg_%' AND n.nspname <> 'information_schema' AND NOT a.attisdropped"
        " UNION ALL SELECT format('%s:%s:%s', conrelid::regclass, conname, pg_get_constraintdef(oid))"
        "  FROM pg_constraint WHERE connamespace::regnamespace::text NOT LIKE 'pg_%'"
        " UNION ALL SELECT pg_get_indexdef(indexrelid) FROM pg_index"
        "  WHERE indrelid::regclass::text NOT LIKE 'pg_%'"
        " UNION ALL SELECT nspname FROM pg_namespace) s",
    )[0][0]
    tables = sql_rows(
        double,
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )
    hashes = {}
    for (table,) in tables:
        rows = sql_rows(
            double, f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        )
        hashes[str(table)] = str(rows[0][0])
    return str(catalog), hashes


def test_rehearsal_reports_every_planted_failure_and_changes_nothing(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    count = int(os.environ.get("KEDGE_TEST_REHEARSE_MIGRATIONS", "120"))  # 300: the history
    planted = _history(project, count, list(PLANTED), seed=12)
    before, state_before = fingerprint(hasura_double), snapshot(hasura_double, (SCHEMA,))
    hasura_double.faults.reset_requests()

    run = cli(project, "-o", "json", "deploy", "--rehearse", "--keep-going", "--skip-metadata")

    writes = {"set_catalog_state", "replace_metadata", "reload_metadata", "pg_track_tables", "bulk"}
    assert not writes & {op for op, count in hasura_double.faults.requests.items() if count}

    assert run.exit_code == 1, run
    assert fingerprint(hasura_double) == before
    assert snapshot(hasura_double, (SCHEMA,)) == state_before  # no catalog state, no ledger written
    database = run.json()["result"]["databases"][0]
    found = {(f["version"], f["line"], f["sqlstate"]) for f in database["failures"]}
    assert found == {(p.version, p.line, p.sqlstate) for p in planted}
    for failure, expected in zip(database["failures"], planted, strict=True):
        assert failure["path"].endswith(f"{expected.version}_{expected.kind.replace('-', '_')}/up.sql")
        assert failure["possibly_caused_by_earlier"] is (expected != planted[0])
    assert database["sequences_advanced"] == [f"{SCHEMA}.tickets"]
    assert len(database["rehearsed"]) == count


def test_first_failure_only_without_keep_going_in_text(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    planted = _history(project, 30, ["set-not-null-over-nulls", "fk-validation"], seed=3)
    before = fingerprint(hasura_double)

    run = cli.deploy(project, "--rehearse", "--skip-metadata")

    assert run.exit_code == 1, run
    first = planted[0]
    assert f"{first.version}_set_not_null_over_nulls/up.sql:{first.line} [23502]" in run.stdout
    assert "fk_validation" not in run.stdout
    assert "--keep-going rehearses the rest" in run.stdout
    assert "nothing was committed" in run.stdout
    assert f"sequences advanced (PostgreSQL never rolls nextval back): {SCHEMA}.tickets" in run.stdout
    assert fingerprint(hasura_double) == before


def test_a_clean_history_rehearses_ok_and_the_deploy_then_applies_it(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    _history(project, 20, [], seed=5)
    before = fingerprint(hasura_double)

    run = cli(project, "-o", "json", "deploy", "--rehearse", "--skip-metadata")

    assert run.exit_code == 0, run
    assert run.json()["result"]["databases"][0]["failures"] == []
    assert fingerprint(hasura_double) == before
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    assert fingerprint(hasura_double) != before


@pytest.mark.parametrize("seed", range(8))
def test_injected_faults_never_leave_a_change(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path, seed: int
) -> None:
    """Seeded faults at a random request: 5xx, a reset after the work, an answer held past the
    client's timeout, a 401. Whatever the outcome, the database is as it was."""
    project = _populated(cli, hasura_double, tmp_path)
    _history(project, 25, ["failing-cast", "check-over-violating-rows", "seed-row-exists"], seed=seed)
    before = fingerprint(hasura_double)
    rng = random.Random(seed)
    nth = rng.randint(1, 12)
    kind = seed % 4
    if kind == 0:
        hasura_double.faults.fail("run_sql", status=rng.choice([500, 502, 503]), nth=nth)
    elif kind == 1:
        hasura_double.faults.drop_connection_after("run_sql", nth=nth)
    elif kind == 2:
        hasura_double.faults.delay("run_sql", 3.0, nth=nth)
    else:
        denied = {
            "path": "$",
            "error": "invalid x-hasura-admin-secret/x-hasura-access-key",
            "code": "access-denied",
        }
        hasura_double.faults.fail("run_sql", status=401, body=denied, nth=nth)

    run = cli.deploy(
        project, "--rehearse", "--keep-going", "--skip-metadata", timeout=1.0 if kind == 2 else None
    )

    assert run.exit_code in (1, 3), run
    if kind in (1, 2) and run.exit_code == 3:
        assert "nothing of it was committed" in run.stderr
    hasura_double.faults.clear()
    assert fingerprint(hasura_double) == before


def test_a_held_lock_makes_it_give_up_and_leaves_no_lock(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    add_migration(project, BASE + 1, "fine", f"CREATE TABLE {SCHEMA}.fine (id int);\n")
    add_migration(
        project, BASE + 2, "touch_wide", f"-- needs the lock\nALTER TABLE {SCHEMA}.wide ADD note text;\n"
    )
    before = fingerprint(hasura_double)
    holder = psycopg.connect(hasura_double.config.database_url)
    try:
        holder.execute(f"LOCK TABLE {SCHEMA}.wide IN ACCESS EXCLUSIVE MODE")
        holder_pid = holder.info.backend_pid

        run = cli(project, "-o", "json", "deploy", "--rehearse", "--skip-metadata", "--lock-timeout", "0.2")

        assert run.exit_code == 1, run
        database = run.json()["result"]["databases"][0]
        [failure] = database["failures"]
        assert (failure["version"], failure["line"], failure["sqlstate"]) == (BASE + 2, 2, "55P03")
        assert "lock_timeout reached" in database["stopped"]
        others = sql_rows(
            hasura_double,
            f"SELECT count(*) FROM pg_locks WHERE relation = '{SCHEMA}.wide'::regclass "
            f"AND pid <> {holder_pid}",
        )
        assert others == [["0"]]
    finally:
        holder.close()
    assert sql_rows(
        hasura_double, f"SELECT count(*) FROM pg_locks WHERE relation = '{SCHEMA}.wide'::regclass"
    ) == [["0"]]
    assert fingerprint(hasura_double) == before


def test_migrations_that_cannot_run_in_a_transaction_are_listed_not_rehearsed(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    add_migration(project, BASE + 1, "ok", f"CREATE TABLE {SCHEMA}.ok (id int);\n")
    add_migration(
        project, BASE + 2, "concurrently", f"CREATE INDEX CONCURRENTLY wide_id ON {SCHEMA}.wide (id);\n"
    )
    add_migration(
        project, BASE + 3, "marker", f"-- hasura:no-transaction\nCREATE TABLE {SCHEMA}.m (id int);\n"
    )
    add_migration(project, BASE + 4, "explicit", f"BEGIN;\nCREATE TABLE {SCHEMA}.e (id int);\nCOMMIT;\n")
    add_migration(project, BASE + 5, "after", f"CREATE TABLE {SCHEMA}.after (id int);\n")
    before = fingerprint(hasura_double)

    run = cli(project, "-o", "json", "deploy", "--rehearse", "--skip-metadata")

    assert run.exit_code == 0, run
    database = run.json()["result"]["databases"][0]
    assert database["rehearsed"] == [BASE + 1, BASE + 5]
    skipped = {item["version"]: item["reason"] for item in database["not_rehearsed"]}
    assert set(skipped) == {BASE + 2, BASE + 3, BASE + 4}
    assert "CREATE INDEX CONCURRENTLY" in skipped[BASE + 2]
    assert "hasura:no-transaction" in skipped[BASE + 3]
    assert "COMMIT" in skipped[BASE + 4]
    assert fingerprint(hasura_double) == before


def test_hidden_internal_errors_make_it_inconclusive_not_wrong(
    start_double: StartDouble,
    tmp_path: Path,
    run_cli,  # type: ignore[no-untyped-def]
    use_session_server: str,
) -> None:
    # Two doubles on one database: one shows `internal` (to deploy the base), one hides it.
    shown = start_double()
    double = start_double(hide_internal_errors=True)
    project = _populated(Cli(run_cli, shown), shown, tmp_path)
    _history(project, 5, [], seed=1)
    before = fingerprint(double)
    hidden = Cli(run_cli, double)

    run = hidden.deploy(project, "--rehearse", "--skip-metadata")

    assert run.exit_code == 3, run
    assert "hides the error's details" in run.stderr
    assert "HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS" in run.stderr
    assert fingerprint(double) == before
    assert not hidden.secrets_leaked()


def test_rehearse_refuses_bad_timeouts_and_dry_run(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    assert cli.deploy(project, "--rehearse", "--lock-timeout", "0").exit_code == 2
    assert cli.deploy(project, "--rehearse", "--statement-timeout", "nan").exit_code == 2
    assert cli.deploy(project, "--rehearse", "--statement-timeout", "inf").exit_code == 2
    assert cli.deploy(project, "--rehearse", "--lock-timeout", "-1").exit_code == 2
    assert cli.deploy(project, "--rehearse", "--dry-run").exit_code == 2


# -- the metadata against the migrated schema -------------------------------------------------------


def _metadata_tracking(project: Path, table: str, columns: list[str]) -> Path:
    """Track `gen.<table>` with a select permission on `columns`; returns the table file."""
    tables = project / "metadata" / "databases" / "default" / "tables"
    (tables / "tables.yaml").write_text(f'- "!include {SCHEMA}_{table}.yaml"\n')
    path = tables / f"{SCHEMA}_{table}.yaml"
    listed = "\n".join(f"        - {column}" for column in columns)
    path.write_text(
        f"table:\n  name: {table}\n  schema: {SCHEMA}\n"
        "select_permissions:\n  - role: user\n    permission:\n      columns:\n"
        f"{listed}\n      filter: {{}}\n"
    )
    return path


def test_dry_run_fails_when_the_metadata_does_not_fit_the_migrated_schema(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    add_migration(project, BASE + 1, "drop_nick", f"ALTER TABLE {SCHEMA}.people DROP COLUMN nick;\n")
    table_file = _metadata_tracking(project, "people", ["id", "nick"])
    before = snapshot(hasura_double, (SCHEMA,))

    run = cli.deploy(project, "--dry-run")
    as_json = cli(project, "-o", "json", "deploy", "--dry-run")

    assert run.exit_code == 3, run
    assert "the metadata would be inconsistent after the pending migrations" in run.stderr
    assert f"{SCHEMA}_people.yaml:" in run.stderr and "nick" in run.stderr
    assert as_json.exit_code == 3
    findings = as_json.json()["error"]["details"]["findings"]
    assert str(table_file) in findings and "permission-column-missing" in findings
    assert snapshot(hasura_double, (SCHEMA,)) == before


def test_dry_run_passes_when_the_metadata_fits(cli: Cli, hasura_double: HasuraDouble, tmp_path: Path) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    add_migration(project, BASE + 1, "add_note", f"ALTER TABLE {SCHEMA}.people ADD COLUMN note text;\n")
    _metadata_tracking(project, "people", ["id", "note"])

    run = cli.deploy(project, "--dry-run")

    assert run.exit_code == 0, run
    assert "fits the schema the pending migrations build (replayed offline)" in run.stdout


def test_rehearse_checks_the_metadata_offline_too(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    add_migration(project, BASE + 1, "drop_nick", f"ALTER TABLE {SCHEMA}.people DROP COLUMN nick;\n")
    _metadata_tracking(project, "people", ["id", "nick"])

    run = cli(project, "-o", "json", "deploy", "--rehearse")

    assert run.exit_code == 1, run
    result = run.json()["result"]
    assert result["databases"][0]["failures"] == []
    assert result["metadata_checked"] is True
    [finding] = result["metadata_findings"]
    assert finding["code"] == "permission-column-missing" and finding["path"].endswith(
        f"{SCHEMA}_people.yaml"
    )


def test_concurrent_reader_sees_nothing_of_a_rehearsal(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """While rehearsals run, another session never sees a table they create (nothing commits)."""
    project = _populated(cli, hasura_double, tmp_path)
    _history(project, 40, ["fk-validation"], seed=9)
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        with psycopg.connect(hasura_double.config.database_url, autocommit=True) as conn:
            while not done.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename LIKE 'filler%%'",
                    (SCHEMA,),
                ).fetchone()
                seen.append(int(row[0]) if row else -1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert cli.deploy(project, "--rehearse", "--skip-metadata").exit_code == 1
    finally:
        done.set()
        watcher.join()
    assert seen and set(seen) == {0}


def test_the_shipped_project_rehearses_clean_and_changes_nothing(
    cli: Cli, hasura_double: HasuraDouble, shipped_project: Path
) -> None:
    before, state_before = fingerprint(hasura_double), snapshot(hasura_double)

    run = cli(shipped_project, "-o", "json", "deploy", "--rehearse")

    assert run.exit_code == 0, run
    result = run.json()["result"]
    assert result["metadata_checked"] is True and result["metadata_findings"] == []
    [database] = result["databases"]
    assert database["rehearsed"] and database["failures"] == [] and database["not_rehearsed"] == []
    assert fingerprint(hasura_double) == before
    assert snapshot(hasura_double) == state_before


def test_a_label_added_by_an_earlier_migration_is_not_a_failure(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    add_migration(project, BASE + 1, "mood", f"CREATE TYPE {SCHEMA}.mood AS ENUM ('ok');\n")
    add_migration(project, BASE + 2, "sad", f"ALTER TYPE {SCHEMA}.mood ADD VALUE 'sad';\n")
    add_migration(project, BASE + 3, "use_sad", f"SELECT 'sad'::{SCHEMA}.mood;\n")
    add_migration(
        project, BASE + 4, "later", f"ALTER TABLE {SCHEMA}.people ALTER COLUMN nick SET NOT NULL;\n"
    )
    before = fingerprint(hasura_double)

    run = cli(project, "-o", "json", "deploy", "--rehearse", "--skip-metadata")

    assert run.exit_code == 1, run
    database = run.json()["result"]["databases"][0]
    assert [item["version"] for item in database["not_rehearsed"]] == [BASE + 3]
    assert "enum label" in database["not_rehearsed"][0]["reason"]
    [failure] = database["failures"]
    assert (failure["version"], failure["sqlstate"], failure["possibly_caused_by_earlier"]) == (
        BASE + 4,
        "23502",
        True,
    )
    assert database["rehearsed"] == [BASE + 1, BASE + 2, BASE + 4]
    assert fingerprint(hasura_double) == before


def test_versions_recorded_by_an_old_cli_are_not_rehearsed_again(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _populated(cli, hasura_double, tmp_path)
    add_migration(project, BASE + 1, "done_long_ago", f"CREATE TABLE {SCHEMA}.old (id int);\n")
    add_migration(project, BASE + 2, "pending", f"CREATE TABLE {SCHEMA}.new (id int);\n")
    with psycopg.connect(hasura_double.config.database_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {SCHEMA}.old (id int)")
        conn.execute(
            "CREATE TABLE hdb_catalog.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);"
            f"INSERT INTO hdb_catalog.schema_migrations VALUES ({BASE}, false), ({BASE + 1}, false);"
        )
        # As on a server the v1 CLI deployed: catalog state has not been copied yet.
        conn.execute("UPDATE hdb_catalog.hdb_version SET cli_state = '{}'::jsonb")
    before = snapshot(hasura_double, (SCHEMA,))

    run = cli(project, "-o", "json", "deploy", "--rehearse", "--skip-metadata")

    assert run.exit_code == 0, run
    assert run.json()["result"]["databases"][0]["rehearsed"] == [BASE + 2]
    assert snapshot(hasura_double, (SCHEMA,)) == before
