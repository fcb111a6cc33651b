"""project.metadata with config v2: tables.yaml and functions.yaml at the top of metadata/ load as
the one database `default`, in the same shape as v3, with the file and line of every table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kedge_hasura.errors import ProjectError
from kedge_hasura.project.layout import open_project
from kedge_hasura.project.metadata import load_metadata
from kedge_hasura.project.metadata_model import load_metadata_model

PROJECT = Path(__file__).resolve().parents[2] / "fixtures" / "projects" / "config_v2"


@pytest.fixture
def metadata_dir(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    return root / "metadata"


def test_inline_tables_and_empty_functions_load_as_the_database_default(metadata_dir: Path) -> None:
    project = load_metadata_model(metadata_dir, config_version=2)

    (source,) = project.metadata.sources
    assert (source.name, source.kind) == ("default", "postgres")
    assert [table.table.display for table in source.tables] == [
        "public.article_tags",
        "public.articles",
        "public.authors",
    ]
    assert source.functions == []
    articles = source.tables[1]
    assert [r.name for r in articles.relationships()] == ["author", "tags"]
    assert [(p.KIND, p.role) for p in articles.permissions()] == [("insert", "user"), ("select", "user")]
    assert project.metadata.version == 2


def test_every_table_and_permission_points_at_its_line_in_tables_yaml(metadata_dir: Path) -> None:
    project = load_metadata_model(metadata_dir, config_version=2)
    articles = project.metadata.sources[0].tables[1]

    table = project.location(articles)
    select = project.location(articles.select_permissions[0])

    assert table is not None and (table.path.name, table.line) == ("tables.yaml", 15)
    assert select is not None and (select.path.name, select.line) == ("tables.yaml", 40)


def test_the_same_folder_read_as_v3_is_refused(metadata_dir: Path) -> None:
    with pytest.raises(ProjectError, match=r"functions\.yaml: unknown metadata file"):
        load_metadata(metadata_dir)


def test_a_v3_only_file_in_a_v2_folder_is_refused_with_the_v2_file_list(metadata_dir: Path) -> None:
    (metadata_dir / "opentelemetry.yaml").write_text("{}\n", encoding="utf-8")

    with pytest.raises(ProjectError) as caught:
        load_metadata(metadata_dir, config_version=2)

    assert caught.value.hint is not None
    assert caught.value.hint.startswith("a config v2 metadata folder holds actions.graphql")
    assert "tables.yaml" in caught.value.hint


def test_included_table_files_are_followed(metadata_dir: Path) -> None:
    (metadata_dir / "tables.yaml").write_text(
        '- "!include public_authors.yaml"\n- table: articles\n', encoding="utf-8"
    )
    (metadata_dir / "public_authors.yaml").write_text("table:\n  schema: public\n  name: authors\n", "utf-8")

    directory = load_metadata(metadata_dir, config_version=2)

    tables = directory.sources()[0]["tables"]
    assert tables == [{"table": {"schema": "public", "name": "authors"}}, {"table": "articles"}]
    location = directory.location(("sources", 0, "tables", 0))
    assert location is not None and location.path.name == "public_authors.yaml"


@pytest.mark.parametrize(
    ("name", "text"),
    [("tables.yaml", "table:\n  name: authors\n"), ("functions.yaml", "search_articles\n")],
    ids=["tables-mapping", "functions-scalar"],
)
def test_a_file_that_is_not_a_list_is_refused(metadata_dir: Path, name: str, text: str) -> None:
    (metadata_dir / name).write_text(text, encoding="utf-8")

    with pytest.raises(ProjectError, match=rf"{name}:1: {name} must be a list"):
        load_metadata(metadata_dir, config_version=2)


@pytest.mark.parametrize("version", ["version: 1\n", None], ids=["metadata-v1", "no-version-file"])
def test_metadata_v1_with_bare_table_names_loads_the_same_way(
    metadata_dir: Path, version: str | None
) -> None:
    if version is None:
        (metadata_dir / "version.yaml").unlink()
    else:
        (metadata_dir / "version.yaml").write_text(version, encoding="utf-8")
    (metadata_dir / "tables.yaml").write_text(
        "- table: authors\n  select_permissions:\n  - role: user\n    permission:\n"
        "      columns: [id, name]\n      filter: {}\n",
        encoding="utf-8",
    )

    project = load_metadata_model(metadata_dir, config_version=2)

    (table,) = project.metadata.sources[0].tables
    assert table.table.key == ("public", "authors")
    assert table.select_permissions[0].permission.columns == ["id", "name"]


def test_a_v2_project_declares_the_one_database_default(metadata_dir: Path) -> None:
    project = open_project(metadata_dir.parent)

    assert project.database_kinds() == {"default": "postgres"}
    assert project.declared_databases() == {"default"}
    assert set(project.scan_migrations(analyze_sql=False).databases) == {"default"}
