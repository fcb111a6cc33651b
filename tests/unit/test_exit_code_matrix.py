"""The README's exit-code table holds for every command: a command × exit-code matrix.

Rows are the Typer app's leaf commands, columns are `errors.ExitCode`; both are read from the
code, so a new command or a new exit code without its cells fails `test_every_cell_is_decided`.
Each cell is one of:

- `Run`: a failure mode run here, in-process through `cli.main` (a broken or missing project, an
  unknown option, an action that raises, or Hasura faked at HTTP with respx for the contract
  cases), asserting the exit code;
- `Elsewhere`: a PostgreSQL- or double-backed test that already runs the command to that code
  (checked to exist and to assert it), so the expensive cases run once;
- `Impossible`: the code cannot happen for that command, and why.
"""

from __future__ import annotations

import ast
import importlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import typer.main

from kedge_hasura.cli import app
from kedge_hasura.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
ENDPOINT = "http://hasura.matrix.test"
Command = tuple[str, ...]


@dataclass(frozen=True)
class Run:
    mode: str  # a key of MODES


@dataclass(frozen=True)
class Elsewhere:
    test: str  # "tests/<file>.py::<test function>"


@dataclass(frozen=True)
class Impossible:
    reason: str


Cell = Run | Elsewhere | Impossible

NEVER_WRITES_A_SERVER = "it never writes to a Hasura server, so it cannot fail after changing one"
READ_ONLY_ON_THE_SERVER = "it only reads from the server (read_only run_sql, exports, catalog state reads)"
WRITES_THE_PROJECT_ONLY = (
    "it writes only the project, through a staging folder moved in last, never a server; "
    "a failure leaves the project as it was (exit 3)"
)
NO_FINDINGS = "it reports no findings: it either does what it was asked (0) or fails (3, 5)"

# Argument lists that reach each command's action (used by the generic modes).
ARGV: dict[Command, list[str]] = {
    ("status",): ["status"],
    ("diff",): ["diff", "migrations", "migrations"],
    ("squash",): ["squash"],
    ("deploy",): ["deploy"],
    ("rollback",): ["rollback", "--steps", "1"],
    ("verify",): ["verify"],
    ("check",): ["check"],
    ("archive", "list"): ["archive", "list"],
    ("archive", "create"): ["archive", "create", "--from", "1709284463417", "--to", "1709906571093"],
    ("archive", "restore"): ["archive", "restore", "squashed_1709284463417_to_1748864944213"],
    ("archive", "verify"): ["archive", "verify"],
    ("state", "show"): ["state", "show"],
    ("state", "mark-applied"): ["state", "mark-applied", "1709284463417"],
    ("state", "mark-unapplied"): ["state", "mark-unapplied", "1709284463417"],
    ("state", "prune"): ["state", "prune"],
    ("impact",): ["impact"],
}
# The action each command calls: made to raise for the INTERNAL and INTERRUPTED cells.
ACTION: dict[Command, tuple[str, str]] = {
    ("status",): ("kedge_hasura.actions.status", "local_status"),
    ("diff",): ("kedge_hasura.actions.diff", "diff"),
    ("squash",): ("kedge_hasura.actions.squash.run", "squash"),
    ("deploy",): ("kedge_hasura.actions.deploy.apply", "deploy"),
    ("rollback",): ("kedge_hasura.actions.deploy.rollback", "rollback"),
    ("verify",): ("kedge_hasura.actions.deploy.verify", "verify"),
    ("check",): ("kedge_hasura.actions.check.run", "check_project"),
    ("archive", "list"): ("kedge_hasura.actions.squash.archive", "list_archives"),
    ("archive", "create"): ("kedge_hasura.actions.squash.archive", "create_archive"),
    ("archive", "restore"): ("kedge_hasura.actions.squash.archive", "restore_archive"),
    ("archive", "verify"): ("kedge_hasura.actions.squash.archive", "list_archives"),
    ("state", "show"): ("kedge_hasura.actions.deploy.state", "show_state"),
    ("state", "mark-applied"): ("kedge_hasura.actions.deploy.state", "mark"),
    ("state", "mark-unapplied"): ("kedge_hasura.actions.deploy.state", "mark"),
    ("state", "prune"): ("kedge_hasura.actions.deploy.state", "prune"),
    ("impact",): ("kedge_hasura.actions.impact.run", "impact"),
}
# A Ctrl-C inside a state write is "unknown whether it was saved" (exit 5, cli/context.py
# server_write); before it, nothing changed (130): these commands are interrupted before it.
_BEFORE_WRITE = ("kedge_hasura.actions.deploy.migration_state", "require_catalog_state_project")
INTERRUPT_AT = {
    ("state", "mark-applied"): _BEFORE_WRITE,
    ("state", "mark-unapplied"): _BEFORE_WRITE,
    ("state", "prune"): _BEFORE_WRITE,
}
E2E = "tests/hasura_e2e"
SERVER_OK = {  # command -> (file under tests/hasura_e2e, test)
    ("deploy",): (
        "test_deploy_faults.py",
        "test_connection_dropped_after_the_batch_committed_is_settled_from_the_ledger_at_once",
    ),
    ("rollback",): ("test_rollback.py", "test_rollback_one_step_undoes_the_newest_version"),
    ("verify",): ("test_verify.py", "test_verify_passes_right_after_a_deploy"),
    ("state", "show"): ("test_state.py", "test_state_show_lists_server_ledger_and_project"),
    ("state", "mark-applied"): (
        "test_state.py",
        "test_mark_applied_records_without_running_and_deploy_skips_it",
    ),
    ("state", "mark-unapplied"): (
        "test_state.py",
        "test_mark_unapplied_forgets_in_both_places_and_deploy_runs_it_again",
    ),
    ("state", "prune"): ("test_state.py", "test_prune_drops_only_the_squashed_originals"),
}


