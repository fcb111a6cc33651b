"""The pure deploy planner (`plan_database`): every planning rule, from small typed inputs.

No server and no database: the project side is a few migration folders written to a temporary
folder (or the shipped project, for its squash archive) and scanned; the server side is a
`CliState` (what catalog state records) and a `Ledger` (what kedge-hasura's ledger holds).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from kedge_hasura.actions.deploy.ledger import Ledger, LedgerEntry
from kedge_hasura.actions.deploy.plan import DatabasePlan, PlanOptions, plan_database
from kedge_hasura.actions.deploy.verify import dirty_problems
from kedge_hasura.errors import ProjectError
from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.project.migrations import DatabaseMigrations, scan_database_folder

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "hasura" / "migrations" / "default"

V1, V2, V3, V4 = 1700000000001, 1700000000002, 1700000000003, 1700000000004
TABLE = "CREATE TABLE public.t{n} (id integer PRIMARY KEY);\n"
NO_LEDGER = Ledger(exists=False)
EMPTY_LEDGER = Ledger(exists=True)


def project(tmp_path: Path, *migrations: tuple[int, str]) -> DatabaseMigrations:
    """A database folder with one migration per (version, up.sql text)."""
    folder = tmp_path / "migrations" / "default"
    for version, up in migrations:
        (folder / f"{version}_m{version % 100}").mkdir(parents=True)
        (folder / f"{version}_m{version % 100}" / "up.sql").write_text(up, encoding="utf-8")
    return scan_database_folder("default", folder).databases["default"]


def tables(tmp_path: Path, *versions: int) -> DatabaseMigrations:
    return project(tmp_path, *[(v, TABLE.format(n=v % 100)) for v in versions])


def recorded(versions: dict[int, bool]) -> CliState:
    """Catalog state recording `versions` (version → dirty) for database `default`."""
    return CliState({"migrations": {"default": {str(v): dirty for v, dirty in versions.items()}}})


def ledger_of(migrations: DatabaseMigrations, *versions: int, applied_by: str = "deploy") -> Ledger:
    """A ledger whose rows match the current up.sql of `versions`."""
    entries = {}
    for version in versions:
        migration = migrations.by_version(version)
        assert migration is not None and migration.up is not None
        entries[version] = LedgerEntry(
            version=version, name=migration.name, up_sha256=migration.up.sha256, applied_by=applied_by
        )
    return Ledger(exists=True, entries=entries)


def plan(
    migrations: DatabaseMigrations,
    state: dict[int, bool] | None = None,
    ledger: Ledger = EMPTY_LEDGER,
    **options: object,
) -> DatabasePlan:
    settings: dict[str, object] = {"supports_no_transaction": True, "server_version": "v2.48.5"}
    settings.update(options)
    return plan_database(migrations, recorded(state or {}), ledger, PlanOptions(**settings))  # type: ignore[arg-type]


def versions_of(result: DatabasePlan) -> list[int]:
    return [step.version for step in result.steps]


# -- pending and applied ---------------------------------------------------------------------------


def test_a_fresh_server_gets_every_migration_in_one_transaction(tmp_path: Path) -> None:
    migrations = tables(tmp_path, V1, V2, V3)

    result = plan(migrations, ledger=NO_LEDGER)

    assert result.case == "3 pending"
    assert versions_of(result) == [V1, V2, V3]
    assert result.batches == [[V1, V2, V3]]
    assert [step.origin for step in result.steps] == ["migrations"] * 3
    assert [step.sha256 for step in result.steps] == [m.up.sha256 for m in migrations.migrations if m.up]
    assert (result.fixes, result.warnings, result.notes, result.edited) == ([], [], [], [])


def test_everything_applied_is_up_to_date(tmp_path: Path) -> None:
    migrations = tables(tmp_path, V1, V2)

    result = plan(migrations, {V1: False, V2: False}, ledger_of(migrations, V1, V2))

    assert result.case == "up to date"
    assert (result.steps, result.batches) == ([], [])
    assert result.state.applied == [V1, V2]


def test_only_versions_not_recorded_are_pending(tmp_path: Path) -> None:
    result = plan(tables(tmp_path, V1, V2, V3), {V1: False})

    assert result.case == "2 pending"
    assert versions_of(result) == [V2, V3]
    assert result.batches == [[V2, V3]]


def test_a_gap_below_the_newest_applied_version_is_filled_as_the_cli_does(tmp_path: Path) -> None:
    result = plan(tables(tmp_path, V1, V2, V3), {V2: False})

    assert versions_of(result) == [V1, V3]
    assert result.state.out_of_order == [V1]


def test_strict_order_refuses_a_pending_version_older_than_the_newest_applied(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=rf"older than the newest applied one \({V2}\): {V1}"):
        plan(tables(tmp_path, V1, V2, V3), {V2: False}, strict_order=True)


def test_each_transaction_mode_gives_one_batch_per_migration(tmp_path: Path) -> None:
    result = plan(tables(tmp_path, V1, V2, V3), transaction="each")

    assert result.batches == [[V1], [V2], [V3]]


# -- versions missing locally ----------------------------------------------------------------------


def test_versions_applied_on_the_server_but_unknown_locally_are_a_warning(tmp_path: Path) -> None:
    result = plan(tables(tmp_path, V1), {V1: False, V4: False})

    assert result.state.missing_locally == [V4]
    assert result.warnings == [
        f"1 version applied on the server is not in this project: {V4} (a different branch or folder?)"
    ]
    assert result.case == "up to date"


def test_strict_refuses_versions_unknown_locally(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=f"not in this project: {V4}") as refused:
        plan(tables(tmp_path, V1), {V1: False, V4: False}, strict=True)

    assert "drop --strict" in (refused.value.hint or "")


# -- dirty versions --------------------------------------------------------------------------------


def test_a_dirty_version_in_the_ledger_committed_and_is_marked_clean(tmp_path: Path) -> None:
    migrations = tables(tmp_path, V1, V2)

    result = plan(migrations, {V1: True}, ledger_of(migrations, V1))

    assert [(fix.version, fix.action) for fix in result.fixes] == [(V1, "mark-clean")]
    assert "committed" in result.fixes[0].reason
    assert versions_of(result) == [V2]
    assert result.state.dirty == []


def test_a_dirty_version_missing_from_the_ledger_did_not_commit_and_runs_again(tmp_path: Path) -> None:
    migrations = tables(tmp_path, V1, V2)

    result = plan(migrations, {V1: True}, EMPTY_LEDGER)

    assert [(fix.version, fix.action) for fix in result.fixes] == [(V1, "remove")]
    assert versions_of(result) == [V1, V2]


def test_a_dirty_version_without_a_ledger_cannot_be_settled(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=f"version {V1} is dirty") as refused:
        plan(tables(tmp_path, V1, V2), {V1: True}, NO_LEDGER)

    assert "state mark-applied" in (refused.value.hint or "")


def test_a_dirty_no_transaction_migration_missing_from_the_ledger_cannot_be_settled(tmp_path: Path) -> None:
    """Run outside a transaction, its ledger row is written by a second request: no row proves nothing."""
    migrations = project(tmp_path, (V1, "CREATE INDEX CONCURRENTLY i ON public.t (id);\n"))

    with pytest.raises(ProjectError, match=f"version {V1} is dirty"):
        plan(migrations, {V1: True}, EMPTY_LEDGER)


# -- edited migrations -----------------------------------------------------------------------------


def test_an_applied_migration_edited_since_is_refused(tmp_path: Path) -> None:
    migrations = tables(tmp_path, V1, V2)
    ledger = ledger_of(migrations, V1)
    ledger.entries[V1] = ledger.entries[V1].model_copy(update={"up_sha256": "0" * 64})

    with pytest.raises(ProjectError, match=f"changed since it was applied .*: {V1}") as refused:
        plan(migrations, {V1: False}, ledger)

    assert "--allow-edited" in (refused.value.hint or "")


def test_allow_edited_lists_the_edited_versions_and_plans_the_rest(tmp_path: Path) -> None:
    migrations = tables(tmp_path, V1, V2)
    ledger = ledger_of(migrations, V1)
    ledger.entries[V1] = ledger.entries[V1].model_copy(update={"up_sha256": "0" * 64})

    result = plan(migrations, {V1: False}, ledger, allow_edited=True)

    assert result.edited == [V1]
    assert versions_of(result) == [V2]


def test_rows_not_written_by_deploy_are_not_checked_for_edits(tmp_path: Path) -> None:
    """`state mark-applied` records the file as it is then, not as it was run."""
    migrations = tables(tmp_path, V1)
    ledger = ledger_of(migrations, V1, applied_by="mark-applied")
    ledger.entries[V1] = ledger.entries[V1].model_copy(update={"up_sha256": "0" * 64})

    assert plan(migrations, {V1: False}, ledger).edited == []


# -- batches: outside a transaction, BEGIN/COMMIT, ADD VALUE ---------------------------------------


@pytest.mark.parametrize(
    ("up", "reason"),
    [
        (
            "CREATE INDEX CONCURRENTLY i ON public.t1 (id);\n",
            "runs outside a transaction: CREATE INDEX CONCURRENTLY",
        ),
        ("-- hasura:no-transaction\nSELECT 1;\n", "runs outside a transaction: -- hasura:no-transaction"),
    ],
    ids=["concurrently", "marker"],
)
def test_a_migration_outside_a_transaction_runs_alone(tmp_path: Path, up: str, reason: str) -> None:
    migrations = project(tmp_path, (V1, TABLE.format(n=1)), (V2, up), (V3, TABLE.format(n=3)))

    result = plan(migrations)

    assert result.batches == [[V1], [V2], [V3]]
    step = result.steps[1]
    assert (step.outside_transaction, step.alone) == (True, True)
    assert step.reasons == [reason]
    assert result.warnings == [f"{V2}_m2: {reason}"]


def test_a_server_without_no_transaction_refuses_such_a_migration(tmp_path: Path) -> None:
    migrations = project(tmp_path, (V1, "CREATE INDEX CONCURRENTLY i ON public.t1 (id);\n"))

    with pytest.raises(ProjectError, match=r"and Hasura v2\.40\.0 cannot .*v2\.45\.3 or later"):
        plan(migrations, supports_no_transaction=False, server_version="v2.40.0")


def test_explicit_begin_and_commit_make_a_migration_run_alone_inside_run_sql(tmp_path: Path) -> None:
    migrations = project(
        tmp_path,
        (V1, TABLE.format(n=1)),
        (V2, "BEGIN;\nCREATE TABLE public.t2 (id integer);\nCOMMIT;\n"),
        (V3, TABLE.format(n=3)),
        (V4, TABLE.format(n=4)),
    )

    result = plan(migrations)

    assert result.batches == [[V1], [V2], [V3, V4]]
    step = result.steps[1]
    assert (step.outside_transaction, step.alone) == (False, True)
    assert len(step.reasons) == 1 and step.reasons[0].startswith("runs alone: it holds ")
    assert "COMMIT" in step.reasons[0]


def test_a_batch_ends_after_alter_type_add_value(tmp_path: Path) -> None:
    """The new label cannot be used before it is committed: later migrations go in the next batch."""
    migrations = project(
        tmp_path,
        (V1, "CREATE TYPE public.mood AS ENUM ('sad');\n"),
        (V2, "ALTER TYPE public.mood ADD VALUE 'happy';\n"),
        (V3, "CREATE TABLE public.t3 (m public.mood DEFAULT 'happy');\n"),
    )

    result = plan(migrations)

    assert result.batches == [[V1, V2], [V3]]
    assert [step.ends_batch for step in result.steps] == [False, True, False]
    assert result.warnings == []


# -- a squash archive ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def squashed() -> DatabaseMigrations:
    """The shipped project: one consolidated migration that replaced 17 archived originals."""
    return scan_database_folder("default", SHIPPED).databases["default"]


@pytest.fixture(scope="module")
def originals(squashed: DatabaseMigrations) -> list[int]:
    (archive,) = squashed.archives
    manifest = json.loads((archive / "MANIFEST.json").read_text(encoding="utf-8"))
    return [entry["version"] for entry in manifest["migrations"]]


def test_squash_none_applied_runs_the_consolidated_migration(squashed: DatabaseMigrations) -> None:
    (consolidated,) = squashed.migrations

    result = plan(squashed, {}, NO_LEDGER)

    assert result.case == "squash: none applied"
    assert [(s.version, s.origin, s.name) for s in result.steps] == [
        (consolidated.version, "migrations", "squashed")
    ]
    assert result.notes == [
        f"{squashed.archives[0].name} → {consolidated.key}: the server applied none of the originals: "
        "the squashed migration runs"
    ]


def test_squash_all_originals_applied_means_the_consolidated_one_is_applied(
    squashed: DatabaseMigrations, originals: list[int]
) -> None:
    result = plan(squashed, dict.fromkeys(originals, False), NO_LEDGER)

    assert result.case == "squash: all originals applied"
    assert result.steps == []
    assert result.prunable == originals[:-1]
    assert result.state.missing_locally == []


def test_squash_prefix_applied_runs_the_remaining_originals_from_the_archive(
    squashed: DatabaseMigrations, originals: list[int]
) -> None:
    result = plan(squashed, dict.fromkeys(originals[:5], False), NO_LEDGER)

    assert result.case == "squash: prefix applied"
    assert versions_of(result) == originals[5:]
    assert {step.origin for step in result.steps} == {"archive"}
    assert all(squashed.archives[0] in step.path.parents for step in result.steps)
    assert result.steps[-1].name != "squashed"  # the last original, never the consolidated SQL
    assert "the remaining 12 run from the archive" in result.notes[0]


def test_squash_originals_applied_out_of_order_are_refused(
    squashed: DatabaseMigrations, originals: list[int]
) -> None:
    applied = [originals[0], originals[2]]

    with pytest.raises(ProjectError, match=r"applied 2 of the 17 squashed originals, but not the first 2"):
        plan(squashed, dict.fromkeys(applied, False), NO_LEDGER)


def test_squash_consolidated_version_alone_is_applied(squashed: DatabaseMigrations) -> None:
    (consolidated,) = squashed.migrations

    result = plan(squashed, {consolidated.version: False}, NO_LEDGER)

    assert result.case == "up to date"
    assert result.steps == []
    assert result.notes[0].endswith(": the squashed migration is applied")


def test_squash_a_ledger_row_of_the_last_original_is_not_an_edit(
    squashed: DatabaseMigrations, originals: list[int]
) -> None:
    """The consolidated migration reuses the last original's version; a server that ran the original
    recorded that file's checksum, which the manifest keeps."""
    (archive,) = squashed.archives
    last = originals[-1]
    (folder,) = archive.glob(f"{last}_*")
    original_sha = hashlib.sha256((folder / "up.sql").read_bytes()).hexdigest()
    ledger = Ledger(
        exists=True,
        entries={
            last: LedgerEntry(version=last, name=folder.name, up_sha256=original_sha, applied_by="deploy")
        },
    )

    result = plan(squashed, dict.fromkeys(originals, False), ledger)

    assert result.edited == []


