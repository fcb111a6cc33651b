"""Round trip of every fixture history through `squash`, with both strategies.

For each tests/fixtures/squash/<case> and each strategy: squash a private copy, then check what was
written (the new migration, the archive and its MANIFEST.json) against the pristine fixture, apply
the new up.sql on a fresh database and compare it with a fresh replay of the originals (schema,
rows and sequence positions), squash the dump strategy's histories again for byte-identical output,
and run `squash --check` on the result.

What a case expects beyond these common checks lives beside it, in
tests/fixtures/squash/<case>/expected.yaml (`squash_helpers.CaseExpectations`). A combination that
reveals a bug keeps asserting the correct outcome and is listed under the case's `bugs` (strict
xfail): fixing the bug turns it into a failure that asks for the entry to be removed.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura import __version__
from kedge_hasura.actions.squash.run import SquashResult
from kedge_hasura.errors import MigrationFailed
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.words import plural

from .squash_helpers import (
    CASES,
    SECTION_TITLES,
    SQUASH_FIXTURES,
    CaseExpectations,
    compare_databases,
    copy_case,
    expectations,
    explain,
    fresh_database,
    header_lines,
    leftovers,
    migrations_dir,
    original_migrations,
    pre_sql_of,
    run_squash,
    section_titles,
    sha256_bytes,
    tree_digest,
)

STRATEGIES = ("dump", "concat")
# concat joins the files' text, so its round trip is run on the cases whose text shapes matter to
# joining (explicit BEGIN/COMMIT and CRLF, preconditions, function bodies, enum labels, generated
# and printed expressions, extensions); dump, which rebuilds everything, runs on every case. The
# suite must stay under ten minutes on two cores (the other concat runs cost about 80 s).
CONCAT_CASES = {
    "irregular", "pre_sql", "functions_and_triggers", "enums", "generated_values", "printed_forms",
    "extensions", "created_then_dropped",
}  # fmt: skip


def _params() -> list[Any]:
    params = []
    for case in CASES:
        expected = expectations(case)
        for strategy in STRATEGIES:
            if strategy in expected.refused_strategies:
                continue
            if strategy == "concat" and case not in CONCAT_CASES:
                continue
            marks = (
                [
                    pytest.mark.xfail(
                        strict=True, raises=MigrationFailed, reason=f"BUG: {expected.bugs[strategy]}"
                    )
                ]
                if strategy in expected.bugs
                else []
            )
            params.append(pytest.param(case, strategy, id=f"{case}-{strategy}", marks=marks))
    return params


@pytest.mark.parametrize(("case", "strategy"), _params())
def test_squash_round_trip(
    case: str,
    strategy: str,
    tmp_path: Path,
    pg_cluster: ScratchCluster,
    use_session_server: str,
    run_cli: Any,
) -> None:
    root = copy_case(case, tmp_path)
    expected = expectations(case)
    originals = original_migrations(case)
    first, last = (int(p.name.split("_", 1)[0]) for p in (originals[0], originals[-1]))

    result = run_squash(root, pg_cluster, strategy=strategy)

    # Verified, written, nothing left over.
    assert result.verification.verified and result.verification.data_identical
    assert result.written and not result.dry_run
    assert result.migrations == [p.name for p in originals]
    assert (result.from_version, result.to_version) == (first, last)
    assert leftovers(root) == []
    folder = migrations_dir(root) / f"{last}_squashed"
    archive = migrations_dir(root) / f"squashed_{first}_to_{last}"
    assert sorted(p.name for p in migrations_dir(root).iterdir()) == sorted([folder.name, archive.name])
    assert result.folder == folder and result.archive_folder == archive
    up_sql = (folder / "up.sql").read_text(encoding="utf-8")
    down_sql = (folder / "down.sql").read_text(encoding="utf-8")
    assert (up_sql, down_sql) == (result.up_sql, result.down_sql)
    assert result.frozen_values == expected.frozen_values
    assert result.verification.schema_identical and not result.verification.equivalent_only

    _check_archive(case, archive, result, pg_cluster.major)
    _check_downs_reported(expected, strategy, result)
    for text in expected.not_in_up:
        assert text not in up_sql
        assert text not in down_sql
    if strategy == "dump":
        _check_dump_text(case, expected, up_sql, down_sql, pg_cluster.major)
        for text in expected.dump_contains:
            assert text in up_sql
        for text in expected.dump_warnings_mention:
            assert any(text in warning for warning in result.warnings), result.warnings
    else:
        _check_concat_text(case, up_sql, down_sql)

    _check_on_fresh_databases(case, pg_cluster, up_sql, result.frozen_values)

    if strategy == "dump" and not result.frozen_values:
        # The same history squashed again gives the same bytes. (Without verification, to save
        # time: only the header's sentence about verification may differ. Forms that print back
        # as the originals' definitions are only substituted once a replay proves them.)
        again = run_squash(
            copy_case(case, tmp_path / "again"),
            pg_cluster,
            strategy=strategy,
            dry_run=True,
            verify=expected.round_trip_forms,
        )
        assert _without_verification_claim(again.up_sql) == _without_verification_claim(up_sql)
        assert again.down_sql == down_sql

    checked = run_cli("--project", str(root), "squash", "--check")
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert "squash check: ok" in checked.stdout


def test_concat_refuses_an_enum_label_used_in_a_later_migration(
    tmp_path: Path, pg_cluster: ScratchCluster
) -> None:
    """Joined into one transaction, `ADD VALUE 'shipped'` and an INSERT using it fail (55P04):
    the verification catches it and nothing is written. (The dump strategy squashes it fine.)"""
    root = copy_case("enums", tmp_path)
    before = tree_digest(root)

    with pytest.raises(MigrationFailed) as failure:
        run_squash(root, pg_cluster, strategy="concat")

    assert failure.value.sqlstate == "55P04"
    assert "shipped" in failure.value.pg_message
    assert tree_digest(root) == before
    assert leftovers(root) == []


# -- checks -------------------------------------------------------------------------------------


def _check_archive(case: str, archive: Path, result: SquashResult, major: int) -> None:
    """The archive holds the original files byte for byte, and MANIFEST.json describes them."""
    pristine = migrations_dir(SQUASH_FIXTURES / case)
    archived = tree_digest(archive)
    manifest_sha = archived.pop("MANIFEST.json")
    assert archived == tree_digest(pristine)

    manifest = json.loads((archive / "MANIFEST.json").read_text(encoding="utf-8"))
    assert sha256_bytes((archive / "MANIFEST.json").read_bytes()) == manifest_sha
    originals = original_migrations(case)
    assert [(m["version"], m["name"]) for m in manifest["migrations"]] == [
        (int(p.name.split("_", 1)[0]), p.name.split("_", 1)[1]) for p in originals
    ]
    for entry, folder in zip(manifest["migrations"], originals, strict=True):
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        assert sorted((f["path"], f["size"], f["sha256"]) for f in entry["files"]) == [
            (
                f"{folder.name}/{p.relative_to(folder).as_posix()}",
                p.stat().st_size,
                sha256_bytes(p.read_bytes()),
            )
            for p in files
        ]
    assert manifest["tool"] == f"kedge-hasura {__version__}"
    created = datetime.fromisoformat(manifest["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=10)
    assert manifest["database"] == "default"
    assert (manifest["from_version"], manifest["to_version"]) == (result.from_version, result.to_version)
    assert manifest["strategy"] == result.strategy
    assert manifest["postgres_major"] == major
    assert manifest["frozen_values"] == result.frozen_values
    assert manifest["pre_sql"] == ("pre.sql" if pre_sql_of(SQUASH_FIXTURES / case) else None)
    assert manifest["consolidated"] == {
        "version": result.to_version,
        "name": "squashed",
        "folder": f"{result.to_version}_squashed",
        "up_sha256": sha256_bytes(result.up_sql.encode()),
        "down_sha256": sha256_bytes(result.down_sql.encode()),
    }


def _check_downs_reported(expected: CaseExpectations, strategy: str, result: SquashResult) -> None:
    missing = expected.missing_downs
    if strategy == "concat" and missing:
        assert result.verification.down_verified is None
        (warning,) = [w for w in result.warnings if "without down.sql" in w]
        assert warning.startswith(plural(len(missing), "migration") + " without down.sql")
        for key in missing:
            assert key in warning
            assert f"-- kedge: {key} has no down.sql" in result.down_sql
    else:
        # The dump strategy verifies its own generated down.sql even when originals lack one.
        assert result.verification.down_verified is True
        assert not any("without down.sql" in w for w in result.warnings)


def _check_dump_text(case: str, expected: CaseExpectations, up_sql: str, down_sql: str, major: int) -> None:
    lines = up_sql.splitlines()
    # Runs through Hasura's run_sql: no psql meta-commands, no COPY, no session SET.
    assert not [line for line in lines if line.startswith("\\")]
    assert not [line for line in lines if re.match(r"\s*COPY\b", line, re.IGNORECASE)]
    assert "set_config(" not in up_sql
    sets = [line for line in lines if re.match(r"\s*SET\b", line, re.IGNORECASE)]
    for line in sets:  # only SET LOCAL, and each change undone by the next SET of that setting
        assert re.fullmatch(r"SET LOCAL (check_function_bodies|default_table_access_method) = \w+;", line), (
            sets
        )
    bodies = [line.split(" = ")[1] for line in sets if "check_function_bodies" in line]
    assert bodies == ["off;", "on;"] * (len(bodies) // 2), sets
    methods = [line.split(" = ")[1] == "heap;" for line in sets if "default_table_access_method" in line]
    assert methods == [False, True] * (len(methods) // 2), sets

    # Sections: known titles, each once, in the documented order.
    titles = section_titles(up_sql)
    assert set(titles) <= set(SECTION_TITLES), titles
    if expected.dump_sections is not None:
        assert titles == expected.dump_sections
    else:
        positions = [SECTION_TITLES.index(title) for title in titles]
        assert positions == sorted(set(positions)), titles

    # Header: tool, strategy, PostgreSQL major, and every original with the sha256 of its up.sql.
    header = header_lines(up_sql)
    assert f"kedge-hasura {__version__}" in header[0] and "dump strategy" in header[0]
    assert f"PostgreSQL {major}" in header[0]
    frozen = [line for line in header if line.startswith("Values frozen at squash time")]
    assert frozen == (
        [f"Values frozen at squash time (different on every replay): {', '.join(expected.frozen_values)}"]
        if expected.frozen_values
        else []
    )
    listed = [tuple(line.strip().rsplit("  ", 1)) for line in header if line.startswith("  ")]
    assert listed == [(p.name, sha256_bytes((p / "up.sql").read_bytes())) for p in original_migrations(case)]

    # Rows: one multi-row INSERT with a column list per table (the fixtures hold < 100 rows each).
    inserts = [line for line in lines if line.startswith("INSERT INTO ")]
    for line in inserts:
        assert re.fullmatch(r"INSERT INTO \S+ \([^)]+\)( OVERRIDING SYSTEM VALUE)? VALUES", line), line
    tables = [line.split()[2] for line in inserts]
    assert len(tables) == len(set(tables)), tables

    # down.sql leaves what existed before alone, and never cascades.
    statements = [line for line in down_sql.splitlines() if not line.startswith("--")]
    assert not [line for line in statements if "CASCADE" in line]
    assert not [line for line in statements if "public;" in line or "pgcrypto" in line]


def _check_concat_text(case: str, up_sql: str, down_sql: str) -> None:
    """Up parts ascending and down parts descending, each after a comment naming its version."""
    originals = original_migrations(case)
    position = 0
    for folder in originals:
        marker = f"-- kedge: from {folder.name}\n"
        found = up_sql.index(marker, position)
        text = (folder / "up.sql").read_text(encoding="utf-8").rstrip()
        assert up_sql[found + len(marker) :].startswith(text)
        position = found + len(marker)
    position = 0
    for folder in reversed(originals):
        down = folder / "down.sql"
        if down.is_file() and down.stat().st_size:
            marker = f"-- kedge: undoes {folder.name}\n"
            found = down_sql.index(marker, position)
            assert down_sql[found + len(marker) :].startswith(down.read_text(encoding="utf-8").rstrip())
        else:
            marker = f"-- kedge: {folder.name} has no down.sql"
            found = down_sql.index(marker, position)
        position = found + len(marker)


def _check_on_fresh_databases(case: str, pg_cluster: ScratchCluster, up_sql: str, frozen: list[str]) -> None:
    """The new up.sql on a fresh database equals a fresh replay of the originals (schema, rows and
    sequence positions; frozen columns excepted). squash verified the down.sql itself."""
    pre = pre_sql_of(SQUASH_FIXTURES / case)
    pre_scripts = [pre.read_text(encoding="utf-8")] if pre else []
    ups = [(p / "up.sql").read_text(encoding="utf-8") for p in original_migrations(case)]
    with (
        fresh_database(pg_cluster, "originals", *pre_scripts, *ups) as originals,
        fresh_database(pg_cluster, "squashed", *pre_scripts, up_sql) as squashed,
    ):
        schema, data = compare_databases(
            originals.conninfo, squashed.conninfo, ignore_columns=frozenset(frozen)
        )
        assert schema.differences == [], explain(schema, data)
        assert data.identical, explain(schema, data)


def _without_verification_claim(up_sql: str) -> list[str]:
    return [line for line in up_sql.splitlines() if not re.match(r"-- .*\bverifi", line, re.IGNORECASE)]
