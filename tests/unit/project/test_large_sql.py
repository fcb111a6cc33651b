"""A large up.sql (a data load) is read and checksummed, but `status` does not parse it: parsing
costs about 40 bytes of memory per byte (a 50 MB file took 2 GB and 100 s). The limit is lowered
here so that a small file stands in for a large one, and the parser is made to fail if called."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.project import migrations as migrations_module

RunCli = Callable[..., Any]
BuildTree = Callable[..., Path]

BIG = "CREATE TABLE t (id int);\n" + "INSERT INTO t VALUES (1);\n" * 200  # about 5 KiB


@pytest.fixture
def big_project(make_project: BuildTree, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(migrations_module, "MAX_ANALYSED_SQL_BYTES", 4096)

    def no_parsing(text: str) -> Any:
        raise AssertionError("a file over the limit was parsed")

    project = make_project(
        {
            "migrations/default/1700000000000_big/up.sql": BIG,
            "migrations/default/1700000000000_big/down.sql": "DROP TABLE t;\n",
        },
        root=tmp_path / "big",
    )
    original = migrations_module.parse_sql
    monkeypatch.setattr(
        migrations_module, "parse_sql", lambda text: no_parsing(text) if len(text) > 4096 else original(text)
    )
    return project


def test_status_reads_but_does_not_parse_a_file_over_the_limit(run_cli: RunCli, big_project: Path) -> None:
    result = run_cli("-o", "json", "status", "--project", str(big_project))

    assert result.exit_code == 0, result.stderr
    envelope = json.loads(result.stdout)["result"]
    [migration] = envelope["databases"][0]["migrations"]
    assert migration["up_statements"] is None
    assert migration["down_statements"] == 1
    assert migration["up_sha256"] == hashlib.sha256(BIG.encode()).hexdigest()
    [finding] = [f for f in envelope["findings"] if f["code"] == "sql-not-analysed"]
    assert finding["severity"] == "info"
    assert finding["path"].endswith("up.sql")


def test_status_text_says_not_parsed(run_cli: RunCli, big_project: Path) -> None:
    result = run_cli("status", "--project", str(big_project))

    assert result.exit_code == 0, result.stderr
    assert "not parsed" in result.stdout
