"""Classify what changed in each role's API between two `Surface`s.

breaking and dangerous come from graphql-core's own finders (`find_breaking_changes`,
`find_dangerous_changes`), as Hasura's Schema Registry classifies with GraphQL Inspector; three of
graphql-core's dangerous kinds are counted as safe here because no existing request can change
meaning through them in Hasura's schema (see `_is_input_only_growth`). exposure is read from the
permissions, not the SDL: a role can now select a column or table, a row filter lost a condition
(or changed in a way no syntactic rule classifies), `backend_only` was removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphql import (
    BreakingChange,
    DangerousChange,
    DangerousChangeType,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    find_breaking_changes,
    find_dangerous_changes,
    get_named_type,
)

from kedge_hasura.graphql.access import ADMIN, TableAccess, filter_conjuncts
from kedge_hasura.graphql.catalog import TableKey
from kedge_hasura.graphql.surface import RoleSchema, Surface


class ChangeClass(StrEnum):
    BREAKING = "breaking"
    DANGEROUS = "dangerous"
    EXPOSURE = "exposure"


@dataclass(frozen=True)
class SurfaceChange:
    role: str
    change_class: ChangeClass
    code: str  # graphql-core's change type (FIELD_REMOVED) or ours (COLUMN_EXPOSED, FILTER_WIDENED, ...)
    coordinate: str  # query_root.users_by_pk, users.email: String!
    description: str
    table: TableKey | None  # the table the change comes from, when known
    permission: str | None = None  # insert, select, update, delete: the permission involved


@dataclass(frozen=True)
class RoleChanges:
    role: str
    changes: list[SurfaceChange]
    safe: int  # schema coordinates added that no other class reports


_FIELD = re.compile(r"^(?P<type>\w+)\.(?P<field>\w+)(?: arg (?P<arg>\w+))?")
_ENUM_VALUE = re.compile(r"^(?P<value>\w+) was (?:removed from|added to) enum type (?P<type>\w+)\.")
_ADDED_INPUT = re.compile(
    r"^An? (?:required|optional) (?:field|arg) (?P<name>\w+) on (?:input type )?(?P<type>[\w.]+) was added"
)
_TYPE = re.compile(r"^(?:Standard scalar )?(?P<type>\w+) (?:was removed|changed from)")
_SAFE_DANGEROUS = {DangerousChangeType.OPTIONAL_INPUT_FIELD_ADDED, DangerousChangeType.OPTIONAL_ARG_ADDED}


def compare_surfaces(base: Surface, head: Surface) -> list[RoleChanges]:
    """The changes of every role present on either side, roles sorted (admin first)."""
    roles = sorted(set(base.roles) | set(head.roles), key=lambda r: (r != "admin", r))
    empty = _empty_schema()
    result = []
    for role in roles:
        old, new = base.roles.get(role), head.roles.get(role)
        old_schema = old.schema if old else empty
        new_schema = new.schema if new else empty
        # A role new in this change had only the unauthenticated placeholder before: no client can
        # depend on it, so its fields are additions (safe) and its access is checked below.
        if old is not None and new is None:
            # Every field of the role is gone: one finding says so, not one per field and type.
            result.append(RoleChanges(role, [_role_removed(role, old_schema)], safe=0))
            continue
        changes = _schema_changes(role, old, new, old_schema, new_schema) if old is not None else []
        changes.extend(_access_changes(role, base, head))
        reported = {change.coordinate.split(":")[0] for change in changes}
        added = _coordinates(new_schema) - _coordinates(old_schema)
        result.append(RoleChanges(role, changes, safe=len(added - reported)))
    return result


def _role_removed(role: str, schema: GraphQLSchema) -> SurfaceChange:
    roots = [
        f"{root.name}.{name}"
        for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if root is not None
        for name in root.fields
        if name != "no_queries_available"
    ]
    shown = ", ".join(roots[:3]) + (f" and {len(roots) - 3} more" if len(roots) > 3 else "")
    return SurfaceChange(
        role,
        ChangeClass.BREAKING,
        "ROLE_REMOVED",
        f"role {role}",
        f"No permission is left for this role: its {len(roots)} root fields are gone ({shown}); "
        f"a request made as {role} sees only no_queries_available.",
        None,
    )


def _schema_changes(
    role: str,
    old: RoleSchema | None,
    new: RoleSchema | None,
    old_schema: GraphQLSchema,
    new_schema: GraphQLSchema,
) -> list[SurfaceChange]:
    changes: list[SurfaceChange] = []
    origins = {**(old.origins if old else {}), **(new.origins if new else {})}
    found: list[tuple[ChangeClass, BreakingChange | DangerousChange]] = [
        (ChangeClass.BREAKING, c) for c in find_breaking_changes(old_schema, new_schema)
    ]
    found += [
        (ChangeClass.DANGEROUS, c)
        for c in find_dangerous_changes(old_schema, new_schema)
        if not _is_input_only_growth(c, new_schema)
    ]
    for change_class, change in found:
        coordinate, type_name = _coordinate(change.description, old_schema, new_schema)
        table = origins.get(coordinate.split(":")[0].split("(")[0]) or origins.get(type_name)
        changes.append(
            SurfaceChange(role, change_class, change.type.name, coordinate, change.description, table)
        )
    return changes


def _is_input_only_growth(change: DangerousChange, schema: GraphQLSchema) -> bool:
    """An optional input field or argument added, or a value added to an enum used only as input
    (`<t>_select_column`, `<t>_update_column`, `<t>_constraint`, `order_by`): an existing request
    means the same, and no response can hold the new value. graphql-core calls these dangerous
    for schemas in general; every added column would otherwise be a dangerous change for admin."""
    if change.type in _SAFE_DANGEROUS:
        return True
    if change.type is DangerousChangeType.VALUE_ADDED_TO_ENUM:
        match = _ENUM_VALUE.match(change.description)
        return match is not None and match.group("type") not in _output_enums(schema)
    return False


def _output_enums(schema: GraphQLSchema) -> set[str]:
    names: set[str] = set()
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType):
            for f in named.fields.values():
                inner = get_named_type(f.type)
                if isinstance(inner, GraphQLEnumType):
                    names.add(inner.name)
    return names


def _coordinate(description: str, old: GraphQLSchema, new: GraphQLSchema) -> tuple[str, str]:
    """The schema coordinate a graphql-core description is about (with the field's type), and its type."""
    for pattern in (_ENUM_VALUE, _ADDED_INPUT):
        match = pattern.match(description)
        if match:
            name = match.group("value") if pattern is _ENUM_VALUE else match.group("name")
            return f"{match.group('type')}.{name}", match.group("type").split(".")[0]
    match = _FIELD.match(description)
    if match:
        type_name, field_name, arg = match.group("type"), match.group("field"), match.group("arg")
        if arg:
            return f"{type_name}.{field_name}({arg}:)", type_name
        shown = _field_type(old.type_map.get(type_name), field_name) or _field_type(
            new.type_map.get(type_name), field_name
        )
        return (f"{type_name}.{field_name}: {shown}" if shown else f"{type_name}.{field_name}"), type_name
    match = _TYPE.match(description)
    if match:
        return match.group("type"), match.group("type")
    return description, ""


def _field_type(named: GraphQLNamedType | None, field_name: str) -> str | None:
    if isinstance(named, GraphQLObjectType | GraphQLInputObjectType) and field_name in named.fields:
        return str(named.fields[field_name].type)
    return None


def _coordinates(schema: GraphQLSchema) -> set[str]:
    out: set[str] = set()
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        out.add(name)
        if isinstance(named, GraphQLObjectType):
            for field_name, f in named.fields.items():
                out.add(f"{name}.{field_name}")
                out.update(f"{name}.{field_name}({arg}:)" for arg in f.args)
        elif isinstance(named, GraphQLInputObjectType):
            out.update(f"{name}.{field_name}" for field_name in named.fields)
        elif isinstance(named, GraphQLEnumType):
            out.update(f"{name}.{value}" for value in named.values)
    return out


def _empty_schema() -> GraphQLSchema:
    """What a role outside the role set gets: no source fields (Schema.hs unauthenticatedContext)."""
    from graphql import GraphQLField, GraphQLNonNull, GraphQLString

    return GraphQLSchema(
        GraphQLObjectType("query_root", {"no_queries_available": GraphQLField(GraphQLNonNull(GraphQLString))})
    )


def _access_changes(role: str, base: Surface, head: Surface) -> list[SurfaceChange]:
    changes: list[SurfaceChange] = []
    if role == ADMIN:
        return changes  # admin sees every row and column of every tracked table by definition
    for key, table in sorted(head.tables.items()):
        existed = base.catalog.table(key) is not None
        if not existed:
            continue  # a table new in this change: its fields are additions, counted as safe
        new = table.access(role)
        old_table = base.tables.get(key)
        old = old_table.access(role) if old_table else TableAccess()
        changes.extend(
            _table_access_changes(
                role, key, table.identifier, table.root_fields, table.column_names, old, new, base, head
            )
        )
    return changes


def _table_access_changes(
    role: str,
    key: TableKey,
    type_name: str,
    roots: dict[str, str],
    names: dict[str, str],
    old: TableAccess,
    new: TableAccess,
    base: Surface,
    head: Surface,
) -> list[SurfaceChange]:
    out: list[SurfaceChange] = []
    display = f"{key[0]}.{key[1]}"

    def add(cls: ChangeClass, code: str, coordinate: str, description: str, permission: str) -> None:
        out.append(SurfaceChange(role, cls, code, coordinate, description, key, permission))

    if new.select is not None:
        if old.select is None:
            add(
                ChangeClass.EXPOSURE,
                "TABLE_EXPOSED",
                f"query_root.{roots['select']}",
                f"{role} can now select rows of {display}, which it could not before",
                "select",
            )
        else:
            obj = head.roles[role].schema.type_map.get(type_name) if role in head.roles else None
            for computed in new.select.computed_fields:
                if computed not in old.select.computed_fields:
                    shown = _field_type(obj, computed)
                    add(
                        ChangeClass.EXPOSURE,
                        "COMPUTED_FIELD_EXPOSED",
                        f"{type_name}.{computed}" + (f": {shown}" if shown else ""),
                        f"{role} can now select the computed field {display}.{computed}",
                        "select",
                    )
            for column in new.select.columns:
                if column not in old.select.columns:
                    shown = _field_type(obj, names[column])
                    add(
                        ChangeClass.EXPOSURE,
                        "COLUMN_EXPOSED",
                        f"{type_name}.{names[column]}" + (f": {shown}" if shown else ""),
                        f"{role} can now select {display}.{column}",
                        "select",
                    )
            _filter_change(
                add,
                "select",
                old.select.row_filter,
                new.select.row_filter,
                f"query_root.{roots['select']}",
                role,
                display,
            )
    for kind in ("insert", "update", "delete"):
        before, after = getattr(old, kind), getattr(new, kind)
        if before is None or after is None:
            continue
        root = f"mutation_root.{roots[kind]}"
        _filter_change(add, kind, before.row_filter, after.row_filter, root, role, display)
        if before.backend_only and not after.backend_only:
            add(
                ChangeClass.EXPOSURE,
                "BACKEND_ONLY_REMOVED",
                root,
                f"{kind} on {display} is no longer backend_only: {role} can now {kind} from clients",
                kind,
            )
    if new.insert is not None and not new.insert.backend_only:
        # Each side with its own columns: a NOT NULL column added by a migration is unsettable
        # only on the head side, even when the permission did not change.
        old_table = base.tables.get(key)
        was = (
            _unsettable_required(old_table.info.columns, old.insert)
            if old.insert is not None and old_table is not None
            else set()
        )
        for column in sorted(_unsettable_required(head.tables[key].info.columns, new.insert) - was):
            add(
                ChangeClass.DANGEROUS,
                "REQUIRED_COLUMN_NOT_SETTABLE",
                f"mutation_root.{roots['insert']}",
                f"{display}.{column} is NOT NULL without a default and {role} cannot set it: "
                "its inserts now fail",
                "insert",
            )
    return out


def _unsettable_required(columns: Any, write: Any) -> set[str]:
    settable = set(write.columns) | set(write.presets)
    return {
        c.name
        for c in columns
        if c.not_null and not c.has_default and c.insertable and c.name not in settable
    }


def _filter_change(add: Any, kind: str, old: Any, new: Any, coordinate: str, role: str, table: str) -> None:
    verdict = classify_filter(old, new)
    what = "row filter" if kind != "insert" else "insert check"
    if verdict == "stricter":
        add(
            ChangeClass.DANGEROUS,
            "FILTER_NARROWED",
            coordinate,
            f"{role}'s {kind} {what} on {table} gained a condition (fewer rows)",
            kind,
        )
    elif verdict == "wider":
        add(
            ChangeClass.EXPOSURE,
            "FILTER_WIDENED",
            coordinate,
            f"{role}'s {kind} {what} on {table} "
            + ("is now {} (every row)" if new == {} else "lost a condition (more rows)"),
            kind,
        )
    elif verdict == "changed":
        add(
            ChangeClass.EXPOSURE,
            "FILTER_CHANGED",
            coordinate,
            f"{role}'s {kind} {what} on {table} changed in a way no syntactic rule classifies "
            "(counted as exposure)",
            kind,
        )


def classify_filter(old: Any, new: Any) -> str | None:
    """None (same), "stricter" (conditions added), "wider" (conditions removed) or "changed".

    A filter is read as the conjunction of its top-level conditions (`_and` lists flattened);
    {} is the empty conjunction (every row). Anything else is "changed".
    """
    if old == new:
        return None
    old_terms, new_terms = filter_conjuncts(old), filter_conjuncts(new)
    if old_terms == new_terms:
        return None  # reordered keys or _and items
    if old_terms < new_terms:
        return "stricter"
    if new_terms < old_terms:
        return "wider"
    return "changed"
