"""Tracked SQL functions (custom functions) as root fields: which are valid, their names and arguments,
and which roles see them.

Hasura's rules, read in graphql-engine (v2.48):
- server/src-lib/Hasura/Backends/Postgres/DDL/Function.hs `buildFunctionInfo`: a tracked function must
  return a tracked table's row type (SETOF or one row), must not be VARIADIC or overloaded, and is
  exposed as a mutation when VOLATILE, else as a query; `exposed_as: mutation` on a function that
  is not VOLATILE is an error (the function is inconsistent, so absent from the schema).
- server/src-lib/Hasura/Function/Common.hs: the field is `custom_root_fields.function`, else
  `custom_name`, else `[schema_]name`; the aggregate `custom_root_fields.function_aggregate`, else
  `<that name>_aggregate`; the arguments' type `<custom_name or [schema_]name>_args`.
- server/src-lib/Hasura/Backends/Postgres/Schema/Select.hs `functionArgs`: one nullable input field
  per argument the user gives (`arg_N` for unnamed ones; the session argument hidden); no `args`
  when there is none; `args` non-null when some argument has no default.
  `selectFunction` needs a select permission on the returned table (`[t!]!` for SETOF, else `t`);
  `selectFunctionAggregate` also needs `allow_aggregations` (for SETOF and single-row functions alike).
- server/src-lib/Hasura/GraphQL/Schema.hs (Note [Function Permissions]): a query function is
  visible to admin, to roles with a function permission, and to every role while
  HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS is true (the default); a mutation function only to admin
  and to roles with a function permission. Query functions are under `subscription_root` too.
"""

from __future__ import annotations

from dataclasses import dataclass

from kedge_hasura.graphql.access import ADMIN, TrackedTable, is_graphql_name, table_identifier
from kedge_hasura.graphql.catalog import DbCatalog, TableKey
from kedge_hasura.graphql.scalars import scalar_of
from kedge_hasura.project.metadata_model import Source, TrackedFunction

_MODES = frozenset({"IN", "OUT", "INOUT", "VARIADIC"})
# First words of built-in type names that take more than one word in format_type's spelling: an
# argument that starts with one of them has no name ("double precision", not "double" of type "precision").
_MULTIWORD_TYPES = frozenset({"character", "double", "timestamp", "time", "bit", "interval"})
# Function arguments of array type keep Hasura's pre-v2.29 scalar name: `_` + the element's
# internal type name (issue #9902), as opposed to columns, which became lists.
_INTERNAL_NAMES = {
    "integer": "int4", "bigint": "int8", "smallint": "int2", "boolean": "bool", "real": "float4",
    "double precision": "float8", "character varying": "varchar", "character": "bpchar",
    "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
    "time with time zone": "timetz", "time without time zone": "time",
}  # fmt: skip


@dataclass(frozen=True)
class FunctionArgument:
    """An argument the user gives, as a field of the `<function>_args` input."""

    name: str  # the GraphQL field name
    scalar: str  # the GraphQL scalar name
    has_default: bool


@dataclass(frozen=True)
class GraphQLFunction:
    """A tracked function as Hasura exposes it."""

    key: TableKey  # (schema, function name)
    field_name: str
    aggregate_name: str
    args_type: str
    arguments: tuple[FunctionArgument, ...]
    returns: TableKey  # the tracked table whose rows it returns
    returns_set: bool
    exposed_as: str  # "query" or "mutation"
    permitted: frozenset[str]  # roles with a function permission
    # Root field names graphql-default keeps as written: those from custom_root_fields or custom_name
    # (Function/Common.hs applies the naming case only to the derived `[schema_]name[_aggregate]`).
    chosen_names: tuple[str, ...] = ()
    custom_name: str | None = None

    @property
    def args_required(self) -> bool:
        return any(not argument.has_default for argument in self.arguments)

    def visible_to(self, role: str, *, infer_permissions: bool) -> bool:
        """Whether the role's schema has the function (before the select permission on `returns`)."""
        if role == ADMIN or role in self.permitted:
            return True
        return self.exposed_as == "query" and infer_permissions


def tracked_functions(
    source: Source, catalog: DbCatalog, tables: dict[TableKey, TrackedTable]
) -> tuple[list[GraphQLFunction], list[str]]:
    """The source's tracked functions Hasura would expose, and a note for each one it would not."""
    functions: list[GraphQLFunction] = []
    notes: list[str] = []
    for tracked in source.functions:
        resolved = _resolve(tracked, catalog, tables)
        if isinstance(resolved, str):
            notes.append(f"function {tracked.function.display} is left out: {resolved}")
        else:
            functions.append(resolved)
    return functions, notes


# pgcrypto's functions, which the function-metadata query of current v2 servers leaves out in every
# schema (so tracking one is "no such function exists"; older pg_function_metadata.sql did not).
_PGCRYPTO = frozenset({
    "armor", "crypt", "dearmor", "decrypt", "decrypt_iv", "digest", "encrypt", "encrypt_iv",
    "gen_random_bytes", "gen_random_uuid", "gen_salt", "hmac",
})  # fmt: skip