def _specific() -> dict[Command, dict[ExitCode, Cell]]:
    ok, found, changed = ExitCode.OK, ExitCode.CHECK_FAILED, ExitCode.CHANGED
    cells: dict[Command, dict[ExitCode, Cell]] = {
        ("status",): {
            ok: Run("ok"),
            found: Run("duplicate-versions"),
            changed: Impossible(READ_ONLY_ON_THE_SERVER),
        },
        ("diff",): {
            ok: Elsewhere("tests/pg/test_diff_command.py::test_identical_sql_files_exit_0"),
            found: Elsewhere(
                "tests/pg/test_diff_command.py::test_differences_exit_1_and_are_grouped_by_kind"
            ),
            changed: Impossible(NEVER_WRITES_A_SERVER),
        },
        ("squash",): {
            ok: Elsewhere(
                "tests/pg/test_squash_failures.py::test_concat_squashes_the_range_the_dump_strategy_cannot"
            ),
            found: Elsewhere(
                "tests/pg/test_archive.py::test_squash_check_fails_when_the_squashed_migration_builds_another_schema"
            ),
            changed: Impossible(WRITES_THE_PROJECT_ONLY),
        },
        ("deploy",): {
            found: Elsewhere(
                f"{E2E}/test_deploy.py::test_track_untracked_tracks_a_hand_made_table_and_writes_its_files"
            ),
            changed: Elsewhere(
                f"{E2E}/test_deploy_faults.py::test_an_error_answer_after_the_batch_committed_is_reported_as_committed"
            ),
        },
        ("rollback",): {
            found: Impossible(NO_FINDINGS),
            changed: Elsewhere(
                f"{E2E}/test_rollback.py::test_a_failed_state_write_after_the_downs_committed_exits_5_and_says_so"
            ),
        },
        ("verify",): {
            found: Elsewhere(f"{E2E}/test_verify.py::test_verify_finds_a_column_added_by_hand"),
            changed: Impossible(READ_ONLY_ON_THE_SERVER),
        },
        ("check",): {
            ok: Elsewhere("tests/pg/test_check_command.py::test_the_shipped_project_checks_clean"),
            found: Elsewhere("tests/pg/test_check_command.py::test_fail_on_decides_whether_warnings_fail"),
            changed: Impossible(NEVER_WRITES_A_SERVER),
        },
        ("impact",): {
            ok: Elsewhere(
                "tests/pg/test_impact_command.py::test_a_change_that_only_adds_is_safe_and_exits_0"
            ),
            found: Elsewhere(
                "tests/pg/test_impact_command.py::"
                "test_impact_against_the_committed_base_reports_a_planted_change_with_its_cause"
            ),
            changed: Impossible(NEVER_WRITES_A_SERVER),
        },
        ("archive", "list"): {
            ok: Run("ok-shipped"),
            found: Impossible(NO_FINDINGS),
            changed: Impossible(NEVER_WRITES_A_SERVER),
        },
        ("archive", "create"): {
            ok: Run("ok-dry-run"),
            found: Impossible(NO_FINDINGS),
            changed: Impossible(WRITES_THE_PROJECT_ONLY),
        },
        ("archive", "restore"): {
            ok: Run("ok-shipped-dry-run"),
            found: Impossible(NO_FINDINGS),
            changed: Impossible(WRITES_THE_PROJECT_ONLY),
        },
        ("archive", "verify"): {
            ok: Run("ok-shipped"),
            found: Run("tampered-archive"),
            changed: Impossible(NEVER_WRITES_A_SERVER),
        },
        ("state", "show"): {found: Impossible(NO_FINDINGS), changed: Impossible(READ_ONLY_ON_THE_SERVER)},
        ("state", "mark-applied"): {
            found: Impossible(NO_FINDINGS),
            changed: Run("state-write-refused-after-ledger-write"),
        },
        ("state", "mark-unapplied"): {
            found: Impossible(NO_FINDINGS),
            changed: Run("ledger-write-refused-after-state-write"),
        },
        ("state", "prune"): {found: Impossible(NO_FINDINGS), changed: Run("state-write-answer-lost")},
    }
    for command, (file, test) in SERVER_OK.items():
        cells[command][ExitCode.OK] = Elsewhere(f"{E2E}/{file}::{test}")
    return cells


