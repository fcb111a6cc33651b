"""Replay applies migrations as Hasura's run_sql would, and reports failures precisely."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from kedge_hasura.actions.replay import replay_migrations
from kedge_hasura.errors import MigrationFailed
from kedge_hasura.pg.replay import StepStatus
from kedge_hasura.pg.scratch import ScratchCluster, ScratchDatabase
from kedge_hasura.project.layout import open_project
from kedge_hasura.project.migrations import scan_migrations

from .conftest import user_objects, write_migration

KEDGE_TABLES = {
    "users", "knowledge_points", "quizzes", "practice_sessions", "practice_answers", "practice_strategies",
    "student_weaknesses", "student_mistakes", "knowledge_points_metadata", "attachments",
}  # fmt: skip


def _migrations(root: Path):  # type: ignore[no-untyped-def]
    return scan_migrations(root, config_version=2).databases["default"].migrations


def test_kedge_history_up_then_all_downs_returns_the_database_to_empty(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, kedge_project: Path
) -> None:
    before = user_objects(scratch_db.conninfo)
    migrations = open_project(kedge_project).scan_migrations().databases["default"].migrations
    assert len(migrations) == 17

    up = replay_migrations(pg_cluster, scratch_db, migrations)
    assert up.ok and len(up.steps) == 17

    with psycopg.connect(scratch_db.conninfo) as connection:
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'kedge_practice'"
            )
        }
        index_count = connection.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'kedge_practice'"
        ).fetchone()
        anonymous = connection.execute(
            "SELECT is_anonymous FROM kedge_practice.users WHERE id = '00000000-0000-0000-0000-000000000000'"
        ).fetchone()
    assert tables == KEDGE_TABLES
    assert index_count is not None and index_count[0] >= 35
    assert anonymous == (True,)

    down = replay_migrations(pg_cluster, scratch_db, migrations, direction="down")
    assert down.ok and [s.version for s in down.steps] == sorted(
        (m.version for m in migrations), reverse=True
    )
    assert user_objects(scratch_db.conninfo) == before


def test_failure_names_file_line_sqlstate_and_rolls_the_migration_back(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    write_migration(tmp_path, 1, "ok", "CREATE TABLE a (id int);\n")
    folder = write_migration(
        tmp_path,
        2,
        "broken",
        "-- adds b\nCREATE TABLE b (id int);\n\nCREATE TABLE a (id int);\nCREATE TABLE c (id int);\n",
    )
    write_migration(tmp_path, 3, "never", "CREATE TABLE d (id int);\n")

    with pytest.raises(MigrationFailed) as caught:
        replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path))
    error = caught.value
    assert error.version == 2
    assert error.path == folder / "up.sql"
    assert error.line == 4  # no error position from the server: found by re-running the statements
    assert error.sqlstate == "42P07"
    assert error.pg_message == 'relation "a" already exists'
    assert "CREATE TABLE a" in (error.statement_excerpt or "")
    objects = user_objects(scratch_db.conninfo)
    assert "relation public.a (r)" in objects
    assert "relation public.b (r)" not in objects  # the failed migration is all-or-nothing
    assert "relation public.d (r)" not in objects


def test_report_lists_not_run_steps_after_a_failure(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    write_migration(tmp_path, 1, "bad", "SELECT 1;\nSELECT nosuch FROM pg_class;\n")
    write_migration(tmp_path, 2, "later", "SELECT 2;\n")
    report = replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path), raise_on_failure=False)
    assert [s.status for s in report.steps] == [StepStatus.FAILED, StepStatus.NOT_RUN]
    failure = report.steps[0].failure
    assert failure is not None and failure.line == 2 and failure.sqlstate == "42703"  # from the position


def test_statement_that_cannot_run_in_a_transaction_fails_as_through_hasura(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    write_migration(tmp_path, 1, "t", "CREATE TABLE t (x int);\n")
    write_migration(tmp_path, 2, "idx", "CREATE INDEX CONCURRENTLY t_x ON t (x);\n")
    with pytest.raises(MigrationFailed) as caught:
        replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path))
    assert caught.value.sqlstate == "25001"
    assert caught.value.line == 1


def test_no_transaction_marker_runs_statements_outside_a_transaction(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    write_migration(tmp_path, 1, "t", "CREATE TABLE t (x int);\n")
    write_migration(
        tmp_path, 2, "idx", "-- hasura:no-transaction\nCREATE INDEX CONCURRENTLY t_x ON t (x);\nVACUUM t;\n"
    )
    report = replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path))
    assert report.ok
    assert "relation public.t_x (i)" in user_objects(scratch_db.conninfo)


def test_explicit_commit_inside_a_file_behaves_as_in_hasura(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    # Hasura wraps the file in BEGIN ... COMMIT; a COMMIT inside ends that transaction early, so the
    # statements before it stay even when a later one fails. Replay must show the same outcome.
    write_migration(
        tmp_path, 1, "commit", "BEGIN;\nCREATE TABLE kept (x int);\nCOMMIT;\nCREATE TABLE kept (x int);\n"
    )
    report = replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path), raise_on_failure=False)
    assert not report.ok
    failure = report.steps[0].failure
    assert failure is not None and failure.sqlstate == "42P07" and failure.line is None
    assert "relation public.kept (r)" in user_objects(scratch_db.conninfo)


def test_sql_with_percent_signs_and_non_ascii_text_is_sent_verbatim(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    write_migration(
        tmp_path,
        1,
        "naïve name, with 'quotes'",
        "CREATE TABLE \"événements\" (label text DEFAULT '100% %s %(x)s');\n"
        'INSERT INTO "événements" DEFAULT VALUES;\n',
    )
    replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path))
    with psycopg.connect(scratch_db.conninfo) as connection:
        assert connection.execute('SELECT label FROM "événements"').fetchone() == ("100% %s %(x)s",)


def test_session_settings_do_not_leak_into_the_next_migration(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    write_migration(tmp_path, 1, "schema", "CREATE SCHEMA other;\nSET search_path = other;\n")
    write_migration(tmp_path, 2, "table", "CREATE TABLE lands_in_public (x int);\n")
    replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path))
    assert "relation public.lands_in_public (r)" in user_objects(scratch_db.conninfo)


def test_a_full_disk_is_blamed_on_the_scratch_server_not_on_the_migration(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    # SQLSTATE 53100 (disk_full) as the server raises it when its folder fills up: the hint must
    # send the user to KEDGE_SCRATCH_DIR, not into their SQL.
    write_migration(
        tmp_path,
        1,
        "fills",
        "CREATE TABLE a (id int);\n"
        "DO $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$;\n",
    )
    with pytest.raises(MigrationFailed) as caught:
        replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path))
    error = caught.value
    assert error.sqlstate == "53100"
    assert error.hint is not None
    assert "not a fault of this migration" in error.hint and "KEDGE_SCRATCH_DIR" in error.hint


def test_an_ordinary_failure_keeps_the_servers_own_hint(
    pg_cluster: ScratchCluster, scratch_db: ScratchDatabase, tmp_path: Path
) -> None:
    write_migration(tmp_path, 1, "typo", "SELECT * FROM pg_clas;\n")
    with pytest.raises(MigrationFailed) as caught:
        replay_migrations(pg_cluster, scratch_db, _migrations(tmp_path))
    assert "KEDGE_SCRATCH_DIR" not in (caught.value.hint or "")