def _resolve(
    tracked: TrackedFunction, catalog: DbCatalog, tables: dict[TableKey, TrackedTable]
) -> GraphQLFunction | str:
    """The exposed function, or why Hasura marks it inconsistent."""
    key = tracked.function.key
    overloads = catalog.functions.get(key, [])
    if key[1] in _PGCRYPTO or key[1].startswith("pgp_"):
        return "Hasura's function catalog skips pgcrypto's names (no such function; inconsistent)"
    if not overloads:
        return "it is not in the database (inconsistent)"
    if len(overloads) > 1:
        return "it is overloaded (Hasura refuses overloaded functions)"
    info = overloads[0]
    returns_set = info.result.startswith("SETOF ")
    returned = info.result.removeprefix("SETOF ").replace('"', "")
    schema, dot, name = returned.partition(".")
    returns = (schema, name) if dot else ("public", returned)
    if returns not in tables:
        return f"it returns {info.result}, not rows of a tracked table (inconsistent)"
    # DDL/Function.hs buildFunctionInfo checks the SQL name itself (qualifiedObjectToName), even
    # when a custom_name is given.
    if not is_graphql_name(table_identifier(key[0], key[1], None)):
        return "its name is not a GraphQL name (inconsistent)"
    config = tracked.configuration
    exposed_as = (config.exposed_as if config else None) or (
        "mutation" if info.volatility == "volatile" else "query"
    )
    if exposed_as == "mutation" and info.volatility != "volatile":
        return "exposed_as is mutation but the function is not VOLATILE (inconsistent)"
    session = config.session_argument if config else None
    session_found = False
    arguments: list[FunctionArgument] = []
    unnamed = 0
    for declared in info.declared or info.arguments:
        mode, argument_name, pg_type, has_default = parse_argument(declared)
        if mode == "VARIADIC":
            return "it takes a VARIADIC argument (inconsistent)"
        if argument_name is not None and not is_graphql_name(argument_name):
            return f"its argument {argument_name!r} is not a GraphQL name (inconsistent)"
        if mode == "OUT":
            continue
        if argument_name is not None and argument_name == session:
            # FunctionSessionArgumentNotJSON: only `json`, not `jsonb`.
            if pg_type.strip() != "json":
                return f"session argument {session!r} is not of type json (inconsistent)"
            session_found = True
            continue
        if argument_name is None:
            unnamed += 1
        arguments.append(
            FunctionArgument(
                argument_name or f"arg_{unnamed}", _argument_scalar(pg_type, catalog), has_default
            )
        )
    if session is not None and not session_found:
        return f"session argument {session!r} is not an argument of the function (inconsistent)"
    custom_name = config.custom_name if config else None
    base = table_identifier(key[0], key[1], custom_name)
    custom_roots = config.custom_root_fields if config else {}
    field_name = custom_roots.get("function") or base
    aggregate_name = custom_roots.get("function_aggregate") or f"{base}_aggregate"
    bad = [n for n in (field_name, aggregate_name) if not is_graphql_name(n)]
    if bad:
        return f"{bad[0]!r} is not a GraphQL name (inconsistent)"
    return GraphQLFunction(
        key=key,
        field_name=field_name,
        aggregate_name=aggregate_name,
        args_type=f"{base}_args",
        arguments=tuple(arguments),
        returns=returns,
        returns_set=returns_set,
        exposed_as=exposed_as,
        permitted=frozenset(entry.role for entry in tracked.permissions),
        custom_name=custom_name,
        chosen_names=tuple(
            name
            for name, chosen in (
                (field_name, custom_roots.get("function") or custom_name),
                (aggregate_name, custom_roots.get("function_aggregate") or custom_name),
            )
            if chosen
        ),
    )


def parse_argument(text: str) -> tuple[str, str | None, str, bool]:
    """(mode, name or None, type, has a default) of one argument as pg_get_function_arguments prints it:
    `[mode] [name] type [DEFAULT expr]`."""
    head, default, _ = text.partition(" DEFAULT ")
    words = head.strip()
    mode = "IN"
    first, _, rest = words.partition(" ")
    if first in _MODES and rest:
        mode, words = first, rest.strip()
    if words.startswith('"'):
        end = words.find('"', 1)
        while end + 1 < len(words) and words[end + 1] == '"':  # a doubled quote inside the name
            end = words.find('"', end + 2)
        name, rest = words[1:end].replace('""', '"'), words[end + 1 :].strip()
        return (mode, name, rest, bool(default)) if rest else (mode, None, words, bool(default))
    first, _, rest = words.partition(" ")
    if rest and first not in _MULTIWORD_TYPES:
        return mode, first, rest.strip(), bool(default)
    return mode, None, words, bool(default)


def _argument_scalar(pg_type: str, catalog: DbCatalog) -> str:
    text = pg_type.strip()
    if text.endswith("[]"):
        element = text.rstrip("[]").split("(", 1)[0].strip()
        return "_" + _INTERNAL_NAMES.get(element, element.rsplit(".", 1)[-1].strip('"'))
    schema, dot, name = text.replace('"', "").partition(".")
    # A row type or any composite type (SQL/Types.hs mkFunctionArgScalarType: PGCompositeScalar,
    # named `<type>_scalar` by mkScalarTypeName).
    if dot and ((schema, name) in catalog.tables or f"{schema}.{name}" in catalog.composites):
        return f"{name}_scalar"
    if f"{schema}.{name}" in catalog.domains:
        # Hasura reads an argument's type as its own `pg_type.typname`, not the domain's base type
        # (pg_function_metadata.sql input_arg_types → PGUnknown), unlike a column's.
        return name
    return scalar_of(text, catalog.domains).name
