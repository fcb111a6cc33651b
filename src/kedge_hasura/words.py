"""Counted nouns in messages: `1 migration`, `2 migrations`, never `2 migration(s)`.

It imports nothing of ours, so every layer can word a count the same way.
"""

from __future__ import annotations

from collections.abc import Sequence


def plural(count: int, noun: str) -> str:
    """`1 index`, `2 indexes`, `3 policies`, `4 tables` (nouns are object kinds, with _ as space)."""
    word = noun.replace("_", " ")
    if count != 1:
        word = word[:-1] + "ies" if word.endswith("y") else word + "es" if word.endswith("x") else word + "s"
    return f"{count} {word}"


def noun(count: int, singular: str) -> str:
    """The noun alone, agreeing with `count`: for `versions 1, 2` and `version 3` before a list."""
    return plural(count, singular).split(" ", 1)[1]


def verb(count: int, singular: str, plural_form: str) -> str:
    """`is`/`are`, `stays`/`stay`: the verb agreeing with `count`."""
    return singular if count == 1 else plural_form


def listing(singular: str, items: Sequence[object]) -> str:
    """`version 3` or `versions 1, 2`: the noun agreeing with the list that follows it."""
    return f"{noun(len(items), singular)} {', '.join(map(str, items))}"
