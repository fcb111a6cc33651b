"""`impact` wiring: --fail-on classes, exit codes, the JSON envelope (the action is replaced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.impact import run as impact_action
from kedge_hasura.actions.impact.run import Cause, Change, ImpactResult, RoleImpact
from kedge_hasura.graphql.changes import ChangeClass


def _result(request: impact_action.ImpactRequest, **_: Any) -> ImpactResult:
    dangerous = Change(
        change_class=ChangeClass.DANGEROUS, code="FILTER_NARROWED", coordinate="query_root.users",
        description="student's select row filter on public.users gained a condition (fewer rows)",
        causes=[Cause(path="metadata/databases/default/tables/public_users.yaml", line=12, note="changed")],
    )  # fmt: skip
    return ImpactResult(
        base="main (0123456789ab)", head="working tree", database="default",
        roles=[RoleImpact(role="admin"), RoleImpact(role="student", dangerous=[dangerous], safe=2)],
        fail_on=sorted(request.fail_on), not_modelled=["actions and remote schemas"],
    )  # fmt: skip


@pytest.fixture
def fake_impact(monkeypatch: pytest.MonkeyPatch) -> list[impact_action.ImpactRequest]:
    seen: list[impact_action.ImpactRequest] = []

    def fake(request: impact_action.ImpactRequest, **kwargs: Any) -> ImpactResult:
        seen.append(request)
        return _result(request)

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
