"""The second replay of a squash runs beside the first, and that never changes the result: when it
fails it is run again on its own, and a history that touches cluster-wide state (roles) is
replayed one replay at a time."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.squash import steps
from kedge_hasura.errors import DatabaseError
from kedge_hasura.pg.scratch import ScratchDatabase

from .wide_history import write_hasura_project

pytestmark = pytest.mark.pg

TABLES = (
    "CREATE TABLE public.plain (id integer PRIMARY KEY, name text NOT NULL);\n"
    "INSERT INTO public.plain VALUES (1, 'a'), (2, 'b');\n"
    "CREATE TABLE public.tokens (id integer PRIMARY KEY, token uuid NOT NULL);\n"
    "INSERT INTO public.tokens SELECT g, gen_random_uuid() FROM generate_series(1, 5) g;\n"
)
ROLE = (
    "DO $$ BEGIN CREATE ROLE kedge_concurrent_reader; "
    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;\n"
    "GRANT SELECT ON public.plain TO kedge_concurrent_reader;\n"
)


def _background_calls(monkeypatch: pytest.MonkeyPatch, *, fail: bool) -> list[str]:
    calls: list[str] = []
    real = steps._replay_again

    def replay_again(
        work: steps.Work,
        before: ScratchDatabase,
        seed: float,
        stop: threading.Event,
        made: list[ScratchDatabase],
    ) -> ScratchDatabase:
        calls.append(before.name)  # the thread copies `before` for itself
        if fail:
            raise DatabaseError("the second replay failed beside the first (simulated)")
        return real(work, before, seed, stop, made)

    monkeypatch.setattr(steps, "_replay_again", replay_again)
    return calls


@pytest.mark.parametrize("fail", [False, True], ids=["beside", "failed-beside-then-alone"])
def test_the_second_replay_finds_the_frozen_column_whether_or_not_it_ran_beside_the_first(
    run_cli: Any, tmp_path: Path, use_session_server: str, monkeypatch: pytest.MonkeyPatch, fail: bool
) -> None:
    root = write_hasura_project(tmp_path / "project", [TABLES])
    calls = _background_calls(monkeypatch, fail=fail)
    result = run_cli("--project", str(root), "-o", "json", "squash", "--dry-run")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)["result"]
    assert len(calls) == 1
    assert report["frozen_values"] == ["public.tokens.token"]
    assert report["verification"]["verified"] is True


def test_a_history_that_creates_a_role_is_replayed_one_replay_at_a_time(
    run_cli: Any, tmp_path: Path, use_session_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_hasura_project(tmp_path / "project", [TABLES, ROLE])
    calls = _background_calls(monkeypatch, fail=False)
    result = run_cli("--project", str(root), "-o", "json", "squash", "--dry-run")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert calls == []
    assert json.loads(result.stdout)["result"]["frozen_values"] == ["public.tokens.token"]


def test_when_the_first_replay_fails_the_second_is_stopped_and_the_failure_is_reported(
    run_cli: Any, tmp_path: Path, use_session_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = "INSERT INTO public.missing VALUES (1);\n"
    root = write_hasura_project(
        tmp_path / "project", [TABLES, failing, TABLES.replace("public.", "public.x_")]
    )
    calls = _background_calls(monkeypatch, fail=False)
    result = run_cli("--project", str(root), "-o", "json", "squash", "--dry-run")
    assert result.exit_code == 3, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert "tables_1" in error["message"] and "public.missing" in error["message"]
    assert len(calls) == 1
    assert not [t for t in threading.enumerate() if t.name.startswith("kedge-replay")]
