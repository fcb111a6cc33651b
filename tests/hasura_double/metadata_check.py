"""run_sql's metadata check (contract §2.4, facts §2(e)), as RunSQL.hs `withMetadataCheck` does it.

Two phases, with the commit between them:

1. Inside the SQL's transaction (`runTxWithMetadataCheck`): compare the tracked tables and their
   columns before and after the SQL. Objects of OTHER tracked tables that depend on a dropped
   table or column (relationships, permissions naming columns) are "indirect dependencies":
   without `cascade` they fail the call with 400 `dependency-error` and the transaction rolls
   back; with `cascade` they are purged from metadata. Dropped tracked tables leave metadata
   (their own relationships and permissions go with them, no error). Then the transaction COMMITS.
2. After the commit (`withNewInconsistentObjsCheck`): rebuild the schema cache from the updated
   metadata; any inconsistent object that was not inconsistent before fails the call with 400
   `unexpected` "cannot continue due to new inconsistent metadata" (`internal`: the new objects).
   The SQL stays committed; metadata and the schema cache stay as they were before the call.

Tables are followed by OID and columns by attnum, as Hasura does, so a rename is renamed in
metadata (in permissions' column lists and relationships; not inside permission filters and
checks, which the double does not read). Not modelled (written in the package docstring):
functions and computed fields, column type changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .consistency import Table, table_key
from .qerr import QErr
from .sql import Session

_PERMISSION_KINDS = ("insert", "select", "update", "delete")


_SHAPE = """
SELECT c.oid::text, n.nspname, c.relname, a.attnum::text, a.attname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
"""


@dataclass
class Shape:
    """Relations by OID and their columns by attnum: what Hasura's OID diff compares, so that a
    rename is a rename, not a drop and an add."""

    names: dict[str, Table] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session) -> Shape:
        shape = cls()
        for oid, schema, name, attnum, column in session.query(_SHAPE):
            shape.names[oid or ""] = (schema or "", name or "")
            if attnum is not None:
                shape.columns.setdefault(oid or "", {})[attnum] = column or ""
        return shape

    def oid_of(self, table: Table) -> str | None:
        return next((oid for oid, name in self.names.items() if name == table), None)


@dataclass
class SchemaChange:
    """What one run_sql's text dropped or renamed among the tracked tables of a source (by the
    names they had before the SQL)."""

    dropped_tables: set[Table] = field(default_factory=set)
    dropped_columns: dict[Table, set[str]] = field(default_factory=dict)
    renamed_tables: dict[Table, Table] = field(default_factory=dict)
    renamed_columns: dict[Table, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def between(cls, tracked: list[Table], before: Shape, after: Shape) -> SchemaChange:
        change = cls()
        for table in tracked:
            oid = before.oid_of(table)
            if oid is None:
                continue  # missing before the SQL: already inconsistent, not this call's doing
            if oid not in after.names:
                change.dropped_tables.add(table)
                continue
            if after.names[oid] != table:
                change.renamed_tables[table] = after.names[oid]
            now = after.columns.get(oid, {})
            for attnum, column in before.columns.get(oid, {}).items():
                if attnum not in now:
                    change.dropped_columns.setdefault(table, set()).add(column)
                elif now[attnum] != column:
                    change.renamed_columns.setdefault(table, {})[column] = now[attnum]
        return change

    def _dropped(self, table: Table, columns: list[Any]) -> bool:
        gone = self.dropped_columns.get(table, set())
        return table in self.dropped_tables or bool(set(map(str, columns)) & gone)

    def indirect_dependents(self, source: dict[str, Any]) -> list[tuple[dict[str, Any], str, str]]:
        """(table entry, metadata key, object name) of each object another table keeps that the
        SQL broke; objects of a dropped table itself are not indirect (Diff.hs `isIndirectDep`)."""
        found = []
        for entry in source.get("tables") or []:
            table = table_key(entry.get("table"))
            if table in self.dropped_tables:
                continue
            for kind in ("object", "array"):
                for relationship in entry.get(f"{kind}_relationships") or []:
                    if self._relationship_broken(kind, table, relationship.get("using") or {}):
                        name = f"relationship {_shown(table)}.{relationship.get('name')}"
                        found.append((entry, f"{kind}_relationships", name))
            for kind in _PERMISSION_KINDS:
                for permission in entry.get(f"{kind}_permissions") or []:
                    columns = (permission.get("permission") or {}).get("columns")
                    if isinstance(columns, list) and self._dropped(table, columns):
                        name = f"permission {_shown(table)}.{permission.get('role')}.{kind}"
                        found.append((entry, f"{kind}_permissions", name))
        return found

    def _relationship_broken(self, kind: str, table: Table, using: dict[str, Any]) -> bool:
        manual = using.get("manual_configuration")
        if isinstance(manual, dict):
            remote = table_key(manual.get("remote_table"))
            mapping = manual.get("column_mapping") or {}
            return self._dropped(table, list(mapping)) or self._dropped(remote, list(mapping.values()))
        constraint_on = using.get("foreign_key_constraint_on")
        if kind == "object" and isinstance(constraint_on, str | list):
            return self._dropped(table, [constraint_on] if isinstance(constraint_on, str) else constraint_on)
        if isinstance(constraint_on, dict):
            remote = table_key(constraint_on.get("table"))
            return self._dropped(remote, constraint_on.get("columns") or [constraint_on.get("column")])
        return False


def apply_change(source: dict[str, Any], change: SchemaChange, *, cascade: bool) -> None:
    """Phase 1's metadata update, in place; raises dependency-error when it needs `cascade`."""
    dependents = change.indirect_dependents(source)
    if dependents and not cascade:
        names = ", ".join(sorted({name for _, _, name in dependents}))
        raise QErr(400, "dependency-error", f"cannot drop due to the following dependent objects : {names}")
    for entry, key, name in dependents:
        entry[key] = [item for item in entry[key] if not _names(entry, key, item, name)]
    dropped = change.dropped_tables
    source["tables"] = [e for e in source.get("tables") or [] if table_key(e.get("table")) not in dropped]
    for entry in source["tables"]:
        _rename_in(entry, change)


