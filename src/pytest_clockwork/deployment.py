"""One session's deployment: what is declared, what is needed, deploy, attach, tear down.

This is engine-independent. It completes declarations, turns them into specs, reuses
kept resources whose declaration is unchanged, hands the rest to the engine level by
level, waits for readiness, records everything in the stack's state, and builds the
fixture values: the completed model plus what deployment produced.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_clockwork.engines import choose_engine, create_engine
from pytest_clockwork.engines.base import Engine, SessionInfo, Task
from pytest_clockwork.errors import (
    ClockworkError,
    DeploymentError,
    NotDeployedError,
)
from pytest_clockwork.graph import ResourceGraph
from pytest_clockwork.options import Options
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.specs import ContainerSpec, Spec, SpecContext, check_distinct
from pytest_clockwork.state import (
    ResourceRecord,
    SessionEntry,
    StateStore,
    now,
    process_started,
    this_host,
)
from pytest_clockwork.teardown import (
    Outcome,
    dead_sessions,
    destroy_records,
    destroy_stack,
    reap,
)

if TYPE_CHECKING:
    from pytest_clockwork.watchdog import Watchdog

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
    ) -> None:
        self.rootdir = rootdir
        self.options = options
        self.session = session
        self.owner_pid = owner_pid or os.getpid()
        self.shared = shared
        self.worker = worker
        self.progress = progress or (lambda line: None)
        self.store = StateStore(rootdir, options.stack)
        self.engine_name, self.engine_reason = choose_engine(options.engine)
        self.roots: dict[str, Resource] = {}
        self.needed: set[str] = set()
        self.completed: dict[str, Resource] = {}
        self.deployed: dict[str, Resource] = {}
        self.failures: dict[str, ClockworkError] = {}
        self.reused: set[str] = set()
        self.notes: dict[str, list[str]] = {}
        """Plan notes per key (what completion did), filled in by the completer."""
        self.seconds: dict[str, float] = {}
        self.reaped: list[str] = []
        self._graph: ResourceGraph | None = None
        self._engine: Engine | None = None
        self._started = False
        self._lock = threading.RLock()
        self.watchdog: Watchdog | None = None

    # -- declarations ------------------------------------------------------------------

    def declare(self, resource: Resource) -> None:
        """Add a root declaration (a resource bound in a conftest)."""
        key = resource.key
        if self.roots.get(key) is not resource:
            self.roots[key] = resource
            self._graph = None

    @property
    def graph(self) -> ResourceGraph:
        """The dependency graph of everything declared so far."""
        if self._graph is None:
            self._graph = ResourceGraph.build(self.roots.values())
        return self._graph

    @property
    def engine(self) -> Engine:
        """The engine this session deploys with."""
        if self._engine is None:
            self._engine = create_engine(self.engine_name, self.session, self.store)
            self._engine.output = self.progress
        return self._engine

    def plan(self, keys: Iterable[str] | None = None) -> list[list[str]]:
        """The deploy levels for ``keys`` (the needed resources by default)."""
        return self.graph.levels(self.needed if keys is None else keys)

    def preview(self) -> str | None:
        """The engine's change summary for the needed resources (Pulumi's preview)."""
        pending = self.graph.closure(self.needed)
        levels = self.graph.levels(pending)
        self.complete(pending)
        return self.engine.preview(self._tasks(levels, pending))

    def plan_details(self, key: str) -> list[str]:
        """Extra plan lines for ``key``: how it was completed, its assertions."""
        from pytest_clockwork.items import item_names

        names = [name for name, _ in item_names(self.graph.nodes[key])]
        return [*self.notes.get(key, []), *(["assertions: " + ", ".join(names)] if names else [])]

    # -- completion --------------------------------------------------------------------

    def complete(self, keys: Iterable[str]) -> dict[str, Resource]:
        """The completed declaration of each key (from the lock, or the model)."""
        wanted = [key for key in keys if key not in self.completed]
        for key in wanted:  # nothing to complete: the declaration as it is
            if not self.graph.nodes[key].missing_fields():
                self.completed[key] = self.graph.nodes[key]
        wanted = [key for key in wanted if key not in self.completed]
        if wanted:
            from pytest_clockwork.completion.service import complete_resources

            self.completed.update(complete_resources(self, wanted))
        return {key: self.completed[key] for key in keys}

    def spec_of(self, key: str) -> Spec:
        """The normalised view of a completed resource."""
        context = SpecContext(rootdir=self.rootdir, key=key, secret=self.secret_value)
        return self.complete([key])[key].spec(context)

    def secret_value(self, name: str, _seen: tuple[str, ...] = ()) -> str:
        """The value a ``${secret:<key>.<field>[.<name>]}`` reference names (its own
        references expanded).

        Raises:
            ValueError: No declared resource, or no text, is there; or references loop.
        """
        from pytest_clockwork.resources.secrets import expand, lookup_in

        reference = "${secret:" + name + "}"
        if name in _seen:
            raise ValueError(f"{reference} refers to itself through {', '.join(_seen)}")
        keys = [key for key in self.graph.nodes if name.startswith(key + ".")]
        if not keys:
            raise ValueError(
                f"{reference} names no declared resource: write "
                "${secret:<resource>.<field>.<name>}, e.g. ${secret:db.env_vars.POSTGRES_PASSWORD}"
            )
        key = max(keys, key=len)
        value = lookup_in(self.complete([key])[key], name[len(key) + 1 :], reference)
        return expand(value, lambda inner: self.secret_value(inner, (*_seen, name)), reference)[0]

    # -- apply ---------------------------------------------------------------------------

    def provide(self, key: str) -> Resource:
        """The fixture value of ``key``: deployed (with apply) or attached."""
        with self._lock:
            if self.options.apply:
                self.ensure(self.needed | {key})
                if key in self.failures:
                    raise self.failures[key]
                return self.deployed[key]
            return self.attach(key)

    def ensure(self, keys: Iterable[str]) -> None:
        """Deploy whatever of ``keys`` (and what they need) is not deployed yet."""
        with self._lock:
            pending = self.graph.closure(keys) - set(self.deployed) - set(self.failures)
            if not pending:
                return
            self.start()
            if not self.shared:
                self._deploy_pending(pending)
                return
            with self._run_lock():
                self._attach_shared(pending)
                self._deploy_pending(pending - set(self.deployed) - set(self.failures))

    def _deploy_pending(self, pending: set[str]) -> None:
        if not pending:
            return
        try:
            levels = self.graph.levels(pending)
            self.complete(pending)
            tasks = self._tasks(levels, pending)
        except ClockworkError as exc:
            for key in pending:
                self.failures[key] = exc
            return
        self._deploy(tasks)

    @contextlib.contextmanager
    def _run_lock(self) -> Iterator[None]:
        """The lock xdist workers of one run take to deploy what they share."""
        from filelock import FileLock

        self.store.ensure_directory()
        path = self.store.session_file(self.session.id, ".deploy.lock")
        with FileLock(str(path)).acquire(timeout=3600, poll_interval=0.01):
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
                self.deployed[key] = self._deployed_value(key, dict(record.outputs))
                self.reused.add(key)

    def start(self) -> None:
        """Register this session in the state, reap dead sessions, start the watchdog."""
        if self._started:
            return
        self._started = True
        entry = SessionEntry(
            id=self.session.id,
            pid=self.owner_pid,
            pid_started=process_started(self.owner_pid),
            host=this_host(),
            started_at=now(),
            engine=self.engine_name,
        )
        with self.store.transaction() as state:
            state.sessions.setdefault(entry.id, entry)
        self.reaped.extend(reap(self.store, self.session).destroyed)
        if self.owner_pid == os.getpid():
            from pytest_clockwork.watchdog import Watchdog

            self.watchdog = Watchdog.start(self.rootdir, self.options.stack, self.session.id)
            with self.store.transaction() as state:
                if entry.id in state.sessions:
                    state.sessions[entry.id].watchdog_pid = self.watchdog.pid

    def _tasks(self, levels: list[list[str]], pending: set[str]) -> list[list[Task]]:
        graph = self.graph
        container_keys = {
            key
            for key in graph.nodes
            if key in pending or key in self.deployed
            if isinstance(self.spec_of(key), ContainerSpec)
        }
        check_distinct(self.spec_of(key) for key in pending | set(self.deployed))
        result = []
        for index, level in enumerate(levels):
            row = []
            for key in level:
                spec = self.spec_of(key)
                resource = self.completed[key]
                links = {
                    other.key for other in resource.connections if other.key in container_keys
                } | {
                    other
                    for other in container_keys
                    if any(c.key == key for c in graph.nodes[other].connections)
                }
                record = ResourceRecord(
                    key=key,
                    session=self.session.id,
                    kind=spec.kind,
                    engine=self.engine_name,
                    fingerprint=spec.fingerprint(),
                    level=index,
                    spec=spec.to_json(),
                    worker=self.worker,
                    lifetime=resource.max_duration,
                )
                row.append(
                    Task(
                        spec=spec,
                        resource=resource,
                        record=record,
                        depends_on=tuple(sorted(graph.deps[key])),
                        links=tuple(sorted(links)) if key in container_keys else (),
                    )
                )
            result.append(row)
        return result

    def _deploy(self, levels: list[list[Task]]) -> None:
        fresh = self._adopt_kept(levels)
        with self.store.transaction() as state:
            for task in fresh:
                for what, identifiers in self.engine.planned(task).items():
                    for identifier in identifiers:
                        task.record.add_created(what, identifier)
                state.put(task.record)
        todo = [[task for task in level if task in fresh] for level in levels]
        todo = [level for level in todo if level]
        failures = self.engine.deploy(todo, self._ready) if todo else {}
        with self.store.transaction() as state:
            for task in fresh:
                record = state.records.get(task.record.id, task.record)
                record.created = {**record.created, **task.record.created}
                if task.key in failures:
                    record.status = "failed"
                else:
                    record.status = "ready"
                    record.outputs = task.outputs
                    record.deployed_at = now()
                    record.seconds = task.record.seconds
                state.put(record)
        for level in levels:
            for task in level:
                if task.key in failures:
                    error = failures[task.key]
                    self.failures[task.key] = (
                        error
                        if isinstance(error, ClockworkError)
                        else DeploymentError(
                            f"resource {task.key!r} failed to deploy: "
                            f"{type(error).__name__}: {error}",
                            resource=task.key,
                        )
                    )
                else:
                    self.deployed[task.key] = self._deployed_value(task.key, task.outputs)
                    if task.record.seconds is not None:
                        self.seconds[task.key] = task.record.seconds
                        self.progress(
                            f"clockwork: {task.key} ready in {task.record.seconds:.2f}s"
                            + (" (reused)" if task.key in self.reused else "")
                        )

    def _adopt_kept(self, levels: list[list[Task]]) -> list[Task]:
        """Reuse kept resources whose spec is unchanged; destroy the changed ones.

        Returns:
            The tasks that still need deploying.
        """
        fresh: list[Task] = []
        replaced: list[ResourceRecord] = []
        with self.store.transaction() as state:
            for level in levels:
                for task in level:
                    kept = state.kept(task.key)
                    if kept is None:
                        fresh.append(task)
                        continue
                    alive = create_engine(kept.engine, self.session, self.store).alive(kept)
                    if alive and kept.fingerprint == task.record.fingerprint:
                        state.records.pop(kept.id, None)
                        kept.session = self.session.id
                        kept.kept = False
                        kept.expires_at = None
                        kept.level = task.record.level
                        state.put(kept)
                        task.record = kept
                        task.outputs = dict(kept.outputs)
                        self.reused.add(task.key)
                    else:
                        replaced.append(kept)
                        fresh.append(task)
        if replaced:
            destroy_records(self.store, self.session, replaced, self.progress)
        for level in levels:
            for task in level:
                if task.key in self.reused:
                    self.engine.reuse(task)
                    self._ready(task)
        return fresh

    def _ready(self, task: Task) -> None:
        """Wait until ``task``'s resource passes its ``wait_for`` checks."""
        checks = getattr(task.resource, "wait_for", None) or []
        if not checks:
            return
        value = task.resource.deployed_copy(task.outputs, key=task.key)
        for check in checks:
            try:
                check.verify(value, cancel=self.engine.cancelled)
            except AssertionError as exc:
                raise DeploymentError(
                    f"resource {task.key!r} did not become ready within {check.timeout:g}s "
                    f"({type(check).__name__}): {exc}",
                    resource=task.key,
                ) from None

    def _deployed_value(self, key: str, outputs: dict[str, Any]) -> Resource:
        resource = self.completed[key]
        value = resource.deployed_copy(outputs, key=key)
        children = {}
        for name, child in resource.children.items():
            deployed_child = self.deployed.get(child.key)
            if deployed_child is not None:
                deployed_child._parent = value
                children[name] = deployed_child
        value._children = children
        value._connections = [self.deployed.get(other.key, other) for other in resource.connections]
        return value

    # -- attach --------------------------------------------------------------------------

    def attach(self, key: str) -> Resource:
        """The value of ``key`` from what the stack has running (no deployment).

        Raises:
            NotDeployedError: The stack has no live record of it.
        """
        if key in self.deployed:
            return self.deployed[key]
        self.reap_dead()
        state = self.store.read()
        record = state.kept(key) or next(
            (
                r
                for r in state.records.values()
                if r.key == key and r.session == self.session.id and r.status == "ready"
            ),
            None,
        )
        if record is None:
            raise NotDeployedError(
                f"resource {key!r} is not deployed in stack {self.options.stack!r}: "
                "run pytest with --clockwork-apply",
                resource=key,
            )
        problem = create_engine(record.engine, self.session, self.store).condition(record)
        if problem is not None:
            raise NotDeployedError(
                f"resource {key!r} is recorded in stack {self.options.stack!r}, but {problem}: "
                "run pytest with --clockwork-apply to deploy it again",
                resource=key,
            )
        for child in self.graph.nodes[key].children.values():
            self.attach(child.key)
        self.complete([key])
        self.deployed[key] = self._deployed_value(key, dict(record.outputs))
        return self.deployed[key]

    def reap_dead(self) -> None:
        """Destroy what dead sessions of this host left in the stack (if any did)."""
        if self.reaped or not self.store.path.exists():
            return
        if dead_sessions(self.store.read()):
            self.reaped = reap(self.store, self.session).destroyed

    # -- teardown ------------------------------------------------------------------------

    def records(self) -> list[ResourceRecord]:
        """The records this session owns."""
        return self.store.read().of_session(self.session.id)

    def teardown(self, *, failed: bool) -> tuple[list[ResourceRecord], Outcome]:
        """Destroy what this session owns, or keep it as ``--clockwork-keep`` says.

        Returns:
            The kept records, and what the destruction did.
        """
        keep = self.options.keep == "always" or (self.options.keep == "on-failure" and failed)
        owned = self.records()
        kept: list[ResourceRecord] = []
        doomed = owned
        if keep:
            with self.store.transaction() as state:
                for record in owned:
                    stored = state.records.get(record.id)
                    if stored is not None and stored.status == "ready":
                        stored.kept = True
                        stored.expires_at = self._expiry(stored.lifetime)
                        kept.append(stored)
            doomed = [record for record in owned if record.status != "ready"]
        outcome = (
            destroy_records(self.store, self.session, doomed, self.progress)
            if doomed
            else Outcome()
        )
        with self.store.transaction() as state:
            if not any(r.session == self.session.id and not r.kept for r in state.records.values()):
                state.sessions.pop(self.session.id, None)
        lock = self.store.session_file(self.session.id, ".deploy.lock")
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()
        if self.watchdog is not None:
            self.watchdog.release(
                clean=not outcome.failures, expiring=any(r.expires_at for r in kept)
            )
        return kept, outcome

    def _expiry(self, lifetime: float | None) -> float | None:
        """When a kept resource expires: the shorter of ``--clockwork-ttl`` and its own."""
        limits = [lifetime] if lifetime else []
        if self.options.ttl:
            limits.append(self.options.ttl)
        return now() + min(limits) if limits else None

    def run_records(self, run_id: str) -> list[ResourceRecord]:
        """The records of an xdist run: its own, and its workers' (``run-gw0``...)."""
        return [
            record
            for record in self.store.read().records.values()
            if record.session == run_id or record.session.startswith(f"{run_id}-")
        ]

    def reap_run(self, run_id: str) -> Outcome:
        """Destroy what the workers of an xdist run left (a worker that crashed)."""
        sessions = {record.session for record in self.run_records(run_id) if not record.kept}
        return reap(self.store, self.session, sessions) if sessions else Outcome()

    def destroy_expired(self) -> Outcome:
        """``--clockwork-destroy --clockwork-expired``: expired kept resources, every stack."""
        from pytest_clockwork.expiry import destroy_expired_everywhere

        combined = Outcome()
        for outcome in destroy_expired_everywhere(self.rootdir, self.session.id).values():
            combined.destroyed.extend(outcome.destroyed)
            combined.failures.update(outcome.failures)
        return combined

    def destroy_stack(self) -> Outcome:
        """``--clockwork-destroy``: remove everything the stack has, except live sessions'."""
        return destroy_stack(self.store, self.session, self.progress)
