"""Containers for the local engine: image, networks, volumes, start, wait until ready."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from pytest_clockwork.errors import DeploymentError
from pytest_clockwork.runtimes import runtime_for
from pytest_clockwork.runtimes.base import Preparation
from pytest_clockwork.runtimes.readiness import wait_until_ready
from pytest_clockwork.specs import LABEL_PREFIX, ContainerSpec, session_network
from pytest_clockwork.state import ResourceRecord

if TYPE_CHECKING:
    from pytest_clockwork.engines.base import Task
    from pytest_clockwork.engines.local.engine import LocalEngine


class ContainerDriver:
    """Creates, checks and removes containers for the local engine, through their runtime."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self._network_lock = threading.Lock()
        self.networks: dict[str, str] = {}
        """Logical network name → the network this deployment uses for it."""

    def network_for(self, logical: str, *, external: bool = False) -> str:
        """The network of ``logical``: the user's own, a kept one, or this session's.

        Args:
            logical: The name in ``networks=[...]`` (``"clockwork"`` for connections).
            external: A network of exactly that name exists and clockwork did not make
                it: it is joined as it is (never created, recorded or removed).
        """
        if external:
            return logical
        return self.networks.setdefault(logical, session_network(logical, self.engine.session.id))

    def create(self, task: Task) -> dict[str, Any]:
        """Start the container and wait until it is ready."""
        spec = task.spec
        assert isinstance(spec, ContainerSpec)
        runtime = runtime_for(spec.runtime)
        session = self.engine.session
        runtime.check_runnable(spec)
        runtime.prepare(spec, self.preparation(spec))
        networks: dict[str, list[str]] = {}
        joined: dict[str, str] = {}
        for logical in spec.logical_networks(bool(task.links or task.outer_networks)):
            if task.instance is not None and logical not in spec.networks:
                joined.update(self._instance_networks(task, networks))
                continue
            external = logical in spec.networks and runtime.external_network(logical)
            actual = joined[logical] = self.network_for(logical, external=external)
            if runtime.makes_networks and not external:
                self.engine.note(task.record, "networks", actual)
                with self._network_lock:  # containers of one level start at the same time
                    runtime.ensure_network(actual, session.labels())
            networks[actual] = spec.aliases()
        for mount in spec.volumes:
            if mount.is_bind:
                self.engine.files.make_directory(task.record, mount.source)
            elif runtime.makes_networks and not runtime.volume_exists(mount.source):
                self.engine.note(task.record, "volumes", mount.source)
                runtime.ensure_volume(mount.source, session.labels(spec.key))
        name = spec.container_name(session.suffix(task.instance))
        self.engine.note(task.record, "containers", name)
        labels = session.labels(spec.key, task.instance)
        container_id = runtime.start(spec, name=name, labels=labels, networks=networks)
        published = (
            wait_until_ready(runtime, spec, container_id, cancelled=self.engine.cancelled)
            if spec.must_run or spec.must_complete
            else {}
        )
        return {
            "container_id": container_id,
            "container_name": name,
            "host": runtime.published_host(),
            "ports": published,
            "networks": joined,
            "runtime": spec.runtime,
        }

    def _instance_networks(self, task: Task, networks: dict[str, list[str]]) -> dict[str, str]:
        """The networks a copy of a narrower scope joins for its connections: one of the
        copy's own, where the containers of the copy (and narrower copies connecting to
        them) reach them by name, and the networks of the wider copies it connects to
        (joined without its names: they never connect to it, and other copies have the same).

        The copy's own network is the copy's to remove; a wider copy's network is that
        copy's (the copy notes it only while it may be the one that creates it).

        Returns:
            What it joined: ``clockwork`` → the copy's network (or a wider copy's).
        """
        spec = task.spec
        assert isinstance(spec, ContainerSpec)
        runtime = runtime_for(spec.runtime)
        session = self.engine.session
        own = session_network("clockwork", session.suffix(task.instance))
        wanted: list[tuple[str, list[str]]] = [(name, []) for name in task.outer_networks]
        if task.links:
            wanted.append((own, spec.aliases()))
        joined: dict[str, str] = {}
        for actual, aliases in wanted:
            joined["clockwork"] = actual
            networks[actual] = aliases
            if not runtime.makes_networks:
                continue
            self.engine.note(task.record, "networks", actual)
            with self._network_lock:
                created = runtime.ensure_network(actual, session.labels())
            if actual != own and not created:
                self.engine.unnote(task.record, "networks", actual)
        return joined

    def preparation(self, spec: ContainerSpec) -> Preparation:
        """How the runtime prepares ``spec``'s image: a built image is labelled as this
        rootdir's (not a session's: it stays as a cache), its output goes where the
        engine's does."""
        labels = self.engine.session.labels(spec.key)
        for transient in ("session", "stack"):
            labels.pop(f"{LABEL_PREFIX}{transient}", None)
        return Preparation(
            labels=labels,
            output=self.engine.output,
            status=self.engine.status,
            cancelled=self.engine.cancelled,
        )

    def destroy(self, record: ResourceRecord) -> None:
        """Remove the record's containers (networks and volumes go in :meth:`finish`)."""
        runtime = runtime_for(str(record.outputs.get("runtime", "docker")))
        for name in record.created.get("containers", []):
            runtime.remove(name)

    def finish(self, records: list[ResourceRecord]) -> list[str]:
        """Remove the networks and volumes these records created, once unused.

        Returns:
            What is still in use (kept for whoever uses it).
        """
        left: list[str] = []
        for record in records:
            runtime = runtime_for(str(record.outputs.get("runtime", "docker")))
            for network in record.created.get("networks", []):
                if not runtime.remove_network(network):
                    left.append(f"network {network}")
            for volume in record.created.get("volumes", []):
                if not runtime.remove_volume(volume):
                    left.append(f"volume {volume}")
        return left

    def wait_gone(self, record: ResourceRecord, timeout: float = 30.0) -> None:
        """Wait until a removal in progress (maybe by someone else) is over, so the
        container's name is free again.

        Raises:
            DeploymentError: It is still there after ``timeout`` seconds.
        """
        from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential

        container_id = str(record.outputs.get("container_id", ""))
        if not container_id:
            return
        runtime = runtime_for(str(record.outputs.get("runtime", "docker")))
        seen = Retrying(
            stop=stop_after_delay(timeout),
            wait=wait_exponential(multiplier=0.02, max=0.5),
            retry=retry_if_result(lambda seen: seen is not None),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )(runtime.observe, container_id)
        if seen is not None:
            raise DeploymentError(
                f"resource {record.key!r}: its old container is still {seen.status} after "
                f"{timeout:g}s; remove it by hand (docker rm -f {container_id[:12]})",
                resource=record.key,
            )

    def reuse(self, task: Task) -> None:
        """Adopt a kept container's networks, so new containers join the same ones.

        A user's own network (joined under its own name) is left out: whether it is
        still there is asked again for each container.
        """
        for logical, actual in task.record.outputs.get("networks", {}).items():
            if actual != logical:
                self.networks.setdefault(logical, actual)
