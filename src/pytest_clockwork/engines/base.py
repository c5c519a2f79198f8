"""The interface both engines implement, and the session facts they share."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_clockwork.errors import ClockworkError, DeploymentError
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.specs import LABEL_PREFIX, Spec
from pytest_clockwork.state import ResourceRecord, StateStore

if TYPE_CHECKING:
    from pytest_clockwork.plan import Plan


@dataclass(frozen=True)
class SessionInfo:
    """Who is deploying: the ids that go into labels, names and records.

    Attributes:
        id: The session id (shared by all xdist workers with ``--clockwork-share=run``).
        stack: The stack name.
        rootdir: pytest's rootdir.
        root_id: A short id of the rootdir, in labels.
    """

    id: str
    stack: str
    rootdir: Path
    root_id: str

    def labels(self, key: str | None = None, instance: str | None = None) -> dict[str, str]:
        """The labels that mark what this session creates (for ``key``, and its copy
        ``instance`` of a narrower scope, when given)."""
        labels = {
            f"{LABEL_PREFIX}managed": "true",
            f"{LABEL_PREFIX}root": self.root_id,
            f"{LABEL_PREFIX}stack": self.stack,
            f"{LABEL_PREFIX}session": self.id,
        }
        if key is not None:
            labels[f"{LABEL_PREFIX}resource"] = key
        if instance is not None:
            labels[f"{LABEL_PREFIX}instance"] = instance
        return labels

    def suffix(self, instance: str | None = None) -> str:
        """What names of this session's things end with: its id, and for a copy of a
        narrower scope that copy's id too (``1a2b3c4d-5e6f``), so that copies never clash."""
        return self.id if instance is None else f"{self.id}-{instance}"


@dataclass
class Task:
    """One resource to deploy: its completed declaration, its spec and its record.

    Attributes:
        depends_on: Keys that must be deployed first.
        links: Keys of containers it is connected with (they share a network).
        outer_networks: For a copy of a narrower scope: the networks of the wider copies
            it connects to (it joins them to reach those; they never reach it).
        outputs: Filled in by the engine.
    """

    spec: Spec
    resource: Resource
    record: ResourceRecord
    depends_on: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    outer_networks: tuple[str, ...] = ()
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def instance(self) -> str | None:
        """The copy of a narrower scope this task deploys (``None``: the session's)."""
        return self.record.instance

    @property
    def key(self) -> str:
        """The resource's key."""
        return self.spec.key


def _discard(line: str) -> None:
    return None


Ready = Callable[[Task], None]
"""Called once a task's resource is created: waits until it is ready, or raises."""


