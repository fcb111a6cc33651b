"""Golden outputs of the commands that talk to Hasura, against the test double (tests/hasura_double)
on the session's PostgreSQL: a first deploy of the shipped project, told step by step.

One double and one copy of the project serve the whole module; the commands run once, in the
order a user would run them (state before, dry run, deploy, deploy again, verify, state after),
and each test compares one of those runs with its golden file.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from ..hasura_double import DoubleConfig, HasuraDouble
from .conftest import FIXTURES, SHIPPED
from .golden import Golden, Run, run_kedge

pytestmark = pytest.mark.pg

SECRET = "golden-double-secret"
# The commands, in order: golden name → arguments.
SEQUENCE = {
    "state/show-before": ("state", "show"),
    "deploy/dry-run": ("deploy", "--dry-run"),
    "deploy/dry-run-json": ("-o", "json", "deploy", "--dry-run"),
    "deploy/first": ("deploy",),
    "deploy/again": ("deploy",),
    "deploy/again-json": ("-o", "json", "deploy"),
    "verify/text": ("verify",),
    "verify/json": ("-o", "json", "verify"),
    "state/show-after": ("state", "show"),
    "state/show-after-json": ("-o", "json", "state", "show"),
}
# Then a small project whose second migration fails, deployed to the same server.
FAILING = {
    "deploy/failed-migration": ("deploy", "--skip-metadata"),
    "deploy/failed-migration-json": ("-o", "json", "deploy", "--skip-metadata"),
}


def _failing_project(root: Path) -> Path:
    project = root / "hasura"
    shutil.copytree(FIXTURES / "deploy" / "empty_project", project)
    for version, name, up in [
        (1800000000001, "create_alpha", "CREATE TABLE public.golden_alpha (id integer PRIMARY KEY);\n"),
        (1800000000002, "broken", "ALTER TABLE public.golden_alpha ADD COLUMN note txet;\n"),
    ]:
        folder = project / "migrations" / "default" / f"{version}_{name}"
        folder.mkdir(parents=True)
        (folder / "up.sql").write_text(up, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def server_runs(
    pg_cluster: ScratchCluster, scratch_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    root = tmp_path_factory.mktemp("golden-server")
    shutil.copytree(SHIPPED, root / "hasura")
    with (
        pg_cluster.database("hasura") as database,
        HasuraDouble(DoubleConfig(database_url=database.conninfo, admin_secret=SECRET)) as double,
    ):
        env = {**scratch_env, "HASURA_GRAPHQL_ENDPOINT": double.url, "HASURA_GRAPHQL_ADMIN_SECRET": SECRET}
        runs = {name: run_kedge(*args, cwd=root, env=env) for name, args in SEQUENCE.items()}
        failing = _failing_project(tmp_path_factory.mktemp("golden-failing"))
        runs.update({name: run_kedge(*args, cwd=failing, env=env) for name, args in FAILING.items()})
        yield runs


@pytest.mark.parametrize("name", [*SEQUENCE, *FAILING])
def test_first_deploy_of_the_shipped_project(golden: Golden, server_runs: dict[str, Run], name: str) -> None:
    run = server_runs[name]

    assert SECRET not in run.stdout + run.stderr
    golden.check(name, run)
