"""Golden outputs of the commands that replay SQL on scratch databases (the session's PostgreSQL):
check in its six formats, squash --dry-run --from-archive, and diff of two .sql files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import FIXTURES
from .golden import Golden, run_kedge

pytestmark = pytest.mark.pg


@pytest.mark.parametrize("output", ["text", "json", "github", "junit"])
def test_check_of_the_shipped_project(
    golden: Golden, shipped: Path, scratch_env: dict[str, str], output: str
) -> None:
    golden.check(f"check/shipped-{output}", run_kedge("-o", output, "check", cwd=shipped, env=scratch_env))


@pytest.mark.parametrize("output", ["text", "json", "github", "sarif", "gitlab"])
def test_check_with_findings(
    golden: Golden, tmp_path: Path, scratch_env: dict[str, str], output: str
) -> None:
    from .conftest import check_case

    root = check_case("relationship_column_missing", tmp_path)

    golden.check(f"check/findings-{output}", run_kedge("-o", output, "check", cwd=root, env=scratch_env))


@pytest.mark.parametrize("output", ["text", "json"])
def test_squash_dry_run_from_archive(
    golden: Golden, shipped: Path, scratch_env: dict[str, str], output: str
) -> None:
    run = run_kedge("-o", output, "squash", "--dry-run", "--from-archive", cwd=shipped, env=scratch_env)

    golden.check(f"squash/dry-run-from-archive-{output}", run)


@pytest.fixture(scope="module")
def sql_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("golden-diff")
    for name in ("a.sql", "b.sql"):
        shutil.copyfile(FIXTURES / "golden" / "diff" / name, root / name)
    return root


@pytest.mark.parametrize("output", ["text", "json"])
def test_diff_of_two_sql_files(
    golden: Golden, sql_pair: Path, scratch_env: dict[str, str], output: str
) -> None:
    golden.check(
        f"diff/sql-files-{output}",
        run_kedge("-o", output, "diff", "a.sql", "b.sql", cwd=sql_pair, env=scratch_env),
    )


def test_diff_of_a_file_with_itself(golden: Golden, sql_pair: Path, scratch_env: dict[str, str]) -> None:
    golden.check("diff/sql-files-same", run_kedge("diff", "a.sql", "a.sql", cwd=sql_pair, env=scratch_env))
