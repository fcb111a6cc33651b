"""Generated real-world-shaped histories, squashed through the CLI and checked by an independent oracle.

Each case writes a seeded history (tests/pg/histgen.py), runs `kedge-hasura -o json squash` on a
copy, then replays the originals with psql and the squashed up.sql with psql and requires
`pg_dump --schema-only` of both to be the same text and every table's rows to be the same,
except the columns and tables squash itself reported as frozen or non-deterministic
(tests/pg/oracle.py). Cases that fail on today's code are marked xfail(strict=True) with the item
of issue 11 they show, so a fix turns them into XPASS failures until the mark is removed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from . import oracle
from .histgen import EVERYTHING, GeneratedHistory, Shape, write_history

PLAIN = Shape(migrations=25)

# name -> (shape, xfail reason or None). Seeds differ so every case is a distinct history.
CASES: dict[str, tuple[Shape, str | None]] = {
    "plain_tables_and_rows": (PLAIN.only(seed=101), None),
    "several_schemas_renames_drops": (
        PLAIN.only(seed=102, migrations=40, schemas=("public", "app", "reporting"), renames=True, drops=True),
        None,
    ),
    "enums_domains_composites": (PLAIN.only(seed=103, enums=True, domains=True, composites=True), None),
    "views_on_views": (PLAIN.only(seed=104, migrations=30, views=True), None),
    "setof_functions_on_tables": (
        PLAIN.only(seed=105, migrations=30, views=True, setof_functions=True),
        None,
    ),
    "setof_functions_on_views": (
        PLAIN.only(seed=205, migrations=30, views=True, setof_functions=True),
        None,
    ),
    "functions_over_row_types_domains_enums": (
        PLAIN.only(seed=131, enums=True, domains=True, typed_functions=True),
        None,
    ),
    "triggers_and_function_defaults": (
        PLAIN.only(seed=106, migrations=30, triggers=True, functions=True),
        None,
    ),
    "row_level_security_policies": (PLAIN.only(seed=107, policies=True), None),
    "partitioned_tables": (PLAIN.only(seed=108, partitions=True), None),
    "pg_dump_style_first_migration": (PLAIN.only(seed=109, pg_dump_init=True), None),
    "explicit_transactions_and_do_blocks": (
        PLAIN.only(seed=110, migrations=30, explicit_transactions=True, do_blocks=True),
        None,
    ),
    "crlf_files": (PLAIN.only(seed=111, migrations=30, crlf=True), None),
    "crlf_inside_function_body": (PLAIN.only(seed=112, function_crlf=True), None),
    "reserved_and_unicode_identifiers": (
        PLAIN.only(seed=113, migrations=40, odd_identifiers=True, schemas=("public", "Straße")),
        None,
    ),
    "ten_then_thirteen_digit_versions": (PLAIN.only(seed=114, digits=(10, 13)), None),
    "now_and_random_uuid_defaults": (PLAIN.only(seed=115, volatile_defaults=True), None),
    "data_migrations_update_delete": (PLAIN.only(seed=116, migrations=30, data_migrations=True), None),
    "in_lists_on_varchar_and_char": (PLAIN.only(seed=117, in_lists=True), None),
    "between_checks": (PLAIN.only(seed=118, between=True), None),
    "array_literals_with_casts": (PLAIN.only(seed=119, array_casts=True), None),
    "like_any_checks": (PLAIN.only(seed=120, like_any=True), None),
    "defaults_with_casts": (PLAIN.only(seed=121, cast_defaults=True), None),
    "more_than_fifty_tables": (PLAIN.only(seed=122, migrations=60, table_weight=100.0), None),
    # Shows item 3 first; CR LF function bodies (item 2) and IN lists (item 5) are in it too.
    "everything_at_once": (EVERYTHING.only(seed=123, migrations=120), None),
}


def _params() -> list[Any]:
    return [
        pytest.param(name, marks=[pytest.mark.xfail(strict=True, reason=reason)] if reason else [], id=name)
        for name, (_, reason) in CASES.items()
    ]


def generate(tmp_path: Path, shape: Shape) -> tuple[GeneratedHistory, Path]:
    """The history at tmp_path/original (kept pristine for the oracle) and a copy to squash."""
    history = write_history(tmp_path / "original", shape)
    work = tmp_path / "work"
    shutil.copytree(history.root, work)
    return history, work


def squash_json(run_cli: Any, project: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """`kedge-hasura -o json --project P squash ARGS`: exit code, the JSON envelope, stderr."""
    result = run_cli("-o", "json", "--project", str(project), "squash", *args)
    envelope = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, envelope, result.stderr


def squash_and_check(run_cli: Any, pg_cluster: Any, history: GeneratedHistory, work: Path) -> dict[str, Any]:
    code, envelope, stderr = squash_json(run_cli, work)
    error = json.dumps(envelope.get("error"), indent=1)[:3000]
    assert code == 0, f"squash exited {code}:\n{stderr[:3000]}\n{error}"
    result = envelope["result"]
    assert result["written"] and result["verification"]["verified"]
    squashed_up = Path(result["folder"]) / "up.sql"
    report = oracle.check_squash(pg_cluster, [f / "up.sql" for f in history.folders], squashed_up, result)
    assert report.tables_compared > 0 or not history.folders
    assert report.ok, report.explain()
    return result


@pytest.mark.parametrize("case", _params())
def test_generated_history_squashes_to_the_same_database(
    case: str, tmp_path: Path, pg_cluster: Any, use_session_server: str, run_cli: Any
) -> None:
    shape, _ = CASES[case]
    history, work = generate(tmp_path, shape)
    result = squash_and_check(run_cli, pg_cluster, history, work)
    # Frozen values are named, never compared as identical (they differ on every replay).
    assert history.volatile_columns - history_random_columns(history) <= set(result["frozen_values"])


def history_random_columns(history: GeneratedHistory) -> set[str]:
    """Columns of tables with random row counts (reported as a table, not necessarily per column)."""
    return {c for c in history.volatile_columns if c.rsplit(".", 1)[0] in history.random_tables}


# -- histories that are never the same twice (issue 11 item 4 is tested on every run) -------------

NONDETERMINISTIC: dict[str, Shape] = {
    "random_row_counts": PLAIN.only(seed=201, random_row_counts=True),
    "random_row_counts_with_volatile_defaults_and_updates": PLAIN.only(
        seed=202, migrations=40, random_row_counts=True, volatile_defaults=True, data_migrations=True
    ),
}


@pytest.mark.parametrize("case", sorted(NONDETERMINISTIC))
def test_random_row_counts_are_named_excluded_and_checked_the_same_way(
    case: str, tmp_path: Path, pg_cluster: Any, use_session_server: str, run_cli: Any
) -> None:
    history, work = generate(tmp_path, NONDETERMINISTIC[case])
    assert history.random_tables, "the generator must have written a random row count"
    result = squash_and_check(run_cli, pg_cluster, history, work)
    _, reported = oracle.reported_exclusions(result)
    assert history.random_tables <= reported
    for _ in range(3):  # squash and squash --check reach the same verdict every time
        code, envelope, stderr = squash_json(run_cli, work, "--check")
        assert code == 0, stderr + json.dumps(envelope.get("error"))


# -- a history that was squashed before (issue 11 item 6) ------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_squashed_history_with_newer_migrations_squashes_again(
    tmp_path: Path, pg_cluster: Any, use_session_server: str, run_cli: Any
) -> None:
    history, work = generate(tmp_path, PLAIN.only(seed=301, migrations=30, views=True, renames=True))
    middle = history.folders[len(history.folders) // 2].name.split("_", 1)[0]
    code, _, stderr = squash_json(run_cli, work, "--to", middle, "--name", "first")
    assert code == 0, stderr
    result = squash_and_check(run_cli, pg_cluster, history, work)
    database = work / "migrations" / "default"
    live = [p for p in database.iterdir() if p.is_dir() and p.name[0].isdigit()]
    assert [p.name for p in live] == [Path(result["folder"]).name]
    archived = {p.read_bytes() for p in database.rglob("up.sql") if p.parent.parent != database}
    assert {(f / "up.sql").read_bytes() for f in history.folders} <= archived  # every original kept


def test_squash_of_a_squashed_history_writes_nothing(
    tmp_path: Path, use_session_server: str, run_cli: Any
) -> None:
    _, work = generate(tmp_path, PLAIN.only(seed=302, migrations=12))
    code, _, stderr = squash_json(run_cli, work)
    assert code == 0, stderr
    before = _tree(work)
    code, _, stderr = squash_json(run_cli, work)  # nothing left to squash: say so, write nothing
    assert code == 0, stderr
    assert _tree(work) == before


# -- histories that do not replay (three of the ten real ones: bench/RESULTS.md) ------------------

BROKEN: dict[str, Shape] = {
    # PickUpBois/PickUpHasura (postgis) and Mission-Prerna/nl-hasura-migrations (timescaledb)
    "extension_the_server_lacks": PLAIN.only(seed=401, migrations=12, breaks_with="0A000"),
    # vvdr/connectin-hasura-migrations: a table created outside the migrations
    "table_created_outside_the_migrations": PLAIN.only(seed=402, migrations=12, breaks_with="42P01"),
}


def _facts(node: object) -> dict[str, Any]:
    """The first dict in the error envelope that names a file (MigrationFailed's details)."""
    if isinstance(node, dict):
        if "file" in node and "sqlstate" in node:
            return node
        for value in node.values():
            found = _facts(value)
            if found:
                return found
    return {}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_history_that_does_not_replay_is_refused_naming_file_line_and_sqlstate(
    case: str, tmp_path: Path, pg_cluster: Any, use_session_server: str, run_cli: Any
) -> None:
    shape = BROKEN[case]
    history, work = generate(tmp_path, shape)
    assert history.broken is not None
    with (
        pg_cluster.database("broken") as database,
        pytest.raises(oracle.ReplayFailed, match=shape.breaks_with),
    ):
        oracle.replay_originals(pg_cluster, database.conninfo, [f / "up.sql" for f in history.folders])
    before = _tree(work)
    code, envelope, stderr = squash_json(run_cli, work)
    assert code == 3, stderr
    facts = _facts(envelope.get("error"))
    broken = work / history.broken.relative_to(history.root)
    assert (Path(facts.get("file", "")), facts.get("line"), facts.get("sqlstate")) == (
        broken,
        3,
        shape.breaks_with,
    )
    assert _tree(work) == before  # project untouched


# -- config v2 projects (four of the ten real ones) and empty up.sql files --------------------------


def test_config_v2_history_squashes_to_the_same_database(
    tmp_path: Path, pg_cluster: Any, use_session_server: str, run_cli: Any
) -> None:
    history, work = generate(tmp_path, PLAIN.only(seed=501, config=2, views=True, renames=True))
    assert history.database == history.root / "migrations"
    result = squash_and_check(run_cli, pg_cluster, history, work)
    assert Path(result["folder"]).parent == work / "migrations"


def test_config_v2_metadata_layout_passes_check(
    tmp_path: Path, use_session_server: str, run_cli: Any
) -> None:
    history, _ = generate(tmp_path, PLAIN.only(seed=502, migrations=6, config=2))
    result = run_cli("-o", "json", "--project", str(history.root), "check")
    assert result.exit_code == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_empty_up_sql_is_refused_naming_the_migration(
    tmp_path: Path, use_session_server: str, run_cli: Any
) -> None:
    # vvdr/connectin-hasura-migrations has three console-made migrations with a 0-byte up.sql
    history, work = generate(tmp_path, PLAIN.only(seed=503, migrations=10, empty_up=True))
    empty = next(f for f in history.folders if not (f / "up.sql").read_bytes())
    before = _tree(work)
    code, envelope, stderr = squash_json(run_cli, work)
    assert code == 3, stderr
    assert empty.name in json.dumps(envelope.get("error")) + stderr
    assert _tree(work) == before