class Engine(ABC):
    """Creates and destroys resources from their specs.

    The base class deploys level by level, the resources of a level at the same time,
    through :meth:`create`; an engine that deploys a whole plan at once (Pulumi)
    overrides :meth:`deploy` and :meth:`destroy_all` instead.

    Args:
        session: The deploying session.
        store: The stack's state, where :meth:`note` records what is created.
    """

    name: ClassVar[str]
    background: ClassVar[bool] = True
    """It may deploy on a thread of its own while tests run (the Pulumi engine's inline
    programs want the main thread's event loop: it deploys when a fixture asks)."""

    def __init__(self, session: SessionInfo, store: StateStore) -> None:
        self.session = session
        self.store = store
        self.output: Callable[[str], None] = _discard
        """Where the engine's own output goes (the terminal with ``-v``)."""
        self.status: Callable[[str], None] = _discard
        """Where a line goes that always shows, with or without ``-v`` (what is being
        built: a long build must not look like a hang)."""
        self.cancelled = threading.Event()
        """Set on Ctrl-C or SIGTERM: waits in progress give up so teardown can start."""

    # -- what each engine implements ---------------------------------------------------

    @abstractmethod
    def create(self, task: Task) -> dict[str, Any]:
        """Create ``task``'s resource, noting each created thing first; return outputs."""

    @abstractmethod
    def destroy(self, record: ResourceRecord) -> None:
        """Remove what ``record`` says was created, and nothing else."""

    def alive(self, record: ResourceRecord) -> bool:
        """Whether what ``record`` describes still exists (and runs)."""
        return self.condition(record) is None

    def condition(self, record: ResourceRecord) -> str | None:
        """What is wrong with the recorded resource, in words; ``None`` when it is alive.

        A container must run, a file or clone must be there; other kinds are alive while
        their record says ready.
        """
        from pathlib import Path

        if record.kind == "container":
            from pytest_clockwork.runtimes import runtime_for

            container_id = str(record.outputs.get("container_id") or "")
            runtime = runtime_for(str(record.outputs.get("runtime", "docker")))
            seen = runtime.observe(container_id) if container_id else None
            name = record.outputs.get("container_name", container_id[:12])
            if seen is None:
                return f"its container {name} is gone"
            if seen.status == "exited" and seen.exit_code == 0 and record.spec.get("must_complete"):
                return None  # a one-shot that did its work
            if seen.status == "paused":
                return f"its container {name} is paused (docker unpause {name} resumes it)"
            if seen.status != "running":
                code = f", exit code {seen.exit_code}" if seen.exit_code is not None else ""
                return f"its container {name} is {seen.status}{code}"
            return None
        if record.kind in ("file", "git"):
            path = record.outputs.get("path")
            return None if path and Path(str(path)).exists() else f"{path} is gone"
        return None if record.status == "ready" else f"its record is {record.status}"

    def reuse(self, task: Task) -> None:
        """Bring a kept resource that is being reused up to date (e.g. ``git pull``)."""
        return None

    # -- corrections of kept resources (the reconciler) ---------------------------------

    def resume(self, record: ResourceRecord) -> dict[str, Any]:
        """Start the stopped (or paused) container of ``record`` again; wait until it is
        ready.

        Returns:
            Its outputs, with the host ports it has now.

        Raises:
            DeploymentError: It is not a container, or did not get ready.
        """
        from pytest_clockwork.runtimes.readiness import wait_until_ready

        spec, runtime, container_id = self._container(record)
        runtime.resume(container_id)
        ports = wait_until_ready(runtime, spec, container_id, cancelled=self.cancelled)
        return {**record.outputs, "ports": ports}

    def current_outputs(self, record: ResourceRecord) -> dict[str, Any]:
        """The outputs of ``record`` with the host ports its container has now.

        Raises:
            DeploymentError: It is not a container, or its container is gone.
        """
        _, runtime, container_id = self._container(record)
        seen = runtime.observe(container_id)
        if seen is None:
            raise DeploymentError(f"resource {record.key!r}: its container is gone")
        return {**record.outputs, "ports": dict(seen.ports or {})}

    def recreate(self, record: ResourceRecord, task: Task) -> dict[str, Any]:
        """Replace what ``record`` describes with ``task``'s resource, under the same name.

        Returns:
            The new outputs.

        Raises:
            Exception: What destroying or creating raised.
        """
        failures = self.destroy_all([[record]])
        if failures:
            raise next(iter(failures.values()))
        failures = self.deploy([[task]], lambda done: None)
        if task.key in failures:
            raise failures[task.key]
        return task.outputs

    def _container(self, record: ResourceRecord) -> tuple[Any, Any, str]:
        from pytest_clockwork.runtimes import runtime_for
        from pytest_clockwork.specs import ContainerSpec, spec_from_json

        spec = spec_from_json(record.spec)
        container_id = str(record.outputs.get("container_id") or "")
        if not isinstance(spec, ContainerSpec) or not container_id:
            raise DeploymentError(
                f"resource {record.key!r} is not a container: it cannot be started again",
                resource=record.key,
            )
        return spec, runtime_for(str(record.outputs.get("runtime", spec.runtime))), container_id

    def preview(self, plan: Plan) -> str | None:
        """A change summary of what carrying ``plan`` out would do, when the engine has one."""
        return None

    def finish(self, records: list[ResourceRecord]) -> None:
        """Remove what several records shared (networks, directories) once all are gone."""
        return None

    # -- shared machinery --------------------------------------------------------------

    def planned(self, task: Task) -> dict[str, list[str]]:
        """What :meth:`create` will make that can be named before it starts (recorded
        with the task's record, in one write for the whole deployment)."""
        return {}

    def note(self, record: ResourceRecord, what: str, identifier: str) -> None:
        """Record, durably and before creating it, that ``identifier`` is being created."""
        if identifier in record.created.get(what, []):
            return  # recorded already (see planned())
        record.add_created(what, identifier)
        with self.store.transaction() as state:
            stored = state.records.get(record.id)
            if stored is not None:
                stored.add_created(what, identifier)
            else:
                state.put(record)

    def unnote(self, record: ResourceRecord, what: str, identifier: str) -> None:
        """Take back a :meth:`note` whose creation did not happen."""
        with self.store.transaction() as state:
            for noted in (record, state.records.get(record.id)):
                if noted is not None and identifier in noted.created.get(what, []):
                    noted.created[what].remove(identifier)

    def deploy(
        self, levels: list[list[Task]], ready: Ready, done: Ready | None = None
    ) -> dict[str, BaseException]:
        """Deploy ``levels`` in order, each level's tasks at the same time.

        A task whose dependency failed is not attempted, nor anything once the session
        is ending (:attr:`cancelled`). Each task's ``outputs`` are filled in, ``ready``
        is called for it before the next level starts, and ``done`` once it is ready (so
        a test that needs only it may go on).

        Returns:
            The failures, by key.
        """
        failures: dict[str, BaseException] = {}
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="clockwork") as pool:
            for level in levels:
                runnable = []
                for task in level:
                    blocked = self._blocked(task, failures)
                    if blocked is None:
                        runnable.append(task)
                    else:
                        failures[task.key] = blocked
                futures = {
                    pool.submit(self._deploy_one, task, ready, done): task for task in runnable
                }
                try:
                    wait(futures)
                except BaseException:
                    # Ctrl-C or SIGTERM: stop waiting for readiness, let running creations
                    # finish (they have noted what they create), start no more, and let
                    # teardown remove it all.
                    self.cancelled.set()
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
                for future, task in futures.items():
                    error = future.exception()
                    if error is not None:
                        failures[task.key] = error
        return failures

    def _deploy_one(self, task: Task, ready: Ready, done: Ready | None) -> None:
        started = time.monotonic()
        task.outputs = self.create(task)
        ready(task)
        task.record.seconds = round(time.monotonic() - started, 3)
        if done is not None:
            done(task)

    def _blocked(self, task: Task, failures: Mapping[str, BaseException]) -> DeploymentError | None:
        if self.cancelled.is_set():
            return DeploymentError(
                f"resource {task.key!r} was not deployed: the session is ending",
                resource=task.key,
            )
        for dep in task.depends_on:
            if dep in failures:
                return DeploymentError(
                    f"resource {task.key!r} was not deployed because {dep!r}, which it needs, "
                    f"failed: {failures[dep]}",
                    resource=task.key,
                )
        return None

    def destroy_all(self, levels: list[list[ResourceRecord]]) -> dict[str, BaseException]:
        """Destroy ``levels`` in order (dependents first), each level at the same time.

        Returns:
            The failures, by record id; the other records are gone.
        """
        failures: dict[str, BaseException] = {}
        everything = [record for level in levels for record in level]
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="clockwork") as pool:
            for level in levels:
                futures = {pool.submit(self.destroy, record): record for record in level}
                wait(futures)
                for future, record in futures.items():
                    error = future.exception()
                    if error is not None:
                        failures[record.id] = error
        try:
            self.finish(everything)
        except ClockworkError as exc:
            failures["finish"] = exc
        return failures
