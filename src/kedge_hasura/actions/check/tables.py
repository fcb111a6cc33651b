"""Checks of a source's tracked tables and functions against the database its migrations build.

Each rule is one Hasura would apply when it builds its schema cache, so a finding here is an
inconsistency the server would report after `metadata apply` (contract §7.5), found before deploy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from kedge_hasura.actions.check.catalog import DatabaseCatalog, FunctionInfo, Relation, TableKey, unquote
from kedge_hasura.actions.check.codes import FindingSink
from kedge_hasura.project.metadata import JsonPath
from kedge_hasura.project.metadata_model import (
    ComputedField,
    ForeignKeyOnRemote,
    MetadataObject,
    QualifiedName,
    Relationship,
    Source,
    TableEntry,
    TrackedFunction,
)

_GRAPHQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_TYPES = ("json", "jsonb")


@dataclass
class SourceContext:
    """One source's metadata and the database its migrations build."""

    source: Source
    catalog: DatabaseCatalog
    sink: FindingSink
    tracked: dict[TableKey, TableEntry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tracked = {entry.table.key: entry for entry in self.source.tables}

    def add(self, code: str, message: str, *, at: MetadataObject | JsonPath) -> None:
        self.sink.add(code, message, at=at, database=self.source.name)

    def relationship_target(self, entry: TableEntry, relationship: Relationship) -> TableKey | None:
        """The table a relationship leads to, or None when it cannot be known."""
        using = relationship.using
        if using.manual_configuration is not None:
            return using.manual_configuration.remote_table.key
        target = using.foreign_key_constraint_on
        if isinstance(target, ForeignKeyOnRemote):
            return target.table.key
        relation = self.catalog.relations.get(entry.table.key)
        if relation is None or target is None:
            return None
        columns = (target,) if isinstance(target, str) else tuple(target)
        return next((fk.target for fk in relation.foreign_keys if set(fk.columns) == set(columns)), None)


def check_tracked_tables(context: SourceContext) -> None:
    """Every tracked table and view exists in the database the migrations build."""
    for entry in context.source.tables:
        if entry.table.key not in context.catalog.relations:
            context.add(
                "table-missing",
                f"table {entry.table.display} is tracked, but the migrations do not create it",
                at=entry.table,
            )


def check_untracked(context: SourceContext, *, ignore: tuple[str, ...]) -> None:
    """Tables and views the migrations create that the metadata does not track."""
    tables_at = (*context.source.at, "tables")
    for key, relation in sorted(context.catalog.relations.items()):
        if key in context.tracked or relation.is_partition:
            continue  # partitions are reached through their tracked parent
        if any(fnmatchcase(relation.display, pattern) for pattern in ignore):
            continue
        context.add(
            "untracked-table",
            f"{relation.kind} {relation.display} is created by the migrations but not tracked",
            at=tables_at,
        )


def check_functions(context: SourceContext) -> None:
    """Every tracked function exists once (no overloads) with a signature Hasura can expose."""
    for tracked in context.source.functions:
        overloads = context.catalog.functions.get(tracked.function.key, [])
        shown = tracked.function.display
        if not overloads:
            context.add(
                "function-missing",
                f"function {shown} is tracked, but the migrations do not create it",
                at=tracked.function,
            )
        elif len(overloads) > 1:
            context.add(
                "function-overloaded",
                f"function {shown} is overloaded ({len(overloads)} definitions); Hasura cannot track it",
                at=tracked.function,
            )
        else:
            for problem in _function_problems(context, tracked, overloads[0]):
                context.add("function-signature", f"function {shown}: {problem}", at=tracked.function)


def _function_problems(context: SourceContext, tracked: TrackedFunction, info: FunctionInfo) -> list[str]:
    # Hasura's buildFunctionInfo: no VARIADIC, returns a table's row type (or SETOF it), a mutation
    # must be VOLATILE, and the session argument is an argument of type json.
    problems = []
    if any(argument.mode == "variadic" for argument in info.arguments):
        problems.append("VARIADIC arguments are not supported")
    returned = context.catalog.relation_of_type(info.result_type)
    if returned is None:
        problems.append(f"returns {info.result or 'nothing'}, not a table's row type (or SETOF it)")
    elif returned.key not in context.tracked:
        problems.append(f"returns rows of {returned.display}, which is not tracked")
    configuration = tracked.configuration
    if configuration is not None and configuration.exposed_as == "mutation" and info.volatility != "volatile":
        problems.append(f"exposed as a mutation, but {info.volatility.upper()} (mutations must be VOLATILE)")
    session = configuration.session_argument if configuration is not None else None
    if session is not None:
        argument = next((a for a in info.arguments if a.name == session), None)
        if argument is None:
            problems.append(f"session_argument {session!r} is not an argument of the function")
        elif argument.type != "json":
            problems.append(f"session_argument {session!r} has type {argument.type}, not json")
    return problems


def check_relationships(context: SourceContext) -> None:
    """Relationships name existing, tracked tables, columns and foreign keys; field names are unique."""
    for entry in context.source.tables:
        relation = context.catalog.relations.get(entry.table.key)
        if relation is None:
            continue  # reported as table-missing
        for relationship in entry.relationships():
            _check_relationship(context, entry, relation, relationship)
        _check_field_names(context, entry, relation)


def _check_relationship(
    context: SourceContext, entry: TableEntry, relation: Relation, relationship: Relationship
) -> None:
    label = f"{relationship.KIND} relationship {relationship.name!r} of {relation.display}"
    using = relationship.using
    manual = using.manual_configuration
    constraint_on = using.foreign_key_constraint_on
    if manual is not None:
        remote = _remote_relation(context, label, manual.remote_table)
        for local, remote_column in manual.column_mapping.items():
            names = [] if local in relation.columns else [f"{relation.display}.{local}"]
            if remote is not None and remote_column not in remote.columns:
                names.append(f"{remote.display}.{remote_column}")
            for name in names:
                context.add(
                    "relationship-column-missing",
                    f"{label}: column_mapping names {name}, which does not exist",
                    at=(*manual.at, "column_mapping", local),
                )
        return
    if isinstance(constraint_on, ForeignKeyOnRemote):
        remote = _remote_relation(context, label, constraint_on.table)
        if remote is None:
            return
        columns = constraint_on.column_list()
        absent = [c for c in columns if c not in remote.columns]
        for column in absent:
            context.add(
                "relationship-column-missing",
                f"{label}: column {remote.display}.{column} does not exist",
                at=constraint_on,
            )
        references = any(
            set(fk.columns) == set(columns) and fk.target == relation.key for fk in remote.foreign_keys
        )
        if columns and not absent and not references:
            context.add(
                "relationship-fk-missing",
                f"{label}: no foreign key on {remote.display}({', '.join(columns)}) references "
                f"{relation.display}",
                at=constraint_on,
            )
        return
    if constraint_on is None:
        return  # a relationship without `using` is a metadata-invalid matter for the server
    columns = [constraint_on] if isinstance(constraint_on, str) else list(constraint_on)
    at = (*using.at, "foreign_key_constraint_on")
    absent = [c for c in columns if c not in relation.columns]
    for column in absent:
        context.add("relationship-column-missing", f"{label}: column {column} does not exist", at=at)
    if absent:
        return
    target = context.relationship_target(entry, relationship)
    if target is None:
        context.add(
            "relationship-fk-missing",
            f"{label}: no foreign key on {relation.display}({', '.join(columns)})",
            at=at,
        )
    elif target not in context.tracked:
        context.add(
            "relationship-table-untracked",
            f"{label}: its foreign key leads to {target[0]}.{target[1]}, which is not tracked",
            at=at,
        )


def _remote_relation(context: SourceContext, label: str, table: QualifiedName) -> Relation | None:
    remote = context.catalog.relations.get(table.key)
    if remote is None:
        context.add("relationship-table-missing", f"{label}: table {table.display} does not exist", at=table)
    elif table.key not in context.tracked:
        context.add(
            "relationship-table-untracked", f"{label}: table {table.display} is not tracked", at=table
        )
    return remote


def _check_field_names(context: SourceContext, entry: TableEntry, relation: Relation) -> None:
    # Relationships, computed fields and remote relationships become GraphQL fields beside the
    # columns; Hasura refuses a name that is already taken.
    custom = (entry.configuration.custom_column_names if entry.configuration else {}) or {}
    taken = {custom.get(column, column): f"column {column}" for column in relation.columns}
    fields = [
        *((r.name, f"{r.KIND} relationship", r) for r in entry.relationships()),
        *((c.name, "computed field", c) for c in entry.computed_fields),
        *((r.name, "remote relationship", r) for r in entry.remote_relationships),
    ]
    for name, kind, item in fields:
        if name in taken:
            context.add(
                "field-name-conflict",
                f"{kind} {name!r} of {relation.display} has the same name as {taken[name]}",
                at=item,
            )
        else:
            taken[name] = kind


def check_computed_fields(context: SourceContext) -> None:
    """Computed fields name an existing function with a signature Hasura accepts."""
    for entry in context.source.tables:
        relation = context.catalog.relations.get(entry.table.key)
        if relation is None:
            continue
        for computed in entry.computed_fields:
            _check_computed_field(context, relation, computed)


def _check_computed_field(context: SourceContext, relation: Relation, computed: ComputedField) -> None:
    definition = computed.definition
    label = f"computed field {computed.name!r} of {relation.display}"
    overloads = context.catalog.functions.get(definition.function.key, [])
    if not overloads:
        context.add(
            "computed-field-function-missing",
            f"{label}: function {definition.function.display} does not exist",
            at=definition.function,
        )
        return
    if len(overloads) > 1:
        context.add(
            "computed-field-signature",
            f"{label}: function {definition.function.display} is overloaded, which Hasura does not support",
            at=definition.function,
        )
        return
    for problem in _computed_field_problems(context, relation, computed, overloads[0]):
        context.add("computed-field-signature", f"{label}: {problem}", at=definition)


def _computed_field_problems(
    context: SourceContext, relation: Relation, computed: ComputedField, info: FunctionInfo
) -> list[str]:
    # The rules of Hasura's buildComputedFieldInfo (Backends/Postgres/DDL/ComputedField.hs).
    problems = []
    definition = computed.definition
    function = definition.function.display
    if not _GRAPHQL_NAME.match(computed.name):
        problems.append(f"{computed.name!r} is not a valid GraphQL name")
    if info.volatility == "volatile":
        problems.append(f"function {function} is VOLATILE; computed fields need STABLE or IMMUTABLE")
    if info.returns_set:
        returned = context.catalog.relation_of_type(info.result_type)
        if returned is None or returned.key not in context.tracked:
            problems.append(
                f"function {function} returns SETOF {info.result_type}, which is not a tracked table"
            )
    elif (
        context.catalog.relation_of_type(info.result_type) is not None
        or unquote(info.result_type) in context.catalog.composite_types
        or info.result_type in ("record", "void", "trigger", "")
        or info.result_type.startswith("TABLE(")
    ):
        problems.append(f"function {function} returns {info.result}, which is not a base type")
    arguments = info.arguments
    if definition.table_argument is not None:
        table_argument = next((a for a in arguments if a.name == definition.table_argument), None)
        if table_argument is None:
            problems.append(f"{definition.table_argument!r} is not an argument of {function}")
    elif arguments:
        table_argument = arguments[0]
    else:
        table_argument = None
        problems.append(
            f"function {function} has no arguments (the first must take a {relation.display} row)"
        )
    if table_argument is not None:
        owner = context.catalog.relation_of_type(table_argument.type)
        if owner is None or owner.key != relation.key:
            which = definition.table_argument or "the first argument"
            problems.append(f"{which} has type {table_argument.type}, not the row type {relation.display}")
    session = definition.session_argument
    if session is not None:
        argument = next((a for a in arguments if a.name == session), None)
        if argument is None:
            problems.append(f"session_argument {session!r} is not an argument of {function}")
        elif argument.type not in _JSON_TYPES:
            problems.append(f"session_argument {session!r} has type {argument.type}, not json")
    return problems


def check_enum_tables(context: SourceContext) -> None:
    """Tables with `is_enum: true` have the shape and the rows Hasura requires."""
    for entry in context.source.tables:
        relation = context.catalog.relations.get(entry.table.key)
        if not entry.is_enum or relation is None:
            continue
        at = (*entry.at, "is_enum")
        label = f"enum table {relation.display}"
        # The rules of Hasura's fetchAndValidateEnumValues (Backends/Postgres/DDL/Table.hs): any one
        # extra column of type text is the comment column, whatever its name.
        problems = []
        key = relation.primary_key
        if not key:
            problems.append("has no primary key")
        elif len(key) > 1:
            problems.append(f"has a primary key of {len(key)} columns ({', '.join(key)}); it needs one")
        elif relation.columns.get(key[0]) != "text":
            problems.append(f"has a primary key {key[0]} of type {relation.columns.get(key[0])}, not text")
        others = [c for c in relation.columns if c not in key]
        if len(others) > 1:
            problems.append(f"has {len(others)} columns besides the key ({', '.join(others)}); at most one")
        elif others and relation.columns[others[0]] != "text":
            problems.append(
                f"has a comment column {others[0]} of type {relation.columns[others[0]]}, not text"
            )
        for problem in problems:
            context.add("enum-table-shape", f"{label} {problem}", at=at)
        if problems or relation.key not in context.catalog.enum_values:
            continue
        values = context.catalog.enum_values[relation.key]
        if not values:
            context.add("enum-table-empty", f"{label} has no rows after the migrations", at=at)
        invalid = [v for v in values if not _GRAPHQL_NAME.match(v) or v in ("true", "false", "null")]
        if invalid:
            shown = ", ".join(repr(v) for v in invalid[:5]) + (" ..." if len(invalid) > 5 else "")
            context.add(
                "enum-table-value",
                f"{label} has values that are not GraphQL enum names: {shown}",
                at=at,
            )
