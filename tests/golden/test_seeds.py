"""Golden outputs of `deploy --with-seeds` at 80 columns, against the test double: a small project
deployed step by step as a user would (plan, deploy, again, a seed edited, a seed that fails).

One double and one project serve the module; the runs happen in order, changing the project's
files between them, and each test compares one run with its golden file.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from ..hasura_double import DoubleConfig, HasuraDouble
from .conftest import FIXTURES
from .golden import Golden, Run, run_kedge

pytestmark = pytest.mark.pg

SECRET = "golden-seeds-secret"
SEEDS = ("--with-seeds", "--skip-metadata")
COLOUR = "CREATE TABLE public.colour (id integer PRIMARY KEY, name text NOT NULL);\n"
FIRST = "INSERT INTO public.colour (id, name) VALUES (1, 'red');\n"
SECOND = "INSERT INTO public.colour (id, name) VALUES (2, 'blue');\n"
BROKEN = "INSERT INTO public.colour VALUES (3, 'green');\n\nINSERT INTO public.colour VALUES (1, 'again');\n"


def _write(root: Path, relative: str, text: str) -> None:
    path = root / "hasura" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _edit_first(root: Path) -> None:
    _write(root, "seeds/default/100_colours.sql", "DELETE FROM public.colour WHERE id = 1;\n" + FIRST)


def _add_failing(root: Path) -> None:
    _write(
        root, "migrations/default/1800000000002_shade/up.sql", "ALTER TABLE public.colour ADD shade text;\n"
    )
    _write(root, "seeds/default/300_broken.sql", BROKEN)


# golden name → (a change to the project before the run, or None; the arguments).
STEPS: dict[str, tuple[Callable[[Path], None] | None, tuple[str, ...]]] = {
    "deploy/seeds-dry-run": (None, ("deploy", "--dry-run", *SEEDS)),
    "deploy/seeds-first": (None, ("deploy", *SEEDS)),
    "deploy/seeds-again-json": (None, ("-o", "json", "deploy", *SEEDS)),
    "deploy/seeds-changed-refused": (_edit_first, ("deploy", *SEEDS)),
    "deploy/seeds-changed-reapplied": (None, ("deploy", *SEEDS, "--reapply-changed-seeds")),
    "deploy/seeds-rehearse": (_add_failing, ("deploy", "--rehearse", *SEEDS)),
    "deploy/seeds-failed": (None, ("deploy", *SEEDS)),
}


@pytest.fixture(scope="module")
def seed_runs(
    pg_cluster: ScratchCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    root = tmp_path_factory.mktemp("golden-seeds")
    shutil.copytree(FIXTURES / "deploy" / "empty_project", root / "hasura")
    _write(root, "migrations/default/1800000000001_colour/up.sql", COLOUR)
    _write(root, "seeds/default/100_colours.sql", FIRST)
    _write(root, "seeds/default/200_more_colours.sql", SECOND)
    with (
        pg_cluster.database("hasura") as database,
        HasuraDouble(DoubleConfig(database_url=database.conninfo, admin_secret=SECRET)) as double,
    ):
        env = {"HASURA_GRAPHQL_ENDPOINT": double.url, "HASURA_GRAPHQL_ADMIN_SECRET": SECRET}
        runs = {}
        for name, (change, args) in STEPS.items():
            if change is not None:
                change(root)
            runs[name] = run_kedge(*args, cwd=root, env=env)
        yield runs


@pytest.mark.parametrize("name", list(STEPS))
def test_deploy_with_seeds(golden: Golden, seed_runs: dict[str, Run], name: str) -> None:
    run = seed_runs[name]

    assert SECRET not in run.stdout + run.stderr
    golden.check(name, run)
