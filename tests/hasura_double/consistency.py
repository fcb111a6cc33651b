"""Inconsistent metadata objects, computed from the REAL catalog of each source (contract §7.5).

Covers what kedge-hasura's checks meet in practice: a tracked table or view that does not exist;
a relationship naming a missing table, column or foreign-key constraint (or an untracked remote
table), or sharing its name with a column of its table; a permission for role `admin`, or naming
a missing column. Objects are shaped as Hasura encodes them (`type`, `name`, `reason`,
`definition`); `name` and `reason` texts are close to the server's but, as the contract says,
only `type` + `definition` are meant to be relied on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .sql import Session

_RELATIONS = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
"""
_COLUMNS = """
SELECT n.nspname, c.relname, a.attname FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
"""
# One row per foreign key: owning table, its columns, referenced table (columns joined by commas).
_FOREIGN_KEYS = """
SELECT sn.nspname, sc.relname,
       (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num),
       tn.nspname, tc.relname
  FROM pg_constraint con
  JOIN pg_class sc ON sc.oid = con.conrelid JOIN pg_namespace sn ON sn.oid = sc.relnamespace
  JOIN pg_class tc ON tc.oid = con.confrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
 WHERE con.contype = 'f'
"""
_PERMISSION_KINDS = ("insert", "select", "update", "delete")

Table = tuple[str, str]


@dataclass
class Catalog:
    """What one source's database holds, as far as the checks need."""

    columns: dict[Table, set[str]] = field(default_factory=dict)
    foreign_keys: set[tuple[Table, frozenset[str], Table]] = field(default_factory=set)

    @classmethod
    def read(cls, conninfo: str) -> Catalog:
        session = Session(conninfo)
        try:
            return cls.read_in(session)
        finally:
            session.close()

    @classmethod
    def read_in(cls, session: Session) -> Catalog:
        """The catalog as `session` sees it (inside its open transaction, if any)."""
        catalog = cls()
        for schema, name in session.query(_RELATIONS):
            catalog.columns[(schema or "", name or "")] = set()
        for schema, name, column in session.query(_COLUMNS):
            catalog.columns.setdefault((schema or "", name or ""), set()).add(column or "")
        for schema, name, columns, ref_schema, ref_name in session.query(_FOREIGN_KEYS):
            key = (
                (schema or "", name or ""),
                frozenset((columns or "").split(",")),
                (ref_schema or "", ref_name or ""),
            )
            catalog.foreign_keys.add(key)
        return catalog


def table_key(value: Any) -> Table:
    """`{"schema", "name"}` or a bare name (schema public, §6.5) → (schema, name)."""
    if isinstance(value, str):
        return ("public", value)
    if isinstance(value, dict):
        return (str(value.get("schema", "public")), str(value.get("name", "")))
    return ("public", str(value))


def find_inconsistencies(
    metadata: dict[str, Any], catalogs: Callable[[str], Catalog | None]
) -> list[dict[str, Any]]:
    """Every inconsistent object of `metadata`; `catalogs(source)` is None for an unknown source."""
    found: list[dict[str, Any]] = []
    for source in metadata.get("sources") or []:
        name = str(source.get("name", ""))
        catalog = catalogs(name)
        if catalog is None:
            found.append(
                _object(
                    "source",
                    f"source {name}",
                    f"connection error: the test double has no database for source {name!r}",
                    source,
                )
            )
            continue
        tracked = {table_key(entry.get("table")) for entry in source.get("tables") or []}
        for entry in source.get("tables") or []:
            found.extend(_table_problems(name, entry, catalog, tracked))
    return found


