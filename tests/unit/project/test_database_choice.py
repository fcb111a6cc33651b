"""Project.require_database / databases / migrations_of: the one rule every command uses to pick
its database(s), over one cached scan (issue 10 item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura.errors import ProjectError, UsageError
from kedge_hasura.project.layout import Project, open_project

from ..conftest import BuildTree

TWO = "- name: default\n  kind: postgres\n  tables: []\n- name: analytics\n  kind: postgres\n  tables: []\n"


def _migration(database: str, version: int) -> dict[str, str]:
    return {f"migrations/{database}/{version}_init/up.sql": "CREATE TABLE t (id int);\n"}


def _project(make_project: BuildTree, *databases: str, declared: str | None = None) -> Project:
    files: dict[str, str] = {}
    for index, database in enumerate(databases):
        files.update(_migration(database, 1000 + index))
    if declared is not None:
        files["metadata/databases/databases.yaml"] = declared
    return open_project(make_project(files))


def test_the_only_database_is_picked_when_none_is_named(make_project: BuildTree) -> None:
    project = _project(make_project, "default")

    assert project.require_database(None).database == "default"
    assert [m.database for m in project.databases(None)] == ["default"]


def test_several_databases_and_none_named_is_refused_by_one_rule(make_project: BuildTree) -> None:
    project = _project(make_project, "default", "analytics", declared=TWO)

    with pytest.raises(UsageError) as refused:
        project.require_database(None)

    assert refused.value.message == "the project has several databases (analytics, default)"
    assert refused.value.hint == "choose one with --database (KEDGE_DATABASE)"
    assert [m.database for m in project.databases(None)] == ["analytics", "default"]


@pytest.mark.parametrize("pick", ["require_database", "migrations_of", "databases"])
def test_an_unknown_database_is_refused_with_the_ones_found(make_project: BuildTree, pick: str) -> None:
    project = _project(make_project, "default", "analytics", declared=TWO)

    with pytest.raises(UsageError) as refused:
        getattr(project, pick)("nosuch")

    assert refused.value.message == "no migrations for database 'nosuch' (found: analytics, default)"


def test_migrations_with_errors_are_refused_naming_the_first(make_project: BuildTree) -> None:
    duplicate = {"migrations/default/1000_again/up.sql": "SELECT 1;\n"}
    root = make_project({**_migration("default", 1000), **duplicate})
    project = open_project(root)

    with pytest.raises(ProjectError) as refused:
        project.require_database("default")

    assert refused.value.message.startswith("the migrations have 1 error, e.g. ")
    assert refused.value.hint == "run `kedge-hasura status` and fix them first"


def test_the_scan_is_made_once_per_project(make_project: BuildTree) -> None:
    project = _project(make_project, "default")

    first = project.scan_migrations()
    (Path(project.migrations_dir) / "default" / "2000_more").mkdir()

    assert project.scan_migrations() is first
    project.forget_scans()
    assert project.scan_migrations() is not first
