"""Compare the rows of small tables (seed and reference data) and the positions of sequences.

Rows are read as `to_jsonb(row)` under the snapshot session (UTC, ISO dates), so values compare
as JSON. Rows are matched by primary key (else by a unique key whose columns are all NOT NULL);
when a key column is ignored, or a table has no key, rows are compared as a multiset. With
`match="physical"`, rows are paired by their physical order instead: meaningful only for two
databases built by the same statements (two replays of one history), where it reveals which
columns get different values on every run (now(), random UUIDs) even when they are the key.

Each table is read by its own small queries (a count, a digest of its rows, and its rows only
when the digests of the two sides differ), sent as one batch per side. Nothing in the SQL grows
with the number of tables (one `json_build_object` over every table stopped at PostgreSQL's
100-argument limit, 50 tables), and the rows of tables that are equal never leave the server:
reading and comparing them in Python was most of a squash's verification time. Answers are keyed
by position, not by "schema.table", which is ambiguous when a name holds a dot.

Two replays of the same history (`replay_variation`) tell what is not reproducible: columns whose
values differ (frozen at squash time) and tables whose row count differs (non-deterministic, left
out of every row comparison through `DataOptions.nondeterministic_tables`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from kedge_hasura.schemadiff.model import Column, Constraint, Key, Snapshot, Table
from kedge_hasura.schemadiff.snapshot import SESSION_SETTINGS, Executor, Scope, catalog_query
from kedge_hasura.sql.quoting import literal_list, quoted, quoted_path


@dataclass(frozen=True)
class DataOptions:
    max_rows: int = 1000  # tables with more rows are skipped unless named in `tables`
    tables: tuple[str, ...] = ()  # "schema.table" patterns; when given, only these are compared
    ignore_columns: frozenset[str] = field(default_factory=frozenset)  # "s.t.col", "t.col" or "col" globs
    report_limit: int = 20  # row differences listed per table
    match: Literal["key", "physical"] = "key"
    # "schema.table" names (exact, not patterns) whose rows are not reproducible: not compared.
    nondeterministic_tables: frozenset[str] = field(default_factory=frozenset)
    nondeterministic_sequences: frozenset[str] = field(default_factory=frozenset)  # positions not compared


# random() seeds for replays of one history: the first replay (squash, and `squash --check`, which
# must reproduce it) and the replays that look for what varies. Fixed, so a count drawn from
# random() is the same on every run and the verdict cannot change from run to run.
REPLAY_SEEDS = (0.25, -0.5, 0.75)
NONDETERMINISTIC = "non-deterministic: its rows differ between two replays of the same migrations"
# Tables per batch of row queries: bounds the JSON a batch holds in memory (and, through Hasura's
# run_sql, the size of one response); the count queries are tiny and go in one batch.
_T = TypeVar("_T")
_ROWS_BATCH_TABLES = 100
_ROWS_BATCH_ROWS = 200_000


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
        source_counts, target_counts = _on_both(lambda e: _fetch_counts(e, tables), source_exec, target_exec)
        selected: list[Key] = []
        sizes: dict[Key, int] = {}
        for key, counts in zip(tables, zip(source_counts, target_counts, strict=True), strict=True):
            name = _display(key)
            reason = None
            if name in options.nondeterministic_tables:
                reason = NONDETERMINISTIC
            elif not options.tables and max(counts) > options.max_rows:
                reason = f"more than {options.max_rows} rows (name it with --data-table to compare)"
            if reason is not None:
                result.tables.append(
                    TableData(
                        table=name,
                        status="skipped",
                        source_rows=counts[0],
                        target_rows=counts[1],
                        reason=reason,
                    )
                )
                continue
            selected.append(key)
            sizes[key] = max(counts)
        order = "physical" if options.match == "physical" else "key"
        source_keys, target_keys = _row_keys(source_snap), _row_keys(target_snap)
        source_columns, target_columns = _table_columns(source_snap), _table_columns(target_snap)
        ignored = {  # table → {is the source side: its ignored columns}
            key: {
                is_source: [c for c in columns.get(key, []) if _is_ignored(key, c, options.ignore_columns)]
                for is_source, columns in ((True, source_columns), (False, target_columns))
            }
            for key in selected
        }
        source_digests, target_digests = _on_both(
            lambda e: _fetch_digests(e, selected, {k: v[e is source_exec] for k, v in ignored.items()}),
            source_exec,
            target_exec,
        )
        differing: list[Key] = []
        for key, source_digest, target_digest in zip(selected, source_digests, target_digests, strict=True):
            if source_digest == target_digest:
                rows = source_digest[0]
                columns = sorted({*source_columns.get(key, []), *target_columns.get(key, [])}) if rows else []
                result.tables.append(_identical_table(key, rows, columns, source_keys, options))
            else:
                differing.append(key)
        for batch in _batches(differing, sizes):
            source_rows, target_rows = _on_both(
                _RowsFetch(batch, source_exec, source_keys, target_keys, order), source_exec, target_exec
            )
            for key, left, right in zip(batch, source_rows, target_rows, strict=True):
                result.tables.append(_compare_table(key, left, right, source_keys, options))
        position = {_display(key): index for index, key in enumerate(tables)}
        result.tables.sort(key=lambda table: position[table.table])
    before, after = _on_both(lambda e: sequence_positions(e, scope), source_exec, target_exec)
    result.sequences = [
        SequenceData(sequence=name, source=before.get(name), target=after.get(name))
        for name in sorted(before.keys() & after.keys())
        if before.get(name) != after.get(name) and name not in options.nondeterministic_sequences
    ]
    return result


def sequence_positions(executor: Executor, scope: Scope) -> dict[str, Any]:
    """`schema.sequence` → last value (None before the first nextval) for every sequence in scope."""
    return dict(
        executor.fetch_json(catalog_query("sequence_positions", scope), session=SESSION_SETTINGS) or {}
    )


def _on_both(fetch: Callable[[Executor], _T], source: Executor, target: Executor) -> tuple[_T, _T]:
    """`fetch` from both sides at once: each executor is its own connection, and the work is the
    servers' (the answers are read while the other side computes)."""
    if source is target:
        return fetch(source), fetch(target)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(fetch, source)
        answer = fetch(target)
        return pending.result(), answer


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


