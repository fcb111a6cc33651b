"""Planted-difference suite: every fixtures/diff/<case> plants one difference (or none) between a.sql
and b.sql; comparing the two databases must report exactly the differences in expected.json.

A case that reveals a comparator bug keeps asserting the correct outcome and is listed in `BUGS`
(strict xfail), so fixing the bug turns it into a failure that asks for the entry to be removed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from .diff_helpers import (
    DIFF_FIXTURES,
    SnapshotCache,
    case_folders,
    diff_scripts,
    explain,
    load_sql,
    normalise_expected,
    read_expected,
    reduce,
)

# case folder → why the comparator gets it wrong today. Fixing one makes its case XPASS, which
# fails (strict): then delete the entry.
BUGS: dict[str, str] = {}


def _params() -> list[Any]:
    params = []
    for folder in case_folders():
        marks = (
            [pytest.mark.xfail(strict=True, reason=f"BUG: {BUGS[folder.name]}")]
            if folder.name in BUGS
            else []
        )
        params.append(pytest.param(folder, id=folder.name, marks=marks))
    return params


@pytest.fixture(scope="module")
def snapshots(pg_cluster: ScratchCluster) -> SnapshotCache:
    """Snapshots shared by the cases of this module (many cases have the bare base as one side)."""
    return SnapshotCache(pg_cluster)


@pytest.mark.parametrize("case", _params())
def test_planted_difference_is_reported_exactly(snapshots: SnapshotCache, case: Path) -> None:
    expected = normalise_expected(read_expected(case))

    result = diff_scripts(
        snapshots.cluster, load_sql(case / "a.sql"), load_sql(case / "b.sql"), cache=snapshots
    )

    assert [reduce(d) for d in result.differences] == expected, explain(result.differences)


def test_every_bug_entry_names_a_case() -> None:
    assert set(BUGS) <= {folder.name for folder in case_folders()}


def test_manifest_lists_every_case_and_planted_difference() -> None:
    manifest = json.loads((DIFF_FIXTURES / "manifest.json").read_text(encoding="utf-8"))
    listed = {
        (e["case"], e["kind"], e["change"], e["field"], e["object"], e["severity"])
        for e in manifest
        if e["expect"] != "no-difference"
    }
    expected = {
        (folder.name, e["kind"], e["change"], e["field"], e["object"], e["severity"])
        for folder in case_folders()
        for e in normalise_expected(read_expected(folder))
    }
    assert listed == expected
    assert {e["case"] for e in manifest} == {folder.name for folder in case_folders()}
    assert all(e["description"] for e in manifest)


def test_there_are_enough_cases() -> None:
    assert len(case_folders()) >= 35
