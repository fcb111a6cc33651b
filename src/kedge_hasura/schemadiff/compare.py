"""Compare two snapshots into typed, ordered differences. Pure: no I/O.

Matching is by identity (names), never OIDs. After matching, leftover objects of one kind under
the same parent that differ only by name are paired as renames (severity info): replayed
histories and squashed migrations legitimately differ in auto-generated names. Children of a
renamed table are re-keyed to the new name before they are compared.

Severities: a real difference is an `error`; column order, comments and owners are `warning`;
texts that differ but parse to the same tree once casts and parentheses are ignored are `info`
("probably-equivalent"), as are renames. `--fail-on` decides which severities fail a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field

from kedge_hasura.findings import Severity
from kedge_hasura.schemadiff.model import (
    KIND_NAMES,
    Column,
    DbObject,
    Grant,
    Key,
    Snapshot,
    Table,
)

ChangeType = Literal["added", "removed", "changed", "renamed"]
IGNORABLE = ("column-order", "comments", "grants", "owners", "probably-equivalent", "renames")

# How to wrap each expression field so libpg_query parses it (see sql.statements.equivalence_key).
_WRAPPERS: dict[tuple[str, str], Callable[[str], str]] = {
    ("constraint", "definition"): lambda text: f"ALTER TABLE x ADD {text}",
    ("index", "definition"): lambda text: text,
    ("view", "definition"): lambda text: text,
    ("materialized_view", "definition"): lambda text: text,
    ("column", "default"): lambda text: f"SELECT {text}",
    ("type", "default"): lambda text: f"SELECT {text}",
    ("policy", "using"): lambda text: f"SELECT {text}",
    ("policy", "with_check"): lambda text: f"SELECT {text}",
    ("table", "partition_bound"): lambda text: f"CREATE TABLE x PARTITION OF y {text}",
}

# Kinds whose names PostgreSQL usually generates (t_pkey, t_col_idx, t_id_seq): a rename there is
# informational. Other names (tables, columns, views, functions, ...) are what clients and
# Hasura's GraphQL schema see, so a rename is a warning.
_GENERATED_NAME_KINDS = frozenset({"constraint", "index", "sequence"})

# Privileges added after PostgreSQL 14 (the oldest server we read) → the major that added them.
_PRIVILEGE_SINCE = {"SET": 15, "ALTER SYSTEM": 15, "MAINTAIN": 17}

# Kinds whose children carry the parent table's name in their identity.
_TABLE_CHILDREN = ("column", "constraint", "index", "trigger", "policy")


class Difference(BaseModel):
    """One difference between SOURCE and TARGET."""

    model_config = ConfigDict(frozen=True)

    kind: str
    object: str
    id: dict[str, str]
    change: ChangeType
    field: str | None = None
    source: Any = None
    target: Any = None
    severity: Severity
    classification: str | None = None
    hint: str | None = None


class SideInfo(BaseModel):
    label: str
    server_version: str
    major: int
    database: str
    counts: dict[str, int]


class SchemaDiff(BaseModel):
    """The result of comparing two schemas (the `result` of `kedge-hasura diff --output json`)."""

    format_version: int = 1
    source: SideInfo
    target: SideInfo
    options: dict[str, Any] = {}
    differences: list[Difference] = []
    warnings: list[str] = []
    data: Any = None  # schemadiff.data.DataDiff when rows were compared

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> dict[str, Any]:
        by_kind: dict[str, int] = {}
        by_severity = {severity.value: 0 for severity in Severity}
        for difference in self.differences:
            by_kind[difference.kind] = by_kind.get(difference.kind, 0) + 1
            by_severity[difference.severity.value] += 1
        return {"total": len(self.differences), "by_kind": by_kind, "by_severity": by_severity}

    def failing(self, fail_on: Severity) -> list[Difference]:
        """Differences at or above `fail_on` (rows that differ always count as errors)."""
        return [d for d in self.differences if d.severity.rank >= fail_on.rank]

    def is_identical(self, fail_on: Severity = Severity.WARNING) -> bool:
        data_ok = self.data is None or getattr(self.data, "identical", True)
        return not self.failing(fail_on) and data_ok


@dataclass(frozen=True)
class CompareOptions:
    compare_owners: bool = False
    ignore: frozenset[str] = field(default_factory=frozenset)  # categories from IGNORABLE


def compare(
    source: Snapshot,
    target: Snapshot,
    *,
    options: CompareOptions | None = None,
    source_label: str = "source",
    target_label: str = "target",
) -> SchemaDiff:
    """Compare two snapshots; differences are sorted by kind order, then object, then field."""
    options = options or CompareOptions()
    cross_version = source.server.major != target.server.major
    comparer = _Comparer(options, cross_version, source, target)
    # Tables first: their renames re-key everything that names a table (columns, constraints,
    # indexes, triggers, policies, and the column a serial sequence belongs to).
    table_renames = comparer.compare_kind(
        "table", dict(source.of_kind("table")), dict(target.of_kind("table"))
    )
    for kind in KIND_NAMES:
        if kind == "table":
            continue
        before = dict(source.of_kind(kind))
        after = dict(target.of_kind(kind))
        if table_renames and kind in _TABLE_CHILDREN:
            before = {
                _rekey(key, table_renames): _rename_parent(obj, table_renames) for key, obj in before.items()
            }
        if table_renames and kind == "sequence":
            before = {key: _rename_owner(obj, table_renames) for key, obj in before.items()}
        comparer.compare_kind(kind, before, after)
    comparer.compare_inventory(source.inventory, target.inventory)

    warnings = []
    if cross_version:
        warnings.append(
            f"the servers' major versions differ ({source.server.major} and {target.server.major}): "
            "deparsed text (views, defaults) can differ without a real change; such differences are "
            "classified as probably-equivalent"
        )
    return SchemaDiff(
        source=_side(source_label, source),
        target=_side(target_label, target),
        options={"compare_owners": options.compare_owners, "ignore": sorted(options.ignore)},
        differences=sorted(_without_implied(comparer.differences), key=_order),
        warnings=warnings,
    )


def _without_implied(differences: list[Difference]) -> list[Difference]:
    """Drop added/removed columns, constraints, ... of tables that are themselves added/removed."""
    whole_tables = {
        (d.change, d.id.get("schema"), d.id.get("name"))
        for d in differences
        if d.kind == "table" and d.change in ("added", "removed")
    }
    return [
        d
        for d in differences
        if not (
            d.kind in _TABLE_CHILDREN
            and d.change in ("added", "removed")
            and (d.change, d.id.get("schema"), d.id.get("table")) in whole_tables
        )
    ]


def _side(label: str, snapshot: Snapshot) -> SideInfo:
    return SideInfo(
        label=label,
        server_version=snapshot.server.version,
        major=snapshot.server.major,
        database=snapshot.server.database,
        counts=snapshot.counts(),
    )


_KIND_ORDER = {kind: index for index, kind in enumerate(KIND_NAMES)}
_CHANGE_ORDER = {"removed": 0, "added": 1, "renamed": 2, "changed": 3}


def _order(difference: Difference) -> tuple[Any, ...]:
    return (
        _KIND_ORDER.get(difference.kind, len(_KIND_ORDER)),
        difference.object,
        _CHANGE_ORDER[difference.change],
        difference.field or "",
    )


def _rename_owner(obj: DbObject, renames: dict[Key, Key]) -> DbObject:
    owned_by = getattr(obj, "owned_by", None)
    if not owned_by:
        return obj
    schema, table, column = owned_by.split(".", 2) if owned_by.count(".") >= 2 else ("", "", owned_by)
    if (schema, table) not in renames:
        return obj
    new_schema, new_table = renames[(schema, table)]
    changes: dict[str, Any] = {"owned_by": f"{new_schema}.{new_table}.{column}"}
    return replace(obj, **changes)


def _rekey(key: Key, renames: dict[Key, Key]) -> Key:
    table = key[:2]
    return (*renames[table], *key[2:]) if table in renames else key


def _rename_parent(obj: DbObject, renames: dict[Key, Key]) -> DbObject:
    table = obj.key[:2]
    if table not in renames:
        return obj
    schema, name = renames[table]
    changes: dict[str, Any] = {"schema": schema, "table": name}
    return replace(obj, **changes)


class _Comparer:
    def __init__(self, options: CompareOptions, cross_version: bool, source: Snapshot, target: Snapshot):
        self.options = options
        self.cross_version = cross_version
        self.source = source
        self.target = target
        self.differences: list[Difference] = []

    @cached_property
    def source_columns(self) -> dict[Key, tuple[tuple[str, str, bool], ...]]:
        return columns_by_table(self.source)  # only needed to pair table renames

    @cached_property
    def target_columns(self) -> dict[Key, tuple[tuple[str, str, bool], ...]]:
        return columns_by_table(self.target)

    def add(self, obj: DbObject, change: ChangeType, severity: Severity, **extra: Any) -> None:
        self.differences.append(
            Difference(
                kind=obj.KIND,
                object=obj.display,
                id=obj.id_fields(),
                change=change,
                severity=severity,
                **extra,
            )
        )

    def compare_kind(
        self, kind: str, before: dict[Key, DbObject], after: dict[Key, DbObject]
    ) -> dict[Key, Key]:
        """Compare one kind; returns renames found (old key → new key)."""
        removed = {key: obj for key, obj in before.items() if key not in after}
        added = {key: obj for key, obj in after.items() if key not in before}
        renames: dict[Key, Key] = {}
        if removed and added and "renames" not in self.options.ignore:
            renames = _pair_renames(removed, added, self.source_columns, self.target_columns)
        for old_key, new_key in renames.items():
            old, new = removed.pop(old_key), added.pop(new_key)
            generated = kind in _GENERATED_NAME_KINDS
            self.add(
                new,
                "renamed",
                Severity.INFO if generated else Severity.WARNING,
                field="name",
                source=old.display,
                target=new.display,
                classification="renamed",
                hint="the same definition under another name"
                + (" (auto-generated names keep old table names after renames)" if generated else ""),
            )
            self.compare_fields(old, new, before, after)
        for obj in removed.values():
            if not _is_view_column(obj):  # reported as the view's `columns`
                self.add(obj, "removed", Severity.ERROR)
        for obj in added.values():
            if not _is_view_column(obj):
                self.add(obj, "added", Severity.ERROR)
        for key in before.keys() & after.keys():
            if before[key] != after[key]:  # dataclass equality: one tuple comparison for the common case
                self.compare_fields(before[key], after[key], before, after)
        return renames

    def compare_fields(
        self, old: DbObject, new: DbObject, before: dict[Key, DbObject], after: dict[Key, DbObject]
    ) -> None:
        for name in old.compared_fields:
            a, b = old.value(name), new.value(name)
            if name == "grants" and self.cross_version:
                a, b = self._grants_both_servers_know(a), self._grants_both_servers_know(b)
            if a == b:
                continue
            if name == "owner":
                if self.options.compare_owners and "owners" not in self.options.ignore:
                    self.add(
                        new,
                        "changed",
                        Severity.WARNING,
                        field=name,
                        source=a,
                        target=b,
                        classification="owner",
                    )
                continue
            if name == "comment":
                if "comments" not in self.options.ignore:
                    self.add(new, "changed", Severity.WARNING, field=name, source=a, target=b)
                continue
            if name == "grants":
                if "grants" not in self.options.ignore:
                    self.add(
                        new,
                        "changed",
                        Severity.ERROR,
                        field=name,
                        source=_grant_list(a - b),
                        target=_grant_list(b - a),
                        hint="left: only in source; right: only in target",
                    )
                continue
            if name == "position":
                if "column-order" not in self.options.ignore and _order_differs(old, new, before, after):
                    self.add(
                        new,
                        "changed",
                        Severity.WARNING,
                        field=name,
                        source=a,
                        target=b,
                        classification="column-order",
                        hint="column order matters for SELECT *, COPY and INSERT without a column list",
                    )
                continue
            is_expression = name in old.EXPRESSION_FIELDS and isinstance(a, str) and isinstance(b, str)
            if is_expression and self._probably_equivalent(old.KIND, name, a, b):
                if "probably-equivalent" not in self.options.ignore:
                    self.add(
                        new,
                        "changed",
                        Severity.INFO,
                        field=name,
                        source=a,
                        target=b,
                        classification="probably-equivalent",
                        hint="text differs, probably equivalent: the same parse tree once casts and "
                        "parentheses are ignored (deparse round trip or server version)",
                    )
                continue
            self.add(new, "changed", Severity.ERROR, field=name, source=_plain(a), target=_plain(b))

    def _grants_both_servers_know(self, grants: frozenset[Grant]) -> frozenset[Grant]:
        """Across major versions, leave out privileges the older server does not have.

        Default privileges differ by version: PostgreSQL 17 added MAINTAIN to every table's
        owner, so the same table shows an extra grant on 17+ without any change.
        """
        oldest = min(self.source.server.major, self.target.server.major)
        return frozenset(g for g in grants if _PRIVILEGE_SINCE.get(g.privilege, 0) <= oldest)

    def _probably_equivalent(self, kind: str, name: str, a: str, b: str) -> bool:
        wrap = _WRAPPERS.get((kind, name))
        if wrap is None:
            return False
        # Imported on first use: the SQL parser costs 0.2 s of start-up, and most diffs never need it.
        from kedge_hasura.sql.statements import equivalence_key

        key_a = equivalence_key(wrap(a.strip().rstrip(";")), ignore_qualifiers=self.cross_version)
        key_b = equivalence_key(wrap(b.strip().rstrip(";")), ignore_qualifiers=self.cross_version)
        return key_a is not None and key_a == key_b

    def compare_inventory(self, before: dict[str, int], after: dict[str, int]) -> None:
        for name in sorted(before.keys() | after.keys()):
            a, b = before.get(name, 0), after.get(name, 0)
            if a != b:
                self.differences.append(
                    Difference(
                        kind="unsupported",
                        object=name,
                        id={"name": name},
                        change="changed",
                        field="count",
                        source=a,
                        target=b,
                        severity=Severity.WARNING,
                        classification="unsupported-kind",
                        hint=f"kedge-hasura counts but does not compare {name.replace('_', ' ')} in depth",
                    )
                )


def _is_view_column(obj: DbObject) -> bool:
    return isinstance(obj, Column) and obj.of_view


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(str(item) for item in value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _grant_list(grants: Iterable[Grant]) -> list[str]:
    return sorted(str(grant) for grant in grants)


def _order_differs(
    old: DbObject, new: DbObject, before: dict[Key, DbObject], after: dict[Key, DbObject]
) -> bool:
    """Whether a column's rank among the columns both sides share differs (not just its position)."""
    assert isinstance(old, Column) and isinstance(new, Column)

    def common_order(columns: dict[Key, DbObject], table: Key, other: dict[Key, DbObject]) -> list[str]:
        mine = [c for c in columns.values() if isinstance(c, Column) and c.key[:2] == table]
        names_elsewhere = {k[2] for k in other if k[:2] == table}
        return [c.name for c in sorted(mine, key=lambda c: c.position) if c.name in names_elsewhere]

    table = new.key[:2]
    left, right = common_order(before, table, after), common_order(after, table, before)
    return left.index(old.name) != right.index(new.name) if old.name in left and new.name in right else False