def matrix() -> dict[Command, dict[ExitCode, Cell]]:
    """Every command × exit code; the generic modes fill what every command shares."""
    result = {}
    for command, specific in _specific().items():
        result[command] = {
            ExitCode.USAGE: Run("unknown-option"),
            ExitCode.FAILED: Run("no-project"),
            ExitCode.INTERNAL: Run("bug"),
            ExitCode.INTERRUPTED: Run("ctrl-c"),
            **specific,
        }
    return result


def _leaf_commands() -> list[Command]:
    def walk(command: Any, path: Command) -> Iterator[Command]:
        subcommands = getattr(command, "commands", None)  # a group (typer may vendor click)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, (*path, name))
        else:
            yield path

    return sorted(walk(typer.main.get_command(app), ()))


def test_every_cell_is_decided() -> None:
    table = matrix()
    assert sorted(table) == _leaf_commands(), "a command without its row (or a row without a command)"
    for command, row in table.items():
        assert set(row) == set(ExitCode), f"{' '.join(command)}: cells missing for {set(ExitCode) - set(row)}"


CELLS = [(command, code, cell) for command, row in matrix().items() for code, cell in sorted(row.items())]


@pytest.mark.parametrize(
    ("command", "code", "cell"),
    [c for c in CELLS if isinstance(c[2], Elsewhere)],
    ids=lambda value: (
        " ".join(value) if isinstance(value, tuple) else str(value) if isinstance(value, int) else ""
    ),
)
def test_the_elsewhere_test_exists_and_asserts_the_code(
    command: Command, code: ExitCode, cell: Elsewhere
) -> None:
    path, name = cell.test.split("::")
    tree = ast.parse((REPO / path).read_text())
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    source = ast.get_source_segment((REPO / path).read_text(), function) or ""
    spelled = (f"exit_code == {int(code)}", f"ExitCode.{code.name}", f"exit_code in ({int(code)}")
    assert any(s in source for s in spelled), f"{cell.test} does not assert exit {int(code)}"
    assert command[0] in source, f"{cell.test} does not run {command[0]}"


def test_impossible_cells_give_a_reason() -> None:
    for command, code, cell in CELLS:
        if isinstance(cell, Impossible):
            assert len(cell.reason) > 20, (command, code)


# -- the modes run here ------------------------------------------------------------------------------


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """A copy of the shipped project: one squashed migration with its archive of 18 originals."""
    target = tmp_path / "shipped"
    shutil.copytree(REPO / "hasura", target)
    return target


