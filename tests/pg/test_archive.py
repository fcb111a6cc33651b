"""`archive list | verify | create | restore` and `squash --check` on squashed projects.

The module squashes the `irregular` fixture once (odd names, mixed version widths, a 0-byte and a
missing down.sql); each test works on its own copy of the result.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from .squash_helpers import copy_case, leftovers, migrations_dir, original_migrations, run_squash, tree_digest

CASE = "irregular"
FIRST, LAST = 1600000000, 1700000300000
ARCHIVE = f"squashed_{FIRST}_to_{LAST}"
SQUASHED = f"{LAST}_squashed"
EDITED = "1600000500_ajouter la ville (déjà prévu, ça)/up.sql"  # an archived file


@pytest.fixture(scope="module")
def squashed_template(tmp_path_factory: pytest.TempPathFactory, pg_cluster: ScratchCluster) -> Path:
    root = copy_case(CASE, tmp_path_factory.mktemp("squashed"))
    run_squash(root, pg_cluster)
    return root


@pytest.fixture
def project(tmp_path: Path, squashed_template: Path) -> Path:
    """A private copy of the squashed project."""
    root = tmp_path / "project" / CASE
    shutil.copytree(squashed_template, root)
    return root


def _json(result: Any) -> dict[str, Any]:
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _archive(root: Path) -> Path:
    return migrations_dir(root) / ARCHIVE


# -- list and verify ---------------------------------------------------------------------------


def test_list_and_verify_accept_a_fresh_archive(project: Path, run_cli: Any) -> None:
    listed = run_cli("--project", str(project), "archive", "list")
    assert listed.exit_code == 0, listed.stderr
    assert ARCHIVE in listed.stdout and SQUASHED in listed.stdout

    for args in (("archive", "verify"), ("archive", "verify", ARCHIVE)):
        verified = run_cli("--project", str(project), "-o", "json", *args)
        assert verified.exit_code == 0, verified.stdout
        (info,) = _json(verified)["result"]["archives"]
        assert info["check"]["ok"] and info["check"]["checked"] == 11  # 5 folders with 2 files, 1 with 1

    unknown = run_cli("--project", str(project), "archive", "verify", "squashed_1_to_2")
    assert unknown.exit_code == 2


def test_verify_names_every_changed_missing_and_unexpected_file(project: Path, run_cli: Any) -> None:
    archive = _archive(project)
    with (archive / EDITED).open("a", encoding="utf-8") as handle:
        handle.write("-- edited after the squash\n")
    removed = "1700000000000_placeholder, kept for the 'release' branch/down.sql"
    (archive / removed).unlink()
    (archive / "notes.txt").write_text("not in the manifest\n", encoding="utf-8")

    result = run_cli("--project", str(project), "archive", "verify")

    assert result.exit_code == 1
    assert f"{ARCHIVE}: changed: {EDITED}" in result.stdout
    assert f"{ARCHIVE}: missing: {removed}" in result.stdout
    assert f"{ARCHIVE}: not in the manifest: notes.txt" in result.stdout
    as_json = run_cli("--project", str(project), "-o", "json", "archive", "verify")
    (info,) = _json(as_json)["result"]["archives"]
    assert (info["check"]["mismatched"], info["check"]["missing"], info["check"]["unexpected"]) == (
        [EDITED],
        [removed],
        ["notes.txt"],
    )


# -- restore -----------------------------------------------------------------------------------


def test_restore_gives_back_the_original_tree(project: Path, tmp_path: Path, run_cli: Any) -> None:
    pristine = copy_case(CASE, tmp_path / "pristine")
    squashed = tree_digest(project)

    dry = run_cli("--project", str(project), "archive", "restore", ARCHIVE, "--dry-run")
    assert dry.exit_code == 0 and "dry run: nothing changed" in dry.stdout
    assert tree_digest(project) == squashed

    result = run_cli("--project", str(project), "archive", "restore", ARCHIVE)

    assert result.exit_code == 0, result.stderr
    assert "removed the squashed migration" in result.stdout
    assert tree_digest(project) == tree_digest(pristine)  # byte for byte, 0-byte down.sql included
    assert leftovers(project) == []
    assert (
        migrations_dir(project) / "1700000200000_index people's names, Ω edition" / "down.sql"
    ).stat().st_size == 0


def test_restore_refuses_an_archive_whose_files_changed(project: Path, run_cli: Any) -> None:
    with (_archive(project) / EDITED).open("a", encoding="utf-8") as handle:
        handle.write("-- edited after the squash\n")
    before = tree_digest(project)

    result = run_cli("--project", str(project), "-o", "json", "archive", "restore", ARCHIVE)

    assert result.exit_code == 3
    error = _json(result)["error"]
    assert error["type"] == "ManifestError" and EDITED in error["message"]
    assert tree_digest(project) == before
    assert leftovers(project) == []


def test_restore_refuses_to_overwrite_a_different_file(project: Path, run_cli: Any) -> None:
    in_the_way = migrations_dir(project) / "1600000500_ajouter la ville (déjà prévu, ça)"
    in_the_way.mkdir()
    (in_the_way / "up.sql").write_text("ALTER TABLE public.people ADD COLUMN town text;\n", encoding="utf-8")
    before = tree_digest(project)

    result = run_cli("--project", str(project), "-o", "json", "archive", "restore", ARCHIVE)

    assert result.exit_code == 3
    error = _json(result)["error"]
    assert error["type"] == "ProjectError" and "would overwrite" in error["message"]
    assert tree_digest(project) == before
    assert leftovers(project) == []


def test_restore_accepts_an_identical_copy_in_the_way(project: Path, tmp_path: Path, run_cli: Any) -> None:
    name = "1600000500_ajouter la ville (déjà prévu, ça)"
    shutil.copytree(_archive(project) / name, migrations_dir(project) / name)

    result = run_cli("--project", str(project), "archive", "restore", ARCHIVE)

    assert result.exit_code == 0, result.stderr
    assert tree_digest(project) == tree_digest(copy_case(CASE, tmp_path / "pristine"))


def test_restore_refuses_when_the_squashed_up_sql_was_edited(project: Path, run_cli: Any) -> None:
    with (migrations_dir(project) / SQUASHED / "up.sql").open("a", encoding="utf-8") as handle:
        handle.write("\nCREATE INDEX people_city_idx ON public.people (city);\n")
    before = tree_digest(project)

    result = run_cli("--project", str(project), "-o", "json", "archive", "restore", ARCHIVE)

    assert result.exit_code == 3
    error = _json(result)["error"]
    assert error["type"] == "ProjectError" and "changed after the squash" in error["message"]
    assert tree_digest(project) == before


def test_restore_refuses_when_the_squashed_down_sql_was_edited(project: Path, run_cli: Any) -> None:
    down = migrations_dir(project) / SQUASHED / "down.sql"
    with down.open("a", encoding="utf-8") as handle:
        handle.write("\n-- keep: hand-written fix for production\n")
    before = tree_digest(project)

    result = run_cli("--project", str(project), "-o", "json", "archive", "restore", ARCHIVE)

    assert result.exit_code == 3, "restore deleted the edited down.sql"
    assert tree_digest(project) == before


def test_restore_undoes_a_squash_named_like_the_last_original(
    tmp_path: Path, pg_cluster: ScratchCluster, run_cli: Any
) -> None:
    case = "created_then_dropped"
    root = copy_case(case, tmp_path)
    pristine = tree_digest(root)
    last = original_migrations(case)[-1].name
    run_squash(root, pg_cluster, name=last.split("_", 1)[1])
    assert sorted(p.name for p in migrations_dir(root).iterdir())[0] == last  # the squashed one

    result = run_cli("--project", str(root), "archive", "restore", "squashed_1780000000000_to_1780000200000")

    assert result.exit_code == 0, result.stderr
    assert tree_digest(root) == pristine


# -- unsafe manifests --------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plant(project: Path, variant: str) -> None:
    """Point a manifest entry at a file outside the archive, with that file's true checksum."""
    archive = _archive(project)
    manifest = json.loads((archive / "MANIFEST.json").read_text(encoding="utf-8"))
    entry = manifest["migrations"][0]["files"][0]
    outside = project.parent / "evil"
    outside.write_text("-- planted outside the project\n", encoding="utf-8")
    if variant == "consolidated":
        manifest["consolidated"]["folder"] = "../../../evil"
    elif variant == "symlink":
        (archive / "escape").symlink_to(project.parent, target_is_directory=True)
        entry.update(path="escape/evil", size=outside.stat().st_size, sha256=_sha256(outside))
    elif variant == "/etc/passwd":
        passwd = Path("/etc/passwd")
        entry.update(path=str(passwd), size=passwd.stat().st_size, sha256=_sha256(passwd))
    else:
        entry.update(path=variant, size=outside.stat().st_size, sha256=_sha256(outside))
    (archive / "MANIFEST.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


@pytest.mark.parametrize(
    "variant", ["../../../../evil", "/etc/passwd", f"{CASE}/../../../../evil", "consolidated", "symlink"]
)
def test_a_manifest_path_escaping_the_folder_is_rejected(
    variant: str, project: Path, tmp_path: Path, run_cli: Any
) -> None:
    _plant(project, variant)
    outside_before = tree_digest(tmp_path)
    passwd = (os.stat("/etc/passwd").st_mtime_ns, _sha256(Path("/etc/passwd")))

    result = run_cli("--project", str(project), "-o", "json", "archive", "restore", ARCHIVE)

    assert result.exit_code == 3, result.stdout
    assert _json(result)["error"]["type"] == "ManifestError"
    assert tree_digest(tmp_path) == outside_before  # nothing written, inside or outside the project
    assert (os.stat("/etc/passwd").st_mtime_ns, _sha256(Path("/etc/passwd"))) == passwd
    if variant != "consolidated":  # verify reads the file entries, restore also the consolidated folder
        verified = run_cli("--project", str(project), "archive", "verify")
        assert verified.exit_code == 1
        assert "unsafe path" in verified.stdout or "outside the archive" in verified.stdout


# -- archive create (no squash) --------------------------------------------------------------


def test_archive_create_and_restore_without_squashing(tmp_path: Path, run_cli: Any) -> None:
    root = copy_case(CASE, tmp_path)
    pristine = tree_digest(root)
    names = [p.name for p in original_migrations(CASE)]
    first, last = names[1].split("_", 1)[0], names[3].split("_", 1)[0]
    archive = migrations_dir(root) / f"squashed_{first}_to_{last}"

    dry = run_cli("--project", str(root), "archive", "create", "--from", first, "--to", last, "--dry-run")
    assert dry.exit_code == 0 and tree_digest(root) == pristine

    created = run_cli("--project", str(root), "archive", "create", "--from", first, "--to", last)

    assert created.exit_code == 0, created.stderr
    assert sorted(p.name for p in migrations_dir(root).iterdir()) == sorted(
        [names[0], archive.name, names[4], names[5]]
    )
    manifest = json.loads((archive / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["strategy"] is None and manifest["consolidated"] is None
    assert [f"{m['version']}_{m['name']}" for m in manifest["migrations"]] == names[1:4]
    # Not a squash: --check has nothing to re-run.
    checked = run_cli("--project", str(root), "squash", "--check")
    assert checked.exit_code == 0 and "no squashed migrations to check" in checked.stdout
    again = run_cli("--project", str(root), "archive", "create", "--from", first, "--to", last)
    assert again.exit_code == 2  # the range is empty now

    restored = run_cli("--project", str(root), "archive", "restore", archive.name)

    assert restored.exit_code == 0, restored.stderr
    assert tree_digest(root) == pristine


# -- squash --check ------------------------------------------------------------------------------


def test_squash_check_fails_when_the_squashed_migration_builds_another_schema(
    project: Path, use_session_server: str, run_cli: Any
) -> None:
    with (migrations_dir(project) / SQUASHED / "up.sql").open("a", encoding="utf-8") as handle:
        handle.write("\nALTER TABLE public.people ADD COLUMN x integer;\n")

    result = run_cli("--project", str(project), "squash", "--check")

    assert result.exit_code == 1, result.stdout + result.stderr
    assert "differs" in result.stdout and "public.people.x" in result.stdout
    assert "edited after the squash" in result.stdout
    assert "squash check: differences found" in result.stdout


def test_squash_check_fails_when_an_archived_original_changed(
    project: Path, use_session_server: str, run_cli: Any
) -> None:
    with (_archive(project) / EDITED).open("a", encoding="utf-8") as handle:
        handle.write("\n-- only a comment, but the checksum changes\n")

    result = run_cli("--project", str(project), "squash", "--check")

    assert result.exit_code == 1
    assert "archived files do not match MANIFEST.json" in result.stdout


def test_squash_check_passes_on_the_shipped_project(
    shipped_project: Path, use_session_server: str, run_cli: Any
) -> None:
    result = run_cli("--project", str(shipped_project), "squash", "--check")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "squash check: ok" in result.stdout
