"""Files read from outside the project (a symlinked up.sql, `!include ../../outside.yaml`): the
scan and deploy warn, `check` fails with `file-outside-project` unless config.yaml's
`kedge: check: ignore` lists that code."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.project.metadata import load_metadata

RunCli = Callable[..., Any]
TABLE_FILE = "kedge_practice_attachments.yaml"


def _tables(project: Path) -> Path:
    return project / "metadata" / "databases" / "default" / "tables"


@pytest.fixture
def symlinked_up_sql(kedge_project: Path, tmp_path: Path) -> Path:
    """The first migration's up.sql moved out of the project and linked back."""
    first = sorted((kedge_project / "migrations" / "default").iterdir())[0] / "up.sql"
    outside = tmp_path / "elsewhere" / "up.sql"
    outside.parent.mkdir()
    shutil.move(first, outside)
    first.symlink_to(outside)
    return kedge_project


@pytest.fixture
def include_outside(kedge_project: Path, tmp_path: Path) -> Path:
    """A table file moved out of the project and included by a path that climbs out."""
    outside = tmp_path / "outside.yaml"
    shutil.move(_tables(kedge_project) / TABLE_FILE, outside)
    listing = _tables(kedge_project) / "tables.yaml"
    climb = "../" * len(_tables(kedge_project).relative_to(tmp_path).parts) + "outside.yaml"
    listing.write_text(listing.read_text().replace(TABLE_FILE, climb))
    return kedge_project


def _allow(project: Path) -> None:
    config = project / "config.yaml"
    config.write_text(config.read_text() + "kedge:\n  check:\n    ignore: [file-outside-project]\n")


def test_status_warns_about_a_symlinked_up_sql(run_cli: RunCli, symlinked_up_sql: Path) -> None:
    result = run_cli("-o", "json", "status", "--project", str(symlinked_up_sql))

    codes = [f["code"] for f in json.loads(result.stdout)["result"]["findings"]]
    assert "file-outside-project" in codes
    assert result.exit_code == 0  # a warning: the project is still usable


def test_the_loader_records_an_include_outside_the_metadata_folder(include_outside: Path) -> None:
    directory = load_metadata(include_outside / "metadata")

    [(path, named_at)] = directory.outside
    assert path.name == "outside.yaml"
    assert named_at.path.name == "tables.yaml" and named_at.line == 1


@pytest.mark.parametrize("shape", ["symlinked_up_sql", "include_outside"])
def test_check_fails_on_a_file_outside_the_project_unless_allowed(
    run_cli: RunCli, request: pytest.FixtureRequest, shape: str
) -> None:
    project: Path = request.getfixturevalue(shape)

    refused = run_cli("-o", "json", "check", "--project", str(project))

    assert refused.exit_code == 1, refused.stderr
    findings = json.loads(refused.stdout)["result"]["findings"]
    [outside] = [f for f in findings if f["code"] == "file-outside-project"]
    assert outside["severity"] == "error"

    _allow(project)
    allowed = run_cli("-o", "json", "check", "--project", str(project))

    assert allowed.exit_code == 0, allowed.stdout
