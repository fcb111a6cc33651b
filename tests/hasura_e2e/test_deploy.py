"""`kedge-hasura deploy` end to end: the CLI against the Hasura double on real PostgreSQL.

Every outcome is observed through the double's API as an operator would: tables via read-only
run_sql, recorded versions via get_catalog_state, the ledger's rows, tracked tables via
export_metadata, plus the exit code and what the command printed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .conftest import StartDouble
from .deploy_helpers import (
    KEDGE_RELATIONS,
    KEDGE_SCHEMA,
    Cli,
    add_migration,
    assert_deployed,
    cli_state,
    exists,
    inconsistent,
    keep_first,
    ledger,
    ledger_versions,
    project_versions,
    relations,
    run_sql,
    snapshot,
    sql_rows,
    tracked_tables,
    versions,
    write_project,
)

pytestmark = pytest.mark.pg

SQUASHED = 1748864944213  # the shipped squashed migration reuses the last original's version
ARCHIVE = "squashed_1709284463417_to_1748864944213"


def _migrations(count: int) -> str:
    return f"{count} migration" + ("" if count == 1 else "s")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _archived_up(shipped: Path, version: int) -> Path:
    archive = shipped / "migrations" / "default" / ARCHIVE
    return next(archive.glob(f"{version}_*")) / "up.sql"


# -- 1. fresh deploys -------------------------------------------------------------------------------


def test_a_fresh_deploy_of_the_17_originals_builds_and_records_everything(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path
) -> None:
    originals = project_versions(kedge_project)
    assert len(originals) == 17

    run = cli.deploy(kedge_project)

    assert run.exit_code == 0, run
    assert "17 pending" in run.stdout
    assert "1 transaction of 17 migrations" in run.stdout
    assert "Metadata: applied, consistent" in run.stdout
    assert "untracked: none; tracked but missing: none" in run.stdout
    assert "deployed: 17 migrations applied" in run.stdout
    assert_deployed(hasura_double, originals)
    assert cli_state(hasura_double)["settings"] == {"migration_mode": "true"}
    # One transaction: every ledger row has the same applied_at (now() is the transaction's start).
    stamps = sql_rows(hasura_double, "SELECT DISTINCT applied_at FROM kedge_hasura.migration_ledger")
    assert len(stamps) == 1
    assert {row[2] for row in ledger(hasura_double) or []} == {"deploy"}


def test_a_fresh_deploy_of_the_shipped_project_runs_the_squashed_migration(
    cli: Cli, hasura_double: HasuraDouble, shipped_project: Path
) -> None:
    assert project_versions(shipped_project) == [SQUASHED]

    run = cli.deploy(shipped_project)

    assert run.exit_code == 0, run
    assert "squash: none applied" in run.stdout  # case (c): none of the originals were applied
    assert "deployed: 1 migration applied" in run.stdout
    assert_deployed(hasura_double, [SQUASHED])
    squashed_sha = _sha(shipped_project / "migrations" / "default" / f"{SQUASHED}_squashed" / "up.sql")
    assert ledger(hasura_double) == [(SQUASHED, squashed_sha, "deploy")]


# -- 2. a repeated deploy -----------------------------------------------------------------------------


def test_a_repeated_deploy_applies_nothing_and_changes_nothing(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path
) -> None:
    assert cli.deploy(kedge_project).exit_code == 0
    before = snapshot(hasura_double)
    stamps = sql_rows(
        hasura_double, "SELECT version::text, applied_at::text FROM kedge_hasura.migration_ledger"
    )

    run = cli.deploy(kedge_project)

    assert run.exit_code == 0, run
    assert "Database default: up to date" in run.stdout
    assert "deployed: 0 migrations applied" in run.stdout
    after = snapshot(hasura_double)
    assert (after.cli_state, after.ledger, after.relations) == (
        before.cli_state,
        before.ledger,
        before.relations,
    )
    assert after.metadata == before.metadata
    assert (
        sql_rows(hasura_double, "SELECT version::text, applied_at::text FROM kedge_hasura.migration_ledger")
        == stamps
    )


# -- 3. the three squash cases --------------------------------------------------------------------


def test_squash_case_all_originals_applied_runs_nothing_and_prune_keeps_the_last_key(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path
) -> None:
    originals = project_versions(kedge_project)
    assert cli.deploy(kedge_project).exit_code == 0
    before = snapshot(hasura_double)

    run = cli.deploy(shipped_project)

    assert run.exit_code == 0, run
    assert "squash: all originals applied" in run.stdout
    assert "16 stale versions of squashed originals" in run.stdout
    assert "deployed: 0 migrations applied" in run.stdout
    after = snapshot(hasura_double)
    assert (after.cli_state, after.ledger, after.relations) == (
        before.cli_state,
        before.ledger,
        before.relations,
    )

    pruned = cli(shipped_project, "state", "prune")

    assert pruned.exit_code == 0, pruned
    assert versions(hasura_double) == {SQUASHED: False}
    assert ledger_versions(hasura_double) == originals  # the ledger keeps what really ran
    assert relations(hasura_double, KEDGE_SCHEMA) == KEDGE_RELATIONS


def test_after_prune_the_shipped_project_deploys_and_verifies_cleanly(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path, use_session_server: str
) -> None:
    assert cli.deploy(kedge_project).exit_code == 0
    assert cli(shipped_project, "state", "prune").exit_code == 0

    run = cli.deploy(shipped_project)
    assert run.exit_code == 0, run  # the server ran the original of 1748864944213: not an edit
    assert "deployed: 0 migrations applied" in run.stdout
    verified = cli(shipped_project, "verify")
    assert verified.exit_code == 0, verified


@pytest.mark.parametrize("prefix", [1, 16])
def test_squash_case_a_prefix_applied_runs_the_remaining_originals_from_the_archive(
    cli: Cli,
    hasura_double: HasuraDouble,
    kedge_project: Path,
    shipped_project: Path,
    use_session_server: str,
    prefix: int,
) -> None:
    everything = project_versions(kedge_project)
    applied = keep_first(kedge_project, prefix)
    first = cli.deploy(kedge_project, "--skip-metadata")  # the metadata needs tables of later ones
    assert first.exit_code == 0, first
    assert versions(hasura_double) == dict.fromkeys(applied, False)

    run = cli.deploy(shipped_project)

    assert run.exit_code == 0, run
    assert "squash: prefix applied" in run.stdout
    assert (
        f"the server applied the first {prefix} originals; the remaining {17 - prefix} run from the archive"
        in run.stdout
    )
    assert f"deployed: {_migrations(17 - prefix)} applied" in run.stdout
    assert_deployed(hasura_double, everything)
    # The remaining originals ran (their own SQL, from the archive), never the squashed SQL.
    rows = {version: sha for version, sha, _ in ledger(hasura_double) or []}
    for version in everything[prefix:]:
        assert rows[version] == _sha(_archived_up(shipped_project, version)), version
    squashed_sha = _sha(shipped_project / "migrations" / "default" / f"{SQUASHED}_squashed" / "up.sql")
    assert squashed_sha not in rows.values()
    # The schema equals what the squashed migration builds.
    diff = cli(shipped_project, "diff", "migrations", "hasura")
    assert diff.exit_code == 0, diff
    assert "schemas identical" in diff.stdout
    verified = cli(shipped_project, "verify")
    assert verified.exit_code == 0, verified


def test_a_partial_squash_state_that_is_not_a_prefix_is_refused(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path
) -> None:
    keep_first(kedge_project, 3)
    assert cli.deploy(kedge_project, "--skip-metadata").exit_code == 0
    second = project_versions(kedge_project)[1]
    assert cli(kedge_project, "state", "mark-unapplied", str(second)).exit_code == 0
    before = snapshot(hasura_double)

    run = cli.deploy(shipped_project)

    assert run.exit_code == 3, run
    assert "not the first 2 in order" in run.stderr
    assert snapshot(hasura_double) == before


# -- 4. a failure in the middle of a batch --------------------------------------------------------------

FAILING_SECOND = """\
-- Two users, then the same one again: the second INSERT violates the primary key (line 7).
CREATE TABLE public.beta (id integer PRIMARY KEY, name text);

