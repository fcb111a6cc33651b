"""Order nodes of a dependency graph for dropping: dependents first, cycles kept together.

Pure graph code for schemadiff.drops. Strongly connected components (Tarjan, iterative: a
history can create thousands of objects) are what one DROP statement must remove together, and
they come out in an order where every component follows all components that depend on it; among
components that are ready at the same time the smallest sort key goes first, so the order is the
same on every run.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

Node = TypeVar("Node", bound=Hashable)


def components(nodes: Sequence[Node], edges: Iterable[tuple[Node, Node]]) -> list[list[Node]]:
    """Strongly connected components of the graph (each in `nodes` order)."""
    successors: dict[Node, list[Node]] = {node: [] for node in nodes}
    for source, target in edges:
        if source in successors and target in successors:
            successors[source].append(target)
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    stack: list[Node] = []
    on_stack: set[Node] = set()
    found: list[list[Node]] = []
    order = {node: position for position, node in enumerate(nodes)}
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[Node, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            following = successors[node]
            if position < len(following):
                work.append((node, position + 1))
                target = following[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                found.append(sorted(members, key=order.__getitem__))
    return found


def drop_order(
    nodes: Sequence[Node], edges: Iterable[tuple[Node, Node]], sort_key: Callable[[Node], Any]
) -> list[list[Node]]:
    """Components in drop order; an edge (a, b) means a depends on b, so a's goes first."""
    edges = list(edges)
    groups = components(nodes, edges)
    group_of = {node: number for number, group in enumerate(groups) for node in group}
    dependents_left = [0] * len(groups)
    depended_on: list[set[int]] = [set() for _ in groups]
    for dependent, referenced in edges:
        if dependent not in group_of or referenced not in group_of:
            continue
        a, b = group_of[dependent], group_of[referenced]
        if a != b and b not in depended_on[a]:
            depended_on[a].add(b)
            dependents_left[b] += 1
    keys = [min(sort_key(node) for node in group) for group in groups]
    ready = [(keys[number], number) for number in range(len(groups)) if dependents_left[number] == 0]
    heapq.heapify(ready)
    ordered: list[list[Node]] = []
    while ready:
        _, number = heapq.heappop(ready)
        ordered.append(groups[number])
        for next_group in depended_on[number]:
            dependents_left[next_group] -= 1
            if dependents_left[next_group] == 0:
                heapq.heappush(ready, (keys[next_group], next_group))
    return ordered