# -- a chain of squashes: the shipped squash squashed again with newer migrations (issue 11 item 6) --

N1, N2 = 1750000000001, 1750000000002


@pytest.fixture
def chained(tmp_path: Path) -> DatabaseMigrations:
    """The shipped project with two newer migrations, all squashed again into `N2_second`: a flat
    archive holding the shipped squash's migration and the two, linking to the shipped archive."""
    from kedge_hasura.actions.squash.archive import manifest_for, write_squash
    from kedge_hasura.project.manifest import Consolidated

    folder = tmp_path / "migrations" / "default"
    shutil.copytree(SHIPPED, folder)
    for version in (N1, N2):
        (folder / f"{version}_m{version % 100}").mkdir()
        (folder / f"{version}_m{version % 100}" / "up.sql").write_text(TABLE.format(n=version % 100))
    migrations = scan_database_folder("default", folder).databases["default"]
    up, down = "CREATE TABLE public.everything (id integer);\n", "DROP TABLE public.everything;\n"
    manifest = manifest_for(
        migrations,
        migrations.migrations,
        strategy="dump",
        consolidated=Consolidated(
            version=N2,
            name="second",
            folder=f"{N2}_second",
            up_sha256=hashlib.sha256(up.encode()).hexdigest(),
            down_sha256=hashlib.sha256(down.encode()).hexdigest(),
        ),
        earlier_archives=[SHIPPED_ARCHIVE],
    )
    write_squash(
        migrations, migrations.migrations, name="second", up_sql=up, down_sql=down, manifest=manifest
    )
    return scan_database_folder("default", folder).databases["default"]


