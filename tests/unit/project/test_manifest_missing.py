"""An archive without MANIFEST.json (what `hasura migrate squash` leaves) gets a way forward, the
recipe of docs/from-hasura-squash.md, and the error names its path relative to the current folder."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from kedge_hasura.actions.check.codes import FindingSink
from kedge_hasura.actions.check.migrations import check_archives
from kedge_hasura.errors import ManifestError
from kedge_hasura.project.manifest import read_manifest
from kedge_hasura.project.migrations import scan_database_folder
from kedge_hasura.render.output import Output
from kedge_hasura.settings import OutputFormat, Verbosity

REPO = Path(__file__).resolve().parents[3]
ARCHIVE = "squashed_1709284463417_to_1748864944213"
RECIPE = (
    "if `hasura migrate squash` made it, put the originals back and squash with kedge-hasura: delete the "
    f"CLI's squashed migration (version 1748864944213), move everything in {ARCHIVE}/ up into default/, "
    "remove the empty folder and run `kedge-hasura squash` (docs/from-hasura-squash.md); if kedge-hasura "
    "made it, restore MANIFEST.json from version control"
)


@pytest.fixture
def cli_squashed(tmp_path: Path) -> Path:
    """The shipped project with its archive's manifest removed, as the Hasura CLI's squash leaves it."""
    shutil.copytree(REPO / "hasura", tmp_path / "hasura")
    (tmp_path / "hasura" / "migrations" / "default" / ARCHIVE / "MANIFEST.json").unlink()
    return tmp_path


def test_a_missing_manifest_says_how_to_proceed(cli_squashed: Path) -> None:
    with pytest.raises(ManifestError, match=r"MANIFEST\.json is missing") as missing:
        read_manifest(cli_squashed / "hasura" / "migrations" / "default" / ARCHIVE)

    assert missing.value.hint == RECIPE


def test_check_gives_the_same_way_forward(cli_squashed: Path) -> None:
    database = cli_squashed / "hasura" / "migrations" / "default"
    sink = FindingSink()

    check_archives(scan_database_folder("default", database), sink, database=None)

    (finding,) = sink.findings
    assert (finding.code, finding.message) == ("archive-manifest-invalid", "MANIFEST.json is missing")
    assert finding.hint == RECIPE


def test_the_error_names_the_manifest_relative_to_the_current_folder(
    cli_squashed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(cli_squashed)
    err = io.StringIO()
    output = Output(
        output_format=OutputFormat.TEXT, verbosity=Verbosity.NORMAL, stdout=io.StringIO(), stderr=err
    )
    with pytest.raises(ManifestError) as missing:
        read_manifest(cli_squashed / "hasura" / "migrations" / "default" / ARCHIVE)

    output.error("deploy", missing.value)

    assert err.getvalue().startswith(
        f"error: hasura/migrations/default/{ARCHIVE}/MANIFEST.json is missing\n"
        "hint: if `hasura migrate squash`"
    )
    assert str(cli_squashed) not in err.getvalue()