def _table_problems(
    source: str, entry: dict[str, Any], catalog: Catalog, tracked: set[Table]
) -> list[dict[str, Any]]:
    table = table_key(entry.get("table"))
    shown = f"{table[0]}.{table[1]}"
    if table not in catalog.columns:
        missing = f'no such table/view exists in source: "{shown}"'
        return [_object("table", f"table {shown} in source {source}", missing, entry.get("table"))]
    problems = []
    for kind in ("object", "array"):
        for relationship in entry.get(f"{kind}_relationships") or []:
            reason = _relationship_problem(kind, table, relationship.get("using") or {}, catalog, tracked)
            if reason is None and relationship.get("name") in catalog.columns[table]:
                # A relationship and a column share one GraphQL field name: Hasura marks the
                # relationship inconsistent (a column added under a relationship's name does this).
                reason = f'field "{relationship.get("name")}" conflicts with a column of the same name'
            if reason is not None:
                rel_name = relationship.get("name")
                problems.append(
                    _object(
                        f"{kind}_relation",
                        f"{kind}_relation {rel_name} in table {shown} in source {source}",
                        f'in table "{shown}": in relationship "{rel_name}": {reason}',
                        {"source": source, "table": entry.get("table"), **relationship},
                    )
                )
    for kind in _PERMISSION_KINDS:
        for permission in entry.get(f"{kind}_permissions") or []:
            problem = _permission_problem(table, permission, catalog)
            if problem is not None:
                role = permission.get("role")
                problems.append(
                    _object(
                        f"{kind}_permission",
                        f"{kind}_permission {role} in table {shown} in source {source}",
                        f'in table "{shown}": in permission for role "{role}": {problem}',
                        {"source": source, "table": entry.get("table"), **permission},
                    )
                )
    return problems


def _relationship_problem(
    kind: str, table: Table, using: dict[str, Any], catalog: Catalog, tracked: set[Table]
) -> str | None:
    if "manual_configuration" in using:
        manual = using["manual_configuration"] or {}
        remote = table_key(manual.get("remote_table"))
        mapping = manual.get("column_mapping") or {}
        return (
            _remote_problem(remote, catalog, tracked)
            or _columns_problem(table, list(mapping), catalog)
            or _columns_problem(remote, list(mapping.values()), catalog)
        )
    constraint_on = using.get("foreign_key_constraint_on")
    if kind == "object" and isinstance(constraint_on, str | list):
        # The foreign key is on this table's column(s).
        columns = [constraint_on] if isinstance(constraint_on, str) else list(constraint_on)
        problem = _columns_problem(table, columns, catalog)
        if problem is None and not any(
            owner == table and cols == frozenset(columns) for owner, cols, _ in catalog.foreign_keys
        ):
            problem = "no foreign constraint exists on the given column(s)"
        return problem
    if isinstance(constraint_on, dict):
        # The foreign key is on the remote table and references this one.
        remote = table_key(constraint_on.get("table"))
        columns = constraint_on.get("columns") or [constraint_on.get("column")]
        problem = _remote_problem(remote, catalog, tracked) or _columns_problem(remote, columns, catalog)
        if problem is None and (remote, frozenset(columns), table) not in catalog.foreign_keys:
            problem = (
                f'no foreign constraint exists on the given column(s) of table "{remote[0]}.{remote[1]}"'
            )
        return problem
    return 'the relationship\'s "using" is not understood by the test double'


def _remote_problem(remote: Table, catalog: Catalog, tracked: set[Table]) -> str | None:
    if remote not in catalog.columns:
        return f'table "{remote[0]}.{remote[1]}" does not exist'
    if remote not in tracked:
        return f'table "{remote[0]}.{remote[1]}" is not tracked'
    return None


def _columns_problem(table: Table, columns: list[Any], catalog: Catalog) -> str | None:
    existing = catalog.columns.get(table, set())
    for column in columns:
        if column not in existing:
            return f'column "{column}" does not exist'
    return None


def _permission_problem(table: Table, permission: dict[str, Any], catalog: Catalog) -> str | None:
    if permission.get("role") == "admin":
        return "cannot define permission for admin role"
    columns = (permission.get("permission") or {}).get("columns")
    if isinstance(columns, list):
        existing = catalog.columns.get(table, set())
        for column in columns:
            if column not in existing:
                return f'"{column}" does not exist'
    return None


def _object(kind: str, name: str, reason: str, definition: Any) -> dict[str, Any]:
    return {"type": kind, "name": name, "reason": f"Inconsistent object: {reason}", "definition": definition}
