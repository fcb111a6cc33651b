"""`deploy --with-seeds` against the Hasura double over loopback HTTP (issue 13, seeds).

Seeds run after the migrations and the metadata, in file-name order, one run_sql each; each
records its checksum in kedge_hasura.seed_ledger, so an unchanged seed is skipped, a changed one
is refused unless --reapply-changed-seeds, and a failing one is named with file and line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import Cli, exists, ledger_versions, snapshot, sql_rows, write_project

pytestmark = pytest.mark.pg

ALPHA = 1000000000001
SEED_LEDGER = "kedge_hasura.seed_ledger"
# The second seed reads the first one's row: only file-name order makes it pass.
FIRST = "INSERT INTO public.colour (id, name) VALUES (1, 'red');\n"
SECOND = "INSERT INTO public.colour (id, name) SELECT id + 1, 'blue' FROM public.colour WHERE id = 1;\n"


def _project(tmp_path: Path, seeds: dict[str, str]) -> Path:
    table = "CREATE TABLE public.colour (id integer PRIMARY KEY, name text NOT NULL);\n"
    project = write_project(tmp_path / "seeded", [(ALPHA, "colour", table, None)])
    folder = project / "seeds" / "default"
    folder.mkdir(parents=True)
    for name, text in seeds.items():
        (folder / name).write_text(text)
    return project


def _colours(double: HasuraDouble) -> list[list[str | None]]:
    return sql_rows(double, "SELECT id::text, name FROM public.colour ORDER BY id")


def _seed_ledger(double: HasuraDouble) -> list[str]:
    if sql_rows(double, f"SELECT to_regclass('{SEED_LEDGER}') IS NOT NULL") != [["t"]]:
        return []
    return [row[0] or "" for row in sql_rows(double, f"SELECT file FROM {SEED_LEDGER} ORDER BY file")]


def test_seeds_are_planned_then_applied_in_file_name_order_and_not_twice(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _project(tmp_path, {"200_second.sql": SECOND, "100_first.sql": FIRST})
    before = snapshot(hasura_double, schemas=("public",))

    plan = cli.deploy(project, "--dry-run", "--with-seeds", "--skip-metadata")

    assert plan.exit_code == 0, plan
    flat = " ".join(plan.stdout.split())
    assert "100_first.sql would apply - 200_second.sql would apply -" in flat
    assert snapshot(hasura_double, schemas=("public",)) == before

    run = cli.deploy(project, "--with-seeds")

    assert run.exit_code == 0, run
    assert "deployed: 1 migration applied, 2 seeds applied" in run.stdout
    assert _colours(hasura_double) == [["1", "red"], ["2", "blue"]]
    assert _seed_ledger(hasura_double) == ["100_first.sql", "200_second.sql"]

    again = cli(project, "-o", "json", "deploy", "--with-seeds")

    assert again.exit_code == 0, again
    (seeds,) = again.json()["result"]["seeds"]
    assert [(s["file"], s["action"]) for s in seeds["seeds"]] == [
        ("100_first.sql", "unchanged"),
        ("200_second.sql", "unchanged"),
    ]
    assert seeds["applied"] == [] and "sql" not in seeds["seeds"][0]
    assert _colours(hasura_double) == [["1", "red"], ["2", "blue"]]


def test_a_changed_seed_is_refused_unless_asked_then_applied_again(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _project(tmp_path, {"100_first.sql": FIRST})
    assert cli.deploy(project, "--with-seeds", "--skip-metadata").exit_code == 0
    seed = project / "seeds" / "default" / "100_first.sql"
    seed.write_text("DELETE FROM public.colour;\n" + FIRST.replace("red", "green"))
    before = snapshot(hasura_double, schemas=("public",))

    refused = cli.deploy(project, "--with-seeds", "--skip-metadata")

    assert refused.exit_code == 3, refused
    err = " ".join(refused.stderr.split())
    assert f"1 seed file changed since applied by kedge-hasura, e.g. {seed} (applied at 20" in err
    assert "--reapply-changed-seeds" in err
    assert snapshot(hasura_double, schemas=("public",)) == before
    assert _colours(hasura_double) == [["1", "red"]]

    run = cli.deploy(project, "--with-seeds", "--skip-metadata", "--reapply-changed-seeds")

    assert run.exit_code == 0, run
    out = " ".join(run.stdout.split())
    assert "100_first.sql applied again (changed) 20" in out
    assert "deployed: 0 migrations applied, 1 seed applied" in out
    assert _colours(hasura_double) == [["1", "green"]]


def test_a_failing_seed_after_committed_migrations_exits_5_naming_file_and_line(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    failing = "INSERT INTO public.colour VALUES (3, 'x');\n\nINSERT INTO public.colour VALUES (1, 'dup');\n"
    project = _project(tmp_path, {"100_first.sql": FIRST, "200_bad.sql": failing})
    bad = project / "seeds" / "default" / "200_bad.sql"

    run = cli(project, "-o", "json", "deploy", "--with-seeds", "--skip-metadata")

    assert run.exit_code == 5, run
    error = run.json()["error"]
    assert error["type"] == "FailedAfterChanges"
    details = error["details"]
    assert details["cause"] == "SeedFailed"
    assert details["seed"] == str(bad) and details["line"] == 3 and details["sqlstate"] == "23505"
    assert details["committed"] == {"default": [ALPHA]}
    assert details["seeds committed"] == {"default": ["100_first.sql"]}
    # The failing seed rolled back whole; the first stays, and is recorded.
    assert _colours(hasura_double) == [["1", "red"]]
    assert _seed_ledger(hasura_double) == ["100_first.sql"]
    assert ledger_versions(hasura_double) == [ALPHA]

    text = cli.deploy(project, "--with-seeds", "--skip-metadata")

    assert text.exit_code == 3, text  # the migration is in, the first seed skipped: nothing changed
    err = " ".join(text.stderr.split())
    assert f"seed 200_bad.sql of database default failed at {bad}:3:" in err
    assert "nothing of 200_bad.sql was committed" in err


def test_rehearse_runs_the_seeds_after_the_migrations_and_commits_nothing(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    failing = "INSERT INTO public.colour VALUES (1, 'dup');\n"
    project = _project(tmp_path, {"100_first.sql": FIRST, "200_bad.sql": failing})
    bad = project / "seeds" / "default" / "200_bad.sql"

    run = cli.deploy(project, "--rehearse", "--with-seeds", "--skip-metadata")

    assert run.exit_code == 1, run
    out = " ".join(run.stdout.split())
    assert f"failed {bad}:1 [23505]" in out
    assert "1 migration and 2 seeds rehearsed" in out
    assert not exists(hasura_double, "public.colour")
    assert _seed_ledger(hasura_double) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--reapply-changed-seeds",), "--reapply-changed-seeds goes with --with-seeds"),
        (("--with-seeds", "--up", "1"), "--with-seeds applies seeds after every pending migration"),
    ],
    ids=["reapply-alone", "partial"],
)
def test_seed_options_that_do_not_go_together_exit_2(
    cli: Cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    project = _project(tmp_path, {"100_first.sql": FIRST})

    run = cli.deploy(project, *args)

    assert run.exit_code == 2, run
    assert message in " ".join(run.stderr.split())
