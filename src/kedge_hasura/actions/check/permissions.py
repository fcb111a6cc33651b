"""Checks of permissions and roles: what Hasura validates when it builds a permission.

`check_permission_rules` needs only the metadata (admin role, duplicates, role names);
`check_permission_fields` also needs the database: columns, presets, computed fields, and the
boolean expressions of `filter` and `check`, walked as Hasura parses them (BoolExp: `_and`, `_or`,
`_not`, `_exists`, then fields: columns with operators, relationships with a nested expression
on the remote table, computed fields).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from kedge_hasura.actions.check.catalog import Relation, TableKey
from kedge_hasura.actions.check.codes import FindingSink
from kedge_hasura.actions.check.tables import SourceContext
from kedge_hasura.project.metadata import JsonPath, table_name
from kedge_hasura.project.metadata_model import (
    Metadata,
    MetadataObject,
    Permission,
    Relationship,
    RoleEntry,
    TableEntry,
)

ADMIN_ROLE = "admin"
# Column comparison operators: their value names another column, not a value (Hasura's `_ceq` ...).
_COLUMN_COMPARISONS = {"_ceq", "_cne", "_cgt", "_clt", "_cgte", "_clte"}
_SESSION_PREFIX = "x-hasura-"
_MAX_TYPO_DISTANCE = 1
_MIN_TYPO_LENGTH = 4


def check_permission_rules(metadata: Metadata, sink: FindingSink) -> None:
    """Admin permissions, duplicate roles in one permission list, and near-duplicate role names."""
    usage: dict[str, list[MetadataObject]] = defaultdict(list)
    for source in metadata.sources:
        for entry in source.tables:
            seen: dict[tuple[str, str], Permission] = {}
            for permission in entry.permissions():
                label = f"{permission.KIND} permission of {entry.table.display}"
                if permission.role == ADMIN_ROLE:
                    sink.add(
                        "permission-admin-role",
                        f"{label} is for role admin, which Hasura reserves",
                        at=(*permission.at, "role"),
                        database=source.name,
                    )
                    continue
                key = (permission.KIND, permission.role)
                if key in seen:
                    sink.add(
                        "permission-duplicate",
                        f"{label}: role {permission.role!r} has two entries",
                        at=(*permission.at, "role"),
                        database=source.name,
                    )
                seen[key] = permission
                usage[permission.role].append(permission)
        for function in source.functions:
            for entry_role in function.permissions:
                usage[entry_role.role].append(entry_role)
    role_entries: list[RoleEntry] = [p for action in metadata.actions for p in action.permissions]
    role_entries += [p for schema in metadata.remote_schemas for p in schema.permissions]
    for entry_role in role_entries:
        usage[entry_role.role].append(entry_role)
    for inherited in metadata.inherited_roles:
        usage[inherited.role_name].append(inherited)
        for role in inherited.role_set:
            usage[role].append(inherited)
    _near_duplicates(usage, sink)


def _near_duplicates(usage: dict[str, list[MetadataObject]], sink: FindingSink) -> None:
    roles = sorted(usage)
    for index, role in enumerate(roles):
        for other in roles[index + 1 :]:
            if not _looks_like_typo(role, other):
                continue
            # Report the rarer spelling: the common one is probably right.
            rare, common = sorted((role, other), key=lambda r: (len(usage[r]), r))
            sink.add(
                "role-near-duplicate",
                f"role {rare!r} (used {len(usage[rare])}x) looks like a misspelling of {common!r} "
                f"(used {len(usage[common])}x)",
                at=usage[rare][0],
            )


def _looks_like_typo(first: str, second: str) -> bool:
    if first.lower() == second.lower():
        return True
    if min(len(first), len(second)) < _MIN_TYPO_LENGTH:
        return False
    return _edit_distance(first.lower(), second.lower()) <= _MAX_TYPO_DISTANCE


def _edit_distance(first: str, second: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): a swap of two letters counts once."""
    if abs(len(first) - len(second)) > _MAX_TYPO_DISTANCE:
        return _MAX_TYPO_DISTANCE + 1
    previous_row: list[int] = []
    row = list(range(len(second) + 1))
    for i, char in enumerate(first, 1):
        before, previous_row, row = previous_row, row, [i] + [0] * len(second)
        for j, other in enumerate(second, 1):
            cost = 0 if char == other else 1
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + cost)
            if i > 1 and j > 1 and char == second[j - 2] and first[i - 2] == other:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]


def check_permission_fields(context: SourceContext) -> None:
    """Columns, presets, computed fields and boolean expressions of every permission."""
    for entry in context.source.tables:
        relation = context.catalog.relations.get(entry.table.key)
        if relation is None:
            continue
        for permission in entry.permissions():
            if permission.role != ADMIN_ROLE:
                _check_permission(context, entry, relation, permission)


