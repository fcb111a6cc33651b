"""SQL that drops what a range of migrations created: the squashed migration's down.sql.

The objects to drop are those in the final snapshot and not in the snapshot taken before the range
(the scratch template, --pre-sql, earlier migrations), so extensions and schemas that existed
before are left alone. Drops never CASCADE: if something outside the migrations depends on these
objects, the down migration fails loudly instead of dropping it too.

The order comes from PostgreSQL's own dependency graph (pg_depend, read by pg.dependencies), not
from object kinds: a function `RETURNS SETOF` a view goes before the view, a table whose column
default calls a function before the function, a view on a view before the view it reads. Objects
that go with another one when it is dropped (a table's columns, indexes, constraints, triggers,
policies and owned sequences; a view's rule; an extension's members; a type's array type) are not
dropped on their own. Objects that depend on each other in a cycle (two tables with foreign keys
to each other) share one statement (`DROP TABLE a, b`), as do neighbours of the same kind; a cycle
of different kinds is broken by first dropping the default, check, trigger, policy or index that
closes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from kedge_hasura.schemadiff.droporder import components, drop_order
from kedge_hasura.schemadiff.model import (
    Column,
    Constraint,
    DbObject,
    EventTrigger,
    Extension,
    Function,
    Index,
    MaterializedView,
    Policy,
    Schema,
    Sequence,
    Snapshot,
    Table,
    Trigger,
    Type,
    View,
)
from kedge_hasura.sql.quoting import qualified, quote_ident

Ref = tuple[str, ...]  # (kind, *key), as pg.dependencies names objects
# (dependent, referenced, deptype) as in pg_depend; see pg.dependencies.Dependency.
DependencyEdge = tuple[Ref, Ref, str]
# pg_depend types meaning "dropped together with the referenced object".
_GOES_WITH = frozenset({"a", "i", "e", "P", "S"})


@dataclass(frozen=True)
class _Drop:
    ref: Ref
    rank: int  # among drops that may go at the same time, lower ranks go first (the old kind order)
    keyword: str | None  # drops with the same keyword share a statement: DROP <keyword> a, b
    target: str  # the qualified name (keyword drops) or the whole statement


def drop_statements(
    final: Snapshot, before: Snapshot, dependencies: Iterable[DependencyEdge] = ()
) -> tuple[list[str], list[str]]:
    """(statements, warnings): drops for everything `final` has and `before` had not.

    `dependencies` are the final database's pg_depend edges (pg.dependencies); without them the
    drops come in the order of their kinds, which fails whenever an object depends on one of a
    kind dropped earlier.
    """
    created = {
        kind: [obj for key, obj in final.of_kind(kind).items() if key not in before.of_kind(kind)]
        for kind in final.objects
    }
    old_tables = set(before.of_kind("table"))
    warnings: list[str] = []
    changed_old = sorted(
        ".".join(key)
        for key, table in final.of_kind("table").items()
        if key in old_tables and table != before.of_kind("table")[key]
    )
    if changed_old:
        warnings.append(
            "tables that existed before the range were changed; down.sql drops what was added to them "
            f"but cannot undo other changes: {', '.join(changed_old)}"
        )
    drops = _drops(created, old_tables)
    edges = list(dependencies)
    statements, cycle_warnings = _ordered_statements(drops, edges, created)
    return statements, warnings + cycle_warnings


def _drops(created: dict[str, list[DbObject]], old_tables: set[tuple[str, ...]]) -> list[_Drop]:
    """One drop per created object that is not dropped with another created object."""
    drops = [
        _Drop(("event_trigger", e.name), 0, None, f"DROP EVENT TRIGGER {quote_ident(e.name)};")
        for e in _of(created, "event_trigger", EventTrigger)
    ]
    # What was added to tables that existed before the range.
    for policy in _of(created, "policy", Policy):
        if policy.key[:2] in old_tables:
            on = qualified(policy.schema, policy.table)
            drops.append(
                _Drop(("policy", *policy.key), 1, None, f"DROP POLICY {quote_ident(policy.name)} ON {on};")
            )
    for trigger in _of(created, "trigger", Trigger):
        if trigger.key[:2] in old_tables:
            on = qualified(trigger.schema, trigger.table)
            drops.append(
                _Drop(
                    ("trigger", *trigger.key), 1, None, f"DROP TRIGGER {quote_ident(trigger.name)} ON {on};"
                )
            )
    for constraint in _of(created, "constraint", Constraint):
        if constraint.key[:2] in old_tables:
            drops.append(
                _Drop(
                    ("constraint", *constraint.key),
                    2 if constraint.constraint_type == "foreign key" else 3,
                    None,
                    f"ALTER TABLE {qualified(constraint.schema, constraint.table)} "
                    f"DROP CONSTRAINT {quote_ident(constraint.name)};",
                )
            )
    drops += [
        _Drop(("index", *i.key), 4, "INDEX", qualified(i.schema, i.name))
        for i in _of(created, "index", Index)
        if i.key[:2] in old_tables
    ]
    for column in _of(created, "column", Column):
        if column.key[:2] in old_tables and not column.of_view:
            table = qualified(column.schema, column.table)
            drops.append(
                _Drop(
                    ("column", *column.key),
                    5,
                    None,
                    f"ALTER TABLE {table} DROP COLUMN {quote_ident(column.name)};",
                )
            )
    drops += [
        _Drop(("view", *v.key), 6, "VIEW", qualified(v.schema, v.name)) for v in _of(created, "view", View)
    ]
    drops += [
        _Drop(("materialized_view", *m.key), 6, "MATERIALIZED VIEW", qualified(m.schema, m.name))
        for m in _of(created, "materialized_view", MaterializedView)
    ]
    keywords = {
        "function": "FUNCTION",
        "window": "FUNCTION",
        "procedure": "PROCEDURE",
        "aggregate": "AGGREGATE",
    }
    drops += [
        _Drop(
            ("function", *f.key),
            7,
            keywords[f.function_kind],
            f"{qualified(f.schema, f.name)}({f.identity_arguments})",
        )
        for f in _of(created, "function", Function)
        if f.function_kind in keywords
    ]
    tables = _of(created, "table", Table)
    dropped_tables = {t.key for t in tables}
    # A partition goes with its table; without the dependency graph, say so here too.
    drops += [
        _Drop(("table", *t.key), 8, "TABLE", qualified(t.schema, t.name))
        for t in tables
        if t.partition_bound is None
    ]
    drops += [
        _Drop(("sequence", *s.key), 9, "SEQUENCE", qualified(s.schema, s.name))
        for s in _of(created, "sequence", Sequence)
        # gone with the table ("schema.table.column"; names may hold dots, so match by prefix)
        if not (s.owned_by and any(s.owned_by.startswith(f"{a}.{b}.") for a, b in dropped_tables))
    ]
    # Without the graph: composite types may use domains, and domains may use enums.
    for kinds, rank, keyword in (
        (("composite",), 10, "TYPE"),
        (("domain",), 11, "DOMAIN"),
        (("enum", "range"), 12, "TYPE"),
    ):
        drops += [
            _Drop(("type", *t.key), rank, keyword, qualified(t.schema, t.name))
            for t in _of(created, "type", Type)
            if t.type_kind in kinds
        ]
    drops += [
        _Drop(("schema", *s.key), 13, "SCHEMA", quote_ident(s.name)) for s in _of(created, "schema", Schema)
    ]
    drops += [
        _Drop(("extension", *e.key), 14, "EXTENSION", quote_ident(e.name))
        for e in _of(created, "extension", Extension)
    ]
    return drops


def _ordered_statements(
    drops: list[_Drop], dependencies: list[DependencyEdge], created: dict[str, list[DbObject]]
) -> tuple[list[str], list[str]]:
    by_ref = {drop.ref: drop for drop in drops}
    owners: dict[Ref, list[Ref]] = {}
    for dependent, referenced, deptype in dependencies:
        if deptype in _GOES_WITH and dependent != referenced:
            owners.setdefault(dependent, []).append(referenced)
    units: dict[Ref, Ref | None] = {}

    def unit_of(ref: Ref) -> Ref | None:
        """The drop that removes `ref`: the outermost created object it goes with, or itself."""
        if ref in units:
            return units[ref]
        units[ref] = None  # a cycle of "goes with" edges (a composite type and its relation)
        found = None
        for owner in sorted(owners.get(ref, ())):
            found = unit_of(owner)
            if found is not None:
                break
        if found is None and ref in by_ref:
            found = ref
        units[ref] = found
        return found

    edges: dict[tuple[Ref, Ref], list[Ref]] = {}  # (dependent drop, referenced drop) → via objects
    for dependent, referenced, _ in dependencies:
        a, b = unit_of(dependent), unit_of(referenced)
        if a is not None and b is not None and a != b:
            edges.setdefault((a, b), []).append(dependent)
    nodes = [drop.ref for drop in sorted(drops, key=lambda d: (d.rank, d.ref))]
    for drop in drops:
        unit_of(drop.ref)
    kept = [ref for ref in nodes if units.get(ref) == ref]
    first = _break_cycles(kept, edges, by_ref, created)
    order = drop_order(kept, edges, sort_key=lambda ref: (by_ref[ref].rank, ref))
    warnings: list[str] = []
    # (keyword, targets): neighbours with the same keyword share one statement, which PostgreSQL
    # checks as a whole (DROP TABLE a, b works when a depends on b).
    merged: list[tuple[str | None, list[str]]] = [(None, [statement]) for statement in first]
    for group in order:
        warnings += _mixed_cycle_warning(group, by_ref)
        for keyword, members in _by_keyword(group, by_ref):
            if keyword is not None and merged and merged[-1][0] == keyword:
                merged[-1][1].extend(members)
            elif keyword is not None:
                merged.append((keyword, members))
            else:
                merged += [(None, [statement]) for statement in members]
    statements = [
        f"DROP {keyword} {', '.join(targets)};" if keyword is not None else targets[0]
        for keyword, targets in merged
    ]
    return statements, warnings


def _by_keyword(group: list[Ref], by_ref: dict[Ref, _Drop]) -> list[tuple[str | None, list[str]]]:
    grouped: dict[str | None, list[str]] = {}
    for ref in sorted(group, key=lambda r: (by_ref[r].rank, r)):
        grouped.setdefault(by_ref[ref].keyword, []).append(by_ref[ref].target)
    return list(grouped.items())


def _mixed_cycle_warning(group: list[Ref], by_ref: dict[Ref, _Drop]) -> list[str]:
    keywords = {by_ref[ref].keyword for ref in group}
    if len(group) > 1 and (len(keywords) > 1 or None in keywords):
        names = ", ".join(f"{ref[0]} {'.'.join(ref[1:])}" for ref in group)
        return [f"down.sql: these objects depend on each other and no single statement drops them: {names}"]
    return []


def _break_cycles(
    nodes: list[Ref],
    edges: dict[tuple[Ref, Ref], list[Ref]],
    by_ref: dict[Ref, _Drop],
    created: dict[str, list[DbObject]],
) -> list[str]:
    """Statements that open cycles of different kinds (removing their edges from `edges`)."""
    columns = {c.key: c for c in _of(created, "column", Column)}
    constraints = {c.key: c for c in _of(created, "constraint", Constraint)}
    indexes = {i.key: i for i in _of(created, "index", Index)}
    statements: list[str] = []
    for group in components(nodes, edges):
        if len({by_ref[ref].keyword for ref in group}) < 2:
            continue
        members = set(group)
        for (a, b), vias in sorted(edges.items()):
            if a not in members or b not in members:
                continue
            opened = [_drop_sub_object(via, columns, constraints, indexes) for via in sorted(set(vias))]
            if opened and all(opened):
                statements += [s for s in opened if s and s not in statements]
                del edges[(a, b)]
    return statements


def _drop_sub_object(
    via: Ref,
    columns: dict[tuple[str, ...], Column],
    constraints: dict[tuple[str, ...], Constraint],
    indexes: dict[tuple[str, ...], Index],
) -> str | None:
    """A statement that drops the part of a table that makes it depend on something, if it can go alone."""
    kind, key = via[0], via[1:]
    if len(key) != 3:
        return None
    table = qualified(key[0], key[1])
    if kind == "default":
        column = columns.get(key)
        action = "DROP EXPRESSION" if column is not None and column.generated else "DROP DEFAULT"
        return f"ALTER TABLE {table} ALTER COLUMN {quote_ident(key[2])} {action};"
    if kind == "constraint" and key in constraints and constraints[key].constraint_type == "check":
        return f"ALTER TABLE {table} DROP CONSTRAINT {quote_ident(key[2])};"
    if kind == "trigger":
        return f"DROP TRIGGER {quote_ident(key[2])} ON {table};"
    if kind == "policy":
        return f"DROP POLICY {quote_ident(key[2])} ON {table};"
    if kind == "index" and key in indexes and not indexes[key].unique:
        return f"DROP INDEX {qualified(key[0], key[2])};"
    return None


_Object = TypeVar("_Object", bound=DbObject)


def _of(created: dict[str, list[DbObject]], kind: str, cls: type[_Object]) -> list[_Object]:
    return sorted((obj for obj in created.get(kind, []) if isinstance(obj, cls)), key=lambda obj: obj.key)
