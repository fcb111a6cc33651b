"""Fixtures for unit tests: small Hasura project trees built from a dict, in tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

# Relative path → content. str is written as UTF-8 exactly as given (CRLF kept), bytes as is,
# None (or a path ending in "/") makes an empty folder.
TreeSpec = Mapping[str, str | bytes | None]
BuildTree = Callable[..., Path]

DEFAULT_CONFIG = "version: 3\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n"
DEFAULT_DATABASES = "- name: default\n  kind: postgres\n  tables: []\n"


def write_tree(root: Path, files: TreeSpec) -> Path:
    """Create `files` below `root` and return `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        path = root / relative
        if content is None or relative.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


@pytest.fixture
def build_tree(tmp_path: Path) -> BuildTree:
    """`build_tree({"a/b.sql": "..."}, root=None)` → the folder holding the tree (tmp_path/tree)."""

    def build(files: TreeSpec, root: Path | None = None) -> Path:
        return write_tree(root or tmp_path / "tree", files)

    return build


@pytest.fixture
def make_project(tmp_path: Path) -> BuildTree:
    """A Hasura project (config v3, metadata declaring `default`) plus `files`; returns its root.

    Keys of `files` are relative to the project root; they may replace config.yaml or
    metadata/databases/databases.yaml.
    """

    def build(files: TreeSpec, root: Path | None = None) -> Path:
        base: dict[str, str | bytes | None] = {
            "config.yaml": DEFAULT_CONFIG,
            "metadata/databases/databases.yaml": DEFAULT_DATABASES,
            "migrations/": None,
        }
        base.update(files)
        return write_tree(root or tmp_path / "project", base)

    return build
