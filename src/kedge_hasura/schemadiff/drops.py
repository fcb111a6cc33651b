"""SQL that drops what a range of migrations created: the squashed migration's down.sql.

The objects to drop are those in the final snapshot and not in the snapshot taken before the range
(the scratch template, --pre-sql, earlier migrations), so extensions and schemas that existed
before are left alone. Drops go in reverse dependency order and never CASCADE: if something
outside the migrations depends on these objects, the down migration fails loudly instead of
dropping it too. Objects of one kind go in one statement where PostgreSQL allows it
(`DROP TABLE a, b`), which also settles dependencies among them (foreign keys between the tables).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

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


def drop_statements(
    final: Snapshot, before: Snapshot, view_dependencies: Iterable[tuple[str, str]] = ()
) -> tuple[list[str], list[str]]:
    """(statements, warnings): drops for everything `final` has and `before` had not."""
    created = {
        kind: [obj for key, obj in final.of_kind(kind).items() if key not in before.of_kind(kind)]
        for kind in final.objects
    }
    old_tables = set(before.of_kind("table"))
    warnings: list[str] = []
    statements: list[str] = []

    statements += [
        f"DROP EVENT TRIGGER {quote_ident(e.name)};" for e in _of(created, "event_trigger", EventTrigger)
    ]
    # What was added to tables that existed before the range.
    for policy in _of(created, "policy", Policy):
        if policy.key[:2] in old_tables:
            statements.append(
                f"DROP POLICY {quote_ident(policy.name)} ON {qualified(policy.schema, policy.table)};"
            )
    for trigger in _of(created, "trigger", Trigger):
        if trigger.key[:2] in old_tables:
            statements.append(
                f"DROP TRIGGER {quote_ident(trigger.name)} ON {qualified(trigger.schema, trigger.table)};"
            )
    on_old_tables = [c for c in _of(created, "constraint", Constraint) if c.key[:2] in old_tables]
    for constraint in sorted(on_old_tables, key=lambda c: c.constraint_type != "foreign key"):
        statements.append(
            f"ALTER TABLE {qualified(constraint.schema, constraint.table)} "
            f"DROP CONSTRAINT {quote_ident(constraint.name)};"
        )
    indexes = [qualified(i.schema, i.name) for i in _of(created, "index", Index) if i.key[:2] in old_tables]
    if indexes:
        statements.append(f"DROP INDEX {', '.join(indexes)};")
    for column in _of(created, "column", Column):
        if column.key[:2] in old_tables and not column.of_view:
            table = qualified(column.schema, column.table)
            statements.append(f"ALTER TABLE {table} DROP COLUMN {quote_ident(column.name)};")
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

    statements += _drop_views(
        _of(created, "view", View), _of(created, "materialized_view", MaterializedView), view_dependencies
    )
    routines = _of(created, "function", Function)
    # Routines that take or return a created table's row type (`RETURNS SETOF app.articles`, a
    # Hasura computed field taking the row) depend on the table: they go first. The others may be
    # used by the tables (defaults, checks, triggers) and go after them.
    relations = [
        qualified(*obj.key)
        for kind in ("table", "view", "materialized_view")
        for obj in created.get(kind, [])
    ]
    row_typed = [f for f in routines if _uses_row_type(f, relations)]
    statements += _drop_routines(row_typed)
    tables = [qualified(t.schema, t.name) for t in _of(created, "table", Table) if t.partition_bound is None]
    if tables:
        statements.append(f"DROP TABLE {', '.join(tables)};")
    dropped_tables = {t.key for t in _of(created, "table", Table)}
    sequences = [
        qualified(s.schema, s.name)
        for s in _of(created, "sequence", Sequence)
        if not (s.owned_by and tuple(s.owned_by.split(".")[:2]) in dropped_tables)  # gone with the table
    ]
    if sequences:
        statements.append(f"DROP SEQUENCE {', '.join(sequences)};")
    statements += _drop_routines([f for f in routines if f not in row_typed])
    types = _of(created, "type", Type)
    # Composite types may use domains, and domains may use enums: drop in that order.
    for kinds, keyword in ((("composite",), "TYPE"), (("domain",), "DOMAIN"), (("enum", "range"), "TYPE")):
        names = [qualified(t.schema, t.name) for t in types if t.type_kind in kinds]
        if names:
            statements.append(f"DROP {keyword} {', '.join(names)};")
    schemas = [quote_ident(s.name) for s in _of(created, "schema", Schema)]
    if schemas:
        statements.append(f"DROP SCHEMA {', '.join(schemas)};")
    extensions = [quote_ident(e.name) for e in _of(created, "extension", Extension)]
    if extensions:
        statements.append(f"DROP EXTENSION {', '.join(extensions)};")
    return statements, warnings


_Object = TypeVar("_Object", bound=DbObject)


def _drop_routines(routines: list[Function]) -> list[str]:
    statements = []
    for kind, keyword in (("function", "FUNCTION"), ("window", "FUNCTION"), ("procedure", "PROCEDURE"),
                          ("aggregate", "AGGREGATE")):  # fmt: skip
        names = [
            f"{qualified(f.schema, f.name)}({f.identity_arguments})"
            for f in routines
            if f.function_kind == kind
        ]
        if names:
            statements.append(f"DROP {keyword} {', '.join(names)};")
    return statements


def _uses_row_type(routine: Function, relations: list[str]) -> bool:
    """Whether the signature names one of the relations (as format_type writes its row type)."""
    signature = f"{routine.arguments} {routine.result}"
    return any(re.search(rf'(?<![\w."]){re.escape(name)}(?![\w"])', signature) for name in relations)


def _of(created: dict[str, list[DbObject]], kind: str, cls: type[_Object]) -> list[_Object]:
    return sorted((obj for obj in created.get(kind, []) if isinstance(obj, cls)), key=lambda obj: obj.key)


def _drop_views(
    views: list[View], materialized: list[MaterializedView], dependencies: Iterable[tuple[str, str]]
) -> list[str]:
    """One DROP per view, dependents first (views and materialized views cannot share a statement)."""
    kinds: dict[str, tuple[str, View | MaterializedView]] = {
        f"{v.schema}.{v.name}": ("VIEW", v) for v in views
    }
    kinds |= {f"{m.schema}.{m.name}": ("MATERIALIZED VIEW", m) for m in materialized}
    dependents: dict[str, set[str]] = {name: set() for name in kinds}
    for dependent, depends_on in dependencies:
        if dependent in kinds and depends_on in kinds:
            dependents[depends_on].add(dependent)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting:
            return
        visiting.add(name)
        for dependent in sorted(dependents[name]):
            visit(dependent)
        visiting.discard(name)
        ordered.append(name)

    for name in sorted(kinds):
        visit(name)
    statements = []
    for name in ordered:
        keyword, view = kinds[name]
        statements.append(f"DROP {keyword} {qualified(view.schema, view.name)};")
    return statements
