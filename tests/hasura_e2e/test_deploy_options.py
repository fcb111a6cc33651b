"""Partial deploys in the Hasura CLI's `migrate apply` spellings, end to end against the double:
`--version V [--skip-execution]`, `--goto V`, `--up N` (issue 12 item 4). Each applies exactly
the versions it names, or is refused with exit 2 and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import Cli, exists, ledger_versions, snapshot, versions, write_project

pytestmark = pytest.mark.pg

V1, V2, V3 = 1000000000001, 1000000000002, 1000000000003


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "three",
        [
            (V1, "create_alpha", "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n", None),
            (V2, "create_beta", "CREATE TABLE public.beta (id integer PRIMARY KEY);\n", None),
            (V3, "create_gamma", "CREATE TABLE public.gamma (id integer PRIMARY KEY);\n", None),
        ],
    )


def test_version_applies_exactly_that_version(cli: Cli, hasura_double: HasuraDouble, project: Path) -> None:
    run = cli.deploy(project, "--version", str(V2))

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {V2: False}
    assert ledger_versions(hasura_double) == [V2]
    assert exists(hasura_double, "public.beta")
    assert not exists(hasura_double, "public.alpha") and not exists(hasura_double, "public.gamma")


def test_version_with_skip_execution_records_without_running(
    cli: Cli, hasura_double: HasuraDouble, project: Path
) -> None:
    run = cli.deploy(project, "--version", str(V1), "--skip-execution")

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {V1: False}
    assert not exists(hasura_double, "public.alpha")


def test_up_then_goto(cli: Cli, hasura_double: HasuraDouble, project: Path) -> None:
    first = cli.deploy(project, "--up", "1")
    assert first.exit_code == 0, first
    assert versions(hasura_double) == {V1: False}
    assert "partial deploy: 2 pending versions left for later" in first.stdout

    second = cli.deploy(project, "--goto", str(V2))
    assert second.exit_code == 0, second
    assert versions(hasura_double) == {V1: False, V2: False}
    assert not exists(hasura_double, "public.gamma")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--goto", str(V1)), "that is a rollback"),
        (("--version", str(V2)), "is applied already"),
        (("--version", "1234"), "version 1234 is not a migration of default"),
        (("--goto", "1234"), "version 1234 is not a migration of default"),
        (("--up", "0"), "--up must be at least 1"),
    ],
    ids=["goto-below-newest-applied", "version-applied", "version-unknown", "goto-unknown", "up-zero"],
)
def test_partial_deploys_that_cannot_be_done_are_refused_and_change_nothing(
    cli: Cli, hasura_double: HasuraDouble, project: Path, args: tuple[str, ...], words: str
) -> None:
    assert cli.deploy(project, "--goto", str(V2)).exit_code == 0
    before = snapshot(hasura_double)

    run = cli.deploy(project, *args)

    assert run.exit_code == 2, run
    assert words in run.stderr
    assert snapshot(hasura_double) == before


def test_all_databases_overrides_the_database_the_environment_names(
    cli: Cli, hasura_double: HasuraDouble, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEDGE_DATABASE", "nosuch")
    assert cli.deploy(project, "--skip-metadata").exit_code == 2  # the environment's choice, refused

    run = cli.deploy(project, "--all-databases", "--skip-metadata")

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {V1: False, V2: False, V3: False}


def test_database_name_is_the_hasura_clis_spelling_of_database(
    cli: Cli, hasura_double: HasuraDouble, project: Path
) -> None:
    run = cli.deploy(project, "--database-name", "default", "--up", "1")

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {V1: False}


def test_metadata_deploy_cannot_apply_is_refused_before_any_migration_commits(
    cli: Cli, hasura_double: HasuraDouble, project: Path
) -> None:
    # Seen on real projects (iGnosis/sh-graphql, andrewMacmurray/realworld-hasura): actions in
    # actions.graphql need the Hasura CLI's SDL conversion; the refusal came after the migrations
    # had committed (exit 5). It needs only the files, so it comes first: exit 3, nothing changed.
    (project / "metadata" / "actions.graphql").write_text("type Query {\n  hello: String\n}\n")
    before = snapshot(hasura_double)

    run = cli.deploy(project)

    assert run.exit_code == 3, run
    assert "actions.graphql: actions are defined" in run.stderr
    assert "--skip-metadata" in run.stderr
    assert snapshot(hasura_double) == before
    assert not exists(hasura_double, "public.alpha")
    assert cli.deploy(project, "--skip-metadata").exit_code == 0  # the hint's way works
