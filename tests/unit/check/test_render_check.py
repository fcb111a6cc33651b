"""Renderings of a check report: GitHub annotations, JUnit XML and text, checked against their formats."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from kedge_hasura.actions.check.codes import CheckFinding
from kedge_hasura.actions.check.run import CheckReport, CheckRun
from kedge_hasura.findings import Severity
from kedge_hasura.render.check import escape_data, escape_property, render_check, render_github, render_junit

# ::command key=value,key=value::message (github.com/actions/toolkit, packages/core/src/command.ts)
_COMMAND = re.compile(r"^::(?P<command>error|warning|notice)(?: (?P<properties>[^:]*))?::(?P<message>.*)$")
_TRICKY = '50% of rows: a, b\r\nnext line <tag> & "quotes" \x01 end'


def _unescape(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def _finding(code: str, severity: Severity, check: str, message: str, **where: Any) -> CheckFinding:
    return CheckFinding(code=code, severity=severity, check=check, message=message, **where)


def _report(tmp_path: Path, *, fail_on: Severity = Severity.ERROR) -> CheckReport:
    weird = tmp_path / "meta:data, odd" / "app_users.yaml"
    findings = [
        _finding(
            "relationship-fk-missing", Severity.ERROR, "relationships", "no foreign key on app.posts(title)",
            path=tmp_path / "metadata" / "app_posts.yaml", line=12, hint="add the foreign key",
        ),
        _finding("permission-column-missing", Severity.ERROR, "permissions", _TRICKY, path=weird, line=3),
        _finding("missing-down", Severity.WARNING, "migrations", "no down.sql", path=tmp_path / "migs/1_a"),
        _finding("role-near-duplicate", Severity.INFO, "roles", "role 'editr' looks like 'editor'"),
    ]  # fmt: skip
    checks = [
        CheckRun(name="relationships", description="relationships are valid", status="failed", errors=1),
        CheckRun(name="permissions", description="permissions are valid", status="failed", errors=1),
        CheckRun(name="migrations", description="migration files", status="passed", warnings=1),
        CheckRun(name="roles", description="roles", status="passed", infos=1),
        CheckRun(
            name="metadata-drift", description="drift", status="skipped", reason="offline (use --online)"
        ),
    ]
    return CheckReport(
        project=tmp_path, online=False, fail_on=fail_on, databases=["default"], checks=checks,
        findings=findings, timings={"total": 1.5},
    )  # fmt: skip


def test_escaping_follows_the_actions_toolkit() -> None:
    assert escape_data("100%\r\nok: a,b") == "100%25%0D%0Aok: a,b"
    assert escape_property("C:\\x,y%\n") == "C%3A\\x%2Cy%25%0A"


def test_every_annotation_line_parses_and_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = _report(tmp_path)
    lines = render_github(report).splitlines()
    annotations = [line for line in lines if line.startswith("::")]
    assert len(annotations) == len(report.findings)
    parsed = []
    for line in annotations:
        match = _COMMAND.match(line)
        assert match, line
        properties = dict(part.split("=", 1) for part in (match["properties"] or "").split(",") if part)
        for value in properties.values():
            assert not set(value) & set(":,\r\n"), value
        parsed.append(
            (match["command"], {k: _unescape(v) for k, v in properties.items()}, _unescape(match["message"]))
        )
    assert parsed[0] == (
        "error",
        {"file": "metadata/app_posts.yaml", "line": "12", "title": "relationship-fk-missing (relationships)"},
        "no foreign key on app.posts(title)\nhint: add the foreign key",
    )
    assert parsed[1][1]["file"] == "meta:data, odd/app_users.yaml"
    assert parsed[1][2].startswith(_TRICKY)
    assert parsed[2][0:2] == ("warning", {"file": "migs/1_a", "title": "missing-down (migrations)"})
    assert parsed[3][0:2] == ("notice", {"title": "role-near-duplicate (roles)"})
    assert lines[-1] == "check: failed (2 errors, 1 warning, 1 info; fail on error)"


def test_junit_is_valid_xml_with_one_test_case_per_check(tmp_path: Path) -> None:
    report = _report(tmp_path)
    text = render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    suites = ET.fromstring(text)  # noqa: S314 - our own output, not untrusted input
    assert suites.tag == "testsuites"
    (suite,) = suites.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped"), suite.get("errors")) == (
        "5",
        "2",
        "1",
        "0",
    )
    assert suite.get("time") == "1.500"
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["relationships", "permissions", "migrations", "roles", "metadata-drift"]
    failure = cases["permissions"].find("failure")
    assert failure is not None
    assert failure.get("type") == "error"
    assert "permission-column-missing" in (failure.text or "")
    assert '<tag> & "quotes"' in (failure.text or "")  # escaped in the file, intact once parsed
    assert "\x01" not in text
    assert cases["migrations"].find("failure") is None
    assert "missing-down" in (cases["migrations"].findtext("system-out") or "")
    skipped = cases["metadata-drift"].find("skipped")
    assert skipped is not None and skipped.get("message") == "offline (use --online)"


def test_junit_fails_a_warning_check_with_fail_on_warning(tmp_path: Path) -> None:
    report = _report(tmp_path, fail_on=Severity.WARNING)
    suites = ET.fromstring(render_junit(report))  # noqa: S314 - our own output, not untrusted input
    cases = {case.get("name"): case for case in suites.iter("testcase")}
    failure = cases["migrations"].find("failure")
    assert failure is not None and failure.get("type") == "warning"
    assert cases["roles"].find("failure") is None


def test_the_text_rendering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    report = _report(tmp_path)
    report.findings[1] = report.findings[1].model_copy(update={"message": "column [subtitle] does not exist"})
    console = Console(width=120, color_system=None, file=None, record=True)
    with console.capture() as captured:
        for line in render_check(report):
            console.print(line)
    assert captured.get() == (
        "Checked . (databases: default; offline)\n"
        "\n"
        "error [permission-column-missing] meta:data, odd/app_users.yaml:3: "
        "column [subtitle] does not exist\n"
        "error [relationship-fk-missing] metadata/app_posts.yaml:12: no foreign key on app.posts(title)\n"
        "  hint: add the foreign key\n"
        "warning [missing-down] migs/1_a: no down.sql\n"
        "info [role-near-duplicate] role 'editr' looks like 'editor'\n"
        "\n"
        "CHECK           RESULT\n"
        "relationships   failed (1 error)\n"
        "permissions     failed (1 error)\n"
        "migrations      passed (1 warning)\n"
        "roles           passed (1 info)\n"
        "metadata-drift  skipped: offline (use --online)\n"
        "\n"
        "check: failed (2 errors, 1 warning, 1 info; fail on error)\n"
    )
