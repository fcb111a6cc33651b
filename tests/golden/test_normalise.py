"""The golden files' normalisation: what varies is replaced, look-alikes that are data stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura import __version__

from .golden import normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hasura v2.48.5 at http://127.0.0.1:41234", "Hasura v2.48.5 at http://127.0.0.1:<port>"),
        ("host=127.0.0.1 port=54321 dbname=x", "host=127.0.0.1 port=<port> dbname=x"),
        ("source: a.sql (PostgreSQL 15.18, database kedge_94f0c7af_diff_1)",
         "source: a.sql (PostgreSQL <pg-version>, database <scratch-db>)"),
        ('"server_version": "15.18 (Debian 15.18-1)",', '"server_version": "<pg-version>",'),
        ('"major": 15,', '"major": <pg-major>,'),
        (f"Squashed by kedge-hasura {__version__} (dump", "Squashed by kedge-hasura <version> (dump"),
        ("applied 1 migration in 0.42 s", "applied 1 migration in <duration>"),
        ("apply time            0.52 s    0.27 s  1.9x faster",
         "apply time <duration> <duration> <speed-ratio>"),
        ('"seconds_total": 12.5,', '"seconds_total": <duration>,'),
        ('"timings": {\n  "load": 0.014,\n  "total": 2.019\n}',
         '"timings": {\n  "load": <duration>,\n  "total": <duration>\n}'),
        ('<testsuite tests="13" time="1.689">', '<testsuite tests="13" time="<duration>">'),
        ("created 2026-12-04T17:07:28.123+00:00", "created <timestamp>"),
    ],
    ids=["double-url", "conninfo-port", "pg-version", "server-version", "major", "tool-version",
         "duration", "duration-padding", "json-seconds", "timings", "junit-time", "iso-timestamp"],
)  # fmt: skip
def test_what_varies_is_replaced(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1748864944213  squashed  yes  yes          117",
        "1 transaction (5 migration(s) each)",
        "'2024-03-01 00:00:00+00'",  # a row's timestamp, as PostgreSQL prints it
        "SQL 26579 B",
        "CREATE INDEX users_role_idx ON kedge_practice.users USING btree (role);",
        "sha256 3c8cd04cc74c5c92df15e48f07e88f8c4909dfafa50e869fce4da794858fd5cc",
        "schema kedge_practice; ledger kedge_hasura.migration_ledger",
        "Hasura v2.48.5",
    ],
)
def test_data_that_looks_variable_is_kept(text: str) -> None:
    assert normalise(text) == text


def test_temporary_folders_and_kept_timestamps(tmp_path: Path) -> None:
    text = f"{tmp_path}/hasura created 2026-11-24T02:40:57Z, checked 2026-12-04T17:07:28Z"

    assert normalise(text, tmp=tmp_path, keep=["2026-11-24T02:40:57Z"]) == (
        "<tmp>/hasura created 2026-11-24T02:40:57Z, checked <timestamp>"
    )