SHIPPED_ARCHIVE = "squashed_1709284463417_to_1748864944213"
LATER_ARCHIVE = f"squashed_1748864944213_to_{N2}"


def test_chain_none_applied_runs_only_the_newest_squashed_migration(chained: DatabaseMigrations) -> None:
    result = plan(chained, {}, NO_LEDGER)

    assert [(s.version, s.name, s.origin) for s in result.steps] == [(N2, "second", "migrations")]
    assert result.case == "squash: none applied"
    assert len(result.notes) == 1  # the earlier squash is planned with the later one, not twice


def test_chain_prefix_of_the_earlier_squash_runs_every_remaining_original_of_the_chain(
    chained: DatabaseMigrations, originals: list[int]
) -> None:
    result = plan(chained, dict.fromkeys(originals[:5], False), NO_LEDGER)

    assert result.case == "squash: prefix applied"
    assert versions_of(result) == [*originals[5:], N1, N2]
    assert {s.origin for s in result.steps} == {"archive"}
    assert "squashed" not in {s.name for s in result.steps} and "second" not in {s.name for s in result.steps}
    by_archive = {s.version: s.path.relative_to(chained.directory).parts[0] for s in result.steps}
    assert by_archive[originals[-1]] == SHIPPED_ARCHIVE  # the original, not the first squash's SQL
    assert by_archive[N1] == by_archive[N2] == LATER_ARCHIVE


