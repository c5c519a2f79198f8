"""Walking the resources reachable from some: through children and connections."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource


def reachable(roots: Iterable[Resource]) -> Iterator[Resource]:
    """``roots`` and every resource reachable from them (children, connections), each
    once, breadth-first. A resource's children are read after it is yielded, so those
    the caller makes meanwhile (:meth:`Resource.load`) are included."""
    seen: set[int] = set()
    pending = list(roots)
    while pending:
        resource = pending.pop(0)
        if id(resource) in seen:
            continue
        seen.add(id(resource))
        yield resource
        pending.extend(resource.children.values())
        pending.extend(resource.connections)
