"""Seed files (`hasura/seeds/<database>/*.sql`): `status` lists them, `check` replays them after the
migrations and reports a seed that no longer fits the schema at its file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("use_session_server")

_GOOD = (
    "INSERT INTO kedge_practice.knowledge_points (code, title, subject)\n"
    "VALUES (gen_random_uuid()::text, 'seeded', 'math');\n"
)


def _seed(project: Path, name: str, sql: str, folder: str = "seeds/default") -> Path:
    path = project / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql, encoding="utf-8")
    return path


def test_status_lists_the_seeds_in_apply_order(run_cli, shipped_project: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(shipped_project, "1700000000002_second.sql", _GOOD)
    _seed(shipped_project, "1700000000001_first.sql", _GOOD)
    _seed(shipped_project, "README.md", "not a seed")

    text = run_cli("status", cwd=shipped_project.parent)
    data = run_cli("-o", "json", "status", cwd=shipped_project.parent)

    assert text.exit_code == 0, text.stderr
    assert (
        "seeds: 2 files in hasura/seeds/default: 1700000000001_first.sql, 1700000000002_second.sql"
        in text.stdout
    )
    seeds = json.loads(data.stdout)["result"]["databases"][0]["seeds"]
    assert [Path(seed["path"]).name for seed in seeds] == [
        "1700000000001_first.sql",
        "1700000000002_second.sql",
    ]
    assert all(seed["statements"] == 1 and len(seed["sha256"]) == 64 for seed in seeds)


def test_check_replays_seeds_after_the_migrations(run_cli, shipped_project: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(shipped_project, "1700000000001_points.sql", _GOOD * 2)

    result = run_cli("-o", "json", "check", cwd=shipped_project.parent)

    assert result.exit_code == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["result"]["checks"]}
    assert checks["seeds"]["status"] == "passed"


def test_a_seed_that_no_longer_fits_fails_check_at_its_file_and_line(run_cli, shipped_project: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(shipped_project, "1700000000001_ok.sql", _GOOD)
    bad = _seed(
        shipped_project,
        "1700000000002_renamed.sql",
        "-- written before the column was renamed\n"
        + _GOOD
        + "INSERT INTO kedge_practice.knowledge_points (code, name)\n"
        "VALUES ('stale', 'stale');\n",
    )
    # runs after the failing one in name order, and must not be reported: replay stops at the first failure
    _seed(shipped_project, "1700000000003_later.sql", "SELECT 1/0;\n")

    result = run_cli("-o", "json", "check", cwd=shipped_project.parent)

    assert result.exit_code == 1, result.stdout + result.stderr
    document = json.loads(result.stdout)["result"]
    (finding,) = [f for f in document["findings"] if f["check"] == "seeds"]
    assert finding["code"] == "seed-replay-failed"
    assert Path(finding["path"]).resolve() == bad.resolve()
    assert finding["line"] == 4
    assert 'column "name" of relation "knowledge_points" does not exist' in finding["message"]
    # the metadata checks ran on what the migrations built: nothing else fails
    assert {f["check"] for f in document["findings"]} == {"seeds"}


def test_seeds_directory_and_config_v2_layout_are_read_as_the_cli_reads_them(
    run_cli, shipped_project: Path
) -> None:  # type: ignore[no-untyped-def]
    config = shipped_project / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "seeds_directory: data/seeds\n", encoding="utf-8")
    _seed(
        shipped_project,
        "1700000000001_bad.sql",
        "INSERT INTO nowhere VALUES (1);\n",
        folder="data/seeds/default",
    )
    _seed(
        shipped_project, "1700000000001_ignored.sql", "INSERT INTO nowhere VALUES (1);\n"
    )  # default folder: unused

    result = run_cli("-o", "json", "check", cwd=shipped_project.parent)

    findings = json.loads(result.stdout)["result"]["findings"]
    assert [Path(f["path"]).name for f in findings] == ["1700000000001_bad.sql"]
    assert "config-unknown-key" not in {f["code"] for f in findings}
