"""The plan: for each needed resource, what happens to it, decided once.

:class:`Planner` looks at the completed declarations, the stack's state and what the
engines observe of kept resources, and decides for each resource: *create* it, *reuse*
a kept one (unchanged and still there), *replace* a kept one (changed, or no longer
there), or *attach* to one that runs (a session without ``--clockwork-apply``). Apply,
``--clockwork-plan``, the Pulumi preview and the terminal summary all read the
:class:`Plan`; none of them decides again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pytest_clockwork.engines import create_engine
from pytest_clockwork.engines.base import SessionInfo, Task
from pytest_clockwork.errors import DeploymentError, NotDeployedError
from pytest_clockwork.scopes import SESSION, each, rank, scope_of
from pytest_clockwork.specs import ContainerSpec, Spec, check_distinct, session_network
from pytest_clockwork.state import ResourceRecord, StackState, StateStore

if TYPE_CHECKING:
    from pytest_clockwork.catalog import Catalog

Action = Literal["create", "reuse", "replace", "attach"]
LEVELS_PER_SCOPE = 100
"""Records of narrower scopes get levels this far above wider ones (per scope), so that
a session torn down as a whole (after Ctrl-C, by the watchdog) removes them first."""


@dataclass
class Step:
    """What happens to one resource.

    Attributes:
        action: ``create``, ``reuse`` (a kept one), ``replace`` (a kept one) or
            ``attach`` (to one that runs).
        task: The resource, its spec and the record deployment writes (for ``reuse`` and
            ``attach``: the kept or running record).
        kept: The kept record reused or replaced.
        reason: Why, in words (shown by ``--clockwork-plan``).
    """

    action: Action
    task: Task
    kept: ResourceRecord | None = None
    reason: str = ""

    @property
    def key(self) -> str:
        """The resource's key."""
        return self.task.key

    @property
    def spec(self) -> Spec:
        """The resource's spec."""
        return self.task.spec

    @property
    def deploys(self) -> bool:
        """Whether the engine creates something for it."""
        return self.action in ("create", "replace")


@dataclass
class Plan:
    """The steps of a deployment, level by level (a level's resources at the same time)."""

    levels: list[list[Step]] = field(default_factory=list)

    def __iter__(self) -> Iterator[Step]:
        return (step for level in self.levels for step in level)

    def __bool__(self) -> bool:
        return any(self.levels)

    def tasks(self, *actions: Action) -> list[list[Task]]:
        """The tasks of the steps with ``actions``, level by level (empty levels left out)."""
        rows = [[step.task for step in level if step.action in actions] for level in self.levels]
        return [row for row in rows if row]

    def replaced(self) -> list[ResourceRecord]:
        """The kept records that are replaced."""
        return [step.kept for step in self if step.action == "replace" and step.kept]


