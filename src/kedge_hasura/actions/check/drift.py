"""A semantic diff of two metadata documents (the local one and the server's export).

Text diffs of metadata report noise: Hasura does not care in which order tables, relationships or
permissions are listed, nor whether an empty `configuration: {}` is written out. So lists of named
objects are matched by identity (tables by {schema, name}, relationships by name, permissions by
role, ...), lists of plain values compare as sets, and empty values count as absent. A difference
is reported on the innermost named object that holds it, with the local JSON path of that object
(or of its local parent, for an object only the server has).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from kedge_hasura.project.metadata import ORDERED_KEYS, JsonPath, canonical, table_name, without_empty

Identity = Callable[[Any], Any]


def _by(key: str) -> Identity:
    return lambda item: item.get(key) if isinstance(item, dict) else None


def _by_table(key: str) -> Identity:
    return lambda item: table_name(item.get(key)) if isinstance(item, dict) else None


# The key that identifies the items of a list, by the list's key in its parent.
_IDENTITY: dict[str, Identity] = {
    "sources": _by("name"),
    "tables": _by_table("table"),
    "functions": _by_table("function"),
    "insert_permissions": _by("role"),
    "select_permissions": _by("role"),
    "update_permissions": _by("role"),
    "delete_permissions": _by("role"),
    "permissions": _by("role"),
    "inherited_roles": _by("role_name"),
    "allowlist": _by("collection"),
    "native_queries": _by("root_field_name"),
}
# How an object of each list is named in messages.
_NOUN = {
    "sources": "database", "tables": "table", "functions": "function",
    "object_relationships": "object relationship", "array_relationships": "array relationship",
    "computed_fields": "computed field", "remote_relationships": "remote relationship",
    "event_triggers": "event trigger", "insert_permissions": "insert permission",
    "select_permissions": "select permission", "update_permissions": "update permission",
    "delete_permissions": "delete permission", "permissions": "permission",
    "remote_schemas": "remote schema", "actions": "action", "cron_triggers": "cron trigger",
    "query_collections": "query collection", "rest_endpoints": "REST endpoint",
    "inherited_roles": "inherited role", "allowlist": "allowlist entry",
}  # fmt: skip
_MAX_FIELDS = 5


@dataclass(frozen=True)
class DriftItem:
    """One object that differs: `added` (only local), `removed` (only on the server) or `changed`."""

    change: Literal["added", "removed", "changed"]
    label: str
    at: JsonPath  # the local object, or its nearest local parent
    fields: tuple[str, ...] = field(default=())


def diff_metadata(local: dict[str, Any], server: dict[str, Any]) -> list[DriftItem]:
    """Objects that differ between two metadata documents (export_metadata v3 shape)."""
    items: list[DriftItem] = []
    local, server = without_empty(local) or {}, without_empty(server) or {}
    for key in sorted(set(local) | set(server), key=str):
        mine, theirs = local.get(key), server.get(key)
        if mine == theirs:
            continue
        if isinstance(mine, list) or isinstance(theirs, list):
            _diff_lists(key, _list(mine), _list(theirs), (key,), "", items)
        elif key == "version" or not (isinstance(mine, dict) and isinstance(theirs, dict)):
            items.append(DriftItem(_change(mine, theirs), key, (key,)))
        else:
            changed = _changed_fields(mine, theirs)
            items.append(DriftItem("changed", key, (key,), changed))
    return items


def _diff_lists(
    key: str, mine: list[Any], theirs: list[Any], at: JsonPath, owner: str, items: list[DriftItem]
) -> None:
    identity = _IDENTITY.get(key, _by("name"))
    mine_keys = [identity(item) for item in mine]
    theirs_keys = [identity(item) for item in theirs]
    unique = len({repr(k) for k in mine_keys}) == len(mine_keys)
    if not unique or any(k is None for k in mine_keys + theirs_keys):
        if canonical(mine) != canonical(theirs):
            items.append(DriftItem("changed", f"{owner}{key}".strip(), at, ()))
        return
    noun = _NOUN.get(key, key.rstrip("s").replace("_", " "))
    theirs_by = {repr(k): item for k, item in zip(theirs_keys, theirs, strict=True)}
    for index, (identity_value, item) in enumerate(zip(mine_keys, mine, strict=True)):
        label = f"{noun} {_show(identity_value)}{owner}"
        other = theirs_by.pop(repr(identity_value), None)
        if other is None:
            items.append(DriftItem("added", label, (*at, index)))
        elif canonical(item) != canonical(other):
            _diff_object(item, other, (*at, index), label, items)
    for identity_value in theirs_by:
        shown = _show(next(k for k in theirs_keys if repr(k) == identity_value))
        items.append(DriftItem("removed", f"{noun} {shown}{owner}", at))


def _diff_object(mine: Any, theirs: Any, at: JsonPath, label: str, items: list[DriftItem]) -> None:
    if not (isinstance(mine, dict) and isinstance(theirs, dict)):
        items.append(DriftItem("changed", label, at, ()))
        return
    changed: list[str] = []
    for key in sorted(set(mine) | set(theirs), key=str):
        value, other = mine.get(key), theirs.get(key)
        if _same(key, value, other):
            continue
        holds_objects = key in _NOUN and (isinstance(value, list) or isinstance(other, list))
        if holds_objects:
            _diff_lists(key, _list(value), _list(other), (*at, key), f" of {label}", items)
        else:
            changed.append(key)
    if changed:
        items.append(DriftItem("changed", label, at, tuple(changed)))


def _changed_fields(mine: dict[str, Any], theirs: dict[str, Any]) -> tuple[str, ...]:
    keys = sorted(set(mine) | set(theirs), key=str)
    return tuple(k for k in keys if not _same(k, mine.get(k), theirs.get(k)))[:_MAX_FIELDS]


def _same(key: Any, value: Any, other: Any) -> bool:
    ordered = key in ORDERED_KEYS
    return bool(canonical(value, ordered=ordered) == canonical(other, ordered=ordered))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _change(mine: Any, theirs: Any) -> Literal["added", "removed", "changed"]:
    if theirs is None:
        return "added"
    if mine is None:
        return "removed"
    return "changed"


def _show(identity: Any) -> str:
    if isinstance(identity, tuple):
        return ".".join(str(part) for part in identity)
    return repr(identity) if isinstance(identity, str) else str(identity)
