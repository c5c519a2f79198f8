"""Copies of resources of narrower scopes: one per test, class, module or package.

A resource declared with ``scope="function"`` (or ``class``, ``module``, ``package``) is
not deployed with the session's resources. Its fixture has that pytest scope and asks
:class:`Copies` for the copy of the scope it runs in (the test, its module...): the
first time, everything of that scope that the tests of that node need is deployed
together (so copies of one scope that connect to each other share their networks), in
parallel where the graph allows, after the wider resources it connects to (the session's,
or the copies of wider scopes). Each copy has an id of its own, in its records, its
containers' and networks' names and labels, so copies never clash. Its records are
written before anything is created, like any resource's, so teardown after Ctrl-C and
the watchdog after a crash remove it; normally it is destroyed when pytest ends the scope
(a copy of containers on free ports on a thread, while the next tests go on; the session
waits for those removals before its own teardown).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_clockwork.errors import ClockworkError, DeploymentError
from pytest_clockwork.scopes import SCOPES, SESSION, each, rank, scope_of

if TYPE_CHECKING:
    from pytest_clockwork.deployment import Deployment
    from pytest_clockwork.resources.base import Resource
    from pytest_clockwork.state import ResourceRecord


@dataclass
class Copy:
    """The resources of one scope deployed for one of its nodes (a test, a module...).

    Attributes:
        scope: The scope (``function``, ``module``...).
        node: The pytest node the copy lives as long as.
        id: Its id: part of its records' ids and of its containers' and networks' names.
        values: The fixture values, by key.
    """

    scope: str
    node: Any
    id: str
    values: dict[str, Resource] = field(default_factory=dict)


class Copies:
    """The live copies of a session, and how they come and go.

    Args:
        deployment: The session's deployment (its engine, planner and state deploy the
            copies).
        worker: The xdist worker id: part of each copy's id, since the workers of a run
            share its session id.
    """

    def __init__(self, deployment: Deployment, worker: str | None = None) -> None:
        self.deployment = deployment
        self.worker = worker or ""
        self.live: dict[tuple[str, str], Copy] = {}
        """The copies whose scope has not ended, by scope and node id."""
        self.made: dict[str, list[float]] = {}
        """Each key deployed as copies in this session, with how long each copy took."""
        self._numbers = itertools.count(1)
        self._pool: ThreadPoolExecutor | None = None
        self._removals: list[Future[None]] = []

    def provide(
        self, key: str, node: Any, needs: Callable[[Any], Iterable[str]] = lambda node: ()
    ) -> Resource:
        """The value of ``key`` (a resource of a narrower scope) in the copy of ``node``.

        Args:
            key: The resource.
            node: The pytest node of its scope (the fixture request's node).
            needs: The keys the tests under a node use (the tests to run of a module, a
                class...): those of the copy's scope are deployed with ``key``, together.

        Raises:
            ClockworkError: It (or a wider resource it connects to) cannot be deployed.
        """
        deployment = self.deployment
        if not deployment.options.apply:
            scope = scope_of(deployment.graph.nodes[key])
            raise DeploymentError(
                f"resource {key!r} has scope={scope!r}: a copy is deployed {each(scope)}, "
                "only when the session deploys; run pytest with --clockwork-apply",
                resource=key,
            )
        copy = self._copy(key, node)
        if key not in copy.values:
            self._deploy(copy, key, node, needs)
        return copy.values[key]

    def value_for(self, chain: list[Any], key: str) -> Resource | None:
        """The value of ``key`` in a live copy of one of ``chain``'s nodes (an item's
        :meth:`listchain`), or ``None``."""
        for copy in self.live.values():
            if key in copy.values and copy.node in chain:
                return copy.values[key]
        return None

    def _copy(self, key: str, node: Any) -> Copy:
        scope = scope_of(self.deployment.graph.nodes[key])
        found = self.live.get((scope, node.nodeid))
        if found is not None:
            return found
        copy = Copy(scope=scope, node=node, id=f"{self.worker}{scope[0]}{next(self._numbers)}")
        self.live[(scope, node.nodeid)] = copy
        node.addfinalizer(lambda: self._end(copy))
        return copy

    def _deploy(
        self, copy: Copy, key: str, node: Any, needs: Callable[[Any], Iterable[str]]
    ) -> None:
        deployment = self.deployment
        graph = deployment.graph
        same = {other for other in needs(node) if other in graph.nodes}
        same = {other for other in same if scope_of(graph.nodes[other]) == copy.scope}
        closure = graph.closure({key} | same)
        own = {other for other in closure if scope_of(graph.nodes[other]) == copy.scope}
        wider: dict[str, Resource] = {}
        outer: dict[str, str | None] = {}
        for other in sorted(closure - own, key=lambda k: rank(scope_of(graph.nodes[k]))):
            scope = scope_of(graph.nodes[other])
            if scope == SESSION:
                wider[other] = deployment.provide(other)
                outer[other] = None
                continue
            wider_node = scope_node(node, scope)
            wider[other] = self.provide(other, wider_node, needs)
            outer[other] = self.live[(scope, wider_node.nodeid)].id
        started = time.monotonic()
        plan = deployment.planner.plan(
            own - set(copy.values),
            deployed=set(wider) | set(copy.values),
            instance=copy.id,
            outer=outer,
        )
        deployment.deploy_copy(plan, copy.values, wider)
        seconds = time.monotonic() - started
        for step in plan:
            self.made.setdefault(step.key, []).append(seconds)
        deployment.progress(
            f"clockwork: {', '.join(sorted(step.key for step in plan))} "
            f"({copy.scope} copy {copy.id}) ready in {seconds:.2f}s"
        )

    def _end(self, copy: Copy) -> None:
        """The scope of ``copy`` ended: destroy it.

        A copy of containers with free host ports only is removed on a thread while the
        next tests go on (nothing of it is in their way: its names are its own); one that
        holds a pinned host port or a file's path is removed now, before the next copy
        needs them.

        Raises:
            DeploymentError: Something could not be removed now (its record stays, for
                ``--clockwork-destroy``).
        """
        self.live.pop((copy.scope, copy.node.nodeid), None)
        deployment = self.deployment
        state = deployment.store.read()
        records = [
            record
            for record in state.records.values()
            if record.session == deployment.session.id and record.instance == copy.id
        ]
        if not records:
            return
        if all(_nothing_fixed(record) for record in records):
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clockwork-rm")
            self._removals.append(self._pool.submit(self._destroy, copy, records))
            return
        self._destroy(copy, records)

    def _destroy(self, copy: Copy, records: list[ResourceRecord]) -> None:
        from pytest_clockwork.teardown import destroy_records

        deployment = self.deployment
        outcome = destroy_records(deployment.store, deployment.session, records)
        if outcome.failures:
            details = "; ".join(f"{rid}: {error}" for rid, error in outcome.failures.items())
            raise DeploymentError(f"could not remove the {copy.scope} copy {copy.id}: {details}")

    def finish(self) -> list[str]:
        """Wait until the copies being removed on a thread are gone.

        Returns:
            What could not be removed (its records stay, for the session's teardown).
        """
        problems = []
        for removal in self._removals:
            error = removal.exception()
            if error is not None:
                problems.append(str(error))
        self._removals.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.live.clear()
        return problems


def _nothing_fixed(record: ResourceRecord) -> bool:
    """Whether a copy's record holds nothing another copy could need at once: a
    container with free host ports only (its name, and its networks', are its own)."""
    if record.kind != "container":
        return False
    return not any(port.get("host_port") for port in record.spec.get("ports", []))


def scope_node(node: Any, scope: str) -> Any:
    """The node of ``scope`` above ``node`` (or ``node`` itself), as pytest finds it: the
    test's class (the test, outside a class), module, package (the session, outside one).

    Raises:
        ClockworkError: ``scope`` is no scope.
    """
    import pytest

    if scope not in SCOPES:
        raise ClockworkError(f"no such scope: {scope!r}")
    kinds: Mapping[str, type] = {
        "class": pytest.Class,
        "module": pytest.Module,
        "package": pytest.Package,
        "session": pytest.Session,
    }
    if scope == "function":
        return node
    found = node.getparent(kinds[scope])
    if found is not None:
        return found
    if scope == "class":
        return node
    return node.session


def reset_before(
    deployment: Deployment, item: Any, used: Iterable[tuple[str, Resource]]
) -> str | None:
    """Run the ``reset=`` of each resource in ``used`` before ``item``'s fixtures: a
    session-scoped one before each test, a copy before each test but the one it was
    deployed for (a new copy is in its declared state already).

    Returns:
        Why a reset failed (the test's setup fails with it), or ``None``.
    """
    chain = item.listchain()
    for _, resource in used:
        key = resource.key
        value: Resource | None
        if scope_of(resource) == SESSION:
            try:
                value = deployment.provide(key)
            except ClockworkError:
                continue  # its fixture says why
        else:
            value = deployment.copies.value_for(chain, key)
        if value is None:
            continue
        try:
            value.reset_now()
        except ClockworkError as exc:
            return str(exc)
    return None
