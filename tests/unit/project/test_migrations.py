"""project.migrations: the scanner of migrations/, one table case per irregularity."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kedge_hasura.findings import Finding, Severity
from kedge_hasura.project.layout import open_project
from kedge_hasura.project.migrations import MAX_VERSION, MigrationScan, scan_migrations

BuildTree = Callable[..., Path]  # fixtures make_project / build_tree (tests/unit/conftest.py)

UP = "CREATE TABLE t (a int);\n"
DOWN = "DROP TABLE t;\n"
GOOD_VERSION = 1800000000000
# Every irregular tree also holds this migration, which must load untouched.
GOOD = {
    f"migrations/default/{GOOD_VERSION}_good/up.sql": "CREATE TABLE good (id int);\n",
    f"migrations/default/{GOOD_VERSION}_good/down.sql": "DROP TABLE good;\n",
}

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Expected:
    code: str
    severity: Severity
    path: str | None  # relative to migrations/
    line: int | None = None


@dataclass(frozen=True)
class Case:
    files: dict[str, str | bytes | None]
    expected: tuple[Expected, ...]
    loads: tuple[int, ...] = (GOOD_VERSION,)  # versions of database "default", in order
    absent: tuple[str, ...] = ()  # finding codes that must not appear


def _scan(make_project: BuildTree, files: dict[str, str | bytes | None]) -> MigrationScan:
    return open_project(make_project(files)).scan_migrations()


def _shape(scan: MigrationScan, finding: Finding) -> Expected:
    path = None if finding.path is None else finding.path.relative_to(scan.root).as_posix()
    return Expected(finding.code, finding.severity, path, finding.line)


def _m(files: dict[str, str | bytes | None]) -> dict[str, str | bytes | None]:
    return {f"migrations/{key}": value for key, value in files.items()}


IRREGULAR = {
    # -- errors
    "duplicate-version-folders": Case(
        _m({"default/1_a/up.sql": UP, "default/01_b/up.sql": UP}),
        (Expected("duplicate-version", ERROR, "default/01_b"),),
    ),
    "duplicate-version-folder-and-flat-file": Case(
        _m({"default/2_a/up.sql": UP, "default/2_a.up.sql": UP}),
        (Expected("duplicate-version", ERROR, "default/2_a"),),
    ),
    "folder-without-up-sql": Case(
        _m({"default/3_a/down.sql": DOWN}),
        (Expected("missing-up", ERROR, "default/3_a"),),
    ),
    "zero-byte-up-sql": Case(
        _m({"default/3_a/up.sql": "", "default/3_a/down.sql": DOWN}),
        (Expected("missing-up", ERROR, "default/3_a"),),
    ),
    "non-utf8-sql": Case(
        _m({"default/4_a/up.sql": b"SELECT 1;\n\nSELECT 'caf\xe9';\n", "default/4_a/down.sql": DOWN}),
        (Expected("invalid-encoding", ERROR, "default/4_a/up.sql", 3),),
    ),
    "utf8-bom": Case(
        _m({"default/5_a/up.sql": b"\xef\xbb\xbf" + UP.encode(), "default/5_a/down.sql": DOWN}),
        (Expected("utf8-bom", ERROR, "default/5_a/up.sql", 1),),
        loads=(5, GOOD_VERSION),
    ),
    "version-above-uint64": Case(
        _m({f"default/{MAX_VERSION + 1}_huge/up.sql": UP}),
        (Expected("invalid-version", ERROR, f"default/{MAX_VERSION + 1}_huge"),),
    ),
    "undeclared-database": Case(
        _m({"analytics/1_a/up.sql": UP, "analytics/1_a/down.sql": DOWN}),
        (Expected("undeclared-database", ERROR, "analytics"),),
    ),
    "copy-from-stdin": Case(
        _m(
            {
                "default/6_a/up.sql": "CREATE TABLE t (a int);\nCOPY t FROM STDIN;\n",
                "default/6_a/down.sql": DOWN,
            }
        ),
        (Expected("copy-from-stdin", ERROR, "default/6_a/up.sql", 2),),
        loads=(6, GOOD_VERSION),
    ),
    # -- warnings and info
    "folder-without-numeric-prefix": Case(
        _m({"default/archive_old/1_a/up.sql": UP}),
        (Expected("ignored-folder", WARNING, "default/archive_old"),),
    ),
    "stray-up-safe-sql-in-version-folder": Case(
        _m({"default/7_a/up.sql": UP, "default/7_a/down.sql": DOWN, "default/7_a/up_safe.sql": UP}),
        (Expected("ignored-file", WARNING, "default/7_a/up_safe.sql"),),
        loads=(7, GOOD_VERSION),
    ),
    "stray-txt-in-version-folder": Case(
        _m({"default/7_a/up.sql": UP, "default/7_a/down.sql": DOWN, "default/7_a/archive_info.txt": "x"}),
        (Expected("ignored-file", WARNING, "default/7_a/archive_info.txt"),),
        loads=(7, GOOD_VERSION),
    ),
    "config-v1-up-yaml-in-version-folder": Case(
        _m({"default/7_a/up.sql": UP, "default/7_a/down.sql": DOWN, "default/7_a/up.yaml": "- type: x\n"}),
        (Expected("ignored-file", WARNING, "default/7_a/up.yaml"),),
        loads=(7, GOOD_VERSION),
    ),
    "sub-folder-in-version-folder": Case(
        _m({"default/7_a/up.sql": UP, "default/7_a/down.sql": DOWN, "default/7_a/old/up.sql": UP}),
        (Expected("ignored-folder", WARNING, "default/7_a/old"),),
        loads=(7, GOOD_VERSION),
    ),
    "stray-file-at-database-level": Case(
        _m({"default/README.md": "# notes\n"}),
        (Expected("ignored-file", WARNING, "default/README.md"),),
    ),
    "stray-sql-at-database-level": Case(
        _m({"default/seed.sql": UP}),
        (Expected("ignored-file", WARNING, "default/seed.sql"),),
    ),
    "stray-file-at-migrations-root": Case(
        _m({"notes.txt": "x"}),
        (Expected("ignored-file", WARNING, "notes.txt"),),
    ),
    "archive-folder": Case(
        _m({"default/squashed_1_to_5/1_a/up.sql": UP, "default/squashed_1_to_5/manifest.json": "{}"}),
        (Expected("archive-folder", INFO, "default/squashed_1_to_5"),),
        absent=("ignored-file", "ignored-folder"),
    ),
    "missing-down-sql": Case(
        _m({"default/8_a/up.sql": UP}),
        (Expected("missing-down", WARNING, "default/8_a"),),
        loads=(8, GOOD_VERSION),
    ),
    "zero-byte-down-sql": Case(
        _m({"default/8_a/up.sql": UP, "default/8_a/down.sql": ""}),
        (Expected("missing-down", WARNING, "default/8_a"),),
        loads=(8, GOOD_VERSION),
    ),
    "comment-only-up-sql": Case(
        _m({"default/9_a/up.sql": "-- nothing to do yet\n/* really */\n", "default/9_a/down.sql": DOWN}),
        (Expected("empty-up", INFO, "default/9_a/up.sql"),),
        loads=(9, GOOD_VERSION),
    ),
    "non-transactional-statement": Case(
        _m(
            {
                "default/10_a/up.sql": "CREATE TABLE t (a int);\n\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n",
                "default/10_a/down.sql": DOWN,
            }
        ),
        (Expected("non-transactional", WARNING, "default/10_a/up.sql", 3),),
        loads=(10, GOOD_VERSION),
        absent=("no-transaction-marker",),
    ),
    "no-transaction-marker": Case(
        _m(
            {
                "default/10_a/up.sql": "-- hasura:no-transaction\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n",
                "default/10_a/down.sql": DOWN,
            }
        ),
        (Expected("no-transaction-marker", INFO, "default/10_a/up.sql", 2),),
        loads=(10, GOOD_VERSION),
        absent=("non-transactional",),
    ),
    "explicit-begin-commit": Case(
        _m(
            {
                "default/11_a/up.sql": "BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;\n",
                "default/11_a/down.sql": DOWN,
            }
        ),
        (
            Expected("transaction-control", WARNING, "default/11_a/up.sql", 1),
            Expected("transaction-control", WARNING, "default/11_a/up.sql", 3),
        ),
        loads=(11, GOOD_VERSION),
    ),
    "psql-meta-command": Case(
        _m(
            {
                "default/12_a/up.sql": "\\restrict abc\nCREATE TABLE t (a int);\n",
                "default/12_a/down.sql": DOWN,
            }
        ),
        (Expected("sql-syntax", WARNING, "default/12_a/up.sql", 1),),
        loads=(12, GOOD_VERSION),
    ),
    "mixed-version-widths": Case(
        _m({"default/1600000000_old/up.sql": UP, "default/1600000000_old/down.sql": DOWN}),
        (Expected("mixed-version-widths", INFO, "default"),),
        loads=(1600000000, GOOD_VERSION),
    ),
    "misplaced-config-v2-folder": Case(
        _m({"1700000000000_misplaced/up.sql": UP}),
        (Expected("misplaced-migration", WARNING, "1700000000000_misplaced"),),
    ),
    "hidden-files": Case(
        _m({".gitkeep": "", "default/.gitkeep": "", f"default/{GOOD_VERSION}_good/.DS_Store": b"\0"}),
        (
            Expected("ignored-file", INFO, ".gitkeep"),
            Expected("ignored-file", INFO, "default/.gitkeep"),
            Expected("ignored-file", INFO, f"default/{GOOD_VERSION}_good/.DS_Store"),
        ),
    ),
}


@pytest.mark.parametrize("case", list(IRREGULAR.values()), ids=list(IRREGULAR))
def test_irregularity_is_reported(make_project: BuildTree, case: Case) -> None:
    scan = _scan(make_project, {**GOOD, **case.files})
    found = [_shape(scan, f) for f in scan.findings]

    for expected in case.expected:
        assert expected in found
    assert not [f for f in found if f.code in case.absent]


@pytest.mark.parametrize("case", list(IRREGULAR.values()), ids=list(IRREGULAR))
def test_everything_else_still_loads(make_project: BuildTree, case: Case) -> None:
    scan = _scan(make_project, {**GOOD, **case.files})
    default = scan.databases["default"]

    assert [m.version for m in default.migrations] == list(case.loads)
    good = default.by_version(GOOD_VERSION)
    assert good is not None
    assert good.up is not None
    assert good.down is not None
    assert not [f for f in scan.findings if f.version == GOOD_VERSION and f.severity is not INFO]


def test_hidden_files_are_info_only(make_project: BuildTree) -> None:
    scan = _scan(make_project, {**GOOD, **IRREGULAR["hidden-files"].files})

    hidden = [f for f in scan.findings if f.path is not None and f.path.name.startswith(".")]
    assert len(hidden) == 3
    assert {f.severity for f in hidden} == {INFO}


def test_archive_contents_are_not_migrations(make_project: BuildTree) -> None:
    scan = _scan(make_project, {**GOOD, **IRREGULAR["archive-folder"].files})
    default = scan.databases["default"]

    assert [a.name for a in default.archives] == ["squashed_1_to_5"]
    assert default.by_version(1) is None


def test_undeclared_database_is_still_scanned(make_project: BuildTree) -> None:
    scan = _scan(make_project, {**GOOD, **IRREGULAR["undeclared-database"].files})

    assert [m.version for m in scan.databases["analytics"].migrations] == [1]


def test_duplicate_version_message_names_both_locations(make_project: BuildTree) -> None:
    scan = _scan(make_project, {**GOOD, **IRREGULAR["duplicate-version-folders"].files})

    (duplicate,) = [f for f in scan.findings if f.code == "duplicate-version"]
    assert duplicate.version == 1
    assert "01_b" in duplicate.message
    assert "1_a" in duplicate.message


def test_zero_byte_up_is_reported_as_empty(make_project: BuildTree) -> None:
    scan = _scan(make_project, {**GOOD, **IRREGULAR["zero-byte-up-sql"].files})

    (missing,) = [f for f in scan.findings if f.code == "missing-up"]
    assert "0 bytes" in missing.message


def test_undecodable_up_sql_is_reported_once(make_project: BuildTree) -> None:
    scan = _scan(make_project, {**GOOD, **IRREGULAR["non-utf8-sql"].files})

    assert [f.code for f in scan.errors] == ["invalid-encoding"]


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: chmod 000 does not stop root from reading the file, so it stays readable",
)
def test_unreadable_sql_file(make_project: BuildTree) -> None:
    root = make_project({**GOOD, **_m({"default/13_a/up.sql": UP, "default/13_a/down.sql": DOWN})})
    up = root / "migrations/default/13_a/up.sql"
    up.chmod(0)
    try:
        scan = open_project(root).scan_migrations()
    finally:
        up.chmod(0o644)

    assert Expected("unreadable-sql", ERROR, "default/13_a/up.sql") in [
        _shape(scan, f) for f in scan.findings
    ]
    assert scan.databases["default"].by_version(GOOD_VERSION) is not None


def test_read_error_is_reported_as_unreadable(
    make_project: BuildTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Works as root too: the OS error is injected instead of produced by chmod.
    root = make_project({**GOOD, **_m({"default/13_a/up.sql": UP, "default/13_a/down.sql": DOWN})})
    blocked = root / "migrations/default/13_a/up.sql"
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == blocked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    scan = open_project(root).scan_migrations()

    unreadable = [_shape(scan, f) for f in scan.findings if f.code == "unreadable-sql"]
    assert unreadable == [Expected("unreadable-sql", ERROR, "default/13_a/up.sql")]
    assert scan.databases["default"].by_version(GOOD_VERSION) is not None


# -- trees that must load completely ------------------------------------------------------------------


def test_names_with_spaces_commas_quotes_and_non_ascii_load(make_project: BuildTree) -> None:
    name = 'add "quoted", naïve name'
    scan = _scan(
        make_project,
        _m({f"default/1700000000000_{name}/up.sql": UP, f"default/1700000000000_{name}/down.sql": DOWN}),
    )

    (migration,) = scan.databases["default"].migrations
    assert (migration.version, migration.name) == (1700000000000, name)
    assert migration.key == f"1700000000000_{name}"
    assert scan.errors == ()


def test_mixed_version_widths_sort_numerically(make_project: BuildTree) -> None:
    # As strings "1000000000000" < "9999999999"; as numbers the 10-digit version is older.
    files = _m(
        {
            "default/1000000000000_new/up.sql": UP,
            "default/9999999999_old/up.sql": UP,
            "default/1700000000000_newer/up.sql": UP,
        }
    )
    scan = _scan(make_project, files)

    assert [m.version for m in scan.databases["default"].migrations] == [
        9999999999,
        1000000000000,
        1700000000000,
    ]
    assert scan.errors == ()


def test_explicit_begin_commit_still_loads(make_project: BuildTree) -> None:
    scan = _scan(make_project, _m({"default/1_a/up.sql": "BEGIN;\nCREATE TABLE t (a int);\nCOMMIT;\n"}))

    (migration,) = scan.databases["default"].migrations
    assert migration.up is not None
    assert len(migration.up.parsed.statements) == 3
    assert scan.errors == ()


@pytest.mark.parametrize(
    "down",
    [{}, {"default/1_a/down.sql": ""}],
    ids=["missing", "zero-bytes"],
)
def test_migration_without_down_loads(make_project: BuildTree, down: dict[str, str]) -> None:
    scan = _scan(make_project, _m({"default/1_a/up.sql": UP, **down}))

    (migration,) = scan.databases["default"].migrations
    assert migration.up is not None
    assert migration.down is None
    assert scan.errors == ()


def test_flat_up_and_down_files_form_one_migration(make_project: BuildTree) -> None:
    root = make_project(
        _m({"default/1700000000000_flat.up.sql": UP, "default/1700000000000_flat.down.sql": DOWN})
    )
    scan = open_project(root).scan_migrations()

    (migration,) = scan.databases["default"].migrations
    assert (migration.version, migration.name, migration.form) == (1700000000000, "flat", "flat")
    assert migration.up is not None
    assert migration.down is not None
    assert migration.up.path.name == "1700000000000_flat.up.sql"
    assert migration.down.path.name == "1700000000000_flat.down.sql"
    assert scan.findings == ()


def test_flat_migration_location_is_the_up_file(make_project: BuildTree) -> None:
    scan = _scan(make_project, _m({"default/1_flat.up.sql": UP, "default/1_flat.down.sql": DOWN}))

    (migration,) = scan.databases["default"].migrations
    assert migration.location.name == "1_flat.up.sql"


def test_largest_uint64_version_loads(make_project: BuildTree) -> None:
    scan = _scan(make_project, _m({f"default/{MAX_VERSION}_max/up.sql": UP}))

    assert [m.version for m in scan.databases["default"].migrations] == [MAX_VERSION]
    assert scan.errors == ()


def test_config_v2_layout(make_project: BuildTree) -> None:
    files = {
        "config.yaml": "version: 2\n",
        "migrations/1_a/up.sql": UP,
        "migrations/1_a/down.sql": DOWN,
        "migrations/2_b.up.sql": UP,
    }
    scan = _scan(make_project, files)

    assert scan.layout == "v2"
    assert list(scan.databases) == ["default"]
    assert [m.version for m in scan.databases["default"].migrations] == [1, 2]
    assert scan.errors == ()


def test_sql_analysis_can_be_skipped(build_tree: BuildTree) -> None:
    root = build_tree({"default/1_a/up.sql": "BEGIN;\nCOPY t FROM STDIN;\n"})
    scan = scan_migrations(root, analyze_sql=False)

    assert [f.code for f in scan.findings] == ["missing-down"]


def test_missing_migrations_folder_is_empty(tmp_path: Path) -> None:
    scan = scan_migrations(tmp_path / "nowhere")

    assert (scan.databases, scan.findings) == ({}, ())


def test_select_bounds_are_inclusive(build_tree: BuildTree) -> None:
    root = build_tree({f"default/{v}_m/up.sql": UP for v in (1, 2, 3, 4)})
    default = scan_migrations(root).databases["default"]

    assert [m.version for m in default.select(2, 3)] == [2, 3]
    assert [m.version for m in default.select(from_version=3)] == [3, 4]
    assert [m.version for m in default.select(to_version=1)] == [1]


def test_shipped_kedge_project_scans_cleanly(kedge_project: Path) -> None:
    scan = open_project(kedge_project).scan_migrations()
    versions = [m.version for m in scan.databases["default"].migrations]

    assert list(scan.databases) == ["default"]
    assert len(versions) == 17
    assert versions == sorted(versions)
    assert scan.errors == ()
