"""One session's deployment: the fixtures' way from a declaration to a deployed resource.

:class:`Deployment` ties the parts together for the pytest session: the
:class:`~pytest_clockwork.catalog.Catalog` (declarations, completion, specs), the
:class:`~pytest_clockwork.plan.Planner` (what happens to each resource), the engine
(which carries the plan out), the :class:`~pytest_clockwork.lifecycle.Lifecycle`
(registration, watchdog, reaping, teardown), and the fixture values: the completed model
plus what deployment produced.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pytest_clockwork.catalog import Catalog
from pytest_clockwork.copies import Copies
from pytest_clockwork.engines import choose_engine, create_engine
from pytest_clockwork.engines.base import Engine, SessionInfo, Task
from pytest_clockwork.errors import ClockworkError, DeploymentError
from pytest_clockwork.graph import ResourceGraph
from pytest_clockwork.lifecycle import Lifecycle
from pytest_clockwork.options import Options
from pytest_clockwork.plan import Plan, Planner
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.scopes import SESSION, scope_of
from pytest_clockwork.specs import Spec
from pytest_clockwork.state import ResourceRecord, StateStore, now
from pytest_clockwork.teardown import destroy_records

Progress = Callable[[str], None]


class Deployment:
    """Everything clockwork does for one pytest session and one stack.

    Args:
        rootdir: pytest's rootdir.
        options: The resolved options.
        session: The session's ids.
        owner_pid: The process that owns what is deployed (the xdist controller under
            xdist); the watchdog and later sessions check whether it still lives.
        shared: This is an xdist worker sharing one deployment with the other workers:
            deploy under the run's lock, and attach to what another worker deployed.
        worker: The xdist worker id, recorded with what it deploys.
        progress: Where "resource ready" lines go (``-v``).
        status: Where lines go that always show (which resource's image is building).

    Attributes:
        needed: The keys the selected items need.
        deployed: The fixture values of what this session deployed or attached.
        failures: What could not be deployed, by key.
        reused: The keys of kept resources this session took over unchanged.
        seconds: How long each resource took to be ready.
    """

    def __init__(
        self,
        *,
        rootdir: Path,
        options: Options,
        session: SessionInfo,
        owner_pid: int | None = None,
        shared: bool = False,
        worker: str | None = None,
        progress: Progress | None = None,
        status: Progress | None = None,
    ) -> None:
        self.rootdir = rootdir
        self.options = options
        self.session = session
        self.shared = shared
        self.progress = progress or (lambda line: None)
        self.status = status or (lambda line: None)
        self.store = StateStore(rootdir, options.stack)
        self.engine_name, self.engine_reason = choose_engine(options.engine)
        self.catalog = Catalog(rootdir, options)
        self.planner = Planner(self.catalog, self.store, session, self.engine_name, worker)
        self.lifecycle = Lifecycle(
            rootdir=rootdir,
            options=options,
            session=session,
            store=self.store,
            engine=self.engine_name,
            owner_pid=owner_pid or os.getpid(),
            output=self.progress,
        )
        self.needed: set[str] = set()
        self.deployed: dict[str, Resource] = {}
        self.failures: dict[str, ClockworkError] = {}
        self.reused: set[str] = set()
        self.seconds: dict[str, float] = {}
        self._engine: Engine | None = None
        self._lock = threading.RLock()
        """Held while deploying: one deployment at a time."""
        self._settled: dict[str, threading.Event] = {}
        """Set when a resource the background deployment handles is ready or failed."""
        self._background: threading.Thread | None = None
        self.copies = Copies(self, worker)
        """The copies of resources of narrower scopes (one per test, module...)."""

    # -- the parts ---------------------------------------------------------------------

    def declare(self, resource: Resource) -> None:
        """Add a root declaration (a resource bound in a conftest)."""
        self.catalog.declare(resource)

    @property
    def graph(self) -> ResourceGraph:
        """The dependency graph of everything declared so far."""
        return self.catalog.graph

    def complete(self, keys: Iterable[str]) -> dict[str, Resource]:
        """The completed declaration of each key (see :meth:`Catalog.complete`)."""
        return self.catalog.complete(keys)

    def spec_of(self, key: str) -> Spec:
        """The normalised view of a completed resource."""
        return self.catalog.spec_of(key)

    @property
    def engine(self) -> Engine:
        """The engine this session deploys with."""
        if self._engine is None:
            self._engine = create_engine(self.engine_name, self.session, self.store)
            self._engine.output = self.progress
            self._engine.status = self.status
        return self._engine

    @property
    def reaped(self) -> list[str]:
        """What was destroyed after dead sessions."""
        return self.lifecycle.reaped

    # -- planning ----------------------------------------------------------------------

    def plan(self, keys: Iterable[str] | None = None) -> Plan:
        """What deploying ``keys`` (the needed resources by default) would do.

        Raises:
            ClockworkError: A declaration cannot be completed or deployed.
        """
        return self.planner.plan(self.needed if keys is None else keys)

    def preview(self, plan: Plan) -> str | None:
        """The engine's change summary for ``plan`` (Pulumi's preview)."""
        return self.engine.preview(plan)

    # -- apply -------------------------------------------------------------------------

    def provide(self, key: str) -> Resource:
        """The fixture value of ``key``: deployed (with apply) or attached.

        With a deployment going on in the background, it waits for ``key`` only.
        """
        if not self.options.apply:
            with self._lock:
                return self.attach(key)
        settled = self._settled.get(key)
        while settled is not None and not settled.wait(0.1):
            pass  # short waits: Ctrl-C and SIGTERM stay prompt in the main thread
        if key not in self.deployed and key not in self.failures:
            with self._lock:
                self.ensure(self.needed | {key})
        if key in self.failures:
            raise self.failures[key]
        return self.deployed[key]

    def start_in_background(self) -> None:
        """Deploy what the selected tests need on a thread of its own, now, while the
        tests that need nothing run; each fixture then waits for its resource only."""
        if self._background is not None or not self.needed or not self.engine.background:
            return
        try:
            pending = self.session_keys(self.needed)
        except ClockworkError:
            return  # the declarations are wrong: each fixture that asks says how
        if not pending:
            return
        for key in pending:
            self._settled.setdefault(key, threading.Event())
        self._background = threading.Thread(
            target=self._deploy_needed, name="clockwork-deploy", daemon=True
        )
        self._background.start()

    def _deploy_needed(self) -> None:
        try:
            with self._lock:
                self.ensure(self.needed)
        except BaseException as exc:  # each test that needs a resource reports it
            error = (
                exc
                if isinstance(exc, ClockworkError)
                else DeploymentError(f"deployment failed: {type(exc).__name__}: {exc}")
            )
            for key in self._settled:
                if key not in self.deployed:
                    self.failures.setdefault(key, error)
        finally:
            for event in self._settled.values():
                event.set()

    def stop(self) -> None:
        """End a background deployment: readiness waits give up, nothing new starts, and
        what was created is recorded (for teardown) before this returns."""
        if self._background is not None and self._background.is_alive():
            self.engine.cancelled.set()
            self._background.join()

    def session_keys(self, keys: Iterable[str]) -> set[str]:
        """The session-scoped resources among ``keys`` and what they need (those of
        narrower scopes are deployed as copies, by :attr:`copies`)."""
        graph = self.graph
        return {key for key in graph.closure(keys) if scope_of(graph.nodes[key]) == SESSION}

    def ensure(self, keys: Iterable[str]) -> None:
        """Deploy whatever of ``keys`` (and what they need) is not deployed yet; only the
        session-scoped ones (a copy of a narrower scope comes from :attr:`copies`)."""
        with self._lock:
            pending = self.session_keys(keys) - set(self.deployed) - set(self.failures)
            if not pending:
                return
            self.lifecycle.start()
            if not self.shared:
                self._deploy(pending)
                return
            with self._run_lock():
                self._attach_shared(pending)
                self._deploy(pending - set(self.deployed) - set(self.failures))

    def _deploy(self, pending: set[str]) -> None:
        if not pending:
            return
        try:
            plan = self.planner.plan(pending, deployed=self.deployed)
        except ClockworkError as exc:
            for key in pending:
                self.failures[key] = exc
            return
        self._apply(plan)

    @contextlib.contextmanager
    def _run_lock(self) -> Iterator[None]:
        """The lock xdist workers of one run take to deploy what they share."""
        from pytest_clockwork.locks import FileLock

        self.store.ensure_directory()
        with FileLock(self.store.session_file(self.session.id, ".deploy.lock")).hold(3600):
            yield

    def _attach_shared(self, pending: set[str]) -> None:
        """Take what another worker of this run already deployed."""
        state = self.store.read()
        for level in self.graph.levels(pending):
            for key in level:
                record = state.records.get(f"{key}@{self.session.id}")
                if record is None or record.status == "creating":
                    continue
                if record.status == "failed":
                    self.failures[key] = DeploymentError(
                        f"resource {key!r} failed to deploy in worker {record.worker}; its "
                        "error is in that worker's report",
                        resource=key,
                    )
                    continue
                self.complete([key])
                self.deployed[key] = self._deployed_value(
                    key, dict(record.outputs), record.id, self.spec_of(key)
                )
                self.reused.add(key)

    def _apply(self, plan: Plan) -> None:
        """Carry ``plan`` out: take over what is reused, replace, create, record."""
        self._adopt(plan)
        if plan.replaced():
            destroy_records(self.store, self.session, plan.replaced(), self.progress)
        for step in plan:
            if step.action == "reuse":
                self.engine.reuse(step.task)
                self._ready(step.task)
                self._settle(step.task, None)
        fresh = [step.task for step in plan if step.deploys]
        self._record_planned(fresh)
        todo = plan.tasks("create", "replace")
        failures = self.engine.deploy(todo, self._ready, self._done) if todo else {}
        self._record_results(fresh, failures, self.deployed)
        for step in plan:
            self._settle(step.task, failures.get(step.key))

    def _record_planned(self, fresh: list[Task]) -> None:
        """Write the records of what is about to be created, with the names known up
        front, before anything is: whoever tears down (even the watchdog) knows them."""
        with self.store.transaction() as state:
            for task in fresh:
                for what, identifiers in self.engine.planned(task).items():
                    for identifier in identifiers:
                        task.record.add_created(what, identifier)
                state.put(task.record)

    def _record_results(
        self,
        fresh: list[Task],
        failures: Mapping[str, BaseException],
        values: Mapping[str, Resource],
    ) -> None:
        """Note in the records what deploying them did (outputs, or that it failed)."""
        with self.store.transaction() as state:
            for task in fresh:
                record = state.records.get(task.record.id, task.record)
                record.created = {**record.created, **task.record.created}
                if task.key in failures:
                    record.status = "failed"
                else:
                    record.status = "ready"
                    value = values.get(task.key)
                    record.outputs = dict(value.outputs) if value is not None else task.outputs
                    record.deployed_at = now()
                    record.seconds = task.record.seconds
                state.put(record)

    def deploy_copy(
        self, plan: Plan, values: dict[str, Resource], wider: Mapping[str, Resource]
    ) -> list[ResourceRecord]:
        """Deploy a copy of a narrower scope (see :mod:`pytest_clockwork.copies`).

        Args:
            plan: The copy's plan (all *create*).
            values: Where the copy's fixture values go, by key.
            wider: The values of the wider resources it connects to.

        Returns:
            The copy's records (written before anything is created).

        Raises:
            ClockworkError: A resource of the copy failed to deploy (the others are
                deployed and recorded, for teardown).
        """
        fresh = [step.task for step in plan]
        with self._lock:
            self.lifecycle.start()
            self._record_planned(fresh)
            failures = self.engine.deploy(plan.tasks("create"), self._ready)
        for task in fresh:
            if task.key not in failures:
                values[task.key] = self._deployed_value(
                    task.key, task.outputs, task.record.id, task.spec, {**wider, **values}
                )
        self._record_results(fresh, failures, values)
        for task in fresh:
            if task.key in failures:
                failure = failures[task.key]
                if isinstance(failure, ClockworkError):
                    raise failure
                raise DeploymentError(
                    f"resource {task.key!r} failed to deploy: {type(failure).__name__}: {failure}",
                    resource=task.key,
                )
        return [task.record for task in fresh]

    def _adopt(self, plan: Plan) -> None:
        """Take over the kept records the plan reuses (one that went meanwhile, taken by
        another session or destroyed, is created afresh)."""
        with self.store.transaction() as state:
            for step in plan:
                if step.action != "reuse" or step.kept is None:
                    continue
                kept = state.records.get(step.kept.id)
                if kept is None or not kept.kept:
                    step.action, step.kept = "create", None
                    continue
                state.records.pop(kept.id, None)
                kept.session = self.session.id
                kept.kept = False
                kept.expires_at = None
                kept.level = step.task.record.level
                state.put(kept)
                step.task.record = kept
                step.task.outputs = dict(kept.outputs)
                self.reused.add(step.key)

    def _done(self, task: Task) -> None:
        """``task``'s resource is ready: its fixture can be given out now."""
        self._settle(task, None)

    def _settle(self, task: Task, failure: BaseException | None) -> None:
        """Note how ``task`` ended: its fixture value, or its error."""
        if task.key in self.deployed:
            return
        try:
            self._record_outcome(task, failure)
        finally:
            if task.key in self._settled:
                self._settled[task.key].set()

    def _record_outcome(self, task: Task, failure: BaseException | None) -> None:
        if failure is not None:
            self.failures[task.key] = (
                failure
                if isinstance(failure, ClockworkError)
                else DeploymentError(
                    f"resource {task.key!r} failed to deploy: {type(failure).__name__}: {failure}",
                    resource=task.key,
                )
            )
            return
        self.deployed[task.key] = self._deployed_value(
            task.key, task.outputs, task.record.id, task.spec
        )
        if task.record.seconds is not None:
            self.seconds[task.key] = task.record.seconds
            self.progress(
                f"clockwork: {task.key} ready in {task.record.seconds:.2f}s"
                + (" (reused)" if task.key in self.reused else "")
            )

    def _ready(self, task: Task) -> None:
        """Wait until ``task``'s resource passes its ``wait_for`` checks."""
        checks = getattr(task.resource, "wait_for", None) or []
        if not checks:
            return
        value = task.resource.deployed_copy(task.outputs, key=task.key, spec=task.spec)
        for check in checks:
            try:
                check.verify(value, cancel=self.engine.cancelled)
            except AssertionError as exc:
                raise DeploymentError(
                    f"resource {task.key!r} did not become ready within {check.timeout:g}s "
                    f"({type(check).__name__}): {exc}",
                    resource=task.key,
                ) from None

    def _deployed_value(
        self,
        key: str,
        outputs: dict[str, Any],
        record_id: str,
        spec: Spec,
        values: Mapping[str, Resource] | None = None,
    ) -> Resource:
        """The fixture value of ``key``: the completed model with ``outputs``. When an
        action in a test changes its outputs (a restart moves a host port), they are
        written to its record ``record_id`` too, where xdist workers and later sessions
        attach from. Its children and connections are taken from ``values`` (by
        default what the session deployed)."""
        values = self.deployed if values is None else values
        resource = self.catalog.completed[key]
        value = resource.deployed_copy(
            outputs,
            key=key,
            spec=spec,
            on_outputs=functools.partial(self.store.record_outputs, record_id),
        )
        children = {}
        for name, child in resource.children.items():
            deployed_child = values.get(child.key)
            if deployed_child is not None:
                deployed_child._parent = value
                children[name] = deployed_child
        value._children = children
        value._connections = [values.get(other.key, other) for other in resource.connections]
        return value

    # -- attach --------------------------------------------------------------------------

    def attach(self, key: str) -> Resource:
        """The value of ``key`` from what the stack has running (no deployment).

        Raises:
            NotDeployedError: The stack has no live record of it.
        """
        if key in self.deployed:
            return self.deployed[key]
        self.lifecycle.reap_dead()
        step = self.planner.attach(key)
        for child in self.graph.nodes[key].children.values():
            self.attach(child.key)
        self.deployed[key] = self._deployed_value(
            key, step.task.outputs, step.task.record.id, step.task.spec
        )
        return self.deployed[key]
