"""Squashing a history that was squashed before (issue 11 item 6).

Squash twice: the second squash holds the first one's migration and the newer ones in one flat
archive whose manifest links to the first archive, so every original stays reachable: `archive
verify` checks the links, `archive restore` of the newest archive puts back every original of the
chain, `squash --check` replays the true originals, and squashing again with nothing new writes
nothing. (The deploy planner over a chain: tests/unit/actions/test_deploy_plan.py.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.squash.run import SquashResult
from kedge_hasura.pg.scratch import ScratchCluster

from .squash_helpers import SQUASH_FIXTURES, run_squash

pytestmark = pytest.mark.usefixtures("use_session_server")

CASE = "enums"  # four migrations: a schema, an enum type and its new values, two tables, seed rows
FIRST, SECOND, LAST = 1720000100000, 1720000200000, 1720000300000
EARLIER = f"squashed_1720000000000_to_{FIRST}"
LATER = f"squashed_{FIRST}_to_{LAST}"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _run(run_cli: Any, root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("-o", "json", "--project", str(root), *args)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}, result.stderr


@pytest.fixture(scope="module")
def squashed_twice_once(tmp_path_factory: pytest.TempPathFactory, pg_cluster: ScratchCluster) -> Path:
    """The case squashed up to FIRST (`--name first`), then squashed whole again (made once)."""
    root = tmp_path_factory.mktemp("squashed-twice") / "hasura"
    shutil.copytree(SQUASH_FIXTURES / CASE, root)
    first = run_squash(root, pg_cluster, to_version=FIRST, name="first")
    second = run_squash(root, pg_cluster)
    assert isinstance(first, SquashResult) and isinstance(second, SquashResult)
    assert first.written and second.written
    return root


@pytest.fixture
def squashed_twice(squashed_twice_once: Path, tmp_path: Path) -> Path:
    """A private copy of the project squashed twice."""
    return Path(shutil.copytree(squashed_twice_once, tmp_path / "hasura"))


def test_the_second_squash_archives_flat_and_links_to_the_first(squashed_twice: Path) -> None:
    database = squashed_twice / "migrations" / "default"

    assert sorted(p.name for p in database.iterdir()) == [f"{LAST}_squashed", EARLIER, LATER]
    later = json.loads((database / LATER / "MANIFEST.json").read_text())
    assert later["earlier_archives"] == [EARLIER]
    assert later["migrations"][0]["name"] == "first"  # the first squash's migration
    assert sorted(p.name for p in (database / LATER).iterdir()) == [
        f"{FIRST}_first",
        f"{SECOND}_create_payment_method_enum_table",
        f"{LAST}_seed_orders",
        "MANIFEST.json",
    ]
    header = (database / f"{LAST}_squashed" / "up.sql").read_text()
    assert (
        f"-- {FIRST}_first was written by an earlier squash; its originals are archived in {EARLIER}/."
        in header
    )
    earlier = json.loads((database / EARLIER / "MANIFEST.json").read_text())
    assert earlier["consolidated"]["folder"] == f"{FIRST}_first"  # untouched by the second squash
    # Every original of the fixture is still kept, byte for byte, somewhere in the chain.
    originals = {
        p.relative_to(SQUASH_FIXTURES / CASE / "migrations" / "default").as_posix(): p.read_bytes()
        for p in (SQUASH_FIXTURES / CASE / "migrations" / "default").rglob("*.sql")
    }
    kept = {**_tree(database / EARLIER), **_tree(database / LATER)}
    assert all(kept.get(path) == text for path, text in originals.items() if not path.startswith(str(FIRST)))
    assert (
        kept[f"{FIRST}_add_shipped_and_cancelled_statuses/up.sql"]
        == originals[f"{FIRST}_add_shipped_and_cancelled_statuses/up.sql"]
    )


def test_verify_and_squash_check_follow_the_chain(squashed_twice: Path, run_cli: Any) -> None:
    code, verified, stderr = _run(run_cli, squashed_twice, "archive", "verify")
    assert code == 0, stderr
    assert [a["chain_problems"] for a in verified["result"]["archives"]] == [[], []]

    code, checked, stderr = _run(run_cli, squashed_twice, "squash", "--check")
    assert code == 0, stderr + json.dumps(checked.get("error"))
    items = {Path(item["archive"]).name: item for item in checked["result"]["items"]}
    assert {name: item["equivalent"] for name, item in items.items()} == {EARLIER: True, LATER: True}
    assert items[EARLIER]["consolidated"] == f"{FIRST}_first"  # found in the later archive


def test_squashing_again_with_nothing_new_writes_nothing(squashed_twice: Path, run_cli: Any) -> None:
    before = _tree(squashed_twice)

    code, envelope, stderr = _run(run_cli, squashed_twice, "squash")
    text = run_cli("--project", str(squashed_twice), "squash", "--dry-run")

    assert code == 0, stderr
    assert envelope["result"]["written"] is False
    assert envelope["result"]["reason"].startswith(f"the range holds only {LAST}_squashed")
    assert Path(envelope["result"]["earlier_archive"]).name == LATER
    assert text.exit_code == 0 and text.stdout.startswith("nothing to squash: ")
    assert _tree(squashed_twice) == before


def test_an_explicit_empty_range_stays_a_usage_error(squashed_twice: Path, run_cli: Any) -> None:
    before = _tree(squashed_twice)

    code, envelope, _ = _run(run_cli, squashed_twice, "squash", "--from", "1", "--to", "2")

    assert code == 2
    assert envelope["error"]["type"] == "UsageError"
    assert _tree(squashed_twice) == before


def test_restoring_the_newest_archive_restores_every_original_of_the_chain(
    squashed_twice: Path, run_cli: Any
) -> None:
    database = squashed_twice / "migrations" / "default"

    code, _, stderr = _run(run_cli, squashed_twice, "archive", "restore", LATER)

    assert code == 0, stderr
    assert _tree(database) == _tree(SQUASH_FIXTURES / CASE / "migrations" / "default")


def test_restoring_the_earlier_archive_alone_is_refused_and_names_the_later_one(
    squashed_twice: Path, run_cli: Any
) -> None:
    before = _tree(squashed_twice)

    code, envelope, _ = _run(run_cli, squashed_twice, "archive", "restore", EARLIER)

    assert code == 2
    assert LATER in envelope["error"]["message"] and LATER in envelope["error"]["hint"]
    assert _tree(squashed_twice) == before


def test_a_missing_earlier_archive_breaks_the_chain_verify_says_so(
    squashed_twice: Path, run_cli: Any
) -> None:
    shutil.rmtree(squashed_twice / "migrations" / "default" / EARLIER)

    code, envelope, _ = _run(run_cli, squashed_twice, "archive", "verify")
    restored, _, _ = _run(run_cli, squashed_twice, "archive", "restore", LATER)
    checked = run_cli("-o", "json", "--project", str(squashed_twice), "check")

    assert code == 1
    (later,) = envelope["result"]["archives"]
    missing = f"{LATER} links to the earlier squash's archive {EARLIER}, which is missing"
    assert later["chain_problems"] == [missing]
    assert restored == 3  # refused: the chain's originals are not all reachable
    assert missing in checked.stdout and "archive-chain-broken" in checked.stdout


def test_a_dry_run_from_the_archive_squashes_every_original_of_the_chain(
    squashed_twice: Path, run_cli: Any
) -> None:
    code, envelope, stderr = _run(run_cli, squashed_twice, "squash", "--dry-run", "--from-archive")

    assert code == 0, stderr
    originals = sorted((SQUASH_FIXTURES / CASE / "migrations" / "default").iterdir())
    assert envelope["result"]["migrations"] == [p.name for p in originals]


def test_no_archive_is_refused_when_the_range_holds_an_earlier_squash_s_migration(
    tmp_path: Path, run_cli: Any
) -> None:
    root = tmp_path / "hasura"
    shutil.copytree(SQUASH_FIXTURES / CASE, root)
    code, _, stderr = _run(run_cli, root, "squash", "--to", str(FIRST), "--name", "first")
    assert code == 0, stderr
    before = _tree(root)

    code, envelope, _ = _run(run_cli, root, "squash", "--no-archive")

    assert code == 2
    assert f"the range holds {FIRST}_first, which an earlier squash wrote" in envelope["error"]["message"]
    assert _tree(root) == before


def test_a_database_whose_migrations_are_all_archived_has_nothing_to_squash(
    tmp_path: Path, run_cli: Any
) -> None:
    root = tmp_path / "hasura"
    shutil.copytree(SQUASH_FIXTURES / CASE, root)
    code, _, stderr = _run(run_cli, root, "archive", "create", "--database", "default")
    assert code == 0, stderr
    before = _tree(root)

    code, envelope, stderr = _run(run_cli, root, "squash")

    assert code == 0, stderr
    assert envelope["result"]["reason"] == "database default has no migrations"
    assert envelope["result"]["migrations"] == []
    assert _tree(root) == before
