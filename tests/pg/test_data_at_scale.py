"""Row comparison and catalog reads at a size no query may grow with: 240 tables (wide_history).

One `json_build_object` over every table stopped at PostgreSQL's 100-argument limit (50 tables),
in `diff --data` and in squash's verification. Row counts are checked against the generator and
against count(*) read with psycopg, never against our own comparator alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.check.catalog import read_catalog
from kedge_hasura.errors import DatabaseError
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.scratch import ScratchCluster

from .squash_helpers import fresh_database
from .wide_history import expected_counts, history_sql, row_counts, write_project

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wide") / "history.sql"
    path.write_text("".join(history_sql()), encoding="utf-8")
    return path


def _tables(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {table["table"]: table for table in report["result"]["data"]["tables"]}


def test_diff_data_compares_every_one_of_240_tables(
    run_cli: Any, pg_cluster: ScratchCluster, history_file: Path, tmp_path: Path, use_session_server: str
) -> None:
    changed = tmp_path / "changed.sql"
    last = "Ünïcødé" + "." + "ü" * 29 + "00203"
    changed.write_text(
        history_file.read_text(encoding="utf-8")
        + f'INSERT INTO "Ünïcødé"."{"ü" * 29}00203" ("select") VALUES (\'one more\');\n',
        encoding="utf-8",
    )
    with fresh_database(pg_cluster, "wide_oracle", "".join(history_sql())) as oracle:
        counts = row_counts(oracle.conninfo)
    assert counts == expected_counts()  # the oracle agrees with the generator

    same = run_cli("-o", "json", "diff", str(history_file), str(history_file), "--data")
    assert same.exit_code == 0, same.stdout + same.stderr
    tables = _tables(json.loads(same.stdout))
    assert {name: t["source_rows"] for name, t in tables.items()} == counts
    assert {t["status"] for t in tables.values()} == {"identical"}

    different = run_cli("-o", "json", "diff", str(history_file), str(changed), "--data")
    assert different.exit_code == 1, different.stdout + different.stderr
    tables = _tables(json.loads(different.stdout))
    assert [name for name, t in tables.items() if t["status"] != "identical"] == [last]
    assert (tables[last]["source_rows"], tables[last]["target_rows"]) == (counts[last], counts[last] + 1)


def test_squash_of_240_tables_verifies_and_builds_the_same_rows(
    run_cli: Any, pg_cluster: ScratchCluster, tmp_path: Path, use_session_server: str
) -> None:
    root = write_project(tmp_path / "wide")

    result = run_cli("--project", str(root), "-o", "json", "squash")

    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["result"]
    verification = report["verification"]
    assert verification["verified"] and verification["data_identical"]
    assert verification["tables_compared"] == verification["tables_total"] == len(expected_counts())
    with (
        fresh_database(pg_cluster, "wide_originals", *history_sql()) as originals,
        fresh_database(pg_cluster, "wide_squashed", report["up_sql"]) as squashed,
    ):
        assert row_counts(originals.conninfo) == expected_counts()
        assert row_counts(squashed.conninfo) == expected_counts()

    checked = run_cli("--project", str(root), "squash", "--check")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "squash check: ok" in checked.stdout


def test_enum_shaped_tables_are_read_past_any_argument_limit(pg_cluster: ScratchCluster) -> None:
    """`check` reads the rows of every table shaped like a Hasura enum table, all in one query."""
    tables = "".join(
        f'CREATE TABLE public."enum {n:03}" (value text PRIMARY KEY, comment text);\n'
        f"INSERT INTO public.\"enum {n:03}\" VALUES ('v{n}', NULL), ('w{n}', 'x');\n"
        for n in range(600)
    )
    with fresh_database(pg_cluster, "enums", tables) as database:
        catalog = read_catalog(database.conninfo, label="enums")
    assert len(catalog.enum_values) == 600
    assert catalog.enum_values[("public", "enum 599")] == ["v599", "w599"]


def test_a_failing_catalog_query_names_the_database_and_does_not_blame_the_version(
    pg_cluster: ScratchCluster,
) -> None:
    too_many = "SELECT json_build_object(" + ", ".join(["'k', 1"] * 51) + ")"
    with (
        pg_cluster.database("named") as database,
        PsycopgExecutor(database.conninfo) as executor,
        pytest.raises(DatabaseError) as raised,
    ):
        executor.fetch_json(too_many)
    error = raised.value
    assert f"catalog query failed on database {database.name}:" in error.message
    assert "cannot pass more than 100 arguments" in error.message
    assert error.hint is not None and "14 or newer" not in error.hint
    assert "54023" in error.hint and error.details["sqlstate"] == "54023"
