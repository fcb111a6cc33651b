"""Compare the rows of small tables (seed and reference data) and the positions of sequences.

Rows are read as `to_jsonb(row)` under the snapshot session (UTC, ISO dates), so values compare
as JSON. Rows are matched by primary key (else by a unique key whose columns are all NOT NULL);
when a key column is ignored, or a table has no key, rows are compared as a multiset. With
`match="physical"`, rows are paired by their physical order instead: meaningful only for two
databases built by the same statements (two replays of one history), where it reveals which
columns get different values on every run (now(), random UUIDs) even when they are the key.

All selected tables are read with ONE query per side (the count query, then the rows query).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel

from kedge_hasura.schemadiff.model import Column, Constraint, Key, Snapshot, Table
from kedge_hasura.schemadiff.snapshot import SESSION_SETTINGS, Executor, Scope, catalog_query
from kedge_hasura.sql.quoting import quote_literal, quoted, quoted_path


@dataclass(frozen=True)
class DataOptions:
    max_rows: int = 1000  # tables with more rows are skipped unless named in `tables`
    tables: tuple[str, ...] = ()  # "schema.table" patterns; when given, only these are compared
    ignore_columns: frozenset[str] = field(default_factory=frozenset)  # "s.t.col", "t.col" or "col" globs
    report_limit: int = 20  # row differences listed per table
    match: Literal["key", "physical"] = "key"


class RowDifference(BaseModel):
    change: Literal["added", "removed", "changed"]
    key: dict[str, Any] = {}
    columns: list[str] = []
    source: dict[str, Any] | None = None
    target: dict[str, Any] | None = None


class TableData(BaseModel):
    table: str
    status: Literal["identical", "different", "skipped"]
    reason: str | None = None
    source_rows: int = 0
    target_rows: int = 0
    matched_by: str | None = None
    ignored_columns: list[str] = []
    differing_columns: list[str] = []
    differences: list[RowDifference] = []
    more: int = 0  # differences beyond report_limit


class SequenceData(BaseModel):
    sequence: str
    source: Any
    target: Any


class DataDiff(BaseModel):
    tables: list[TableData] = []
    sequences: list[SequenceData] = []

    @property
    def identical(self) -> bool:
        return not self.sequences and all(t.status != "different" for t in self.tables)

    def differing_columns(self) -> dict[str, list[str]]:
        """table → columns whose values differ (for "values frozen at squash time")."""
        return {t.table: t.differing_columns for t in self.tables if t.differing_columns}


def compare_data(
    source: tuple[Executor, Snapshot],
    target: tuple[Executor, Snapshot],
    options: DataOptions | None = None,
    *,
    scope: Scope | None = None,
) -> DataDiff:
    """Compare rows of the tables both snapshots have, and sequence positions."""
    options = options or DataOptions()
    scope = scope or Scope()
    (source_exec, source_snap), (target_exec, target_snap) = source, target
    tables = _common_tables(source_snap, target_snap, options)
    result = DataDiff()
    if tables:
        source_counts = source_exec.fetch_json(_count_query(tables), session=SESSION_SETTINGS) or {}
        target_counts = target_exec.fetch_json(_count_query(tables), session=SESSION_SETTINGS) or {}
        selected: list[Key] = []
        for key in tables:
            name = _display(key)
            counts = (int(source_counts.get(name, 0)), int(target_counts.get(name, 0)))
            named = bool(options.tables)
            if not named and max(counts) > options.max_rows:
                result.tables.append(
                    TableData(
                        table=name,
                        status="skipped",
                        source_rows=counts[0],
                        target_rows=counts[1],
                        reason=f"more than {options.max_rows} rows (name it with --data-table to compare)",
                    )
                )
                continue
            selected.append(key)
        order = "physical" if options.match == "physical" else "key"
        source_rows = (
            source_exec.fetch_json(_rows_query(selected, source_snap, order), session=SESSION_SETTINGS)
            if selected
            else {}
        )
        target_rows = (
            target_exec.fetch_json(_rows_query(selected, target_snap, order), session=SESSION_SETTINGS)
            if selected
            else {}
        )
        for key in selected:
            name = _display(key)
            result.tables.append(
                _compare_table(
                    key, source_rows.get(name) or [], target_rows.get(name) or [], source_snap, options
                )
            )
    before, after = sequence_positions(source_exec, scope), sequence_positions(target_exec, scope)
    result.sequences = [
        SequenceData(sequence=name, source=before.get(name), target=after.get(name))
        for name in sorted(before.keys() & after.keys())
        if before.get(name) != after.get(name)
    ]
    return result


def sequence_positions(executor: Executor, scope: Scope) -> dict[str, Any]:
    """`schema.sequence` → last value (None before the first nextval) for every sequence in scope."""
    return dict(
        executor.fetch_json(catalog_query("sequence_positions", scope), session=SESSION_SETTINGS) or {}
    )


# -- internals ---------------------------------------------------------------------------------


def _display(key: Key) -> str:
    return ".".join(key)


def _common_tables(source: Snapshot, target: Snapshot, options: DataOptions) -> list[Key]:
    keys = []
    for key, table in source.of_kind("table").items():
        assert isinstance(table, Table)
        if key not in target.of_kind("table") or table.partition_bound is not None:
            continue  # partitions are read through their parent
        if table.table_kind == "foreign table":
            continue
        if options.tables and not any(fnmatchcase(_display(key), pattern) for pattern in options.tables):
            continue
        keys.append(key)
    return sorted(keys)


def _count_query(tables: list[Key]) -> str:
    parts = ", ".join(
        f"{quote_literal(_display(key))}, (SELECT count(*) FROM {quoted_path(key)})" for key in tables
    )
    return f"SELECT json_build_object({parts})"


def _row_key(key: Key, snapshot: Snapshot) -> tuple[tuple[str, ...], str]:
    """The columns that identify a row, and which constraint they come from."""
    constraints = [
        c for c in snapshot.of_kind("constraint").values() if isinstance(c, Constraint) and c.key[:2] == key
    ]
    primary = [c for c in constraints if c.constraint_type == "primary key"]
    if primary:
        return primary[0].columns, "primary key"
    not_null = {
        c.name
        for c in snapshot.of_kind("column").values()
        if isinstance(c, Column) and c.key[:2] == key and c.not_null
    }
    for constraint in sorted(constraints, key=lambda c: c.name):
        if (
            constraint.constraint_type == "unique"
            and constraint.columns
            and set(constraint.columns) <= not_null
        ):
            return constraint.columns, f"unique key {constraint.name}"
    return (), ""


def _rows_query(tables: list[Key], snapshot: Snapshot, order: str) -> str:
    parts = []
    for key in tables:
        columns, _ = _row_key(key, snapshot)
        if order == "physical":
            ordering = "t.ctid"
        elif columns:
            ordering = ", ".join(f"t.{quoted(column)}" for column in columns)
        else:
            ordering = "t::text"
        parts.append(
            f"{quote_literal(_display(key))}, "
            f"(SELECT coalesce(json_agg(to_jsonb(t) ORDER BY {ordering}), '[]') FROM {quoted_path(key)} t)"
        )
    return f"SELECT json_build_object({', '.join(parts)})"


def _is_ignored(table: Key, column: str, patterns: frozenset[str]) -> bool:
    schema, name = table
    candidates = (f"{schema}.{name}.{column}", f"{name}.{column}", column)
    return any(fnmatchcase(candidate, pattern) for pattern in patterns for candidate in candidates)


def _compare_table(
    key: Key,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    snapshot: Snapshot,
    options: DataOptions,
) -> TableData:
    name = _display(key)
    columns = sorted({column for row in (*before, *after) for column in row})
    ignored = [column for column in columns if _is_ignored(key, column, options.ignore_columns)]
    kept = [column for column in columns if column not in ignored]
    key_columns, key_kind = _row_key(key, snapshot)
    differences: list[RowDifference] = []
    differing: set[str] = set()

    if options.match == "physical":
        matched_by = "physical order"
        for left, right in zip(before, after, strict=False):
            changed = [c for c in kept if left.get(c) != right.get(c)]
            if changed:
                differing.update(changed)
                differences.append(
                    RowDifference(change="changed", columns=changed, source=left, target=right)
                )
        for row in before[len(after) :]:
            differences.append(RowDifference(change="removed", source=row))
        for row in after[len(before) :]:
            differences.append(RowDifference(change="added", target=row))
    elif key_columns and not set(key_columns) & set(ignored):
        matched_by = key_kind
        left_rows = {tuple(json.dumps(r.get(c), sort_keys=True) for c in key_columns): r for r in before}
        right_rows = {tuple(json.dumps(r.get(c), sort_keys=True) for c in key_columns): r for r in after}
        for row_key, row in left_rows.items():
            other = right_rows.get(row_key)
            key_values = {c: row.get(c) for c in key_columns}
            if other is None:
                differences.append(RowDifference(change="removed", key=key_values, source=row))
                continue
            changed = [c for c in kept if row.get(c) != other.get(c)]
            if changed:
                differing.update(changed)
                differences.append(
                    RowDifference(change="changed", key=key_values, columns=changed, source=row, target=other)
                )
        for row_key, row in right_rows.items():
            if row_key not in left_rows:
                differences.append(
                    RowDifference(change="added", key={c: row.get(c) for c in key_columns}, target=row)
                )
    else:
        matched_by = "whole row (no usable key)" if not key_columns else "whole row (key columns ignored)"

        def canonical(row: dict[str, Any]) -> str:
            return json.dumps({c: row.get(c) for c in kept}, sort_keys=True)

        examples = {canonical(row): {c: row.get(c) for c in kept} for row in (*before, *after)}
        left_counts, right_counts = Counter(map(canonical, before)), Counter(map(canonical, after))
        for text, count in sorted((left_counts - right_counts).items()):
            differences += [RowDifference(change="removed", source=examples[text])] * count
        for text, count in sorted((right_counts - left_counts).items()):
            differences += [RowDifference(change="added", target=examples[text])] * count

    return TableData(
        table=name,
        status="different" if differences else "identical",
        source_rows=len(before),
        target_rows=len(after),
        matched_by=matched_by,
        ignored_columns=ignored,
        differing_columns=sorted(differing),
        differences=differences[: options.report_limit],
        more=max(len(differences) - options.report_limit, 0),
    )
