"""`kedge: graphql:` in config.yaml: experimental_features and infer_function_permissions (what
`impact` derives the schema with)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura.errors import ProjectError
from kedge_hasura.project.config import load_config


def test_experimental_features_are_read(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("version: 3\nkedge:\n  graphql:\n    experimental_features: [hide_stream_fields]\n")
    assert load_config(path).kedge.graphql.experimental_features == ("hide_stream_fields",)


def test_default_is_no_experimental_feature(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("version: 3\n")
    assert load_config(path).kedge.graphql.experimental_features == ()


def test_an_unknown_feature_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("version: 3\nkedge:\n  graphql:\n    experimental_features:\n      - hide_steam_fields\n")
    with pytest.raises(ProjectError, match="unknown experimental feature 'hide_steam_fields'") as caught:
        load_config(path)
    assert caught.value.message.startswith(f"{path}:5: ")


def test_infer_function_permissions_defaults_to_true_and_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("version: 3\n")
    assert load_config(path).kedge.graphql.infer_function_permissions is True
    path.write_text("version: 3\nkedge:\n  graphql:\n    infer_function_permissions: false\n")
    assert load_config(path).kedge.graphql.infer_function_permissions is False


def test_infer_function_permissions_that_is_not_a_boolean_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("version: 3\nkedge:\n  graphql:\n    infer_function_permissions: 'no'\n")
    with pytest.raises(ProjectError, match="must be true or false, not 'no'") as caught:
        load_config(path)
    assert caught.value.message.startswith(f"{path}:4: ")


def test_default_naming_convention_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("version: 3\n")
    assert load_config(path).kedge.graphql.default_naming_convention == "hasura-default"
    path.write_text("version: 3\nkedge:\n  graphql:\n    default_naming_convention: graphql-default\n")
    assert load_config(path).kedge.graphql.default_naming_convention == "graphql-default"
    path.write_text("version: 3\nkedge:\n  graphql:\n    default_naming_convention: camelCase\n")
    with pytest.raises(ProjectError, match="hasura-default or graphql-default, not 'camelCase'") as caught:
        load_config(path)
    assert caught.value.message.startswith(f"{path}:4: ")