def _fetch_counts(executor: Executor, tables: list[Key]) -> list[int]:
    queries = {str(i): f"SELECT to_json(count(*)) FROM {quoted_path(key)}" for i, key in enumerate(tables)}
    answers = executor.fetch_json_batch(queries, session=SESSION_SETTINGS)
    return [int(answers[str(i)] or 0) for i in range(len(tables))]


def _table_columns(snapshot: Snapshot) -> dict[Key, list[str]]:
    """table → its column names (what `to_jsonb(row)` has as keys)."""
    columns: dict[Key, list[str]] = {}
    for column in snapshot.of_kind("column").values():
        if isinstance(column, Column):
            columns.setdefault(column.key[:2], []).append(column.name)
    return columns


def _fetch_digests(
    executor: Executor, tables: list[Key], ignored: dict[Key, list[str]]
) -> list[tuple[int, str | None]]:
    """Per table: the row count and a digest of the multiset of its rows (ignored columns left out).

    The digest is the sum, per seed, of two 64-bit hashes of each row's JSON text (PostgreSQL's
    hashtextextended, cheaper than md5 and well mixed): independent of row order, so it needs no
    sort, and of constant size, so no table is too large for it. Sums, not XOR, so duplicate rows
    do not cancel out. Equal digests mean equal rows (barring a 128-bit collision); only tables
    whose digests differ have their rows read and compared here.
    """
    queries = {str(i): _digest_query(key, ignored.get(key, [])) for i, key in enumerate(tables)}
    answers = executor.fetch_json_batch(queries, session=SESSION_SETTINGS)
    digests = []
    for i in range(len(tables)):
        count, digest = answers[str(i)] or (0, None)
        digests.append((int(count), digest))
    return digests