def _rename_in(entry: dict[str, Any], change: SchemaChange) -> None:
    """Renames into one table entry, as Hasura's renameTableInMetadata / renameColumnInMetadata
    do (not inside permission filters and checks: the double does not read those)."""
    own = table_key(entry.get("table"))
    columns = change.renamed_columns.get(own, {})
    for kind in _PERMISSION_KINDS:
        for permission in entry.get(f"{kind}_permissions") or []:
            body = permission.get("permission") or {}
            if isinstance(body.get("columns"), list):
                body["columns"] = [columns.get(c, c) for c in body["columns"]]
    for kind in ("object", "array"):
        for relationship in entry.get(f"{kind}_relationships") or []:
            using = relationship.get("using") or {}
            manual = using.get("manual_configuration")
            if isinstance(manual, dict):
                remote = table_key(manual.get("remote_table"))
                theirs = change.renamed_columns.get(remote, {})
                mapping = manual.get("column_mapping") or {}
                manual["column_mapping"] = {columns.get(k, k): theirs.get(v, v) for k, v in mapping.items()}
                if remote in change.renamed_tables:
                    manual["remote_table"] = _named(change.renamed_tables[remote])
            on = using.get("foreign_key_constraint_on")
            if isinstance(on, str):
                using["foreign_key_constraint_on"] = columns.get(on, on)
            elif isinstance(on, list):
                using["foreign_key_constraint_on"] = [columns.get(c, c) for c in on]
            elif isinstance(on, dict):
                remote = table_key(on.get("table"))
                theirs = change.renamed_columns.get(remote, {})
                if "columns" in on:
                    on["columns"] = [theirs.get(c, c) for c in on["columns"]]
                if "column" in on:
                    on["column"] = theirs.get(on["column"], on["column"])
                if remote in change.renamed_tables:
                    on["table"] = _named(change.renamed_tables[remote])
    if own in change.renamed_tables:
        entry["table"] = _named(change.renamed_tables[own])


def _named(table: Table) -> dict[str, str]:
    return {"name": table[1], "schema": table[0]}


def new_inconsistencies(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects inconsistent after that were not before (by type and name, as Hasura groups them)."""
    known = {(item.get("type"), item.get("name")) for item in before}
    return [item for item in after if (item.get("type"), item.get("name")) not in known]


def after_commit_error(fresh: list[dict[str, Any]]) -> QErr:
    return QErr(400, "unexpected", "cannot continue due to new inconsistent metadata", internal=fresh)


def _names(entry: dict[str, Any], key: str, item: dict[str, Any], name: str) -> bool:
    table = _shown(table_key(entry.get("table")))
    if key.endswith("_relationships"):
        return name == f"relationship {table}.{item.get('name')}"
    return name == f"permission {table}.{item.get('role')}.{key.removesuffix('_permissions')}"


def _shown(table: Table) -> str:
    # Hasura prints a qualified name without the `public.` schema.
    return table[1] if table[0] == "public" else f"{table[0]}.{table[1]}"
