"""Hostile YAML in metadata: an alias bomb and an oversized file end in a clear error naming the
file, quickly, instead of running until killed; ordinary aliases still work."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from kedge_hasura.errors import ProjectError
from kedge_hasura.project import yamlfile
from kedge_hasura.project.metadata import load_metadata
from kedge_hasura.project.yamlfile import read_yaml

LEVELS = "abcdefghi"


def _bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, level in itertools.pairwise(LEVELS):
        lines.append(f"{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tables.yaml"
    path.write_text(_bomb())
    with pytest.raises(ProjectError, match="aliases") as caught:
        read_yaml(path)
    assert str(path) in caught.value.message


def test_an_alias_bomb_in_an_included_table_file_names_that_file(tmp_path: Path) -> None:
    metadata = tmp_path / "metadata"
    tables = metadata / "databases" / "default" / "tables"
    tables.mkdir(parents=True)
    (metadata / "version.yaml").write_text("version: 3\n")
    (metadata / "databases" / "databases.yaml").write_text(
        "- name: default\n  kind: postgres\n  configuration:\n    connection_info:\n"
        '      database_url: {from_env: DB}\n  tables: "!include default/tables/tables.yaml"\n'
    )
    (tables / "tables.yaml").write_text('- "!include public_bomb.yaml"\n')
    (tables / "public_bomb.yaml").write_text("table: {name: bomb, schema: public}\n" + _bomb())
    with pytest.raises(ProjectError, match="aliases") as caught:
        load_metadata(metadata)
    assert "public_bomb.yaml" in caught.value.message


def test_ordinary_aliases_still_expand(tmp_path: Path) -> None:
    path = tmp_path / "public_posts.yaml"
    path.write_text(
        "table: {name: posts, schema: public}\n"
        "select_permissions:\n"
        "  - role: user\n    permission: &p {columns: [id, title], filter: {}}\n"
        "  - role: editor\n    permission: *p\n"
    )
    document = read_yaml(path)
    permissions = document.value["select_permissions"]
    assert (
        permissions[0]["permission"]
        == permissions[1]["permission"]
        == {"columns": ["id", "title"], "filter": {}}
    )


def test_a_file_over_the_size_cap_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfile, "MAX_YAML_BYTES", 1024)
    path = tmp_path / "tables.yaml"
    path.write_text("- " + "x" * 2048 + "\n")
    with pytest.raises(ProjectError, match="larger than") as caught:
        read_yaml(path)
    assert str(path) in caught.value.message
