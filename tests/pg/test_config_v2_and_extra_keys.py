"""Real-world config files: a config v2 project (metadata in tables.yaml and functions.yaml, migrations
directly in migrations/) runs status, check and squash like a v3 one; an Nhost-like config.yaml with
keys the Hasura CLI ignores gives warnings, not a refusal. Check replays on the session's server."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .test_check_fixtures import build_case

pytestmark = pytest.mark.usefixtures("use_session_server")

V2_PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "projects" / "config_v2"
METADATA_CHECKS = (
    "metadata",
    "replay",
    "tracking",
    "relationships",
    "permissions",
    "computed-fields",
    "roles",
)


@pytest.fixture
def v2_root(tmp_path: Path) -> Path:
    root = tmp_path / "hasura"
    shutil.copytree(V2_PROJECT, root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _findings(stdout: str, root: Path) -> list[tuple[str, str, int | None]]:
    envelope = json.loads(stdout)
    return sorted(
        (f["code"], Path(f["path"]).resolve().relative_to(root.resolve()).as_posix(), f["line"])
        for f in envelope["result"]["findings"]
    )


def test_a_config_v2_project_checks_clean_with_every_metadata_check_run(run_cli, v2_root: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("check", "--project", str(v2_root), "-o", "json")

    assert result.exit_code == 0, result.stdout + result.stderr
    envelope = json.loads(result.stdout)
    assert envelope["result"]["findings"] == []
    assert envelope["result"]["databases"] == ["default"]
    status = {run["name"]: run["status"] for run in envelope["result"]["checks"]}
    assert {name: status[name] for name in METADATA_CHECKS} == dict.fromkeys(METADATA_CHECKS, "passed")


# Each case plants one inconsistency in the v2 metadata; check must find it at its file and line.
V2_CASES = {
    "permission-column-renamed": (
        "metadata/tables.yaml",
        "      - body\n      - published\n",
        "      - body\n      - is_published\n",
        [("permission-column-missing", "metadata/tables.yaml", 47)],
    ),
    "relationship-column-missing": (
        "metadata/tables.yaml",
        "foreign_key_constraint_on: author_id\n",
        "foreign_key_constraint_on: writer_id\n",
        [("relationship-column-missing", "metadata/tables.yaml", 21)],
    ),
    "tracked-table-never-created": (
        "metadata/tables.yaml",
        "- table:\n    schema: public\n    name: authors\n",
        "- table:\n    schema: public\n    name: comments\n- table:\n    schema: public\n    name: authors\n",
        [("table-missing", "metadata/tables.yaml", 51)],
    ),
    "tracked-function-never-created": (
        "metadata/functions.yaml",
        "[]\n",
        "- function:\n    schema: public\n    name: search_articles\n",
        [("function-missing", "metadata/functions.yaml", 1)],
    ),
}


@pytest.mark.parametrize("case", sorted(V2_CASES))
def test_check_finds_an_inconsistency_planted_in_v2_metadata(run_cli, v2_root: Path, case: str) -> None:  # type: ignore[no-untyped-def]
    relative, old, new, expected = V2_CASES[case]
    _edit(v2_root / relative, old, new)

    result = run_cli("check", "--project", str(v2_root), "-o", "json")

    assert result.exit_code == 1, result.stdout + result.stderr
    assert _findings(result.stdout, v2_root) == sorted(expected)


def test_status_of_a_config_v2_project_lists_its_migrations(run_cli, v2_root: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("status", "--project", str(v2_root), "-o", "json")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["result"]
    assert (report["config_version"], report["layout"], report["findings"]) == (2, "v2", [])
    [database] = report["databases"]
    assert database["database"] == "default"
    assert Path(database["directory"]).resolve() == (v2_root / "migrations").resolve()
    assert [m["version"] for m in database["migrations"]] == [1700000000000, 1700000000001, 1700000000002]


def test_squash_of_a_config_v2_project_then_status_check_and_squash_check(run_cli, v2_root: Path) -> None:  # type: ignore[no-untyped-def]
    squash = run_cli("squash", "--project", str(v2_root))
    assert squash.exit_code == 0, squash.stdout + squash.stderr
    assert "verified:      schema identical, rows identical" in squash.stdout

    migrations = v2_root / "migrations"
    assert sorted(path.name for path in migrations.iterdir()) == [
        "1700000000002_squashed",
        "squashed_1700000000000_to_1700000000002",
    ]
    status = json.loads(run_cli("status", "--project", str(v2_root), "-o", "json").stdout)["result"]
    assert [m["version"] for m in status["databases"][0]["migrations"]] == [1700000000002]
    check = run_cli("check", "--project", str(v2_root), "-o", "json")
    assert check.exit_code == 0, check.stdout + check.stderr
    runs = {run["name"]: run["status"] for run in json.loads(check.stdout)["result"]["checks"]}
    assert runs["archives"] == runs["tracking"] == runs["permissions"] == "passed"
    again = run_cli("squash", "--check", "--project", str(v2_root))
    assert again.exit_code == 0, again.stdout + again.stderr


def test_status_and_check_warn_about_nhost_keys_and_exit_0(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, _ = build_case("config_unknown_key", tmp_path / "project")

    status = run_cli("status", "--project", str(root))
    check = run_cli("check", "--project", str(root))
    strict = run_cli("check", "--project", str(root), "--fail-on", "warning")

    assert status.exit_code == 0, status.stderr
    assert check.exit_code == 0, check.stderr
    assert strict.exit_code == 1
    for output in (status.stdout, check.stdout):
        assert (
            f"warning [config-unknown-key] {root / 'config.yaml'}:8: unknown key 'services' in config.yaml: "
            "the Hasura CLI ignores it, and so does kedge-hasura\n"
        ) in output
    assert re.search(r"^config +passed \(3 warnings\)$", check.stdout, re.M), check.stdout
    assert re.search(r"^permissions +passed$", check.stdout, re.M)
    assert "check: ok (0 errors, 3 warnings, 0 infos; fail on error)" in check.stdout
