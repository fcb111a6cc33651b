"""`check --online` against the Hasura test double: server inconsistencies mapped to local files,
metadata drift, and migration state drift, on a database built from the check fixtures' project."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.hasura import HasuraClient
from kedge_hasura.project.layout import open_project
from kedge_hasura.project.metadata_model import load_metadata_model

from ..hasura_double import HasuraDouble

pytestmark = [pytest.mark.pg, pytest.mark.usefixtures("use_session_server")]

BASE = Path(__file__).resolve().parents[1] / "fixtures" / "check" / "_base"
TABLES = "metadata/databases/default/tables"
MIGRATIONS = "migrations/default"
VERSIONS = (1700000000000, 1700000000001)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(BASE, root)
    return root


@pytest.fixture
def client(hasura_double: HasuraDouble) -> Iterator[HasuraClient]:
    with HasuraClient(base_url=hasura_double.url, admin_secret=hasura_double.admin_secret) as hasura:
        yield hasura


@pytest.fixture
def deployed(project: Path, client: HasuraClient) -> dict[str, Any]:
    """The project applied to the double as the official CLI would: SQL, metadata, catalog state.

    Returns the metadata JSON that was applied.
    """
    for migration in open_project(project).scan_migrations().databases["default"].migrations:
        assert migration.up is not None
        client.run_sql(migration.up.text)
    metadata = load_metadata_model(project / "metadata").metadata.to_json()
    assert client.replace_metadata(metadata).is_consistent
    client.set_catalog_state({"migrations": {"default": {str(v): False for v in VERSIONS}}})
    return dict(metadata)


def _check(run_cli, double: HasuraDouble, project: Path) -> tuple[int, list[dict[str, Any]], dict[str, str]]:  # type: ignore[no-untyped-def]
    result = run_cli(
        "check", "--online", "-o", "json", "--project", str(project),
        "--endpoint", double.url, "--admin-secret", double.admin_secret or "",
    )  # fmt: skip
    envelope = json.loads(result.stdout)
    assert envelope["result"] is not None, result.stderr
    findings = [
        {
            "code": f["code"],
            "file": Path(f["path"]).relative_to(project).as_posix() if f["path"] else None,
            "line": f["line"],
            "version": f["version"],
        }
        for f in envelope["result"]["findings"]
    ]
    statuses = {run["name"]: run["status"] for run in envelope["result"]["checks"]}
    return result.exit_code, findings, statuses


def test_a_deployed_project_checks_clean_online(
    run_cli, hasura_double: HasuraDouble, project: Path, deployed: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    exit_code, findings, statuses = _check(run_cli, hasura_double, project)
    assert (exit_code, findings) == (0, [])
    assert [statuses[name] for name in ("server-consistency", "metadata-drift", "migration-state")] == [
        "passed"
    ] * 3


def test_server_inconsistencies_point_at_the_local_files(  # type: ignore[no-untyped-def]
    run_cli, hasura_double: HasuraDouble, project: Path, deployed: dict[str, Any], client: HasuraClient
) -> None:
    client.run_sql(
        "ALTER TABLE app.users DROP COLUMN name CASCADE;"
    )  # made on the server, not in a migration
    assert client.reload_metadata().is_consistent is False
    exit_code, findings, statuses = _check(run_cli, hasura_double, project)
    assert exit_code == 1
    assert findings == [
        {"code": "inconsistent-metadata", "file": f"{TABLES}/app_users.yaml", "line": 13, "version": None},
        {"code": "inconsistent-metadata", "file": f"{TABLES}/app_users.yaml", "line": 26, "version": None},
    ]
    assert statuses["server-consistency"] == "failed"


def test_metadata_drift_names_added_removed_and_changed_objects(  # type: ignore[no-untyped-def]
    run_cli, hasura_double: HasuraDouble, project: Path, deployed: dict[str, Any], client: HasuraClient
) -> None:
    server = copy.deepcopy(deployed)
    tables = {entry["table"]["name"]: entry for entry in server["sources"][0]["tables"]}
    del tables["users"]["update_permissions"]  # only local: added
    tables["published_posts"]["select_permissions"].append(
        {"role": "guest", "permission": {"columns": ["id"], "filter": {}}}
    )  # only on the server: removed
    tables["comments"]["select_permissions"][0]["permission"]["columns"] = ["id"]  # changed
    tables["posts"]["select_permissions"][0]["permission"]["columns"].reverse()  # order: no drift
    assert client.replace_metadata(server).is_consistent
    exit_code, findings, _ = _check(run_cli, hasura_double, project)
    assert exit_code == 0  # drift is a warning: applying the metadata is what deploy does
    assert sorted(findings, key=lambda f: (f["code"], f["file"], f["line"])) == [
        {"code": "metadata-drift-added", "file": f"{TABLES}/app_users.yaml", "line": 26, "version": None},
        {"code": "metadata-drift-changed", "file": f"{TABLES}/app_comments.yaml", "line": 9, "version": None},
        {
            "code": "metadata-drift-removed",
            "file": f"{TABLES}/app_published_posts.yaml",
            "line": 4,
            "version": None,
        },
    ]


def test_migration_state_drift(  # type: ignore[no-untyped-def]
    run_cli, hasura_double: HasuraDouble, project: Path, deployed: dict[str, Any], client: HasuraClient
) -> None:
    extra = project / "migrations/default/1700000000002_add_index"
    extra.mkdir()
    (extra / "up.sql").write_text("CREATE INDEX posts_title_idx ON app.posts (title);\n")
    (extra / "down.sql").write_text("DROP INDEX app.posts_title_idx;\n")
    client.set_catalog_state(
        {
            "migrations": {
                "default": {"1700000000000": False, "1700000000001": True, "1700000000003": False}
            },
            "settings": {"migration_mode": "true"},
        }
    )
    exit_code, findings, statuses = _check(run_cli, hasura_double, project)
    assert exit_code == 1
    found = sorted((f["code"], f["file"], f["line"], f["version"]) for f in findings)
    assert found == [
        ("migration-dirty", f"{MIGRATIONS}/1700000000001_add_published_at", None, 1700000000001),
        ("migration-missing-locally", MIGRATIONS, None, 1700000000003),
        ("migration-out-of-order", f"{MIGRATIONS}/1700000000002_add_index", None, 1700000000002),
    ]
    assert statuses["migration-state"] == "failed"


def test_a_pending_migration_is_information(  # type: ignore[no-untyped-def]
    run_cli, hasura_double: HasuraDouble, project: Path, deployed: dict[str, Any], client: HasuraClient
) -> None:
    client.set_catalog_state({"migrations": {"default": {"1700000000000": False}}})
    exit_code, findings, _ = _check(run_cli, hasura_double, project)
    assert exit_code == 0
    assert [(f["code"], f["file"], f["version"]) for f in findings] == [
        ("migration-pending", f"{MIGRATIONS}/1700000000001_add_published_at", 1700000000001)
    ]


V2_PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "projects" / "config_v2"


@pytest.fixture
def v2_deployed(tmp_path: Path, client: HasuraClient) -> Path:
    """The config v2 project on the double: its SQL, and its metadata as the server holds it (v3,
    with the `default` database's connection), as `hasura metadata apply` with config v2 leaves it."""
    root = tmp_path / "v2"
    shutil.copytree(V2_PROJECT, root)
    for migration in open_project(root).scan_migrations().databases["default"].migrations:
        assert migration.up is not None
        client.run_sql(migration.up.text)
    local = load_metadata_model(root / "metadata", config_version=2).metadata.to_json()
    (source,) = local["sources"]
    source["configuration"] = {
        "connection_info": {"database_url": {"from_env": "HASURA_GRAPHQL_DATABASE_URL"}}
    }
    assert client.replace_metadata({**local, "version": 3}).is_consistent
    return root


def test_a_deployed_config_v2_project_shows_no_drift_online(  # type: ignore[no-untyped-def]
    run_cli, hasura_double: HasuraDouble, v2_deployed: Path
) -> None:
    exit_code, findings, statuses = _check(run_cli, hasura_double, v2_deployed)
    assert (exit_code, findings) == (0, [])
    assert statuses["server-consistency"] == statuses["metadata-drift"] == "passed"
    assert statuses["migration-state"] == "skipped"


def test_drift_of_a_config_v2_project_points_at_tables_yaml(  # type: ignore[no-untyped-def]
    run_cli, hasura_double: HasuraDouble, v2_deployed: Path
) -> None:
    tables = v2_deployed / "metadata" / "tables.yaml"
    text = tables.read_text(encoding="utf-8")
    tables.write_text(
        text.replace("      - body\n      - published\n", "      - published\n"), encoding="utf-8"
    )
    exit_code, findings, statuses = _check(run_cli, hasura_double, v2_deployed)
    assert exit_code == 0  # drift is a warning
    assert findings == [
        {"code": "metadata-drift-changed", "file": "metadata/tables.yaml", "line": 40, "version": None}
    ]
    assert statuses["metadata-drift"] == "passed"
