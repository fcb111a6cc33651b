"""Definitions that PostgreSQL prints in a form that does not parse back to the same tree.

pg_dump writes each expression as the server prints it (pg_get_constraintdef, pg_get_indexdef,
pg_get_expr, pg_get_viewdef). Usually that text, run again, stores the same expression. One
known form does not: `status IN ('a', 'b')` on a varchar column is stored as an array of varchar
constants coerced to text[] as a whole, and printed as

    ((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))

Parsed again, the parser pushes the outer `::text[]` into the elements (a cast applied directly
to an ARRAY[...] constructor types its elements), so the new expression is an array of
`('a'::character varying)::text` and prints differently. Writing the array's own type first,
`(ARRAY['a'::character varying, ...]::character varying[])::text[]`, keeps the elements as
they are and leaves the outer cast where it was: the stored expression, and so its printed
text, are the original ones.

These rewrites are candidates only: the squash keeps one only when a replay proves that it
rebuilds the original text (see actions.squash.roundtrip).
"""

from __future__ import annotations

from dataclasses import dataclass

import postgast

_OPEN_PAREN, _CLOSE_PAREN, _OPEN_BRACKET, _CLOSE_BRACKET, _COMMA = (ord(c) for c in "()[],")


@dataclass(frozen=True)
class _Token:
    start: int  # byte offsets into the UTF-8 text
    end: int
    kind: int
    text: bytes
    gap: bytes  # what separates it from the previous token (spaces, as written)


def round_trip_form(text: str) -> str | None:
    """`text` rewritten so that it parses to the tree it was printed from; None when nothing applies.

    `text` is any SQL fragment as pg_dump or the catalog prints it (a whole statement, a
    constraint definition, an expression): it is only scanned, never parsed.
    """
    encoded = text.encode("utf-8")
    try:
        scanned = postgast.scan(text).tokens
    except postgast.PgQueryError:
        return None
    tokens, previous_end = [], 0
    for t in scanned:
        tokens.append(
            _Token(t.start, t.end, t.token, encoded[t.start : t.end], encoded[previous_end : t.start])
        )
        previous_end = t.end
    insertions = [edit for index in range(len(tokens)) if (edit := _array_cast(tokens, index))]
    if not insertions:
        return None
    pieces, position = [], 0
    for offset, inserted in sorted(insertions):
        pieces += [encoded[position:offset], inserted]
        position = offset
    pieces.append(encoded[position:])
    return b"".join(pieces).decode("utf-8")


def _array_cast(tokens: list[_Token], index: int) -> tuple[int, bytes] | None:
    """For `(ARRAY[e::X, ...])::T[]` at `index` with X ≠ T: insert `::X[]` after the `]`."""
    if not (
        tokens[index].text.upper() == b"ARRAY"
        and index > 0
        and tokens[index - 1].kind == _OPEN_PAREN
        and index + 1 < len(tokens)
        and tokens[index + 1].kind == _OPEN_BRACKET
    ):
        return None
    close = _matching(tokens, index + 1)
    if close is None or close + 3 >= len(tokens):
        return None
    if tokens[close + 1].kind != _CLOSE_PAREN or tokens[close + 2].text != b"::":
        return None
    outer = _array_type(tokens, close + 3)
    elements = _split(tokens[index + 2 : close])
    element_types = {_cast_type(element) for element in elements}
    if outer is None or len(element_types) != 1:
        return None
    (element_type,) = element_types
    if element_type is None or element_type == outer:
        return None
    return tokens[close].end, b"::" + element_type + b"[]"


def _matching(tokens: list[_Token], open_index: int) -> int | None:
    depth = 0
    for index in range(open_index, len(tokens)):
        kind = tokens[index].kind
        if kind in (_OPEN_BRACKET, _OPEN_PAREN):
            depth += 1
        elif kind in (_CLOSE_BRACKET, _CLOSE_PAREN):
            depth -= 1
            if depth == 0:
                return index if kind == _CLOSE_BRACKET else None
    return None


def _closing(tokens: list[_Token]) -> int | None:
    """The index of the parenthesis that closes the one at index 0."""
    depth = 0
    for index, token in enumerate(tokens):
        depth += (token.kind in (_OPEN_PAREN, _OPEN_BRACKET)) - (token.kind in (_CLOSE_PAREN, _CLOSE_BRACKET))
        if depth == 0:
            return index
    return None


def _split(tokens: list[_Token]) -> list[list[_Token]]:
    """Top-level comma-separated parts."""
    parts: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind in (_OPEN_BRACKET, _OPEN_PAREN):
            depth += 1
        elif token.kind in (_CLOSE_BRACKET, _CLOSE_PAREN):
            depth -= 1
        if token.kind == _COMMA and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _cast_type(element: list[_Token]) -> bytes | None:
    """The type name after the element's last top-level `::` (a constant as PostgreSQL prints it)."""
    while element and element[0].kind == _OPEN_PAREN and _closing(element) == len(element) - 1:
        element = element[1:-1]  # ('y'::character varying(3)) is the same element
    depth, last = 0, None
    for index, token in enumerate(element):
        if token.kind in (_OPEN_BRACKET, _OPEN_PAREN):
            depth += 1
        elif token.kind in (_CLOSE_BRACKET, _CLOSE_PAREN):
            depth -= 1
        elif token.text == b"::" and depth == 0:
            last = index
    if last is None or last + 1 >= len(element):
        return None
    return _words(element[last + 1 :])


def _array_type(tokens: list[_Token], start: int) -> bytes | None:
    """The element type of `T[]` starting at `start` (up to its first `[]`), or None."""
    depth = 0
    for index in range(start, len(tokens) - 1):
        kind = tokens[index].kind
        if kind == _OPEN_PAREN:
            depth += 1
        elif kind == _CLOSE_PAREN:
            depth -= 1
            if depth < 0:
                return None
        elif kind == _OPEN_BRACKET and depth == 0:
            if tokens[index + 1].kind != _CLOSE_BRACKET or index == start:
                return None
            return _words(tokens[start:index])
        elif kind == _COMMA and depth == 0:
            return None
    return None


def _words(tokens: list[_Token]) -> bytes:
    """The tokens as written (a type name such as `character varying(3)`)."""
    return tokens[0].text + b"".join(token.gap + token.text for token in tokens[1:])