def _digest_query(key: Key, ignored: list[str]) -> str:
    row = "to_jsonb(t)"
    if ignored:
        row = f"({row} - ARRAY[{literal_list(ignored)}]::text[])"
    return (
        "SELECT json_build_array(count(*), concat_ws('/', sum(hashtextextended(r, 0))::text, "
        f"sum(hashtextextended(r, 1))::text)) FROM (SELECT {row}::text AS r FROM {quoted_path(key)} t) d"
    )


def _identical_table(
    key: Key, rows: int, columns: list[str], keys: RowKeys, options: DataOptions
) -> TableData:
    """The TableData of `_compare_table` for two tables whose rows are equal (by digest)."""
    ignored = [column for column in columns if _is_ignored(key, column, options.ignore_columns)]
    key_columns, key_kind = keys.get(key, ((), ""))
    if options.match == "physical":
        matched_by = "whole row (any order)"
    elif key_columns and not set(key_columns) & set(ignored):
        matched_by = key_kind
    else:
        matched_by = "whole row (no usable key)" if not key_columns else "whole row (key columns ignored)"
    return TableData(
        table=_display(key),
        status="identical",
        source_rows=rows,
        target_rows=rows,
        matched_by=matched_by,
        ignored_columns=ignored,
    )


def _batches(tables: list[Key], sizes: dict[Key, int]) -> list[list[Key]]:
    batches: list[list[Key]] = []
    rows = 0
    for key in tables:
        if not batches or len(batches[-1]) >= _ROWS_BATCH_TABLES or rows + sizes[key] > _ROWS_BATCH_ROWS:
            batches.append([])
            rows = 0
        batches[-1].append(key)
        rows += sizes[key]
    return [batch for batch in batches if batch]


def _fetch_rows(
    executor: Executor, tables: list[Key], keys: RowKeys, order: str
) -> list[list[dict[str, Any]]]:
    queries = {str(i): _rows_query(key, keys, order) for i, key in enumerate(tables)}
    answers = executor.fetch_json_batch(queries, session=SESSION_SETTINGS)
    return [answers[str(i)] or [] for i in range(len(tables))]


RowKeys = dict[Key, tuple[tuple[str, ...], str]]


@dataclass(frozen=True)
class _RowsFetch:
    """Reads one batch of tables' rows from either side (for `_on_both`)."""

    tables: list[Key]
    source: Executor
    source_keys: RowKeys
    target_keys: RowKeys
    order: str

    def __call__(self, executor: Executor) -> list[list[dict[str, Any]]]:
        keys = self.source_keys if executor is self.source else self.target_keys
        return _fetch_rows(executor, self.tables, keys, self.order)


def _row_keys(snapshot: Snapshot) -> RowKeys:
    """table → the columns that identify a row, and which constraint they come from ((), "" if none).

    Built in one pass over the snapshot: looking the constraints up table by table was quadratic
    (23 s of a 600-table squash).
    """
    constraints: dict[Key, list[Constraint]] = {}
    for constraint in snapshot.of_kind("constraint").values():
        if isinstance(constraint, Constraint):
            constraints.setdefault(constraint.key[:2], []).append(constraint)
    not_null: dict[Key, set[str]] = {}
    for column in snapshot.of_kind("column").values():
        if isinstance(column, Column) and column.not_null:
            not_null.setdefault(column.key[:2], set()).add(column.name)
    keys: RowKeys = {}
    for table, found in constraints.items():
        primary = [c for c in found if c.constraint_type == "primary key"]
        if primary:
            keys[table] = (primary[0].columns, "primary key")
            continue
        for constraint in sorted(found, key=lambda c: c.name):
            if (
                constraint.constraint_type == "unique"
                and constraint.columns
                and set(constraint.columns) <= not_null.get(table, set())
            ):
                keys[table] = (constraint.columns, f"unique key {constraint.name}")
                break
    return keys


