"""`check` on the fixture projects: each case yields exactly its expected findings, file and line.

A case is tests/fixtures/check/<case>/: files laid over the clean project in `_base/` (a file of the
same path replaces the base's), and `case.json` with the expected findings as
{"code", "file" (relative to the project), "line"}, optional `options` (CheckOptions fields) and
`remove` (base files to delete). The whole offline pipeline runs: scan, replay on the session's
PostgreSQL, snapshot, checks.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.check.codes import CODES, ONLINE_CHECKS
from kedge_hasura.actions.check.run import CheckOptions, CheckReport, check_project
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import open_project

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "check"
BASE = FIXTURES / "_base"
CASES = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir() and not path.name.startswith("_"))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def build_case(name: str, target: Path) -> tuple[Path, dict[str, Any]]:
    """The project of case `name` under `target`, and its case.json."""
    shutil.copytree(BASE, target)
    case_dir = FIXTURES / name
    spec: dict[str, Any] = json.loads((case_dir / "case.json").read_text(encoding="utf-8"))
    for relative in spec.get("remove", []):
        (target / relative).unlink()
    for path in sorted(case_dir.rglob("*")):
        if path.is_file() and path.name != "case.json":
            destination = target / path.relative_to(case_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    return target, spec


@contextmanager
def _shared(cluster: ScratchCluster) -> Iterator[ScratchCluster]:
    yield cluster  # the session's server: not stopped when one check finishes


def run_check(root: Path, cluster: ScratchCluster, **options: Any) -> CheckReport:
    project = open_project(root)
    configured = project.config.kedge.check
    settings: dict[str, Any] = {
        "now": NOW,
        "ignore_untracked": configured.ignore_untracked,
        "ignore": configured.ignore,
    }
    settings.update(options)
    # A context manager that leaves the session's server running stands in for a ScratchCluster.
    return check_project(project, cluster=partial(_shared, cluster), options=CheckOptions(**settings))


def findings_of(report: CheckReport, root: Path) -> list[dict[str, Any]]:
    found = []
    for finding in report.findings:
        path = finding.path.resolve().relative_to(root.resolve()).as_posix() if finding.path else None
        found.append({"code": finding.code, "file": path, "line": finding.line})
    return sorted(found, key=lambda f: (f["code"], f["file"] or "", f["line"] or 0))


def test_the_base_project_checks_clean(tmp_path: Path, pg_cluster: ScratchCluster) -> None:
    root = tmp_path / "base"
    shutil.copytree(BASE, root)
    report = run_check(root, pg_cluster)
    assert findings_of(report, root) == []
    assert report.ok
    assert {run.name for run in report.checks if run.status == "passed"} >= {
        "metadata", "replay", "tracking", "relationships", "permissions", "computed-fields", "roles",
        "enum-tables", "migrations",
    }  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_fixture_yields_exactly_its_findings(case: str, tmp_path: Path, pg_cluster: ScratchCluster) -> None:
    root, spec = build_case(case, tmp_path / case)
    report = run_check(root, pg_cluster, **spec.get("options", {}))
    expected = sorted(spec["expected"], key=lambda f: (f["code"], f["file"] or "", f["line"] or 0))
    assert findings_of(report, root) == expected


# Codes whose situation a fixture folder cannot lay out (a file outside the project, a chain of
# two squashes) and that an end-to-end test of their own covers instead.
_COVERED_ELSEWHERE = {
    "file-outside-project": "test_outside_files.py",
    "archive-chain-broken": "test_squash_again.py",
    # check --base: both sides of a git repository, not a fixture folder
    "graphql-breaking": "test_impact_command.py",
    "graphql-exposure": "test_impact_command.py",
    "graphql-dangerous": "test_impact_command.py",
}


def test_every_offline_finding_code_has_a_fixture() -> None:
    covered = {
        finding["code"]
        for case in CASES
        for finding in json.loads((FIXTURES / case / "case.json").read_text(encoding="utf-8"))["expected"]
    }
    offline = {code for code, spec in CODES.items() if spec.check not in ONLINE_CHECKS}
    assert offline - covered - set(_COVERED_ELSEWHERE) == set()
    tests = Path(__file__).parent
    for code, test_file in _COVERED_ELSEWHERE.items():
        assert code in (tests / test_file).read_text(encoding="utf-8"), (code, test_file)
    assert len(covered) >= 20
