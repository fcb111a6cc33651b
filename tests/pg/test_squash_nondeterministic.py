"""Rows that are not the same on every replay: squash names them, never calls them identical,
and `squash --check` reaches the same verdict as the squash, run after run.

The histories are non-deterministic by construction, so the detection runs on every test run:
a row count drawn from random() (the replays seed random() differently, and the same way every
time), and one taken from the scratch database's name, whose length differs between any two
replays. The row counts the tests rely on are read with psycopg directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from .squash_helpers import fresh_database, header_lines, migrations_dir
from .wide_history import row_counts, write_hasura_project

pytestmark = pytest.mark.pg

PLAIN = (
    "CREATE TABLE public.plain (id integer PRIMARY KEY, name text NOT NULL);\n"
    "INSERT INTO public.plain VALUES (1, 'a'), (2, 'b');\n"
)
# A random value in a column without a default: the count is fixed, the column is frozen.
TOKENS = (
    "CREATE TABLE public.tokens (id integer PRIMARY KEY, token uuid NOT NULL);\n"
    "INSERT INTO public.tokens SELECT g, gen_random_uuid() FROM generate_series(1, 5) g;\n"
)
# The same rows in an order that differs between replays: nothing differs.
SHUFFLED = (
    "CREATE TABLE public.shuffled (v integer NOT NULL);\n"
    "INSERT INTO public.shuffled SELECT g FROM generate_series(1, 200) g ORDER BY random();\n"
)
LOTTERY = (
    "CREATE TABLE public.lottery (id serial PRIMARY KEY, n integer NOT NULL);\n"
    "INSERT INTO public.lottery (n) SELECT g FROM generate_series(1, 10 + (random() * 1000)::int) g;\n"
)
DRAWS = (
    "CREATE TABLE public.draws (n integer NOT NULL);\n"
    "INSERT INTO public.draws SELECT g FROM generate_series(1, length(current_database())) g;\n"
)


def _seeded(seed: float, sql: str) -> str:
    """`sql` after setseed(seed), as squash replays it (REPLAY_SEEDS)."""
    return f"SELECT setseed({seed});\n{sql}"


def _physical_order(conninfo: str) -> list[int]:
    with psycopg.connect(conninfo) as connection:
        return [row[0] for row in connection.execute("SELECT v FROM public.shuffled ORDER BY ctid")]


def test_a_deterministic_history_says_rows_identical_and_ignores_row_order(
    run_cli: Any, pg_cluster: ScratchCluster, tmp_path: Path, use_session_server: str
) -> None:
    root = write_hasura_project(tmp_path / "deterministic", [PLAIN + TOKENS, SHUFFLED])
    # The oracle: two replays really do store `shuffled` in different orders, with the same rows.
    with (
        fresh_database(pg_cluster, "order_a", _seeded(0.25, SHUFFLED)) as first,
        fresh_database(pg_cluster, "order_b", _seeded(-0.5, SHUFFLED)) as second,
    ):
        orders = _physical_order(first.conninfo), _physical_order(second.conninfo)
    assert orders[0] != orders[1] and sorted(orders[0]) == sorted(orders[1])

    text = run_cli("--project", str(root), "squash", "--dry-run")
    assert text.exit_code == 0, text.stdout + text.stderr
    assert "verified:      schema identical, rows identical except 1 frozen column," in text.stdout
    assert "non-deterministic" not in text.stdout

    result = run_cli("--project", str(root), "-o", "json", "squash")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["result"]
    assert report["frozen_values"] == ["public.tokens.token"]
    assert report["nondeterministic_tables"] == []
    verification = report["verification"]
    assert verification["data_identical"] is True
    assert verification["tables_compared"] == verification["tables_total"] == 3
    with (
        fresh_database(pg_cluster, "det_originals", PLAIN + TOKENS, SHUFFLED) as originals,
        fresh_database(pg_cluster, "det_squashed", report["up_sql"]) as squashed,
    ):
        assert row_counts(squashed.conninfo) == row_counts(originals.conninfo)

    checked = run_cli("--project", str(root), "squash", "--check")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "squash check: ok" in checked.stdout


@pytest.mark.parametrize("strategy", ["dump", "concat"])
def test_tables_with_a_different_row_count_on_every_replay_are_named_and_not_called_identical(
    run_cli: Any, pg_cluster: ScratchCluster, tmp_path: Path, use_session_server: str, strategy: str
) -> None:
    ups = [PLAIN + TOKENS, LOTTERY, DRAWS]
    root = write_hasura_project(tmp_path / "nondeterministic", ups)
    names = "public.draws, public.lottery"

    # The oracle: replayed as squash replays them (two seeds, two database names), the two tables
    # get different row counts, and the others do not.
    with (
        fresh_database(pg_cluster, "nd_a", *(_seeded(0.25, up) for up in ups)) as first,
        fresh_database(pg_cluster, "nd_bbbb", *(_seeded(-0.5, up) for up in ups)) as second,
    ):
        counts = row_counts(first.conninfo), row_counts(second.conninfo)
    assert {t for t in counts[0] if counts[0][t] != counts[1][t]} == {"public.draws", "public.lottery"}

    text = run_cli("--project", str(root), "squash", "--dry-run", "--strategy", strategy)
    assert text.exit_code == 0, text.stdout + text.stderr
    assert (
        f"rows identical in 2 of 4 tables except 1 frozen column; 2 tables non-deterministic: {names}"
        in text.stdout
    ), text.stdout
    assert "rows identical," not in text.stdout
    assert "get a different number of rows on every replay of the originals" in text.stdout

    result = run_cli("--project", str(root), "-o", "json", "squash", "--strategy", strategy)
    assert result.exit_code == 0, result.stdout + result.stderr
    envelope = json.loads(result.stdout)
    report = envelope["result"]
    assert report["nondeterministic_tables"] == ["public.draws", "public.lottery"]
    assert report["frozen_values"] == ["public.tokens.token"]
    assert report["nondeterministic_sequences"] == ["public.lottery_id_seq"]
    verification = report["verification"]
    assert verification["verified"] is True and verification["data_identical"] is False
    assert (verification["tables_compared"], verification["tables_total"]) == (2, 4)
    (warning,) = [w for w in report["warnings"] if w.startswith("non-deterministic rows:")]
    assert warning.endswith(f": {names}")
    header = " ".join(header_lines(report["up_sql"]))
    assert "build the same schema and rows." not in header
    assert "Non-deterministic tables (a different number of rows on every replay" in header
    assert f"not compared): {names}" in header
    (archive,) = [p for p in migrations_dir(root).iterdir() if p.name.startswith("squashed_")]
    manifest = json.loads((archive / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["nondeterministic_tables"] == ["public.draws", "public.lottery"]

    with fresh_database(pg_cluster, "nd_squashed", report["up_sql"]) as squashed:
        built = row_counts(squashed.conninfo)
    assert built["public.plain"] == counts[0]["public.plain"] == 2
    assert built["public.tokens"] == counts[0]["public.tokens"] == 5
    assert built["public.draws"] > 0 and built["public.lottery"] > 10

    for _ in range(3):  # the same verdict as the squash, every time
        checked = run_cli("--project", str(root), "squash", "--check")
        assert checked.exit_code == 0, checked.stdout + checked.stderr
        assert "squash check: ok" in checked.stdout
        assert f"rows not compared in 2 non-deterministic tables: {names}" in checked.stdout
