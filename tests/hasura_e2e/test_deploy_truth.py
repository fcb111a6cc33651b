"""A deploy that fails after changing the server says what it changed, and exits 5, never 3.

Two shapes (issue 12 item 1): a later batch fails after earlier batches committed (a migration
holding BEGIN/COMMIT runs as its own batch), and the migrations commit and then Hasura refuses
the metadata. Each is checked in text and JSON, against the server's own state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura.errors import ExitCode
from kedge_hasura.hasura.client import HasuraClient

from ..hasura_double import HasuraDouble
from .deploy_helpers import (
    KEDGE_SCHEMA,
    Cli,
    exists,
    ledger_versions,
    run_sql,
    snapshot,
    tracked_tables,
    versions,
    write_project,
)

pytestmark = pytest.mark.pg

ALPHA, BETA, GAMMA = 1000000000001, 1000000000002, 1000000000003
EXPLICIT_TRANSACTION = "BEGIN;\nCREATE TABLE public.beta (id integer PRIMARY KEY);\nCOMMIT;\n"
FAILING = """\
CREATE TABLE public.gamma (id integer PRIMARY KEY);
INSERT INTO public.gamma VALUES (1);
INSERT INTO public.gamma VALUES (1);
"""


def _three_batches(tmp_path: Path) -> Path:
    """alpha, then beta alone (it holds BEGIN/COMMIT), then gamma, which fails at line 3."""
    return write_project(
        tmp_path / "batches",
        [
            (ALPHA, "alpha", "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n", None),
            (BETA, "beta", EXPLICIT_TRANSACTION, None),
            (GAMMA, "gamma", FAILING, None),
        ],
    )


def _committed_two(double: HasuraDouble) -> None:
    """The server as the failed deploy leaves it: the first two batches in, the third not."""
    assert exists(double, "public.alpha") and exists(double, "public.beta")
    assert not exists(double, "public.gamma")
    assert versions(double) == {ALPHA: False, BETA: False}
    assert ledger_versions(double) == [ALPHA, BETA]


def test_the_plan_says_up_front_where_a_deploy_is_not_all_or_nothing(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _three_batches(tmp_path)
    before = snapshot(hasura_double, schemas=("public",))

    run = cli.deploy(project, "--dry-run", "--skip-metadata")

    assert run.exit_code == 0, run
    assert "3 transactions: 1, 1 and 1 migrations" in run.stdout
    flat = " ".join(run.stdout.split())
    assert f"not all-or-nothing: each transaction commits on its own, after versions {ALPHA}, {BETA}" in flat
    assert snapshot(hasura_double, schemas=("public",)) == before


def test_a_later_batch_failing_reports_the_earlier_commits_and_exits_5(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _three_batches(tmp_path)

    run = cli.deploy(project, "--skip-metadata")

    assert run.exit_code == ExitCode.CHANGED == 5, run
    _committed_two(hasura_double)
    err = " ".join(run.stderr.split())
    assert f"migration {GAMMA}_gamma failed at" in err and "23505" in err
    assert f"committed: default: {ALPHA}, {BETA}" in err
    assert f"pending: default: {GAMMA}" in err
    assert f"recorded: default: applied {ALPHA}, {BETA}" in err
    assert "stay applied and recorded" in err
    out = " ".join(run.stdout.split())
    assert "not all-or-nothing" in out
    assert "failed after 2 migrations committed" in out
    # The re-run tries only what is pending and fails the same way, but changes nothing: exit 3.
    again = cli.deploy(project, "--skip-metadata")
    assert again.exit_code == ExitCode.FAILED, again
    assert "committed:" not in again.stderr
    _committed_two(hasura_double)


def test_a_later_batch_failing_is_reported_in_json(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _three_batches(tmp_path)

    run = cli(project, "-o", "json", "deploy", "--skip-metadata")

    assert run.exit_code == 5, run
    document = run.json()
    assert document["exit_code"] == 5 and document["ok"] is False
    error = document["error"]
    assert error["type"] == "FailedAfterChanges"
    details = error["details"]
    assert details["cause"] == "MigrationFailed"
    assert details["version"] == GAMMA and details["line"] == 3 and details["sqlstate"] == "23505"
    assert details["committed"] == {"default": [ALPHA, BETA]}
    assert details["recorded"] == {"default": {"applied": [ALPHA, BETA]}}
    assert details["pending"] == {"default": [GAMMA]}
    assert details["metadata"] == "not applied"
    # The result so far rides in the envelope: the plan and the batches that committed.
    (database,) = document["result"]["databases"]
    assert [batch["versions"] for batch in database["applied"]] == [[ALPHA], [BETA]]
    assert database["plan"]["batches"] == [[ALPHA], [BETA], [GAMMA]]
    _committed_two(hasura_double)


def _ghost_metadata(project: Path) -> Path:
    """Track public.ghost, which no migration creates: Hasura refuses the metadata."""
    tables = project / "metadata" / "databases" / "default" / "tables"
    (tables / "public_ghost.yaml").write_text("table:\n  name: ghost\n  schema: public\n")
    (tables / "tables.yaml").write_text('- "!include public_alpha.yaml"\n- "!include public_ghost.yaml"\n')
    (tables / "public_alpha.yaml").write_text("table:\n  name: alpha\n  schema: public\n")
    return tables / "public_ghost.yaml"


def test_refused_metadata_after_the_migrations_says_they_committed(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = write_project(
        tmp_path / "ghost",
        [(ALPHA, "alpha", "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n", None)],
    )
    ghost = _ghost_metadata(project)

    run = cli.deploy(project)

    assert run.exit_code == 5, run
    assert versions(hasura_double) == {ALPHA: False}
    assert exists(hasura_double, "public.alpha")
    err = " ".join(run.stderr.split())
    assert "Hasura refused the metadata: 1 object would be inconsistent" in err
    assert f"committed: default: {ALPHA}" in err
    assert "metadata: not applied" in err
    assert "--allow-inconsistent" in err and "allow_inconsistent_metadata" not in err
    assert f"{ghost}:1: table" in err  # mapped to the file that defines it, as `check` does
    assert "[{" not in run.stderr  # no Python repr of the objects
    assert "applied 1 migration" in run.stdout and "failed after 1 migration committed" in run.stdout

    as_json = cli(project, "-o", "json", "deploy")  # nothing pending now: the refusal changes nothing
    assert as_json.exit_code == 3, as_json
    error = as_json.json()["error"]
    assert error["type"] == "HasuraInconsistentMetadata"
    (listed,) = error["details"]["inconsistent_objects"]
    assert listed.startswith(f"{ghost}:1: table")


def _interrupt(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt  # Ctrl-C while this request is being sent


def _interrupt_second(original):  # type: ignore[no-untyped-def]
    """update_cli_state that lets the first call (the batch's dirty mark) through and is
    interrupted by Ctrl-C on the second (its clean mark) as the request is being sent."""
    calls = []

    def update(self, mutator):  # type: ignore[no-untyped-def]
        calls.append(mutator)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, mutator)

    return update


def test_ctrl_c_after_a_commit_exits_5_and_says_what_stays(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _three_batches(tmp_path)
    # The first batch commits; Ctrl-C comes as its versions are being recorded clean.
    monkeypatch.setattr(HasuraClient, "update_cli_state", _interrupt_second(HasuraClient.update_cli_state))

    run = cli(project, "-o", "json", "deploy", "--skip-metadata")

    assert run.exit_code == 5, run
    assert exists(hasura_double, "public.alpha") and not exists(hasura_double, "public.beta")
    assert versions(hasura_double) == {ALPHA: True}  # committed, still dirty: the next deploy settles it
    error = run.json()["error"]
    assert error["message"].startswith("interrupted")
    assert error["details"]["committed"] == {"default": [ALPHA]}
    assert error["details"]["recorded"] == {"default": {"dirty": [ALPHA]}}
    assert error["details"]["pending"] == {"default": [BETA, GAMMA]}


def test_ctrl_c_before_any_write_exits_130(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _three_batches(tmp_path)
    monkeypatch.setattr(HasuraClient, "set_catalog_state", _interrupt)

    run = cli.deploy(project, "--skip-metadata")

    assert run.exit_code == ExitCode.INTERRUPTED, run
    assert versions(hasura_double) == {}
    assert not exists(hasura_double, "public.alpha")


def _two_tables(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "two",
        [
            (ALPHA, "alpha", "CREATE TABLE public.alpha (id integer);\n", "DROP TABLE public.alpha;\n"),
            (BETA, "beta", "CREATE TABLE public.beta (id integer);\n", "DROP TABLE public.beta;\n"),
        ],
    )


def test_a_rollback_whose_last_state_write_fails_says_the_downs_committed(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _two_tables(tmp_path)
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    hasura_double.faults.fail("set_catalog_state", nth=2)  # 1: the dirty marks, 2: the removal

    run = cli(project, "-o", "json", "rollback", "--steps", "1")

    assert run.exit_code == 5, run
    assert not exists(hasura_double, "public.beta") and exists(hasura_double, "public.alpha")
    assert versions(hasura_double) == {ALPHA: False, BETA: True}  # dirty: the next deploy settles it
    details = run.json()["error"]["details"]
    assert details["committed"] == {"default": [BETA]}
    assert details["recorded"] == {"default": {"dirty": [BETA]}}
    assert details["pending"] == "nothing"


def test_a_rollback_refused_before_any_write_still_exits_3(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _two_tables(tmp_path)
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    hasura_double.faults.fail("set_catalog_state", nth=1)  # the dirty marks are refused

    run = cli(project, "rollback", "--steps", "1")

    assert run.exit_code == 3, run
    assert exists(hasura_double, "public.beta")
    assert versions(hasura_double) == {ALPHA: False, BETA: False}


def test_a_first_deploy_works_on_a_server_that_hides_error_details(
    start_double,  # type: ignore[no-untyped-def]
    run_cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    use_session_server: str,
) -> None:
    """No ledger yet is told by SQLSTATE 42P01/3F000 where `internal` is shown, and by asking
    the catalog where it is hidden (HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS=false, contract §2.6)."""
    double = start_double(hide_internal_errors=True)
    project = write_project(
        tmp_path / "hidden", [(ALPHA, "alpha", "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n", None)]
    )
    hidden = Cli(run_cli, double)

    run = hidden.deploy(project, "--skip-metadata")

    assert run.exit_code == 0, run
    assert versions(double) == {ALPHA: False} and ledger_versions(double) == [ALPHA]
    assert not hidden.secrets_leaked()


def test_track_untracked_that_cannot_write_its_file_says_the_server_tracks_it(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path
) -> None:
    assert cli.deploy(kedge_project).exit_code == 0
    run_sql(hasura_double, f"CREATE TABLE {KEDGE_SCHEMA}.hand_made (id integer PRIMARY KEY);")
    tables = kedge_project / "metadata" / "databases" / "default" / "tables"
    (tables / f"{KEDGE_SCHEMA}_hand_made.yaml").mkdir()  # the table file cannot be written

    run = cli.deploy(kedge_project, "--track-untracked")

    assert run.exit_code == ExitCode.CHANGED, run  # the server tracks it now: not "changed nothing"
    assert "could not write their table files" in run.stderr
    assert f"{KEDGE_SCHEMA}.hand_made" in run.stderr  # named as tracked on the server
    assert f"{KEDGE_SCHEMA}.hand_made" in tracked_tables(hasura_double)
