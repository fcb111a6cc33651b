"""PostgreSQL column types → Hasura's GraphQL scalar names, and the type classes that pick operators.

Source: `textToPGScalarType` / `mkScalarTypeName` in
server/src-lib/Hasura/Backends/Postgres/SQL/Types.hs, and `isNumType` / `isComparableType` there;
the table in ../shared/hasura-graphql-surface.md §5. Types arrive as `format_type` text read with
`search_path = pg_catalog`, so user types are schema-qualified ("public.mood") and built-in ones
spelled out ("timestamp with time zone").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TYPMOD = re.compile(r"\(.*?\)")
# format_type spelling (typmod removed) → Hasura's scalar name.
_BUILTIN = {
    "integer": "Int", "smallint": "smallint", "bigint": "bigint", "real": "Float",
    "double precision": "float8", "numeric": "numeric", "money": "money", "text": "String",
    "character varying": "String", "character": "bpchar", "\"char\"": "bpchar", "boolean": "Boolean",
    "json": "json", "jsonb": "jsonb", "uuid": "uuid", "date": "date",
    "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamptz",
    "time without time zone": "time", "time with time zone": "timetz", "interval": "interval",
    "bytea": "bytea", "inet": "inet", "cidr": "cidr", "tsvector": "tsvector", "oid": "oid", "name": "name",
}  # fmt: skip
NUMERIC = frozenset({"Int", "smallint", "bigint", "Float", "float8", "numeric", "money"})
STRING = frozenset({"String", "citext", "bpchar"})
_NOT_COMPARABLE = frozenset({"json", "jsonb", "geometry", "geography", "Boolean"})


@dataclass(frozen=True)
class ScalarType:
    """A column's GraphQL type before nullability: a scalar name, maybe an array of it."""

    name: str
    is_array: bool = False

    @property
    def is_numeric(self) -> bool:
        return not self.is_array and self.name in NUMERIC

    @property
    def is_string(self) -> bool:
        return not self.is_array and self.name in STRING

    @property
    def is_comparable(self) -> bool:
        """Offered by max/min aggregates (Types.hs isComparableType)."""
        return not self.is_array and self.name not in _NOT_COMPARABLE


def scalar_of(pg_type: str, domains: dict[str, str]) -> ScalarType:
    """The GraphQL scalar of a column type; a domain maps as its base type, arrays since v2.29 as lists.

    Arrays: `text[]` → `[String!]` (api-tests Test.Databases.Postgres.ArraySpec; issue #9756).
    """
    text = pg_type.strip()
    is_array = text.endswith("[]")
    while text.endswith("[]"):
        text = text[:-2]
    if text in domains:
        return ScalarType(scalar_of(domains[text], domains).name, is_array)
    base = _TYPMOD.sub("", text).strip()
    if base in _BUILTIN:
        return ScalarType(_BUILTIN[base], is_array)
    # User types (enums, citext, PostGIS, ltree): the type's name without its schema.
    name = base.rsplit(".", 1)[-1].strip('"')
    return ScalarType(name, is_array)
