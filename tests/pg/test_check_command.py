"""`kedge-hasura check` end to end: exit codes, output formats, options; replays on the session's server."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .test_check_fixtures import BASE, build_case

pytestmark = pytest.mark.usefixtures("use_session_server")
_ANNOTATION = re.compile(r"^::(error|warning|notice) file=[^,:]+(,line=\d+)?,title=[^:,]+::.+$")


def test_the_shipped_project_checks_clean(run_cli, shipped_project: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("check", cwd=shipped_project.parent)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "check: ok (0 errors, 0 warnings, 0 infos; fail on error)" in result.stdout
    assert re.search(r"^archives +passed$", result.stdout, re.M)


def test_the_original_history_checks_clean_with_a_placeholder_noted(run_cli, kedge_project: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("check", "--project", str(kedge_project), "-o", "json")
    assert result.exit_code == 0, result.stderr
    envelope = json.loads(result.stdout)
    assert [f["code"] for f in envelope["result"]["findings"]] == ["empty-up"]
    assert envelope["result"]["databases"] == ["default"]
    assert set(envelope["result"]["timings"]) >= {"load", "scratch", "replay", "checks", "total"}


def test_findings_become_github_annotations_and_exit_1(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, _ = build_case("relationship_fk_missing", tmp_path / "project")
    result = run_cli("check", "--output", "github", cwd=root)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "::error file=metadata/databases/default/tables/app_comments.yaml,line=10,"
        "title=relationship-fk-missing (relationships)::object relationship 'same_body' of app.comments: "
        "no foreign key on app.comments(body)%0Ahint: add the foreign key in a migration, or use "
        "manual_configuration with a column_mapping"
    )
    assert all(_ANNOTATION.match(line) for line in lines[:-1])
    assert lines[-1].startswith("check: failed (1 error")


def test_junit_output_parses_and_names_the_failing_check(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, _ = build_case("permission_admin_role", tmp_path / "project")
    result = run_cli("check", "-o", "junit", "--project", str(root))
    assert result.exit_code == 1
    suites = ET.fromstring(result.stdout)  # noqa: S314 - our own output, not untrusted input
    failed = [case.get("name") for case in suites.iter("testcase") if case.find("failure") is not None]
    assert failed == ["permissions"]


def test_fail_on_decides_whether_warnings_fail(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, _ = build_case("untracked_table", tmp_path / "project")
    assert run_cli("check", "--project", str(root)).exit_code == 0
    strict = run_cli("check", "--project", str(root), "--fail-on", "warning")
    assert strict.exit_code == 1
    assert "warning [untracked-table]" in strict.stdout
    ignored = run_cli("check", "--project", str(root), "--fail-on", "warning", "--ignore", "untracked-table")
    assert ignored.exit_code == 0
    assert "1 ignored)" in ignored.stdout


def test_a_bad_fail_on_is_a_usage_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "project"
    shutil.copytree(BASE, root)
    result = run_cli("check", "--project", str(root), "--fail-on", "fatal")
    assert result.exit_code == 2


def test_online_without_a_reachable_hasura_is_an_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "project"
    shutil.copytree(BASE, root)
    result = run_cli(
        "check", "--online", "--project", str(root), "--endpoint", "http://127.0.0.1:9", "--timeout", "2"
    )
    assert result.exit_code == 3
    assert "error:" in result.stderr
