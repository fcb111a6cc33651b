"""Squash, archive create and archive restore never leave a project half-changed or lose a file.

Each writing step has a name (the `step` hook of actions.squash.archive); an interruption is simulated by
raising from the hook at that step. Before the staged folder is swapped in ("commit") the project
must be byte-identical to before; after it, completely changed; no staging folder may remain, and
no file may be lost. The squash interruptions reuse one verified result per module (the replay and
the verification are not what is under test here, the writing is).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.squash.archive import create_archive, list_archives, restore_archive
from kedge_hasura.actions.squash.equivalence import SquashNotEquivalent
from kedge_hasura.actions.squash.plan import SquashRequest
from kedge_hasura.actions.squash.run import SquashResult, squash
from kedge_hasura.pg.scratch import Preconditions, ScratchCluster
from kedge_hasura.project.layout import open_project
from kedge_hasura.sql import pgdump

from .squash_helpers import (
    contents,
    copy_case,
    leftovers,
    migrations_dir,
    original_migrations,
    run_squash,
    tree_digest,
)

SQUASH_STEPS = ("stage", "move-originals", "manifest", "new-migration", "check", "commit")
CREATE_STEPS = ("stage", "move-originals", "manifest", "check", "commit")
RESTORE_STEPS = ("stage", "move-back", "remove", "check", "commit")

CASE = "created_then_dropped"  # small and quick to replay
FIRST, LAST = 1780000000000, 1780000200000
ARCHIVE = f"squashed_{FIRST}_to_{LAST}"


class Interrupted(BaseException):
    """Stands for Ctrl-C or a killed process: not an Exception, so nothing may swallow it."""


def interrupt_at(name: str, seen: list[str]) -> Callable[[str], None]:
    def hook(step: str) -> None:
        seen.append(step)
        if step == name:
            raise Interrupted(step)

    return hook


def assert_nothing_lost(before: dict[str, bytes], root: Path) -> None:
    """Every file of `before` still exists with its content, in place or in an archive folder."""
    after = contents(root)
    database = migrations_dir(root).relative_to(root).as_posix()
    archived = {
        path.split("/", 3)[3]: data
        for path, data in after.items()
        if path.startswith(f"{database}/squashed_") and path.count("/") >= 3
    }
    for path, data in before.items():
        relative = path.removeprefix(f"{database}/")
        assert after.get(path) == data or archived.get(relative) == data, f"{path} was lost"


@pytest.fixture(scope="module")
def verified(tmp_path_factory: pytest.TempPathFactory, pg_cluster: ScratchCluster) -> SquashResult:
    """One real, verified squash of CASE (dry run), for the tests about writing it."""
    return run_squash(copy_case(CASE, tmp_path_factory.mktemp("verified")), pg_cluster, dry_run=True)


class _NoServer:
    """Stands in for the scratch cluster when the verified result is reused."""

    preconditions = Preconditions(hasura_mimic=True)

    def __enter__(self) -> _NoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def describe(self) -> str:
        return "no server: the verified result is reused"


@pytest.fixture
def reuse_verified(monkeypatch: pytest.MonkeyPatch, verified: SquashResult) -> Callable[..., SquashResult]:
    """`squash` whose replay and verification are those of `verified`; the writing is real."""
    monkeypatch.setattr(
        "kedge_hasura.actions.squash.run._squash", lambda work: verified.model_copy(deep=True)
    )

    def run(root: Path, **request: Any) -> SquashResult:
        step = request.pop("step", None)
        return squash(open_project(root), SquashRequest(**request), cluster=_NoServer, step=step)  # type: ignore[arg-type]

    return run


@pytest.fixture(scope="module")
def squashed_template(tmp_path_factory: pytest.TempPathFactory, verified: SquashResult) -> Path:
    """CASE squashed (with the verified result), for the restore tests; copied before each use."""
    root = copy_case(CASE, tmp_path_factory.mktemp("squashed"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("kedge_hasura.actions.squash.run._squash", lambda work: verified.model_copy(deep=True))
        squash(open_project(root), SquashRequest(), cluster=_NoServer)  # type: ignore[arg-type]
    return root


# -- verification failures write nothing ------------------------------------------------------


def _without_one(entry_type: str) -> Callable[..., str]:
    """A render_up that silently leaves out the last entry of `entry_type` (a planted bug)."""

    def render(entries: list[pgdump.DumpEntry], **options: Any) -> str:
        dropped = [e for e in entries if e.type == entry_type][-1]
        return pgdump.render_up([e for e in entries if e is not dropped], **options)

    return render


def test_a_wrong_squashed_schema_fails_the_cli_with_the_diff_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_session_server: str, run_cli: Any
) -> None:
    root = copy_case("renamed_three_times", tmp_path)
    before = tree_digest(root)
    monkeypatch.setattr("kedge_hasura.actions.squash.strategies.render_up", _without_one("INDEX"))

    result = run_cli("--project", str(root), "squash")

    assert result.exit_code == 3, result.stdout + result.stderr
    assert "does not build the same database as the originals; nothing was written" in result.stderr
    assert "enrolments_student_id_idx" in result.stderr  # the diff names the missing index
    assert tree_digest(root) == before
    assert leftovers(root) == []


def test_wrong_squashed_rows_raise_squash_not_equivalent_and_write_nothing(
    tmp_path: Path, pg_cluster: ScratchCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_case(CASE, tmp_path)
    before = tree_digest(root)
    monkeypatch.setattr("kedge_hasura.actions.squash.strategies.render_up", _without_one("TABLE DATA"))

    with pytest.raises(SquashNotEquivalent) as failure:
        run_squash(root, pg_cluster)

    assert failure.value.data is not None and not failure.value.data.identical
    different = [t.table for t in failure.value.data.tables if t.status == "different"]
    assert different == ["ops.jobs"]
    assert tree_digest(root) == before
    assert leftovers(root) == []


# -- interruptions -----------------------------------------------------------------------------


@pytest.mark.parametrize("step", SQUASH_STEPS)
def test_interrupted_squash_leaves_the_project_as_it_was_or_fully_squashed(
    step: str, tmp_path: Path, reuse_verified: Callable[..., SquashResult]
) -> None:
    root = copy_case(CASE, tmp_path)
    before, files = tree_digest(root), contents(root)
    seen: list[str] = []

    with pytest.raises(Interrupted):
        reuse_verified(root, step=interrupt_at(step, seen))

    assert seen == list(SQUASH_STEPS[: SQUASH_STEPS.index(step) + 1])
    assert leftovers(root) == []
    assert_nothing_lost(files, root)
    if step != "commit":
        assert tree_digest(root) == before
        return
    # Interrupted after the swap: fully squashed.
    database = migrations_dir(root)
    assert sorted(p.name for p in database.iterdir()) == sorted([f"{LAST}_squashed", ARCHIVE])
    (archive,) = list_archives(open_project(root)).archives
    assert archive.ok, archive
    manifest = json.loads((database / ARCHIVE / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["consolidated"]["folder"] == f"{LAST}_squashed"
    assert (database / f"{LAST}_squashed" / "down.sql").is_file()


@pytest.mark.parametrize("step", CREATE_STEPS)
def test_interrupted_archive_create_leaves_the_project_as_it_was_or_fully_archived(
    step: str, tmp_path: Path
) -> None:
    root = copy_case(CASE, tmp_path)
    before, files = tree_digest(root), contents(root)
    seen: list[str] = []
    middle = [int(p.name.split("_", 1)[0]) for p in original_migrations(CASE)][1:]

    with pytest.raises(Interrupted):
        create_archive(
            open_project(root),
            database="default",
            from_version=middle[0],
            to_version=middle[-1],
            step=interrupt_at(step, seen),
        )

    assert seen == list(CREATE_STEPS[: CREATE_STEPS.index(step) + 1])
    assert leftovers(root) == []
    assert_nothing_lost(files, root)
    if step != "commit":
        assert tree_digest(root) == before
        return
    database = migrations_dir(root)
    archive = f"squashed_{middle[0]}_to_{middle[-1]}"
    assert sorted(p.name for p in database.iterdir()) == sorted([original_migrations(CASE)[0].name, archive])
    assert list_archives(open_project(root)).ok


@pytest.mark.parametrize("step", RESTORE_STEPS)
def test_interrupted_archive_restore_leaves_the_project_as_it_was_or_fully_restored(
    step: str, tmp_path: Path, squashed_template: Path
) -> None:
    root = tmp_path / CASE
    shutil.copytree(squashed_template, root)
    before = tree_digest(root)
    seen: list[str] = []

    with pytest.raises(Interrupted):
        restore_archive(open_project(root), database="default", name=ARCHIVE, step=interrupt_at(step, seen))

    assert seen == list(RESTORE_STEPS[: RESTORE_STEPS.index(step) + 1])
    assert leftovers(root) == []
    if step != "commit":
        assert tree_digest(root) == before
        return
    # Restored: the originals, byte for byte, and neither the squashed migration nor the archive.
    pristine = copy_case(CASE, tmp_path / "pristine")
    assert tree_digest(root) == tree_digest(pristine)


# -- options and refusals ------------------------------------------------------------------------


def test_dry_run_writes_nothing(tmp_path: Path, use_session_server: str, run_cli: Any) -> None:
    root = copy_case(CASE, tmp_path)
    before = tree_digest(root)

    result = run_cli("--project", str(root), "squash", "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert "dry run: nothing written" in result.stdout
    assert tree_digest(root) == before
    assert leftovers(root) == []


def test_no_archive_deletes_the_originals(tmp_path: Path, use_session_server: str, run_cli: Any) -> None:
    root = copy_case(CASE, tmp_path)

    result = run_cli("--project", str(root), "-o", "json", "squash", "--no-archive")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["result"]
    assert report["written"] is True and report["archive_folder"] is None
    assert [p.name for p in migrations_dir(root).iterdir()] == [f"{LAST}_squashed"]
    assert (migrations_dir(root) / f"{LAST}_squashed" / "up.sql").read_text(encoding="utf-8") == report[
        "up_sql"
    ]
    assert leftovers(root) == []
    # Nothing archived, so nothing for --check to re-run.
    checked = run_cli("--project", str(root), "squash", "--check")
    assert checked.exit_code == 0
    assert "no squashed migrations to check" in checked.stdout


def test_an_existing_archive_folder_is_refused(
    tmp_path: Path, use_session_server: str, run_cli: Any, reuse_verified: Any
) -> None:
    root = copy_case(CASE, tmp_path)
    (migrations_dir(root) / ARCHIVE).mkdir()
    (migrations_dir(root) / ARCHIVE / "MANIFEST.json").write_text("{}\n", encoding="utf-8")
    before = tree_digest(root)

    result = run_cli("--project", str(root), "-o", "json", "squash")

    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "ProjectError"
    assert "exists already" in error["message"]
    assert tree_digest(root) == before
    assert leftovers(root) == []


def test_dump_with_from_after_the_first_migration_is_a_usage_error(tmp_path: Path, run_cli: Any) -> None:
    root = copy_case(CASE, tmp_path)
    before = tree_digest(root)
    second = original_migrations(CASE)[1].name.split("_", 1)[0]

    result = run_cli("--project", str(root), "squash", "--from", second)

    assert result.exit_code == 2
    assert "must start at the first migration" in result.stderr
    assert "--strategy concat" in result.stderr  # the hint
    assert tree_digest(root) == before


def test_concat_squashes_a_range_in_the_middle(tmp_path: Path, use_session_server: str, run_cli: Any) -> None:
    case = "renamed_three_times"
    root = copy_case(case, tmp_path)
    names = [p.name for p in original_migrations(case)]
    versions = [name.split("_", 1)[0] for name in names]

    result = run_cli(
        "--project", str(root), "squash", "--strategy", "concat", "--from", versions[1], "--to", versions[2]
    )

    assert result.exit_code == 0, result.stdout + result.stderr
    archive = f"squashed_{versions[1]}_to_{versions[2]}"
    assert sorted(p.name for p in migrations_dir(root).iterdir()) == sorted(
        [names[0], f"{versions[2]}_squashed", names[3], archive]
    )
    pristine = migrations_dir(copy_case(case, tmp_path / "pristine"))
    for name in (names[0], names[3]):  # outside the range: untouched
        assert tree_digest(migrations_dir(root) / name) == tree_digest(pristine / name)
    checked = run_cli("--project", str(root), "squash", "--check")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
