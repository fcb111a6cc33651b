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

Not modelled (written in the package docstring): renames (Hasura follows tables and columns by
OID and attnum and renames them in metadata), functions and computed fields, column type changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .consistency import Catalog, Table, table_key
from .qerr import QErr

_PERMISSION_KINDS = ("insert", "select", "update", "delete")


@dataclass
class SchemaChange:
    """What one run_sql's text dropped among the tracked tables of a source."""

    dropped_tables: set[Table] = field(default_factory=set)
    dropped_columns: dict[Table, set[str]] = field(default_factory=dict)

    @classmethod
    def between(cls, tracked: list[Table], before: Catalog, after: Catalog) -> SchemaChange:
        change = cls()
        for table in tracked:
            if table not in before.columns:
                continue  # missing before the SQL: already inconsistent, not this call's doing
            if table not in after.columns:
                change.dropped_tables.add(table)
                continue
            gone = before.columns[table] - after.columns[table]
            if gone:
                change.dropped_columns[table] = gone
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