INSERT INTO public.beta (id, name) VALUES (1, 'ada');

INSERT INTO public.beta (id, name)
VALUES (1, 'grace');
"""


def _three(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "three",
        [
            (1000000000001, "create_alpha", "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n", None),
            (1000000000002, "create_beta", FAILING_SECOND, None),
            (1000000000003, "create_gamma", "CREATE TABLE public.gamma (id integer PRIMARY KEY);\n", None),
        ],
    )


def test_a_failing_migration_commits_nothing_and_names_file_line_sqlstate(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _three(tmp_path)
    before = snapshot(hasura_double, schemas=("public",))

    run = cli.deploy(project)

    assert run.exit_code == 3, run
    up = project / "migrations" / "default" / "1000000000002_create_beta" / "up.sql"
    assert "migration 1000000000002_create_beta failed" in run.stderr
    assert f"{up}:6" in run.stderr.replace("\n", "")
    assert "23505" in run.stderr
    assert 'duplicate key value violates unique constraint "beta_pkey"' in run.stderr
    assert "nothing from this batch was committed" in run.stderr
    for table in ("public.alpha", "public.beta", "public.gamma"):
        assert not exists(hasura_double, table), table
    assert versions(hasura_double) == {}
    assert ledger(hasura_double) in (None, [])
    assert snapshot(hasura_double, schemas=("public",)).relations == before.relations


def test_a_failing_migration_reports_json_details(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _three(tmp_path)

    run = cli(project, "-o", "json", "deploy")

    assert run.exit_code == 3, run
    error = run.json()["error"]
    assert error["type"] == "MigrationFailed"
    assert error["details"]["version"] == 1000000000002
    assert error["details"]["file"].endswith("1000000000002_create_beta/up.sql")
    assert error["details"]["line"] == 6
    assert error["details"]["sqlstate"] == "23505"
    assert "VALUES (1, 'grace')" in error["details"]["statement"]


# -- 9. an applied migration edited afterwards ------------------------------------------------------


def test_an_edited_applied_migration_is_refused_unless_allowed_and_verify_reports_it(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path, use_session_server: str
) -> None:
    project = write_project(
        tmp_path / "small",
        [
            (1000000000001, "create_alpha", "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n", None),
            (1000000000002, "create_beta", "CREATE TABLE public.beta (id integer PRIMARY KEY);\n", None),
        ],
    )
    # The metadata tracks nothing: the tables may stay untracked.
    assert cli.deploy(project, "--allow-untracked", "public.*").exit_code == 0
    up = project / "migrations" / "default" / "1000000000002_create_beta" / "up.sql"
    up.write_text(up.read_text() + "-- edited after it was applied\n")
    before = snapshot(hasura_double, schemas=("public",))

    refused = cli.deploy(project)

    assert refused.exit_code == 3, refused
    assert "changed since it was applied" in refused.stderr
    assert "1000000000002" in refused.stderr
    assert "1000000000001" not in refused.stderr
    assert snapshot(hasura_double, schemas=("public",)) == before

    allowed = cli.deploy(project, "--allow-edited", "--allow-untracked", "public.*")

    assert allowed.exit_code == 0, allowed
    assert "deployed: 0 migrations applied" in allowed.stdout
    verified = cli(project, "verify")
    assert verified.exit_code == 1, verified
    assert "edited since it was applied: 1000000000002" in verified.stdout


# -- 10. transactions ------------------------------------------------------------------------------


def test_transaction_each_runs_one_batch_per_migration(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "each",
        [
            (1000000000001, "a", "CREATE TABLE public.a (id integer);\n", None),
            (1000000000002, "b", "CREATE TABLE public.b (id integer);\n", None),
            (1000000000003, "c", "CREATE TABLE public.c (id integer);\n", None),
        ],
    )
    hasura_double.faults.reset_requests()

    run = cli.deploy(project, "--transaction", "each", "--skip-metadata")

    assert run.exit_code == 0, run
    assert "3 transactions: 1, 1 and 1 migrations" in run.stdout
    # legacy-state check, ledger read, ledger creation (first deploy to this database), one run_sql
    # per batch, and the final check's ledger read (state and ledger agree, whatever concurrent
    # deploys wrote)
    assert hasura_double.faults.requests["run_sql"] == 3 + 3 + 1
    assert hasura_double.faults.requests["set_catalog_state"] == 3 + 3  # dirty (+ the legacy copy), clean
    # Each batch is its own transaction: three distinct applied_at, one ledger row each.
    rows = sql_rows(hasura_double, "SELECT version::text, applied_at FROM kedge_hasura.migration_ledger")
    assert len(rows) == 3 and len({row[1] for row in rows}) == 3
    assert versions(hasura_double) == dict.fromkeys([1000000000001, 1000000000002, 1000000000003], False)


CONCURRENT_INDEX = """\
-- hasura:no-transaction
CREATE INDEX CONCURRENTLY a_id_idx ON public.a (id);
"""


def _with_concurrent_index(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "concurrently",
        [
            (1000000000001, "a", "CREATE TABLE public.a (id integer);\n", None),
            (1000000000002, "a_index", CONCURRENT_INDEX, None),
            (1000000000003, "b", "CREATE TABLE public.b (id integer);\n", None),
        ],
    )


def test_a_no_transaction_migration_runs_alone_on_a_new_server(
    run_cli, start_double: StartDouble, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    double = start_double(version="v2.48.5")
    cli = Cli(run_cli, double)
    project = _with_concurrent_index(tmp_path)

    run = cli.deploy(project, "--skip-metadata")

    assert run.exit_code == 0, run
    assert "3 transactions: 1, 1 and 1 migrations" in run.stdout
    assert "runs outside a transaction" in run.stdout
    valid = sql_rows(
        double, "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'public.a_id_idx'::regclass"
    )
    assert valid == [["true"]]
    assert exists(double, "public.b")
    assert versions(double) == dict.fromkeys([1000000000001, 1000000000002, 1000000000003], False)
    assert ledger_versions(double) == [1000000000001, 1000000000002, 1000000000003]
    assert not cli.secrets_leaked()


def test_a_no_transaction_migration_fails_the_plan_on_an_old_server(
    run_cli, start_double: StartDouble, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    double = start_double(version="v2.40.0")
    cli = Cli(run_cli, double)
    project = _with_concurrent_index(tmp_path)

    run = cli.deploy(project, "--skip-metadata")

    assert run.exit_code == 3, run
    assert "1000000000002_a_index/up.sql" in run.stderr
    assert "v2.40.0" in run.stderr and "v2.45.3" in run.stderr
    for table in ("public.a", "public.b"):
        assert not exists(double, table)
    assert versions(double) == {}
    assert ledger(double) is None
    assert not cli.secrets_leaked()


PARTIAL_NO_TRANSACTION = """\
-- hasura:no-transaction
CREATE INDEX CONCURRENTLY a_id_idx ON public.a (id);
CREATE INDEX CONCURRENTLY a_missing_idx ON public.a (missing_column);
"""


def test_a_failing_no_transaction_migration_says_what_was_committed(
    run_cli, start_double: StartDouble, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    double = start_double(version="v2.48.5")
    cli = Cli(run_cli, double)
    project = write_project(
        tmp_path / "partial",
        [
            (1000000000001, "a", "CREATE TABLE public.a (id integer);\n", None),
            (1000000000002, "a_indexes", PARTIAL_NO_TRANSACTION, None),
        ],
    )

    run = cli.deploy(project, "--skip-metadata")

    assert run.exit_code == 5, run  # a statement committed: not "changed nothing"
    assert exists(double, "public.a_id_idx")  # the first statement committed on its own
    assert "1000000000002_a_indexes/up.sql:3" in run.stderr.replace("\n", "")
    assert "nothing from this batch was committed" not in run.stderr
    assert not cli.secrets_leaked()


# -- 11. dry run, tracking, legacy state ----------------------------------------------------------


def test_a_dry_run_changes_nothing_and_shows_the_plan(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path
) -> None:
    before = snapshot(hasura_double)

    run = cli.deploy(kedge_project, "--dry-run")

    assert run.exit_code == 0, run
    assert "17 pending" in run.stdout
    for version in project_versions(kedge_project):
        assert str(version) in run.stdout
    assert "sources.default.tables: +11 -0 ~0" in run.stdout
    assert "dry run: nothing changed" in run.stdout
    assert snapshot(hasura_double) == before
    assert cli_state(hasura_double) == {}


def test_a_dry_run_after_a_partial_deploy_changes_nothing(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path
) -> None:
    keep_first(kedge_project, 4)
    assert cli.deploy(kedge_project, "--skip-metadata").exit_code == 0
    before = snapshot(hasura_double)

    run = cli.deploy(shipped_project, "--dry-run")

    assert run.exit_code == 0, run
    assert "squash: prefix applied" in run.stdout
    assert "archive" in run.stdout
    assert snapshot(hasura_double) == before


def test_track_untracked_tracks_a_hand_made_table_and_writes_its_files(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path
) -> None:
    assert cli.deploy(kedge_project).exit_code == 0
    run_sql(hasura_double, f"CREATE TABLE {KEDGE_SCHEMA}.hand_made (id integer PRIMARY KEY);")

    run_sql(hasura_double, f"CREATE MATERIALIZED VIEW {KEDGE_SCHEMA}.hand_made_totals AS SELECT 1 AS n;")
    run_sql(hasura_double, "CREATE TABLE kedge_hasura.scratch (id integer);")  # the ledger's schema

    reported = cli.deploy(kedge_project)
    # The deploy completes, then exits 1 ("ran and found problems") with each table and its file.
    assert reported.exit_code == 1, reported
    assert "deployed: 0 migrations applied" in reported.stdout
    assert f"untracked: {KEDGE_SCHEMA}.hand_made, {KEDGE_SCHEMA}.hand_made_totals" in reported.stdout
    out = " ".join(reported.stdout.split())
    for name in ("hand_made", "hand_made_totals"):
        assert f"untracked {KEDGE_SCHEMA}.{name}: would go in " in out
        assert f"metadata/databases/default/tables/{KEDGE_SCHEMA}_{name}.yaml" in out
    assert "kedge_hasura.scratch" not in reported.stdout and "hdb_catalog" not in reported.stdout
    assert "2 tables of the managed schemas untracked" in out
    assert f"{KEDGE_SCHEMA}.hand_made" not in tracked_tables(hasura_double)
    as_json = cli(kedge_project, "-o", "json", "deploy")
    assert as_json.exit_code == 1 and as_json.json()["ok"] is False
    (tracking,) = as_json.json()["result"]["metadata"]["tracking"]
    assert tracking["untracked"] == [f"{KEDGE_SCHEMA}.hand_made", f"{KEDGE_SCHEMA}.hand_made_totals"]
    # Allowed by a glob on the command line, or by kedge.check.ignore_untracked (which deploy reads).
    allowed = cli.deploy(kedge_project, "--allow-untracked", f"{KEDGE_SCHEMA}.hand_made*")
    assert allowed.exit_code == 0, allowed
    assert f"allowed to stay untracked: {KEDGE_SCHEMA}.hand_made, {KEDGE_SCHEMA}.hand_made_totals" in (
        " ".join(allowed.stdout.split())
    )
    config = kedge_project / "config.yaml"
    original = config.read_text()
    config.write_text(
        original + f"kedge:\n  check:\n    ignore_untracked:\n      - {KEDGE_SCHEMA}.hand_made*\n"
    )
    assert cli.deploy(kedge_project).exit_code == 0
    config.write_text(original)
    run_sql(hasura_double, f"DROP MATERIALIZED VIEW {KEDGE_SCHEMA}.hand_made_totals;")

    run = cli.deploy(kedge_project, "--track-untracked")

    assert run.exit_code == 0, run
    assert f"{KEDGE_SCHEMA}.hand_made" in tracked_tables(hasura_double)
    tables = kedge_project / "metadata" / "databases" / "default" / "tables"
    table_file = tables / f"{KEDGE_SCHEMA}_hand_made.yaml"
    assert table_file.is_file()
    assert "name: hand_made" in table_file.read_text() and f"schema: {KEDGE_SCHEMA}" in table_file.read_text()
    assert f"!include {KEDGE_SCHEMA}_hand_made.yaml" in (tables / "tables.yaml").read_text()
    assert inconsistent(hasura_double) == []
    # The project is the source of truth again: the next deploy keeps the table tracked.
    again = cli.deploy(kedge_project)
    assert again.exit_code == 0, again
    assert "untracked: none" in again.stdout
    assert f"{KEDGE_SCHEMA}.hand_made" in tracked_tables(hasura_double)


def test_legacy_schema_migrations_are_copied_before_planning(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, tmp_path: Path
) -> None:
    everything = project_versions(kedge_project)
    legacy = everything[:5]
    # A server upgraded from config v2: the first five ran by `hasura migrate apply` (v2 state table).
    for folder in sorted((kedge_project / "migrations" / "default").iterdir()):
        if int(folder.name.split("_", 1)[0]) in legacy:
            run_sql(hasura_double, (folder / "up.sql").read_text())
    rows = ", ".join(f"({v}, false)" for v in legacy)
    run_sql(
        hasura_double,
        "CREATE TABLE hdb_catalog.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);\n"
        f"INSERT INTO hdb_catalog.schema_migrations VALUES {rows};",
    )
    assert cli_state(hasura_double) == {}

    run = cli.deploy(kedge_project)

    assert run.exit_code == 0, run
    assert "copied 5 versions of hdb_catalog.schema_migrations into catalog state" in run.stdout
    assert "deployed: 12 migrations applied" in run.stdout
    assert_deployed(hasura_double, everything, ledgered=everything[5:])


def test_a_dry_run_on_a_legacy_server_copies_nothing(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path
) -> None:
    run_sql(
        hasura_double,
        "CREATE TABLE hdb_catalog.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);\n"
        "INSERT INTO hdb_catalog.schema_migrations VALUES (1709284463417, false);",
    )
    before = snapshot(hasura_double)

    run = cli.deploy(kedge_project, "--dry-run")

    assert run.exit_code == 0, run
    assert "would copy 1 version of" in run.stdout
    assert "custom_types" not in run.stdout  # empty in actions.yaml, absent from the export: the same
    assert snapshot(hasura_double) == before
    assert cli_state(hasura_double) == {}


def test_a_dry_run_on_a_legacy_server_plans_what_the_deploy_would_do(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path
) -> None:
    run_sql(
        hasura_double,
        "CREATE TABLE hdb_catalog.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);\n"
        "INSERT INTO hdb_catalog.schema_migrations VALUES (1709284463417, false);",
    )

    run = cli.deploy(kedge_project, "--dry-run")

    assert run.exit_code == 0, run
    assert "16 pending" in run.stdout  # what `deploy` without --dry-run applies
    assert "1709284463417  init_kedge_practice_schema" not in run.stdout


# -- 12. the admin secret ----------------------------------------------------------------------------


def test_a_wrong_admin_secret_exits_3_changes_nothing_and_is_not_echoed(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path
) -> None:
    before = snapshot(hasura_double)
    wrong = "wrong-secret-" + "x7" * 8

    run = cli.deploy(kedge_project, secret=wrong)

    assert run.exit_code == 3, run
    assert "admin secret" in run.stderr
    assert wrong not in run.output
    assert snapshot(hasura_double) == before
    assert not cli.secrets_leaked(wrong)


def test_verbose_runs_and_failures_never_show_the_admin_secret(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path, kedge_project: Path
) -> None:
    secret = hasura_double.admin_secret
    assert secret
    runs = [
        cli(_three(tmp_path), "-vv", "deploy"),  # a failing migration, located by probes
        cli(kedge_project, "-vv", "deploy", "--dry-run"),
    ]
    hasura_double.faults.drop_connection_after("run_sql", nth=2)  # the batch's answer is lost
    runs += [
        cli(kedge_project, "-vv", "-o", "json", "deploy"),
        cli(kedge_project, "-vv", "state", "show"),
        cli(kedge_project, "-vv", "rollback", "--steps", "1", "--dry-run"),
    ]

    assert [run.exit_code for run in runs] == [3, 0, 0, 0, 0], runs
    assert "POST /v2/query" in runs[0].stderr  # the -v request lines were there to scan
    assert hasura_double.faults.fired
    assert not any(secret in run.output for run in runs)


def test_migration_files_added_later_are_applied_on_the_next_deploy(
    cli: Cli, hasura_double: HasuraDouble, shipped_project: Path
) -> None:
    assert cli.deploy(shipped_project).exit_code == 0
    add_migration(
        shipped_project,
        1760000000000,
        "add_users_nickname",
        f"ALTER TABLE {KEDGE_SCHEMA}.users ADD COLUMN nickname text;\n",
        f"ALTER TABLE {KEDGE_SCHEMA}.users DROP COLUMN nickname;\n",
    )

    run = cli.deploy(shipped_project)

    assert run.exit_code == 0, run
    assert "deployed: 1 migration applied" in run.stdout
    assert_deployed(hasura_double, [SQUASHED, 1760000000000])
    columns = sql_rows(
        hasura_double,
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = '{KEDGE_SCHEMA}' AND table_name = 'users' AND column_name = 'nickname'",
    )
    assert columns == [["nickname"]]
