"""Row comparison by digest: equal tables are settled in SQL, and report exactly what reading
their rows would; tables that differ are still read and listed row by row."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.schemadiff import data as data_module
from kedge_hasura.schemadiff.data import DataDiff, DataOptions, compare_data
from kedge_hasura.schemadiff.snapshot import read_snapshot

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE TABLE keyed (id integer PRIMARY KEY, name text, at timestamptz);
CREATE TABLE unkeyed (name text, n numeric);
CREATE TABLE empty (id integer PRIMARY KEY);
CREATE TABLE changed (id integer PRIMARY KEY, name text);
"""
# The same rows in another physical order on each side; `at` differs (an ignored column);
# `changed` differs in one value.
LEFT = """
INSERT INTO keyed SELECT i, 'n' || i, '2020-01-01'::timestamptz FROM generate_series(1, 500) i;
INSERT INTO unkeyed VALUES ('a', 1.5), ('b', 2), ('a', 1.5);
INSERT INTO changed VALUES (1, 'one'), (2, 'two');
"""
RIGHT = """
INSERT INTO keyed SELECT i, 'n' || i, '2021-06-01'::timestamptz FROM generate_series(500, 1, -1) i;
INSERT INTO unkeyed VALUES ('a', 1.5), ('a', 1.5), ('b', 2);
INSERT INTO changed VALUES (2, 'two'), (1, 'uno');
"""


def _compare(pg_cluster: ScratchCluster, options: DataOptions) -> DataDiff:
    with pg_cluster.database("left") as left, pg_cluster.database("right") as right:
        for database, rows in ((left, LEFT), (right, RIGHT)):
            with psycopg.connect(database.conninfo, autocommit=True) as connection:
                connection.execute((SCHEMA + rows).encode())
        with PsycopgExecutor(left.conninfo) as a, PsycopgExecutor(right.conninfo) as b:
            return compare_data((a, read_snapshot(a)), (b, read_snapshot(b)), options)


def _without_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every digest differ, so every table is read and compared in Python (the old way)."""
    calls = iter(range(10**6))

    def distinct(executor: Any, tables: list[Any], ignored: Any) -> list[tuple[int, str]]:
        return [(0, f"forced {next(calls)}") for _ in tables]

    monkeypatch.setattr(data_module, "_fetch_digests", distinct)


@pytest.mark.parametrize(
    "options",
    [
        DataOptions(ignore_columns=frozenset({"keyed.at"})),
        DataOptions(),
        DataOptions(match="physical"),
        DataOptions(match="physical", ignore_columns=frozenset({"at"})),
    ],
    ids=["by-key-ignoring-a-column", "by-key", "physical", "physical-ignoring-a-column"],
)
def test_digests_report_what_reading_every_row_reports(
    pg_cluster: ScratchCluster, monkeypatch: pytest.MonkeyPatch, options: DataOptions
) -> None:
    with_digests = _compare(pg_cluster, options)
    _without_digests(monkeypatch)
    row_by_row = _compare(pg_cluster, options)
    assert with_digests.model_dump() == row_by_row.model_dump()


def test_a_table_that_differs_is_still_listed_row_by_row(pg_cluster: ScratchCluster) -> None:
    result = _compare(pg_cluster, DataOptions(ignore_columns=frozenset({"keyed.at"})))
    status = {table.table: table.status for table in result.tables}
    assert status == {
        "public.changed": "different",
        "public.empty": "identical",
        "public.keyed": "identical",
        "public.unkeyed": "identical",
    }
    (changed,) = [table for table in result.tables if table.table == "public.changed"]
    assert [(d.change, d.key, d.columns) for d in changed.differences] == [("changed", {"id": 1}, ["name"])]


def test_a_column_left_out_of_the_digest_still_decides_when_not_ignored(pg_cluster: ScratchCluster) -> None:
    result = _compare(pg_cluster, DataOptions())
    (keyed,) = [table for table in result.tables if table.table == "public.keyed"]
    assert keyed.status == "different"
    assert keyed.differing_columns == ["at"]