def test_chain_a_server_that_ran_the_earlier_squash_runs_the_newer_originals(
    chained: DatabaseMigrations, originals: list[int]
) -> None:
    result = plan(chained, {originals[-1]: False}, NO_LEDGER)

    assert versions_of(result) == [N1, N2]
    assert [s.name for s in result.steps] == ["m1", "m2"]
    assert result.case == "squash: prefix applied"


def test_chain_every_original_applied_means_the_newest_squash_is_applied(
    chained: DatabaseMigrations, originals: list[int]
) -> None:
    result = plan(chained, dict.fromkeys([*originals, N1, N2], False), NO_LEDGER)

    assert result.steps == []
    assert result.case == "squash: all originals applied"
    assert result.prunable == [*originals, N1]


def test_chain_the_newest_squashed_migration_alone_is_applied(chained: DatabaseMigrations) -> None:
    result = plan(chained, {N2: False}, NO_LEDGER)

    assert result.steps == [] and result.case == "up to date"
    assert result.notes[-1].endswith(": the squashed migration is applied")


def test_chain_originals_out_of_order_are_refused(chained: DatabaseMigrations, originals: list[int]) -> None:
    with pytest.raises(ProjectError, match=r"applied 2 of the 19 squashed originals, but not the first 2"):
        plan(chained, dict.fromkeys([originals[0], N1], False), NO_LEDGER)


