"""Which completions must come before which: a child after its parent, a resource after
the resources it is connected to (it is shown their completed context)."""

from __future__ import annotations

from collections.abc import Iterable

from pytest_clockwork.errors import DependencyCycleError
from pytest_clockwork.graph import ResourceGraph


def completion_order(graph: ResourceGraph, keys: Iterable[str]) -> list[tuple[str, set[str]]]:
    """``keys`` (with their children) and what their completion needs, in order.

    Args:
        graph: The declared resources.
        keys: The resources whose completed declaration is wanted; a composite comes
            with its children, which are completed after it (the second phase).

    Returns:
        Every resource involved with the keys its completion waits for, in an order
        where each comes after those keys.

    Raises:
        DependencyCycleError: The completions wait on each other.
    """
    needs: dict[str, set[str]] = {}
    pending = [part.key for key in keys for part in graph.nodes[key].walk()]
    while pending:
        key = pending.pop()
        if key in needs:
            continue
        resource = graph.nodes[key]
        before = {other.key for other in resource.connections}
        if resource.parent is not None:
            before.add(resource.parent.key)
        needs[key] = before
        pending.extend(before)
    ordered: list[tuple[str, set[str]]] = []
    placed: set[str] = set()
    remaining = [key for key in graph.nodes if key in needs]
    while remaining:
        ready = [key for key in remaining if needs[key] <= placed]
        if not ready:
            first = remaining[0]
            cycle = [first]
            while True:
                nxt = min(needs[cycle[-1]] - placed, key=remaining.index)
                if nxt in cycle:
                    raise DependencyCycleError([*cycle[cycle.index(nxt) :], nxt])
                cycle.append(nxt)
        for key in ready:
            ordered.append((key, needs[key]))
            placed.add(key)
        remaining = [key for key in remaining if key not in placed]
    return ordered