def _check_permission(
    context: SourceContext, entry: TableEntry, relation: Relation, permission: Permission
) -> None:
    body = permission.permission
    label = f"{permission.KIND} permission for role {permission.role!r} on {relation.display}"
    if isinstance(body.columns, list):
        for index, column in enumerate(body.columns):
            if column not in relation.columns:
                context.add(
                    "permission-column-missing",
                    f"{label}: column {column} does not exist",
                    at=(*body.at, "columns", index),
                )
    for column in body.presets or {}:
        if column not in relation.columns:
            context.add(
                "permission-column-missing",
                f"{label}: preset (set) for column {column}, which does not exist",
                at=(*body.at, "set", column),
            )
    computed_names = {computed.name for computed in entry.computed_fields}
    for index, name in enumerate(body.computed_fields or []):
        if name not in computed_names:
            context.add(
                "permission-column-missing",
                f"{label}: computed field {name} is not defined on the table",
                at=(*body.at, "computed_fields", index),
            )
    for key, expression in (("filter", body.row_filter), ("check", body.check)):
        if expression is None:
            continue
        for problem, at in _walk(context, expression, relation.key, (*body.at, key)):
            context.add("permission-expression-invalid", f"{label}: {key}: {problem}", at=at)


def _walk(
    context: SourceContext, expression: Any, table: TableKey, at: JsonPath
) -> Iterator[tuple[str, JsonPath]]:
    """Problems in a boolean expression evaluated against `table`, each with its JSON path."""
    if not isinstance(expression, dict):
        yield f"expected an object, found {_kind(expression)}", at
        return
    relation = context.catalog.relations.get(table)
    entry = context.tracked.get(table)
    if relation is None:
        return  # the table itself is reported elsewhere
    for key, value in expression.items():
        here = (*at, key)
        if key in ("_and", "_or"):
            if not isinstance(value, list):
                yield f"{key} takes a list, found {_kind(value)}", here
                continue
            for index, item in enumerate(value):
                yield from _walk(context, item, table, (*here, index))
        elif key == "_not":
            yield from _walk(context, value, table, here)
        elif key == "_exists":
            yield from _walk_exists(context, value, here)
        elif key in relation.columns:
            yield from _column_operators(relation, key, value, here)
        elif entry is not None and (relationship := _relationship(entry, key)) is not None:
            target = context.relationship_target(entry, relationship)
            if target is not None:
                yield from _walk(context, value, target, here)
        elif entry is not None and any(c.name == key for c in entry.computed_fields):
            continue  # a computed field: its operators depend on the function's return type
        elif entry is not None and _is_aggregate_predicate(entry, key):
            continue  # an aggregation predicate: {<array relationship>_aggregate: {count: ...}}
        elif key.lower().startswith(_SESSION_PREFIX):
            yield f"session variable {key} is used as a field; it can only be a value", here
        elif key.startswith("_"):
            yield f"unknown operator {key} where a column or relationship of {relation.display} belongs", here
        else:
            yield f"{key!r} is not a column, relationship or computed field of {relation.display}", here


def _walk_exists(context: SourceContext, value: Any, at: JsonPath) -> Iterator[tuple[str, JsonPath]]:
    if not isinstance(value, dict):
        yield f"_exists takes {{_table, _where}}, found {_kind(value)}", at
        return
    table = table_name(value.get("_table"))
    if table is None:
        yield "_exists has no _table", at
        return
    if table not in context.catalog.relations:
        yield f"_exists names table {table[0]}.{table[1]}, which does not exist", (*at, "_table")
        return
    if "_where" in value:
        yield from _walk(context, value["_where"], table, (*at, "_where"))


def _column_operators(
    relation: Relation, column: str, value: Any, at: JsonPath
) -> Iterator[tuple[str, JsonPath]]:
    if not isinstance(value, dict):
        return  # a bare value is shorthand for _eq
    for operator, operand in value.items():
        if operator not in _COLUMN_COMPARISONS:
            continue
        # ["$", "column"] names a column of the permission's own table, which we do not follow.
        if isinstance(operand, str) and operand not in relation.columns:
            yield (
                f"{column}.{operator} compares with column {operand!r}, which does not exist",
                (*at, operator),
            )


def _is_aggregate_predicate(entry: TableEntry, key: str) -> bool:
    name = key.removesuffix("_aggregate")
    return name != key and any(r.name == name for r in entry.array_relationships)


def _relationship(entry: TableEntry, name: str) -> Relationship | None:
    return next((r for r in entry.relationships() if r.name == name), None)


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)