def _raise(exc: BaseException) -> Callable[..., Any]:
    def action(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return action


class FakeHasura:
    """Hasura at HTTP (respx): catalog state kept in memory, an empty ledger, and one refusal."""

    def __init__(self, recorded: dict[str, bool], refuse: Callable[[dict[str, Any]], httpx.Response | None]):
        self.state: dict[str, Any] = {"migrations": {"default": recorded}, "isStateCopyCompleted": True}
        self.refuse = refuse

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/version":
            return httpx.Response(200, json={"version": "v2.48.5"})
        body = json.loads(request.content)
        refused = self.refuse(body)
        if refused is not None:
            return refused
        kind = body["type"]
        if kind == "run_sql":
            if body["args"].get("read_only"):
                header = ["version", "name", "up_sha256", "applied_by"]
                return httpx.Response(200, json={"result_type": "TuplesOk", "result": [header]})
            return httpx.Response(200, json={"result_type": "CommandOk", "result": None})
        if kind == "get_catalog_state":
            return httpx.Response(200, json={"id": "matrix", "cli_state": self.state, "console_state": {}})
        if kind == "set_catalog_state":
            self.state = body["args"]["state"]
            return httpx.Response(200, json={"message": "success"})
        return httpx.Response(400, json={"path": "$", "code": "parse-failed", "error": f"unexpected {kind}"})


def _error_500(body: dict[str, Any]) -> httpx.Response:
    return httpx.Response(500, json={"path": "$", "code": "unexpected", "error": "internal error"})


def _server_mode(run_cli: Any, project: Path, argv: list[str], fake: FakeHasura) -> int:
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as router:
        router.route().mock(side_effect=fake)
        result = run_cli("--project", str(project), "--endpoint", ENDPOINT, *argv)
    return int(result.exit_code)


def _all_originals(project: Path) -> dict[str, bool]:
    archive = next((project / "migrations" / "default").glob("squashed_*"))
    return {folder.name.split("_", 1)[0]: False for folder in archive.iterdir() if folder.is_dir()}


class Projects:
    """The two fixture projects, copied only when a mode needs one."""

    def __init__(self, request: pytest.FixtureRequest):
        self._request = request

    @property
    def kedge(self) -> Path:
        path: Path = self._request.getfixturevalue("kedge_project")
        return path

    @property
    def shipped(self) -> Path:
        path: Path = self._request.getfixturevalue("shipped")
        return path


def run_mode(
    mode: str, command: Command, *, run_cli: Any, projects: Projects, monkeypatch: Any, tmp_path: Path
) -> int:
    argv = ARGV[command]
    if mode == "unknown-option":
        return int(run_cli("--project", str(tmp_path), *argv, "--no-such-option").exit_code)
    if mode == "no-project":
        empty = tmp_path / "no-project"
        empty.mkdir()
        return int(run_cli("--project", str(empty), "--endpoint", ENDPOINT, *argv).exit_code)
    if mode in ("bug", "ctrl-c"):
        module, name = INTERRUPT_AT.get(command, ACTION[command]) if mode == "ctrl-c" else ACTION[command]
        monkeypatch.setattr(
            importlib.import_module(module),
            name,
            _raise(RuntimeError("bug") if mode == "bug" else KeyboardInterrupt()),
        )
        project = projects.shipped if command[0] in ("archive", "state") else projects.kedge
        return int(run_cli("--project", str(project), "--endpoint", ENDPOINT, *argv).exit_code)
    if mode == "ok":
        return int(run_cli("--project", str(projects.kedge), *argv).exit_code)
    if mode == "ok-shipped":
        return int(run_cli("--project", str(projects.shipped), *argv).exit_code)
    if mode in ("ok-dry-run", "ok-shipped-dry-run"):
        project = projects.shipped if mode == "ok-shipped-dry-run" else projects.kedge
        return int(run_cli("--project", str(project), *argv, "--dry-run").exit_code)
    if mode == "duplicate-versions":
        twin = projects.kedge / "migrations" / "default" / "01709284463417_twin"
        twin.mkdir()
        (twin / "up.sql").write_text("SELECT 1;\n")
        return int(run_cli("--project", str(projects.kedge), *argv).exit_code)
    if mode == "tampered-archive":
        archive = next((projects.shipped / "migrations" / "default").glob("squashed_*"))
        up = next(archive.glob("*/up.sql"))
        up.write_text(up.read_text() + "-- edited\n")
        return int(run_cli("--project", str(projects.shipped), *argv).exit_code)
    if mode == "state-write-refused-after-ledger-write":
        fake = FakeHasura({}, lambda body: _error_500(body) if body["type"] == "set_catalog_state" else None)
        return _server_mode(run_cli, projects.kedge, argv, fake)
    if mode == "ledger-write-refused-after-state-write":

        def refuse(body: dict[str, Any]) -> httpx.Response | None:
            writes = body["type"] == "run_sql" and not body["args"].get("read_only")
            return _error_500(body) if writes else None

        return _server_mode(run_cli, projects.kedge, argv, FakeHasura({"1709284463417": False}, refuse))
    if mode == "state-write-answer-lost":

        def lose(body: dict[str, Any]) -> httpx.Response | None:
            if body["type"] == "set_catalog_state":
                raise httpx.ReadTimeout("timed out")
            return None

        return _server_mode(
            run_cli, projects.shipped, argv, FakeHasura(_all_originals(projects.shipped), lose)
        )
    raise AssertionError(f"unknown mode {mode}")


@pytest.mark.parametrize(
    ("command", "code", "cell"),
    [c for c in CELLS if isinstance(c[2], Run)],
    ids=lambda value: (
        " ".join(value) if isinstance(value, tuple) else str(value) if isinstance(value, int) else ""
    ),
)
def test_the_failure_mode_gives_the_code(
    command: Command,
    code: ExitCode,
    cell: Run,
    run_cli: Any,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    projects = Projects(request)
    got = run_mode(
        cell.mode, command, run_cli=run_cli, projects=projects, monkeypatch=monkeypatch, tmp_path=tmp_path
    )
    assert got == code, f"{' '.join(command)} in mode {cell.mode}: exit {got}, the README says {int(code)}"
