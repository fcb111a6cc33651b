"""Golden outputs of the commands that read only the project: status, archive, help, usage and
project errors. Whole stdout, stderr and exit code; see golden.py for what is normalised."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import SHIPPED, check_case
from .golden import Golden, run_kedge

# The archive's creation time is data committed with the shipped project, not a clock reading.
ARCHIVE_CREATED = ["2026-11-24T02:40:57+00:00", "2026-11-24T02:40:57Z"]


@pytest.mark.parametrize(
    ("case", "args"),
    [
        ("text", ()),
        ("verbose", ("-v",)),
        ("json", ("-o", "json")),
    ],
)
def test_status_of_the_shipped_project(
    golden: Golden, shipped: Path, case: str, args: tuple[str, ...]
) -> None:
    golden.check(f"status/{case}", run_kedge(*args, "status", cwd=shipped))


# `status -v` says which source supplied each setting: the project's `.env` (or --envfile), the
# environment, the command line, config.yaml, defaults; secrets masked (a one-letter admin secret
# too), a database URL's password masked with its host kept.
DOTENV = (
    "KEDGE_DATABASE=default\n"
    "KEDGE_SCRATCH_URL=postgresql://kedge:pw-in-dotenv@db.example.com:5432/postgres\n"
    "HASURA_GRAPHQL_ENDPOINT=http://hasura.internal:8080\n"
)


@pytest.mark.parametrize(
    ("case", "args", "files"),
    [
        ("settings-sources", ("-v", "status", "--timeout", "30"), {".env": DOTENV}),
        ("settings-sources-json", ("-v", "-o", "json", "status"), {".env": DOTENV}),
        (
            "settings-envfile",
            ("-v", "--envfile", "ci.env", "status"),
            {".env": "KEDGE_DATABASE=ignored\n", "ci.env": "KEDGE_PG_VERSION=15\n"},
        ),
        ("dotenv-output-json", ("status",), {".env": "KEDGE_OUTPUT=json\n"}),
    ],
    ids=["sources", "sources-json", "envfile", "dotenv-output"],
)
def test_status_says_where_settings_come_from(
    golden: Golden, tmp_path: Path, case: str, args: tuple[str, ...], files: dict[str, str]
) -> None:
    shutil.copytree(SHIPPED, tmp_path / "hasura")
    for name, text in files.items():
        (tmp_path / "hasura" / name).write_text(text, encoding="utf-8")

    run = run_kedge(*args, cwd=tmp_path, env={"HASURA_GRAPHQL_ADMIN_SECRET": "a"})

    assert "pw-in-dotenv" not in run.stdout + run.stderr
    golden.check(f"status/{case}", run)


@pytest.mark.parametrize(
    ("case", "args"),
    [
        ("list", ("archive", "list")),
        ("list-json", ("-o", "json", "archive", "list")),
        ("verify", ("archive", "verify")),
        ("verify-json", ("-o", "json", "archive", "verify")),
    ],
)
def test_archive_of_the_shipped_project(
    golden: Golden, shipped: Path, case: str, args: tuple[str, ...]
) -> None:
    golden.check(f"archive/{case}", run_kedge(*args, cwd=shipped), keep=ARCHIVE_CREATED)


def test_archive_verify_of_a_changed_file(golden: Golden, tmp_path: Path) -> None:
    root = check_case("archive_file_changed", tmp_path)

    golden.check("archive/verify-changed-file", run_kedge("archive", "verify", cwd=root))


@pytest.mark.parametrize("output", ["text", "json"])
def test_squash_of_the_squashed_shipped_project_has_nothing_to_squash(
    golden: Golden, tmp_path: Path, output: str
) -> None:
    """Issue 11 item 6: the shipped project holds one squashed migration; squashing again says so,
    exits 0 and writes nothing (no PostgreSQL is started for it)."""
    shutil.copytree(SHIPPED, tmp_path / "hasura")
    before = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}

    golden.check(f"squash/nothing-to-squash-{output}", run_kedge("-o", output, "squash", cwd=tmp_path))

    assert {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()} == before


@pytest.mark.parametrize(
    ("case", "args"),
    [
        ("root", ("--help",)),
        ("deploy", ("deploy", "--help")),
        ("squash", ("squash", "--help")),
    ],
)
def test_help(golden: Golden, tmp_path: Path, case: str, args: tuple[str, ...]) -> None:
    golden.check(f"help/{case}", run_kedge(*args, cwd=tmp_path))


@pytest.mark.parametrize(
    ("case", "args"),
    [
        ("unknown-option", ("status", "--bogus")),
        ("unknown-option-json", ("-o", "json", "status", "--bogus")),
        ("unknown-command", ("stauts",)),
        ("bad-choice", ("-o", "yaml", "status")),
        ("check-unknown-database", ("check", "--database", "nosuch")),
        ("check-unknown-database-json", ("-o", "json", "check", "--database", "nosuch")),
    ],
)
def test_usage_errors(golden: Golden, shipped: Path, case: str, args: tuple[str, ...]) -> None:
    golden.check(f"errors/{case}", run_kedge(*args, cwd=shipped))


@pytest.mark.parametrize("output", ["text", "json"])
def test_no_project_found(golden: Golden, tmp_path: Path, output: str) -> None:
    golden.check(f"errors/no-project-{output}", run_kedge("-o", output, "status", cwd=tmp_path))


@pytest.mark.parametrize(
    ("case", "fixture"),
    [
        ("duplicate-version", "duplicate_version"),
        ("metadata-invalid-yaml", "metadata_invalid_yaml"),
    ],
)
def test_status_of_a_bad_project(golden: Golden, tmp_path: Path, case: str, fixture: str) -> None:
    root = check_case(fixture, tmp_path)

    golden.check(f"errors/status-{case}", run_kedge("status", cwd=root))