# -- verify's advice for dirty versions matches what deploy does ------------------------------------


def test_verify_says_deploy_settles_a_dirty_version_the_ledger_decides(tmp_path: Path) -> None:
    migrations = tables(tmp_path, V1, V2)

    problems = dirty_problems(migrations, [V1], EMPTY_LEDGER)

    assert problems == [f"dirty version: {V1} (`kedge-hasura deploy` settles it)"]
    plan(migrations, {V1: True}, EMPTY_LEDGER)  # and deploy does


def test_verify_asks_for_state_mark_when_deploy_would_refuse(tmp_path: Path) -> None:
    migrations = tables(tmp_path, V1, V2)

    problems = dirty_problems(migrations, [V1, V2], NO_LEDGER)

    assert problems == [
        f"dirty versions: {V1}, {V2}, and the ledger cannot tell whether they committed (check the "
        "database, then run `kedge-hasura state mark-applied V` or `kedge-hasura state mark-unapplied V`)"
    ]
    assert "deploy" not in problems[0].replace("kedge-hasura", "")
    with pytest.raises(ProjectError, match="cannot tell") as refused:
        plan(migrations, {V1: True, V2: True}, NO_LEDGER)
    assert "state mark-applied" in (refused.value.hint or "")


def test_verify_names_the_version_of_a_dirty_no_transaction_migration(tmp_path: Path) -> None:
    migrations = project(tmp_path, (V1, "CREATE INDEX CONCURRENTLY i ON public.t (id);\n"))

    assert dirty_problems(migrations, [V1], EMPTY_LEDGER) == [
        f"dirty version: {V1}, and the ledger cannot tell whether it committed (check the database, "
        f"then run `kedge-hasura state mark-applied {V1}` or `kedge-hasura state mark-unapplied {V1}`)"
    ]