class Planner:
    """Decides what happens to each needed resource.

    Args:
        catalog: The declarations.
        store: The stack's state.
        session: The deploying session.
        engine: The engine new resources are deployed with.
        worker: The xdist worker that deploys, recorded with what it deploys.
    """

    def __init__(
        self,
        catalog: Catalog,
        store: StateStore,
        session: SessionInfo,
        engine: str,
        worker: str | None = None,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.session = session
        self.engine = engine
        self.worker = worker

    def plan(
        self,
        keys: Iterable[str],
        deployed: Iterable[str] = (),
        instance: str | None = None,
        outer: Mapping[str, str | None] | None = None,
    ) -> Plan:
        """The plan for ``keys`` (with what they need) in a session that deploys.

        Args:
            keys: The resources to deploy.
            deployed: What this session deployed already (it shares networks with them);
                left out of the plan.
            instance: The copy of a narrower scope that ``keys`` are deployed for (a
                test's, a module's...): its records, names and networks are its own.
                ``None``: the session's resources (narrower ones, when asked for, are
                shown as created: ``--clockwork-plan``).
            outer: For a copy: the wider resources it may connect to (all in
                ``deployed``), each with the copy of its own scope that is deployed
                (``None``: the session's); the copy joins their networks.

        Raises:
            ClockworkError: A declaration cannot be completed or deployed (a cycle, two
                resources that would make the same thing...).
        """
        graph = self.catalog.graph
        done = set(deployed)
        pending = graph.closure(keys) - done
        levels = [[key for key in level if key in pending] for level in graph.levels(pending)]
        self.catalog.complete(pending)
        check_distinct(self.catalog.spec_of(key) for key in pending | done)
        self._check_engine(pending)
        state = self.store.read()
        plan = Plan()
        for index, level in enumerate(row for row in levels if row):
            plan.levels.append(
                [
                    self._step(key, index, pending, done, state, instance, outer or {})
                    for key in level
                ]
            )
        return plan

    def _check_engine(self, keys: Iterable[str]) -> None:
        """The Pulumi engine deploys session-scoped resources only.

        Raises:
            DeploymentError: A narrower scope is asked of the Pulumi engine.
        """
        if self.engine != "pulumi":
            return
        for key in sorted(keys):
            scope = scope_of(self.catalog.graph.nodes[key])
            if scope != SESSION:
                raise DeploymentError(
                    f"resource {key!r} has scope={scope!r}: the Pulumi engine updates the "
                    f"whole stack for each change, too slow for a copy {each(scope)}, so it "
                    "deploys session-scoped resources only; use --clockwork-engine local, "
                    "or leave scope out",
                    resource=key,
                )

    def attach(self, key: str) -> Step:
        """The step of a session that does not deploy: attach to what the stack runs.

        Raises:
            NotDeployedError: The stack has no live record of it; the message says why.
        """
        state = self.store.read()
        record = state.kept(key) or next(
            (
                r
                for r in state.records.values()
                if r.key == key
                and r.session == self.session.id
                and r.status == "ready"
                and r.instance is None
            ),
            None,
        )
        stack = self.store.stack
        if record is None:
            raise NotDeployedError(
                f"resource {key!r} is not deployed in stack {stack!r}: "
                "run pytest with --clockwork-apply",
                resource=key,
            )
        problem = create_engine(record.engine, self.session, self.store).condition(record)
        if problem is not None:
            raise NotDeployedError(
                f"resource {key!r} is recorded in stack {stack!r}, but {problem}: "
                "run pytest with --clockwork-apply to deploy it again",
                resource=key,
            )
        resource = self.catalog.complete([key])[key]
        spec = self.catalog.spec_of(key)
        task = Task(spec=spec, resource=resource, record=record, outputs=dict(record.outputs))
        return Step("attach", task, kept=record, reason="running in the stack")

    def _step(
        self,
        key: str,
        level: int,
        pending: set[str],
        done: set[str],
        state: StackState,
        instance: str | None,
        outer: Mapping[str, str | None],
    ) -> Step:
        spec = self.catalog.spec_of(key)
        resource = self.catalog.completed[key]
        scope = scope_of(self.catalog.graph.nodes[key])
        record = ResourceRecord(
            key=key,
            session=self.session.id,
            kind=spec.kind,
            engine=self.engine,
            fingerprint=spec.fingerprint(),
            # Narrower copies go first when a session is torn down as a whole.
            level=level + LEVELS_PER_SCOPE * rank(scope),
            spec=spec.to_json(),
            worker=self.worker,
            lifetime=resource.max_duration,
            scope=scope,
            instance=instance,
        )
        linked = set(self._links(key, pending | done))
        wider = {other for other in linked if other in outer} if instance is not None else set()
        joined = {session_network("clockwork", self.session.suffix(outer[o])) for o in wider}
        task = Task(
            spec=spec,
            resource=resource,
            record=record,
            depends_on=tuple(sorted(self.catalog.graph.deps[key])),
            links=tuple(sorted(linked - wider)),
            outer_networks=tuple(sorted(joined)),
        )
        if scope != SESSION:
            return Step("create", task, reason=f"scope {scope}: {each(scope)}")
        kept = state.kept(key)
        if kept is None:
            return Step("create", task)
        if kept.fingerprint != record.fingerprint:
            return Step("replace", task, kept, "kept, but its declaration changed")
        problem = create_engine(kept.engine, self.session, self.store).condition(kept)
        if problem is not None:
            return Step("replace", task, kept, f"kept, but {problem}")
        return Step("reuse", task, kept, "kept, unchanged and running")

    def _links(self, key: str, involved: set[str]) -> tuple[str, ...]:
        """The containers ``key`` (a container) is connected with: they share a network.

        Containers of narrower scopes that connect to it count too, deployed or not yet:
        their copies come later and join its network to reach it.
        """
        from pytest_clockwork.resources.container import ContainerResource

        graph = self.catalog.graph
        containers = {
            other for other in involved if isinstance(self.catalog.spec_of(other), ContainerSpec)
        }
        if key not in containers:
            return ()
        mine = rank(scope_of(graph.nodes[key]))
        containers |= {
            other
            for other, resource in graph.nodes.items()
            if isinstance(resource, ContainerResource) and rank(scope_of(resource)) > mine
        }
        connected = {other.key for other in graph.nodes[key].connections}
        connecting = {
            other for other in containers if key in {c.key for c in graph.nodes[other].connections}
        }
        linked = connected | connecting
        return tuple(sorted(linked & containers))
