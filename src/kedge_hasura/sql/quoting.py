"""Quote identifiers and literals for SQL text we build; the one place that doubles a quote.

Two identifier forms, both valid SQL for the same name:
- `quote_ident` quotes only when PostgreSQL's own quote_ident() would, for SQL people read (the
  squashed down.sql);
- `quoted` always quotes, for queries we build and run ourselves, where the exact text is not read.

Literals double single quotes only: `standard_conforming_strings` is on in every supported server
(the default since PostgreSQL 9.1), so a backslash is an ordinary character.
psycopg's `sql.Identifier` stays inside `pg/`, which composes queries it executes itself.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable

_PLAIN_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")  # quote_identifier() in ruleutils.c: `$` is quoted
_UNRESERVED = {0, 1}  # libpg_query keyword_kind: not a keyword, or an unreserved keyword


@functools.cache
def quote_ident(name: str) -> str:
    """Quote an identifier exactly when PostgreSQL's quote_ident() would."""
    if _PLAIN_IDENTIFIER.fullmatch(name):
        # Imported here: only the keyword check needs the parser, and `diff` of two URLs
        # quotes names without ever loading it otherwise.
        import postgast

        tokens = list(postgast.scan(name).tokens)
        if len(tokens) == 1 and tokens[0].keyword_kind in _UNRESERVED:
            return name
    return quoted(name)


def qualified(schema: str, name: str) -> str:
    """`schema.name`, each part quoted as needed (`quote_ident`)."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def quoted(name: str) -> str:
    """An identifier in double quotes, always: `a"b` → `"a""b"`."""
    return '"' + name.replace('"', '""') + '"'


def quoted_path(parts: Iterable[str]) -> str:
    """A dotted name with every part in double quotes: `("app", "users")` → `"app"."users"`."""
    return ".".join(quoted(part) for part in parts)


def quote_literal(text: str) -> str:
    """A string literal: `it's` → `'it''s'`."""
    return "'" + text.replace("'", "''") + "'"


def literal_list(values: Iterable[str]) -> str:
    """String literals separated by commas, for `IN (...)`."""
    return ", ".join(quote_literal(value) for value in values)


def value_literal(value: object) -> str:
    """A value read back through `to_jsonb` (None, bool, number, text, JSON) as SQL shows it:
    `NULL`, `true`, `42`, `'it''s'`, `'{"k": 1}'`, never Python's `None`, `True` or dict repr."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return quote_literal(value)
    return quote_literal(json.dumps(value, ensure_ascii=False))  # jsonb's own text form: `{"k": 1}`


def row_literal(row: dict[str, object]) -> str:
    """A row as `(name = value, ...)` in the row's column order."""
    return "(" + ", ".join(f"{name} = {value_literal(value)}" for name, value in row.items()) + ")"
