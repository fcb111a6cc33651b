"""`kedge-hasura state show | mark-applied | mark-unapplied | prune` end to end: catalog state (what
`hasura migrate status` reads) and the ledger change in step."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import (
    Cli,
    add_migration,
    cli_state,
    exists,
    keep_first,
    ledger,
    ledger_versions,
    project_versions,
    run_sql,
    snapshot,
    versions,
    write_project,
)

pytestmark = pytest.mark.pg

V1, V2 = 1000000000001, 1000000000002
SQUASHED = 1748864944213


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "two",
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
                "CREATE TABLE public.beta (id integer PRIMARY KEY);\n",
                "DROP TABLE public.beta;\n",
            ),
        ],
    )


def test_state_show_lists_server_ledger_and_project(cli: Cli, project: Path) -> None:
    assert cli.deploy(project, "--skip-metadata").exit_code == 0

    run = cli(project, "-o", "json", "state", "show")

    assert run.exit_code == 0, run
    (database,) = run.json()["result"]["databases"]
    assert database["ledger_exists"] is True
    assert [(v["version"], v["recorded"], v["dirty"], v["in_ledger"], v["applied_by"], v["where"])
            for v in database["versions"]] == [
        (V1, True, False, True, "deploy", "migrations"),
        (V2, True, False, True, "deploy", "migrations"),
    ]  # fmt: skip


def test_state_show_on_a_fresh_server(cli: Cli, hasura_double: HasuraDouble, project: Path) -> None:
    before = snapshot(hasura_double, schemas=("public",))

    run = cli(project, "state", "show")

    assert run.exit_code == 0, run
    assert "no kedge-hasura ledger yet" in run.stdout
    assert snapshot(hasura_double, schemas=("public",)) == before


def test_mark_applied_records_without_running_and_deploy_skips_it(
    cli: Cli, hasura_double: HasuraDouble, project: Path
) -> None:
    run = cli(project, "state", "mark-applied", str(V1))

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {V1: False}
    assert [(v, by) for v, _, by in ledger(hasura_double) or []] == [(V1, "mark-applied")]
    assert not exists(hasura_double, "public.alpha")  # its SQL did not run
    assert cli_state(hasura_double)["settings"] == {"migration_mode": "true"}

    deployed = cli.deploy(project, "--skip-metadata")

    assert deployed.exit_code == 0, deployed
    assert "deployed: 1 migration applied" in deployed.stdout
    assert not exists(hasura_double, "public.alpha") and exists(hasura_double, "public.beta")
    assert versions(hasura_double) == {V1: False, V2: False}


def test_mark_unapplied_forgets_in_both_places_and_deploy_runs_it_again(
    cli: Cli, hasura_double: HasuraDouble, project: Path
) -> None:
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    run_sql(hasura_double, "DROP TABLE public.beta;")  # undone by other means

    run = cli(project, "state", "mark-unapplied", str(V2))

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {V1: False}
    assert ledger_versions(hasura_double) == [V1]
    again = cli.deploy(project, "--skip-metadata")
    assert again.exit_code == 0, again
    assert "deployed: 1 migration applied" in again.stdout
    assert exists(hasura_double, "public.beta")
    assert ledger_versions(hasura_double) == [V1, V2]


def test_mark_applied_refuses_an_unknown_version(
    cli: Cli, hasura_double: HasuraDouble, project: Path
) -> None:
    before = snapshot(hasura_double, schemas=("public",))

    run = cli(project, "state", "mark-applied", "1234")

    assert run.exit_code == 2, run
    assert "1234" in run.stderr
    assert snapshot(hasura_double, schemas=("public",)) == before


def test_prune_drops_only_the_squashed_originals(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path
) -> None:
    originals = project_versions(kedge_project)
    assert cli.deploy(kedge_project).exit_code == 0

    shown = cli(shipped_project, "state", "show")
    assert shown.exit_code == 0, shown
    assert "prunable (squashed originals): " + ", ".join(map(str, originals[:-1])) in shown.stdout

    run = cli(shipped_project, "state", "prune")

    assert run.exit_code == 0, run
    assert "prune: " + ", ".join(map(str, originals[:-1])) in run.stdout
    assert versions(hasura_double) == {SQUASHED: False}
    assert ledger_versions(hasura_double) == originals
    again = cli(shipped_project, "state", "prune")
    assert again.exit_code == 0, again
    assert "nothing to change" in again.stdout
    # The ledger keeps the originals, but deploy's final check (it runs when a deploy applies
    # something) does not record squashed originals the state lacks: pruned keys stay pruned.
    newer = SQUASHED + 1
    add_migration(shipped_project, newer, "after_prune", "CREATE TABLE public.after_prune (id integer);\n")
    deployed = cli.deploy(shipped_project, "--skip-metadata")
    assert deployed.exit_code == 0, deployed
    assert versions(hasura_double) == {SQUASHED: False, newer: False}


def test_prune_does_nothing_while_only_a_prefix_is_applied(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path
) -> None:
    applied = keep_first(kedge_project, 6)
    assert cli.deploy(kedge_project, "--skip-metadata").exit_code == 0

    run = cli(shipped_project, "state", "prune")

    assert run.exit_code == 0, run
    assert "nothing to change" in run.stdout
    assert versions(hasura_double) == dict.fromkeys(applied, False)


def test_mark_unapplied_refuses_a_version_not_recorded(
    cli: Cli, hasura_double: HasuraDouble, project: Path
) -> None:
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    before = versions(hasura_double)

    run = cli(project, "state", "mark-unapplied", "1234")

    assert run.exit_code == 2, run
    assert "1234 is not recorded as applied" in run.stderr
    assert versions(hasura_double) == before
