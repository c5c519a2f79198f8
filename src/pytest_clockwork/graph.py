"""The dependency graph of declared resources: keys, closure, deploy levels, cycles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pytest_clockwork.errors import DeclarationError, DependencyCycleError
from pytest_clockwork.reachability import reachable
from pytest_clockwork.resources.base import Resource


@dataclass
class ResourceGraph:
    """Every resource reachable from the roots, by key, with what each must follow.

    A resource comes after the resources it is connected to, a composite after its
    children, and a child after its ancestors' connections (parent and children share
    a lifecycle). Build one with :meth:`build`.

    Attributes:
        nodes: The resources by key, in declaration order.
        deps: For each key, the keys that must be deployed before it.
    """

    nodes: dict[str, Resource] = field(default_factory=dict)
    deps: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, roots: Iterable[Resource]) -> ResourceGraph:
        """Flatten composites and follow connections from ``roots``.

        Raises:
            DeclarationError: Two different resources share a key, or one is connected to
                a resource of a narrower scope.
        """
        graph = cls()
        pending = list(roots)
        while pending:
            resource = pending.pop(0)
            key = resource.key
            known = graph.nodes.get(key)
            if known is resource:
                continue
            if known is not None:
                raise DeclarationError(
                    f"two different resources are named {key!r}: give one of them another "
                    "name (bind it to another name, or set name=...)",
                    resource=key,
                )
            graph.nodes[key] = resource
            pending.extend(resource.children.values())
            pending.extend(resource.connections)
            if resource.parent is not None:
                pending.append(resource.parent)
        for key, resource in graph.nodes.items():
            needs = {other.key for other in resource.connections}
            needs.update(child.key for child in resource.children.values())
            ancestor = resource.parent
            while ancestor is not None:
                needs.update(other.key for other in ancestor.connections)
                ancestor = ancestor.parent
            graph.deps[key] = needs
        from pytest_clockwork.scopes import connections_out_of_scope

        for problem in connections_out_of_scope(graph.nodes.values()):
            raise DeclarationError(problem)
        return graph

    def root_of(self, key: str) -> str:
        """The outermost composite that ``key`` belongs to (itself when it has no parent)."""
        resource = self.nodes[key]
        while resource.parent is not None:
            resource = resource.parent
        return resource.key

    def closure(self, keys: Iterable[str]) -> set[str]:
        """What must be deployed for ``keys``: whole composites and their dependencies."""
        selected: set[str] = set()
        pending = list(keys)
        while pending:
            key = pending.pop()
            if key in selected:
                continue
            selected.add(key)
            root = self.root_of(key)
            if root not in selected:
                pending.append(root)
            pending.extend(child.key for child in self.nodes[key].children.values())
            pending.extend(self.deps[key])
        return selected

    def check_acyclic(self) -> None:
        """Raise :class:`DependencyCycleError` naming the first cycle found."""
        order = {key: index for index, key in enumerate(self.nodes)}
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        path: list[str] = []

        def visit(key: str) -> None:
            state[key] = 1
            path.append(key)
            for dep in sorted(self.deps[key], key=order.__getitem__):
                if state.get(dep) == 1:
                    raise DependencyCycleError([*path[path.index(dep) :], dep])
                if dep not in state:
                    visit(dep)
            path.pop()
            state[key] = 2

        for key in self.nodes:
            if key not in state:
                visit(key)

    def levels(self, keys: Iterable[str] | None = None) -> list[list[str]]:
        """Deploy levels: each level's resources can be deployed at the same time.

        Args:
            keys: The resources to order (with whatever they depend on); all by default.

        Raises:
            DependencyCycleError: The connections form a cycle.
        """
        self.check_acyclic()
        wanted = set(self.nodes) if keys is None else self.closure(keys)
        level: dict[str, int] = {}

        def depth(key: str) -> int:
            if key not in level:
                level[key] = 1 + max((depth(dep) for dep in self.deps[key]), default=-1)
            return level[key]

        result: list[list[str]] = []
        for key in self.nodes:
            if key in wanted:
                index = depth(key)
                while len(result) <= index:
                    result.append([])
                result[index].append(key)
        return [keys_ for keys_ in result if keys_]

    def destroy_levels(self, keys: Iterable[str] | None = None) -> list[list[str]]:
        """The deploy levels in reverse: dependents go before what they depend on."""
        return list(reversed(self.levels(keys)))


def load_all(roots: Iterable[Resource], rootdir: Path) -> None:
    """Call :meth:`Resource.load` on ``roots`` and everything reachable from them
    (children, connections), each once, so composites made from files have their
    children before the graph is built.

    Raises:
        DeclarationError: A resource cannot load what it refers to.
    """
    for resource in reachable(roots):
        resource.load(rootdir)


def bind(namespace: Mapping[str, Resource], prefix: str = "") -> dict[str, Resource]:
    """Key each resource bound to a module-level name by that name.

    A resource without a parent takes the first name it is bound to as its key, after
    ``prefix``: the directory of a conftest below the rootdir (``tests/api/``), so that
    two conftests may bind the same name to different resources, as they may define
    fixtures of one name. A child keeps its ``parent.child`` key. Every binding becomes
    a fixture name.

    Returns:
        The fixture names and their resources.
    """
    for name, resource in namespace.items():
        if resource._key is None and resource.parent is None:
            resource._key = prefix + name
    return dict(namespace)
