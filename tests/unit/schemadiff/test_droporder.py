"""The drop-order graph code: dependents first, cycles together, the same order on every run."""

from __future__ import annotations

import random

from kedge_hasura.schemadiff.droporder import components, drop_order


def test_dependents_come_before_what_they_depend_on() -> None:
    # a view on a view on a table; a function returning the outer view's rows
    edges = [("view v2", "view v1"), ("view v1", "table t"), ("function f", "view v2")]

    order = drop_order(["table t", "view v1", "view v2", "function f"], edges, sort_key=str)

    assert order == [["function f"], ["view v2"], ["view v1"], ["table t"]]


def test_a_cycle_is_one_group_and_ties_go_by_sort_key() -> None:
    edges = [("table a", "table b"), ("table b", "table a"), ("table c", "schema s")]

    order = drop_order(["schema s", "table a", "table b", "table c"], edges, sort_key=str)

    assert order == [["table a", "table b"], ["table c"], ["schema s"]]


def test_the_order_does_not_depend_on_the_order_of_the_input() -> None:
    nodes = [f"n{i:03}" for i in range(200)]
    generator = random.Random(11)
    edges = [(a, b) for a in nodes for b in nodes if a > b and generator.random() < 0.02]
    expected = drop_order(nodes, edges, sort_key=str)

    shuffled_nodes, shuffled_edges = nodes[:], edges[:]
    generator.shuffle(shuffled_nodes)
    generator.shuffle(shuffled_edges)

    assert [sorted(g) for g in drop_order(shuffled_nodes, shuffled_edges, sort_key=str)] == [
        sorted(g) for g in expected
    ]
    position = {node: i for i, group in enumerate(expected) for node in group}
    assert all(position[a] < position[b] for a, b in edges)


def test_a_long_chain_needs_no_recursion() -> None:
    nodes = list(range(5000))
    edges = [(i + 1, i) for i in range(4999)] + [(0, 4999)]  # one cycle through every node

    assert [sorted(group) for group in components(nodes, edges)] == [nodes]
