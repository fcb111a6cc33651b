"""SARIF 2.1.0, GitLab Code Quality and the GitHub annotation cap, checked property by property.

No package ships the SARIF or Code Quality JSON schema for offline validation, so each property
the consumers require is asserted: SARIF's `version`, `runs[].tool.driver.name`, results with
`ruleId`/`message.text`/a physical location with a relative `uri` and `startLine` >= 1 (what
GitHub code scanning rejects an upload for), rules for every ruleId; GitLab's `description`,
`check_name`, `fingerprint` (unique within the report), `severity` from its scale and
`location.path`/`location.lines.begin`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kedge_hasura.actions.check.codes import CODES, CheckFinding
from kedge_hasura.actions.check.run import CheckReport, CheckRun
from kedge_hasura.findings import Severity
from kedge_hasura.render.check import GITHUB_ANNOTATIONS_PER_LEVEL, render_github
from kedge_hasura.render.ci_reports import render_gitlab, render_sarif

_GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def _report(project: Path, findings: list[CheckFinding]) -> CheckReport:
    checks = [CheckRun(name="permissions", description="permissions", status="failed", errors=1)]
    return CheckReport(
        project=project, online=False, fail_on=Severity.ERROR, databases=["default"], checks=checks,
        findings=findings,
    )  # fmt: skip


def _finding(code: str, message: str, **where: object) -> CheckFinding:
    spec = CODES[code]
    return CheckFinding(code=code, severity=spec.severity, check=spec.check, message=message, **where)  # type: ignore[arg-type]


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CheckReport:
    monkeypatch.chdir(tmp_path)
    tables = tmp_path / "hasura" / "metadata" / "tables.yaml"
    odd = "column 'x' of public.a: \"quoted\", 50%"
    return _report(
        tmp_path / "hasura",
        [
            _finding("permission-column-missing", odd, path=tables, line=4),
            # the same finding twice in one file (two roles, say): fingerprints must still differ
            _finding("permission-column-missing", odd, path=tables, line=9),
            _finding("untracked-table", "public.b is not tracked", path=tables),
            _finding("role-near-duplicate", "role 'editr' looks like 'editor'"),
        ],
    )


def test_sarif_has_every_property_code_scanning_requires(report: CheckReport) -> None:
    log = json.loads(render_sarif(report))

    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "kedge-hasura"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert sorted(rule_ids) == ["permission-column-missing", "role-near-duplicate", "untracked-table"]
    assert [result["level"] for result in run["results"]] == ["error", "error", "warning", "note"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert not physical["artifactLocation"]["uri"].startswith("/")
        assert physical["region"]["startLine"] >= 1
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
    # a finding without a file is placed on config.yaml; one without a line on line 1
    assert uris == ["hasura/metadata/tables.yaml"] * 3 + ["hasura/config.yaml"]
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]]
    assert lines == [4, 9, 1, 1]
    prints = [result["partialFingerprints"]["kedgeFinding/v1"] for result in run["results"]]
    assert len(set(prints)) == len(prints)
    assert run["invocations"][0]["exitCode"] == 1


def test_gitlab_code_quality_has_every_required_property(report: CheckReport) -> None:
    issues = json.loads(render_gitlab(report))

    assert isinstance(issues, list) and len(issues) == 4
    for issue in issues:
        assert issue["description"] and issue["check_name"]
        assert issue["severity"] in _GITLAB_SEVERITIES
        assert issue["location"]["path"] and not issue["location"]["path"].startswith("/")
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({issue["fingerprint"] for issue in issues}) == 4
    assert [issue["severity"] for issue in issues] == ["major", "major", "minor", "info"]
    assert issues[0]["description"].startswith("column 'x' of public.a")


def test_fingerprints_survive_a_finding_moving_down_the_file(report: CheckReport, tmp_path: Path) -> None:
    moved = report.model_copy(
        update={"findings": [f.model_copy(update={"line": (f.line or 0) + 20}) for f in report.findings]}
    )

    assert [i["fingerprint"] for i in json.loads(render_gitlab(moved))] == [
        i["fingerprint"] for i in json.loads(render_gitlab(report))
    ]


def test_an_empty_report_is_a_valid_empty_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    empty = _report(tmp_path, [])

    assert json.loads(render_gitlab(empty)) == []
    assert json.loads(render_sarif(empty))["runs"][0]["results"] == []


def test_github_annotates_ten_of_each_level_and_says_what_was_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tables.yaml"
    errors = [
        _finding("table-missing", f"table t{n} does not exist", path=path, line=n) for n in range(1, 14)
    ]
    warnings = [_finding("untracked-table", f"public.u{n} is not tracked", path=path) for n in range(4)]

    lines = render_github(_report(tmp_path, errors + warnings)).splitlines()

    assert sum(line.startswith("::error ") for line in lines) == GITHUB_ANNOTATIONS_PER_LEVEL
    assert sum(line.startswith("::warning ") for line in lines) == 4
    # the three errors past the cap are still in the log, as plain lines
    assert [line for line in lines if line.startswith("error [table-missing]")] == [
        f"error [table-missing] tables.yaml:{n}: table t{n} does not exist" for n in (11, 12, 13)
    ]
    assert lines[-2].startswith(
        "not annotated: 3 errors (GitHub shows 10 annotations of each level per step)"
    )
    assert lines[-1].startswith("check: failed (13 errors, 4 warnings, 0 infos")


def test_sarif_describes_codes_check_takes_over_from_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # missing-down and non-transactional come from `status`, not from check's code catalogue:
    # render_sarif raised KeyError on them (exit 4, nothing written), found by a new-user trial.
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "hasura" / "migrations" / "default" / "1_a"
    findings = [
        CheckFinding(code="missing-down", severity=Severity.WARNING, check="migrations",
                     message="1_a has no down.sql", path=folder),
        CheckFinding(code="non-transactional", severity=Severity.WARNING, check="migrations",
                     message="CREATE INDEX CONCURRENTLY", hint="run it alone",
                     path=folder / "up.sql", line=2),
    ]  # fmt: skip
    assert "missing-down" not in CODES and "non-transactional" not in CODES
    log = json.loads(render_sarif(_report(tmp_path / "hasura", findings)))

    rules = {rule["id"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {"missing-down", "non-transactional"}
    assert rules["non-transactional"]["help"]["text"] == "run it alone"
    assert rules["missing-down"]["defaultConfiguration"]["level"] == "warning"
    assert rules["missing-down"]["properties"]["tags"] == ["migrations"]
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["missing-down", "non-transactional"]
