"""`impact` wiring: --fail-on classes, exit codes, the JSON envelope (the action is replaced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.impact import run as impact_action
from kedge_hasura.actions.impact.run import Cause, Change, ImpactResult, RoleImpact
from kedge_hasura.graphql.changes import ChangeClass


def _result(request: impact_action.ImpactRequest, project: Path) -> ImpactResult:
    dangerous = Change(
        change_class=ChangeClass.DANGEROUS, code="FILTER_NARROWED", coordinate="query_root.users",
        description="student's select row filter on public.users gained a condition (fewer rows)",
        causes=[Cause(path="metadata/databases/default/tables/public_users.yaml", line=12, note="changed")],
    )  # fmt: skip
    return ImpactResult(
        project=str(project),
        base="main (0123456789ab)", head="working tree", database="default",
        roles=[RoleImpact(role="admin"), RoleImpact(role="student", dangerous=[dangerous], safe=2)],
        fail_on=sorted(request.fail_on), not_modelled=["actions and remote schemas"],
    )  # fmt: skip


@pytest.fixture
def fake_impact(monkeypatch: pytest.MonkeyPatch) -> list[impact_action.ImpactRequest]:
    seen: list[impact_action.ImpactRequest] = []

    def fake(request: impact_action.ImpactRequest, **kwargs: Any) -> ImpactResult:
        seen.append(request)
        return _result(request, kwargs["project"].root)

    monkeypatch.setattr(impact_action, "impact", fake)
    return seen


def test_dangerous_findings_pass_by_default(run_cli, shipped_project: Path, fake_impact) -> None:
    result = run_cli("impact", "--base", "main", cwd=shipped_project)
    assert result.exit_code == 0, result.stderr
    assert fake_impact[0].base == "main" and fake_impact[0].head is None
    assert "role student: 0 breaking, 0 exposure, 1 dangerous, 2 safe" in result.stdout
    assert "cause: metadata/databases/default/tables/public_users.yaml:12 (changed)" in result.stdout


def test_fail_on_dangerous_exits_1_and_the_json_names_the_classes(
    run_cli, shipped_project: Path, fake_impact
) -> None:
    result = run_cli("-o", "json", "impact", "--fail-on", "dangerous", cwd=shipped_project)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["result"]["fail_on"] == ["dangerous"]
    assert document["result"]["roles"][1]["dangerous"][0]["coordinate"] == "query_root.users"


def test_an_unknown_fail_on_class_is_a_usage_error(run_cli, shipped_project: Path, fake_impact) -> None:
    result = run_cli("impact", "--fail-on", "scary", cwd=shipped_project)
    assert result.exit_code == 2
    assert "unknown --fail-on class scary" in result.stderr
    assert fake_impact == []


def test_github_output_annotates_the_causing_line(run_cli, shipped_project: Path, fake_impact) -> None:
    result = run_cli("-o", "github", "impact", "--fail-on", "dangerous", cwd=shipped_project)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::warning file=metadata/databases/default/tables/public_users.yaml,line=12,"
        "title=impact dangerous for role student::query_root.users: student's select row filter on "
        "public.users gained a condition (fewer rows)",
        "1 finding in 2 roles; failing classes: dangerous",
    ]


def test_markdown_output_is_a_table_per_role_with_changes(
    run_cli, shipped_project: Path, fake_impact
) -> None:
    result = run_cli("-o", "markdown", "impact", cwd=shipped_project)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:6] == [
        "### GraphQL impact: working tree against main (0123456789ab)",
        "",
        "| role | breaking | exposure | dangerous | safe |",
        "|---|---:|---:|---:|---:|",
        "| admin | 0 | 0 | 0 | 0 |",
        "| student | 0 | 0 | 1 | 2 |",
    ]
    assert "#### role `student`" in result.stdout and "#### role `admin`" not in result.stdout
    assert (
        "| dangerous | `query_root.users` | student's select row filter on public.users gained a condition "
        "(fewer rows) | metadata/databases/default/tables/public_users.yaml:12 (changed) |"
    ) in result.stdout


def test_markdown_is_refused_by_other_commands(run_cli, shipped_project: Path) -> None:
    result = run_cli("-o", "markdown", "status", cwd=shipped_project)
    assert result.exit_code == 2
    assert "--output markdown is not available for status" in result.stderr