def _rows_query(key: Key, keys: RowKeys, order: str) -> str:
    columns, _ = keys.get(key, ((), ""))
    if order == "physical":
        ordering = "t.ctid"
    elif columns:
        ordering = ", ".join(f"t.{quoted(column)}" for column in columns)
    else:
        ordering = "t::text"
    return f"SELECT coalesce(json_agg(to_jsonb(t) ORDER BY {ordering}), '[]') FROM {quoted_path(key)} t"


def _is_ignored(table: Key, column: str, patterns: frozenset[str]) -> bool:
    schema, name = table
    candidates = (f"{schema}.{name}.{column}", f"{name}.{column}", column)
    return any(fnmatchcase(candidate, pattern) for pattern in patterns for candidate in candidates)


def _compare_table(
    key: Key,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    keys: RowKeys,
    options: DataOptions,
) -> TableData:
    name = _display(key)
    columns = sorted({column for row in (*before, *after) for column in row})
    ignored = [column for column in columns if _is_ignored(key, column, options.ignore_columns)]
    kept = [column for column in columns if column not in ignored]
    key_columns, key_kind = keys.get(key, ((), ""))
    differences: list[RowDifference] = []
    differing: set[str] = set()

    def canonical(row: dict[str, Any]) -> str:
        return json.dumps({c: row.get(c) for c in kept}, sort_keys=True)

    physical = options.match == "physical"
    if physical and Counter(map(canonical, before)) == Counter(map(canonical, after)):
        # The same rows in another physical order (INSERT ... SELECT ... ORDER BY random()).
        matched_by = "whole row (any order)"
    elif physical and not (
        key_columns
        and not set(key_columns) & set(ignored)
        and _key_set(before, key_columns) == _key_set(after, key_columns)
    ):
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
        # Also for two replays whose rows have the same keys in another order.
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


def _key_set(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Counter[tuple[str, ...]]:
    return Counter(tuple(json.dumps(row.get(c), sort_keys=True) for c in columns) for row in rows)


@dataclass(frozen=True)
class ReplayVariation:
    """What differs between two replays of the same history (a `match="physical"` DataDiff)."""

    frozen_columns: tuple[str, ...] = ()  # "schema.table.column": values differ, row count equal
    nondeterministic_tables: tuple[str, ...] = ()  # "schema.table": the row count differs
    nondeterministic_sequences: tuple[str, ...] = ()  # "schema.sequence": the position differs

    def merged(self, other: ReplayVariation) -> ReplayVariation:
        tables = sorted({*self.nondeterministic_tables, *other.nondeterministic_tables})
        columns = {*self.frozen_columns, *other.frozen_columns}
        return ReplayVariation(
            frozen_columns=tuple(sorted(c for c in columns if c.rpartition(".")[0] not in tables)),
            nondeterministic_tables=tuple(tables),
            nondeterministic_sequences=tuple(
                sorted({*self.nondeterministic_sequences, *other.nondeterministic_sequences})
            ),
        )


def replay_variation(diff: DataDiff) -> ReplayVariation:
    """Frozen columns and non-deterministic tables, from comparing two replays of one history.

    A table whose row count differs cannot be compared row by row at all, so it is listed as a
    table and none of its columns are listed as frozen.
    """
    tables = sorted(
        t.table for t in diff.tables if t.status == "different" and t.source_rows != t.target_rows
    )
    columns = sorted(
        f"{t.table}.{column}" for t in diff.tables if t.table not in tables for column in t.differing_columns
    )
    return ReplayVariation(
        frozen_columns=tuple(columns),
        nondeterministic_tables=tuple(tables),
        nondeterministic_sequences=tuple(sorted(s.sequence for s in diff.sequences)),
    )
