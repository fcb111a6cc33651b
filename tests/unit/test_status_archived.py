"""`status --server` names an archived original (applied on the server, its folder in a squash
archive) by its archive manifest, never `?`."""

from __future__ import annotations

from pathlib import Path

from kedge_hasura.actions.deploy.migration_state import compare_state
from kedge_hasura.actions.status import DatabaseStatus, ServerVersion, StatusReport
from kedge_hasura.project.migrations import scan_database_folder
from kedge_hasura.render.status import render_status

SHIPPED = Path(__file__).resolve().parents[2] / "hasura" / "migrations" / "default"


def test_the_archive_manifest_names_the_archived_originals() -> None:
    migrations = scan_database_folder("default", SHIPPED).databases["default"]

    (squash,) = compare_state(migrations, {1709284463417: False}).squashes

    assert squash.names[1709284463417] == "init_kedge_practice_schema"
    assert len(squash.names) == len(squash.versions)


def test_an_archived_version_without_a_known_name_reads_archived() -> None:
    report = StatusReport(
        project=Path("hasura"),
        config_version=3,
        layout="single",
        findings=[],
        databases=[
            DatabaseStatus(
                database="default",
                directory=Path("hasura/migrations/default"),
                migrations=[],
                archives=[],
                server=[ServerVersion(version=1709284463417, name=None, state="archived")],
            )
        ],
    )

    (row,) = [line for line in render_status(report) if "1709284463417" in line]

    assert row.split()[:3] == ["1709284463417", "archived", "archived"]
