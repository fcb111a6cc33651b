"""`kedge-hasura diff` end to end: sides, exit codes, JSON document, rows."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from kedge_hasura.pg.scratch import ScratchCluster, ScratchDatabase


@pytest.fixture(autouse=True)
def _session_server(use_session_server: str) -> None:
    """Scratch databases on the test session's server (starting one per command is tested elsewhere)."""


def _url(database: ScratchDatabase) -> str:
    parts = conninfo_to_dict(database.conninfo)
    return f"postgresql://{parts['user']}@/{parts['dbname']}?host={parts['host']}"


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


BASE = """
CREATE TABLE t (id int PRIMARY KEY, status varchar(10) NOT NULL DEFAULT 'a', note text);
CREATE INDEX t_status ON t (status);
"""


def test_identical_sql_files_exit_0(run_cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.sql", BASE)
    b = _write(tmp_path / "b.sql", BASE)
    result = run_cli("diff", a, b)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith("schemas identical")


def test_differences_exit_1_and_are_grouped_by_kind(run_cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.sql", BASE)
    b = _write(tmp_path / "b.sql", BASE.replace("note text", "note varchar(50)"))
    result = run_cli("diff", a, b)
    assert result.exit_code == 1
    assert "Columns\n  ~ public.t.note: type `text` → `character varying(50)`  error" in result.stdout
    assert "1 difference (1 column); 1 error\nschemas differ" in result.stdout


def test_the_summary_counts_in_plural(run_cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.sql", BASE)
    b = _write(
        tmp_path / "b.sql",
        BASE.replace("note text", "note varchar(50), extra int") + "COMMENT ON TABLE t IS 'x';",
    )
    result = run_cli("diff", a, b)
    assert "3 differences (1 table, 2 columns); 2 errors, 1 warning" in result.stdout


def test_json_output_is_one_versioned_document(run_cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.sql", BASE)
    b = _write(tmp_path / "b.sql", BASE + "COMMENT ON TABLE t IS 'x';\n")
    result = run_cli("-o", "json", "diff", a, b)
    envelope = json.loads(result.stdout)
    assert (envelope["command"], envelope["exit_code"], envelope["ok"]) == ("diff", 1, False)
    document = envelope["result"]
    assert document["format_version"] == 1
    assert document["summary"] == {
        "total": 1,
        "by_kind": {"table": 1},
        "by_severity": {"error": 0, "warning": 1, "info": 0},
    }
    assert document["differences"][0] | {"hint": None} == {
        "kind": "table", "object": "public.t", "id": {"schema": "public", "name": "t"}, "change": "changed",
        "field": "comment", "source": None, "target": "x", "severity": "warning", "classification": None,
        "hint": None,
    }  # fmt: skip
    assert document["source"]["counts"]["table"] == 1


def test_fail_on_error_lets_warnings_pass(run_cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.sql", BASE)
    b = _write(tmp_path / "b.sql", BASE + "COMMENT ON TABLE t IS 'x';\n")
    assert run_cli("diff", a, b, "--fail-on", "error").exit_code == 0
    assert run_cli("diff", a, b).exit_code == 1


def test_a_failing_sql_file_exits_3_naming_file_and_line(run_cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.sql", BASE)
    b = _write(tmp_path / "b.sql", BASE + "\nALTER TABLE t ADD COLUMN status text;\n")
    result = run_cli("diff", a, b)
    assert result.exit_code == 3
    assert f"{b}:5" in result.stderr
    assert "42701" in result.stderr
    assert result.stdout == ""


def test_unreachable_url_exits_3(run_cli, tmp_path: Path) -> None:
    result = run_cli("diff", f"postgresql://nobody@/nodb?host={tmp_path}", _write(tmp_path / "a.sql", BASE))
    assert result.exit_code == 3
    assert "cannot read the schema" in result.stderr


@pytest.mark.parametrize("spec", ["nonsense", "mysql://x"], ids=["word", "other-scheme"])
def test_an_unknown_side_is_a_usage_error(run_cli, tmp_path: Path, spec: str) -> None:
    result = run_cli("diff", spec, _write(tmp_path / "a.sql", BASE))
    assert result.exit_code == 2
    assert "cannot tell what" in result.stderr


def test_unknown_ignore_category_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.sql", BASE)
    assert run_cli("diff", a, a, "--ignore", "everything").exit_code == 2


def test_migrations_against_a_url_built_from_them_is_identical(
    run_cli, pg_cluster: ScratchCluster, kedge_project: Path
) -> None:
    from kedge_hasura.actions.replay import replay_migrations
    from kedge_hasura.project.layout import open_project

    migrations = open_project(kedge_project).scan_migrations().databases["default"].migrations
    with pg_cluster.database("live") as live:
        replay_migrations(pg_cluster, live, migrations)
        result = run_cli("diff", "migrations", _url(live), "--project", str(kedge_project), "--data")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "kedge_practice.practice_strategies: identical (4 rows, matched by primary key)" in result.stdout


def test_rows_are_compared_by_primary_key(run_cli, tmp_path: Path) -> None:
    seed = "INSERT INTO t VALUES (1, 'a', 'x'), (2, 'b', 'y');\n"
    a = _write(tmp_path / "a.sql", BASE + seed)
    b = _write(
        tmp_path / "b.sql", BASE + seed.replace("'y'", "'z'") + "INSERT INTO t VALUES (3, 'c', NULL);\n"
    )
    result = run_cli("diff", a, b, "--data")
    assert result.exit_code == 1
    assert "public.t: different (2 → 3 rows, matched by primary key)" in result.stdout
    assert "~ row [id=2]: note: 'y' → 'z'" in result.stdout
    assert "+ row [id=3]" in result.stdout
    assert "+ row [id=3]: (id = 3, note = NULL, status = 'c')" in result.stdout  # SQL, not Python's None
    assert "None" not in result.stdout and "{'" not in result.stdout
    assert (
        run_cli("diff", a, b, "--data", "--ignore-column", "note", "--data-table", "public.t").exit_code == 1
    )


def test_ignored_key_columns_fall_back_to_comparing_whole_rows(run_cli, tmp_path: Path) -> None:
    a = _write(tmp_path / "a.sql", BASE + "INSERT INTO t VALUES (1, 'a', 'x'), (2, 'b', 'y');\n")
    b = _write(tmp_path / "b.sql", BASE + "INSERT INTO t VALUES (7, 'a', 'x'), (8, 'b', 'y');\n")
    assert run_cli("diff", a, b, "--data").exit_code == 1
    result = run_cli("diff", a, b, "--data", "--ignore-column", "t.id")
    assert result.exit_code == 0, result.stdout
    assert "matched by whole row (key columns ignored), ignoring id" in result.stdout


def test_sequence_positions_are_compared_with_data(run_cli, tmp_path: Path) -> None:
    table = "CREATE TABLE s (id serial PRIMARY KEY);\n"
    a = _write(tmp_path / "a.sql", table + "SELECT setval('s_id_seq', 10);\n")
    b = _write(tmp_path / "b.sql", table + "SELECT setval('s_id_seq', 11);\n")
    assert run_cli("diff", a, b).exit_code == 0
    result = run_cli("diff", a, b, "--data")
    assert result.exit_code == 1
    assert "sequence public.s_id_seq: position 10 → 11" in result.stdout


def test_large_tables_are_skipped_unless_named(run_cli, tmp_path: Path) -> None:
    fill = "INSERT INTO t SELECT g, 'a', NULL FROM generate_series(1, 20) g;\n"
    a = _write(tmp_path / "a.sql", BASE + fill)
    b = _write(tmp_path / "b.sql", BASE + fill + "UPDATE t SET note = 'changed' WHERE id = 20;\n")
    skipped = run_cli("diff", a, b, "--data", "--data-max-rows", "10")
    assert skipped.exit_code == 0
    assert "public.t: skipped, more than 10 rows" in skipped.stdout
    named = run_cli("diff", a, b, "--data-max-rows", "10", "--data-table", "public.t")
    assert named.exit_code == 1


def test_physical_order_pairs_rows_of_two_replays(pg_cluster: ScratchCluster) -> None:
    """Two replays of one history: random keys still pair up, and the varying columns are named."""
    from kedge_hasura.pg.catalog import PsycopgExecutor
    from kedge_hasura.schemadiff.data import DataOptions, compare_data
    from kedge_hasura.schemadiff.snapshot import read_snapshot

    script = (
        "CREATE TABLE u (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text,"
        " at timestamptz DEFAULT clock_timestamp());"
        "INSERT INTO u (name) VALUES ('anon'), ('admin');"
    )
    with pg_cluster.database("r1") as one, pg_cluster.database("r2") as two:
        for database in (one, two):
            with psycopg.connect(database.conninfo, autocommit=True) as connection:
                connection.execute(script.encode())
        with PsycopgExecutor(one.conninfo) as first, PsycopgExecutor(two.conninfo) as second:
            result = compare_data(
                (first, read_snapshot(first)), (second, read_snapshot(second)), DataOptions(match="physical")
            )
    assert result.differing_columns() == {"public.u": ["at", "id"]}