_RENAME_SIGNATURE_FIELDS: dict[str, tuple[str, ...]] = {
    "column": ("type", "not_null", "default", "identity", "generated", "collation"),
    "constraint": ("constraint_type", "definition"),
    "index": ("definition",),
    "sequence": ("data_type", "start", "increment", "min_value", "max_value", "cache", "cycle", "owned_by"),
    "view": ("definition", "options", "columns"),
    "materialized_view": ("definition", "options", "columns"),
    "trigger": ("definition", "enabled"),
    "policy": ("command", "permissive", "roles", "using", "with_check"),
    "type": ("type_kind", "labels", "base_type", "attributes", "subtype"),
    "function": ("identity_arguments", "result", "language", "body"),
}


def columns_by_table(snapshot: Snapshot) -> dict[Key, tuple[tuple[str, str, bool], ...]]:
    """Each table's columns as (name, type, not null), in order: a table's rename signature."""
    grouped: dict[Key, list[Column]] = {}
    for column in snapshot.of_kind("column").values():
        assert isinstance(column, Column)
        grouped.setdefault((column.schema, column.table), []).append(column)
    return {
        table: tuple((c.name, c.type, c.not_null) for c in sorted(columns, key=lambda c: c.position))
        for table, columns in grouped.items()
    }


def _signature(
    obj: DbObject, table_columns: dict[Key, tuple[tuple[str, str, bool], ...]]
) -> tuple[Any, ...] | None:
    """What must be equal for two objects with different names to be "the same, renamed"."""
    if _is_view_column(obj):
        return None
    if isinstance(obj, Table):
        columns = table_columns.get(obj.key, ())
        # An empty table matches too many others to be recognised by its shape.
        return (
            (obj.table_kind, obj.persistence, obj.partition_key, obj.inherits, columns) if columns else None
        )
    fields = _RENAME_SIGNATURE_FIELDS.get(obj.KIND)
    if fields is None:
        return None
    return tuple(obj.value(name) for name in fields)


def _pair_renames(
    removed: dict[Key, DbObject],
    added: dict[Key, DbObject],
    source_columns: dict[Key, tuple[tuple[str, str, bool], ...]],
    target_columns: dict[Key, tuple[tuple[str, str, bool], ...]],
) -> dict[Key, Key]:
    """Pair removed and added objects with the same parent and signature, when the pairing is unique."""
    if not removed or not added:
        return {}

    def groups(objects: dict[Key, DbObject], columns: dict[Key, Any]) -> dict[tuple[Any, ...], list[Key]]:
        grouped: dict[tuple[Any, ...], list[Key]] = {}
        for key, obj in objects.items():
            signature = _signature(obj, columns)
            if signature is not None:
                grouped.setdefault((obj.parent, signature), []).append(key)
        return grouped

    new_groups = groups(added, target_columns)
    pairs: dict[Key, Key] = {}
    for group, old_keys in groups(removed, source_columns).items():
        new_keys = new_groups.get(group, [])
        if len(old_keys) == 1 and len(new_keys) == 1:
            pairs[old_keys[0]] = new_keys[0]
    return pairs
