"""`kedge-hasura rollback` end to end against the Hasura double: down migrations through run_sql,
state keys and ledger rows removed in step, refusals that change nothing, and the squash-aware
choice of down.sql."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import (
    KEDGE_RELATIONS,
    KEDGE_SCHEMA,
    Cli,
    cli_state,
    client,
    exists,
    ledger_versions,
    project_versions,
    relations,
    snapshot,
    versions,
    write_project,
)

pytestmark = pytest.mark.pg

V1, V2, V3 = 1000000000001, 1000000000002, 1000000000003
SQUASHED = 1748864944213


def _three(root: Path, *, third_down: str | None = "DROP TABLE public.gamma;\n") -> Path:
    return write_project(
        root,
        [
            (
                V1,
                "create_alpha",
                "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n",
                "DROP TABLE public.alpha;\n",
            ),
            (
                V2,
                "create_beta",
                "CREATE TABLE public.beta (id integer PRIMARY KEY);\nINSERT INTO public.beta VALUES (1);\n",
                "DROP TABLE public.beta;\n",
            ),
            (V3, "create_gamma", "CREATE TABLE public.gamma (id integer PRIMARY KEY);\n", third_down),
        ],
    )


@pytest.fixture
def deployed(cli: Cli, hasura_double: HasuraDouble, tmp_path: Path) -> Path:
    project = _three(tmp_path / "three")
    run = cli.deploy(project)
    assert run.exit_code == 0, run
    assert relations(hasura_double, "public") >= {"alpha", "beta", "gamma"}
    return project


def test_rollback_one_step_undoes_the_newest_version(
    cli: Cli, hasura_double: HasuraDouble, deployed: Path
) -> None:
    run = cli(deployed, "rollback", "--steps", "1")

    assert run.exit_code == 0, run
    assert "rolled back 1 version" in run.stdout
    assert "1000000000003_create_gamma/down.sql" in run.stdout
    assert not exists(hasura_double, "public.gamma")
    assert exists(hasura_double, "public.alpha") and exists(hasura_double, "public.beta")
    assert versions(hasura_double) == {V1: False, V2: False}
    assert ledger_versions(hasura_double) == [V1, V2]
    # and it can be deployed again: the version is pending, not remembered as applied anywhere
    again = cli.deploy(deployed)
    assert again.exit_code == 0, again
    assert "deployed: 1 migration applied" in again.stdout
    assert versions(hasura_double) == {V1: False, V2: False, V3: False}
    assert ledger_versions(hasura_double) == [V1, V2, V3]


def test_rollback_to_a_version_undoes_everything_after_it(
    cli: Cli, hasura_double: HasuraDouble, deployed: Path
) -> None:
    run = cli(deployed, "rollback", "--to", str(V1))

    assert run.exit_code == 0, run
    assert "rolled back 2 versions" in run.stdout
    assert exists(hasura_double, "public.alpha")
    assert not exists(hasura_double, "public.beta") and not exists(hasura_double, "public.gamma")
    assert versions(hasura_double) == {V1: False}
    assert ledger_versions(hasura_double) == [V1]
    assert cli_state(hasura_double)["settings"] == {"migration_mode": "true"}  # other keys kept


def test_rollback_dry_run_changes_nothing(cli: Cli, hasura_double: HasuraDouble, deployed: Path) -> None:
    before = snapshot(hasura_double, schemas=("public",))

    run = cli(deployed, "rollback", "--to", str(V1), "--dry-run")

    assert run.exit_code == 0, run
    assert "would roll back 2 versions" in run.stdout
    assert snapshot(hasura_double, schemas=("public",)) == before


def test_rollback_refuses_a_missing_down_sql_and_changes_nothing(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _three(tmp_path / "nodown", third_down=None)
    assert cli.deploy(project).exit_code == 0
    before = snapshot(hasura_double, schemas=("public",))

    run = cli(project, "rollback", "--steps", "2")

    assert run.exit_code == 3, run
    assert "1000000000003_create_gamma has no down.sql" in run.stderr
    assert snapshot(hasura_double, schemas=("public",)) == before


def test_rollback_refuses_an_empty_down_sql(cli: Cli, hasura_double: HasuraDouble, tmp_path: Path) -> None:
    project = _three(tmp_path / "emptydown", third_down="-- nothing to undo\n")
    assert cli.deploy(project).exit_code == 0
    before = snapshot(hasura_double, schemas=("public",))

    run = cli(project, "rollback", "--steps", "1")

    assert run.exit_code == 3, run
    assert "has no down.sql (or one without statements)" in run.stderr
    assert snapshot(hasura_double, schemas=("public",)) == before


def test_a_failing_down_migration_commits_nothing_and_keeps_the_state(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _three(
        tmp_path / "baddown", third_down="DROP TABLE public.gamma;\nDROP TABLE public.no_such_table;\n"
    )
    assert cli.deploy(project).exit_code == 0
    before = snapshot(hasura_double, schemas=("public",))

    run = cli(project, "rollback", "--to", str(V1))

    assert run.exit_code == 3, run
    assert "1000000000003_create_gamma/down.sql:2" in run.stderr
    assert "42P01" in run.stderr
    assert snapshot(hasura_double, schemas=("public",)) == before


def test_rollback_refuses_while_state_is_dirty(cli: Cli, hasura_double: HasuraDouble, deployed: Path) -> None:
    with client(hasura_double) as hasura:
        hasura.update_cli_state(lambda state: state.set_version("default", V3, dirty=True))
    before = snapshot(hasura_double, schemas=("public",))

    run = cli(deployed, "rollback", "--steps", "1")

    assert run.exit_code == 3, run
    assert "1000000000003" in run.stderr and "dirty" in run.stderr
    assert snapshot(hasura_double, schemas=("public",)) == before


def test_rollback_needs_steps_or_to(cli: Cli, deployed: Path) -> None:
    run = cli(deployed, "rollback")

    assert run.exit_code == 2, run


def test_rollback_on_the_shipped_project_undoes_only_the_last_original(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path
) -> None:
    originals = project_versions(kedge_project)
    assert cli.deploy(kedge_project).exit_code == 0

    run = cli(shipped_project, "rollback", "--steps", "1")

    assert run.exit_code == 0, run
    archived_down = (
        "squashed_1709284463417_to_1748864944213/"
        "1748864944213_create_knowledge_points_metadata_and_attachments/down.sql"
    )
    assert archived_down in run.stdout
    assert "1748864944213_squashed/down.sql" not in run.stdout
    # Only the last original is undone: its two tables are gone, everything else stays.
    assert relations(hasura_double, KEDGE_SCHEMA) == KEDGE_RELATIONS - {
        "attachments",
        "knowledge_points_metadata",
    }
    assert versions(hasura_double) == dict.fromkeys(originals[:-1], False)
    assert ledger_versions(hasura_double) == originals[:-1]


def test_rollback_of_the_squashed_migration_uses_its_own_down_sql(
    cli: Cli, hasura_double: HasuraDouble, shipped_project: Path
) -> None:
    assert cli.deploy(shipped_project).exit_code == 0

    run = cli(shipped_project, "rollback", "--steps", "1")

    assert run.exit_code == 0, run
    assert "1748864944213_squashed/down.sql" in run.stdout
    assert relations(hasura_double, KEDGE_SCHEMA) == set()
    assert versions(hasura_double) == {}
    assert ledger_versions(hasura_double) == []


def test_rollback_after_prune_undoes_every_original_and_forgets_their_ledger_rows(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path
) -> None:
    assert cli.deploy(kedge_project).exit_code == 0
    assert cli(shipped_project, "state", "prune").exit_code == 0
    assert versions(hasura_double) == {SQUASHED: False}

    run = cli(shipped_project, "rollback", "--steps", "1")

    assert run.exit_code == 0, run
    assert "1748864944213_squashed/down.sql" in run.stdout  # state holds only the squashed version
    assert relations(hasura_double, KEDGE_SCHEMA) == set()
    assert versions(hasura_double) == {}
    assert ledger_versions(hasura_double) == []  # no stale rows of the originals
    again = cli.deploy(shipped_project)  # and the squashed migration deploys again cleanly
    assert again.exit_code == 0, again
    assert versions(hasura_double) == {SQUASHED: False}


@pytest.mark.parametrize(
    "target", ["1000000000000", "1000000000099", "1234"], ids=["below", "between", "unknown"]
)
def test_rollback_to_a_version_that_is_not_applied_is_refused_and_changes_nothing(
    cli: Cli, hasura_double: HasuraDouble, deployed: Path, target: str
) -> None:
    before = snapshot(hasura_double, schemas=("public",))

    run = cli(deployed, "rollback", "--to", target)

    assert run.exit_code == 2, run
    assert f"--to {target}: not an applied version" in run.stderr
    assert snapshot(hasura_double, schemas=("public",)) == before
    assert versions(hasura_double) == {V1: False, V2: False, V3: False}


def test_rollback_to_0_rolls_back_all(cli: Cli, hasura_double: HasuraDouble, deployed: Path) -> None:
    run = cli(deployed, "rollback", "--to", "0")

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {}


def test_rollback_down_n_is_steps_n(cli: Cli, hasura_double: HasuraDouble, deployed: Path) -> None:
    run = cli(deployed, "rollback", "--down", "1")

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {V1: False, V2: False}


def test_a_failed_state_write_after_the_downs_committed_exits_5_and_says_so(
    cli: Cli, hasura_double: HasuraDouble, deployed: Path
) -> None:
    # set_catalog_state: 1 the dirty marks, 2 the final write after the downs committed.
    hasura_double.faults.fail("set_catalog_state", nth=2)

    run = cli(deployed, "rollback", "--steps", "1")

    assert run.exit_code == 5, run  # the down committed: never "changed nothing"
    assert "gamma" not in relations(hasura_double, "public")
    assert versions(hasura_double)[V3] is True  # left dirty, as the output says
    assert "committed" in run.stderr


def test_an_error_answer_to_the_downs_is_settled_from_the_ledger(
    cli: Cli, hasura_double: HasuraDouble, deployed: Path
) -> None:
    before = versions(hasura_double)
    hasura_double.faults.fail("run_sql", nth=1)  # the down batch, answered 500 and not run

    run = cli(deployed, "rollback", "--steps", "1")

    # V3 is still in the ledger, so the down did not commit: the dirty mark is taken back.
    assert run.exit_code == 3, run
    assert [f.operation for f in hasura_double.faults.fired] == ["run_sql"]
    assert "gamma" in relations(hasura_double, "public")
    assert versions(hasura_double) == before
