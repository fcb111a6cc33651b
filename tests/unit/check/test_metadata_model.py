"""The typed metadata model: lossless round trips, file and line for every object, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kedge_hasura.errors import ProjectError
from kedge_hasura.project.metadata import dump_yaml, file_value, load_metadata
from kedge_hasura.project.metadata_model import (
    Metadata,
    files_not_included,
    load_metadata_model,
    metadata_from_directory,
)

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "hasura" / "metadata"
BASE = REPO / "tests" / "fixtures" / "check" / "_base" / "metadata"


@pytest.fixture
def metadata_dir(tmp_path: Path) -> Path:
    """A private copy of the check fixtures' clean metadata."""
    target = tmp_path / "metadata"
    shutil.copytree(BASE, target)
    return target


def test_writing_back_every_shipped_file_changes_no_byte() -> None:
    directory = load_metadata(SHIPPED)
    assert len(directory.documents) == len(list(SHIPPED.rglob("*.yaml")))
    for path, document in directory.documents.items():
        assert dump_yaml(file_value(document)).encode() == path.read_bytes(), path


def test_the_model_gives_back_the_loaded_json_unknown_keys_included(metadata_dir: Path) -> None:
    table = metadata_dir / "databases/default/tables/app_published_posts.yaml"
    table.write_text(
        table.read_text().replace(
            "      filter: {}\n", "      filter: {}\n      future_key:\n        nested: [1, 2]\n"
        )
        + "apollo_federation_config:\n  enable: v1\n"
    )
    loaded = load_metadata_model(metadata_dir)
    expected = dict(loaded.directory.value)
    expected["version"] = 3  # version.yaml's mapping becomes the number, as in export_metadata
    assert loaded.metadata.to_json() == expected
    entry = loaded.metadata.sources[0].tables[3]
    assert entry.model_extra == {"apollo_federation_config": {"enable": "v1"}}
    assert entry.select_permissions[0].permission.model_extra == {"future_key": {"nested": [1, 2]}}


def test_the_shipped_metadata_round_trips_through_the_model() -> None:
    loaded = load_metadata_model(SHIPPED)
    assert loaded.metadata.to_json() == {**loaded.directory.value, "version": 3}
    assert Metadata.model_validate(loaded.metadata.to_json()).to_json() == loaded.metadata.to_json()


def test_a_bare_table_name_means_public_and_is_written_back_bare() -> None:
    metadata = Metadata.model_validate({"sources": [{"name": "default", "tables": [{"table": "author"}]}]})
    table = metadata.sources[0].tables[0].table
    assert table.key == ("public", "author")
    assert metadata.to_json()["sources"][0]["tables"][0] == {"table": "author"}


def test_every_object_knows_its_file_and_line(metadata_dir: Path) -> None:
    loaded = load_metadata_model(metadata_dir)
    posts = next(t for t in loaded.metadata.sources[0].tables if t.table.name == "posts")
    tables = metadata_dir / "databases/default/tables"
    assert str(loaded.location(posts)) == f"{tables / 'app_posts.yaml'}:1"
    assert str(loaded.location(posts.object_relationships[1])) == f"{tables / 'app_posts.yaml'}:8"
    assert (
        str(loaded.location(posts.computed_fields[0].definition.function))
        == f"{tables / 'app_posts.yaml'}:23"
    )
    assert str(loaded.location(posts.insert_permissions[0])) == f"{tables / 'app_posts.yaml'}:61"
    function = loaded.metadata.sources[0].functions[0]
    functions = metadata_dir / "databases/default/functions"
    assert str(loaded.location(function)) == f"{functions / 'app_search_posts.yaml'}:1"


@pytest.mark.parametrize(
    ("relative", "text", "message"),
    [
        (
            "databases/default/tables/app_users.yaml",
            "table:\n  name: users\n  schema: app\nselect_permissions:\n  - role: [user\n",
            "app_users.yaml:6: invalid YAML",
        ),
        (
            "databases/default/tables/tables.yaml",
            '- "!include app_users.yaml"\n- "!include app_nobody.yaml"\n',
            "tables.yaml:2: includes app_nobody.yaml, which does not exist",
        ),
        (
            "databases/default/tables/tables.yaml",
            '- "!include app_users.yaml"\n- "!include app_users.yaml"\n',
            "app_users.yaml:1: table app.users is tracked twice",
        ),
        (
            "databases/default/tables/app_users.yaml",
            "table:\n  name: users\n  schema: app\nselect_permision: []\n",
            "app_users.yaml:4: unknown key 'select_permision' in a table entry",
        ),
        (
            "actions.yaml",
            "actions: []\ncustom_type: {}\n",
            "actions.yaml:2: unknown key 'custom_type' in actions.yaml",
        ),
        (
            "databases/default/tables/app_users.yaml",
            "table:\n  name: users\n  schema: app\nobject_relationships:\n  - name: 5\n    using: {}\n",
            "app_users.yaml:5: object_relationships.0.name: Input should be a valid string",
        ),
        (
            "databases/default/tables/app_users.yaml",
            "table:\n  name: users\n  schema: app\nselect_permissions: {}\n",
            "app_users.yaml:4: select_permissions: Input should be a valid list",
        ),
    ],
    ids=["broken-yaml", "missing-include", "duplicate-table", "unknown-table-key", "unknown-actions-key",
         "wrong-type", "mapping-for-list"],
)  # fmt: skip
def test_a_broken_directory_is_an_error_naming_file_and_line(
    metadata_dir: Path, relative: str, text: str, message: str
) -> None:
    (metadata_dir / relative).write_text(text)
    with pytest.raises(ProjectError) as caught:
        load_metadata_model(metadata_dir)
    assert message in caught.value.message
    assert str(metadata_dir) in caught.value.message


def test_a_table_file_no_include_reaches_is_listed(metadata_dir: Path) -> None:
    stray = metadata_dir / "databases/default/tables/app_stray.yaml"
    stray.write_text("table:\n  name: stray\n  schema: app\n")
    (metadata_dir / "databases/default/tables/.hidden.yaml").write_text("{}\n")
    assert files_not_included(load_metadata(metadata_dir)) == [stray]


def test_the_shipped_metadata_includes_every_table_file() -> None:
    assert files_not_included(load_metadata(SHIPPED)) == []


def test_a_version_mapping_or_number_is_accepted() -> None:
    directory = load_metadata(SHIPPED)
    assert metadata_from_directory(directory).version == 3
    assert Metadata.model_validate({"version": 3}).version == 3
