"""Words a user reads: sizes, transaction counts and speed ratios say what they mean."""

from __future__ import annotations

import pytest

from kedge_hasura.render.deploy import _transactions, byte_size
from kedge_hasura.render.squash import _speed


@pytest.mark.parametrize(
    ("size", "text"), [(1, "1 byte"), (812, "812 bytes"), (26579, "26.0 KiB"), (3_565_158, "3.4 MiB")]
)
def test_sizes_read_as_sizes(size: int, text: str) -> None:
    assert byte_size(size) == text


@pytest.mark.parametrize(
    ("batches", "text"),
    [
        ([[1]], "1 transaction of 1 migration"),
        ([[1, 2, 3, 4, 5]], "1 transaction of 5 migrations"),
        ([[1, 2], [3], [4, 5, 6, 7]], "3 transactions: 2, 1 and 4 migrations"),
    ],
)
def test_transactions_are_counted_in_words(batches: list[list[int]], text: str) -> None:
    assert _transactions(batches) == text


@pytest.mark.parametrize(
    ("ratio", "text"), [(2.34, "2.3x faster"), (1.0, "1.0x faster"), (0.9, "1.1x slower"), (0.0, "")]
)
def test_a_slower_squash_is_called_slower(ratio: float, text: str) -> None:
    assert _speed(ratio) == text
