"""Containers for the local engine: image, networks, volumes, start, wait until ready."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from pytest_clockwork.errors import DeploymentError
from pytest_clockwork.runtimes import runtime_for
from pytest_clockwork.runtimes.ports import probe_tcp
from pytest_clockwork.specs import ContainerSpec
from pytest_clockwork.state import ResourceRecord

if TYPE_CHECKING:
    from pytest_clockwork.engines.base import Task
    from pytest_clockwork.engines.local.engine import LocalEngine
    from pytest_clockwork.runtimes.dockerd import Observed

LOG_TAIL = 30


class ContainerDriver:
    """Creates, checks and removes containers for the local engine."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine
        self._network_lock = threading.Lock()
        self.networks: dict[str, str] = {}
        """Logical network name → the Docker network this deployment uses for it."""

    def network_for(self, logical: str, *, external: bool = False) -> str:
        """The Docker network of ``logical``: the user's own, a kept one, or this session's.

        Args:
            logical: The name in ``networks=[...]`` (``"clockwork"`` for connections).
            external: A network of exactly that name exists and clockwork did not make
                it: it is joined as it is (never created, recorded or removed).
        """
        if external:
            return logical
        return self.networks.setdefault(logical, f"{logical}-{self.engine.session.id}")

    def _external(self, spec: ContainerSpec, logical: str) -> bool:
        """Whether ``logical``, declared in ``spec.networks``, is the user's own network."""
        if spec.runtime != "docker" or logical not in spec.networks:
            return False
        return bool(runtime_for(spec.runtime).external_network(logical))

    def create(self, task: Task) -> dict[str, Any]:
        """Start the container and wait until it runs (and is healthy)."""
        spec = task.spec
        assert isinstance(spec, ContainerSpec)
        runtime = runtime_for(spec.runtime)
        labels = self.engine.session.labels(spec.key)
        if spec.runtime == "docker":
            runtime.ensure_image(spec.image, resource=spec.key)
        logical = list(spec.networks) or (["clockwork"] if task.links else [])
        networks: dict[str, list[str]] = {}
        joined: dict[str, str] = {}
        for name in logical:
            external = self._external(spec, name)
            actual = joined[name] = self.network_for(name, external=external)
            if spec.runtime == "docker" and not external:
                self.engine.note(task.record, "networks", actual)
                with self._network_lock:  # containers of one level start at the same time
                    runtime.ensure_network(actual, self.engine.session.labels())
            networks[actual] = sorted({spec.name, spec.name.rsplit(".", 1)[-1]})
        for mount in spec.volumes:
            if not mount.is_bind and spec.runtime == "docker":
                if not runtime.volume_exists(mount.source):
                    self.engine.note(task.record, "volumes", mount.source)
                    runtime.ensure_volume(mount.source, self.engine.session.labels(spec.key))
            elif mount.is_bind:
                self.engine.files.make_directory(task.record, mount.source)
        name = spec.container_name(self.engine.session.id)
        self.engine.note(task.record, "containers", name)
        started = runtime.start(spec, name=name, labels=labels, networks=networks)
        container_id = getattr(started, "id", started)
        published = self.wait_until_running(spec, container_id) if spec.must_run else {}
        return {
            "container_id": container_id,
            "container_name": name,
            "host": runtime.published_host() if spec.runtime == "docker" else "127.0.0.1",
            "ports": published,
            "networks": joined,
            "runtime": spec.runtime,
        }

    def wait_until_running(self, spec: ContainerSpec, container_id: str) -> dict[str, int]:
        """Poll with backoff until the container is ready.

        Ready means: it runs; it is healthy, when it has a healthcheck; and something
        listens on each published TCP port (unless ``wait_for_ports`` is off).

        Returns:
            The published ports, ``"80/tcp"`` → host port.

        Raises:
            DeploymentError: It exited, or did not get there within ``start_timeout``;
                the error carries the last lines of its logs.
        """
        from tenacity import (
            Retrying,
            retry_if_result,
            stop_after_delay,
            stop_when_event_set,
            wait_exponential,
        )

        runtime = runtime_for(spec.runtime)
        wanted = {port.key for port in spec.ports}
        host = runtime.published_host() if spec.runtime == "docker" else "127.0.0.1"
        verdict: dict[str, bool] = {}

        def listening(seen: Observed) -> bool:
            return not spec.wait_for_ports or all(
                probe_tcp(host, seen.ports[port.key], timeout=1.0, settle=0.02) is None
                for port in spec.ports
                if port.protocol == "tcp" and port.key in seen.ports
            )

        def settled(seen: Observed | None) -> bool:
            if seen is None or seen.status in ("exited", "dead"):
                return True
            if spec.healthcheck is not None and seen.health == "unhealthy":
                return True  # its healthcheck failed `retries` times: no use waiting on
            healthy = spec.healthcheck is None or seen.health == "healthy"
            published = spec.runtime != "docker" or wanted <= set(seen.ports)
            verdict["ready"] = (
                seen.status == "running" and healthy and published and listening(seen)
            )
            return verdict["ready"]

        started = time.monotonic()
        seen: Observed | None = Retrying(
            stop=stop_after_delay(spec.start_timeout) | stop_when_event_set(self.engine.cancelled),
            wait=wait_exponential(multiplier=0.01, min=0.005, max=0.5),
            retry=retry_if_result(lambda seen: not settled(seen)),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )(runtime.observe, container_id)
        if seen is not None and verdict.get("ready") and seen.status == "running":
            return dict(seen.ports)
        logs = runtime.logs(container_id, tail=LOG_TAIL)
        if seen is None:
            what = "disappeared while starting"
        elif seen.status in ("exited", "dead"):
            what = (
                f"exited with code {seen.exit_code} instead of running; check its command "
                "(command=..., and the logs below), or set must_run=False for a container "
                "that does its work and exits"
            )
        elif spec.healthcheck is not None and seen.health != "healthy":
            what = (
                f"was not healthy after {time.monotonic() - started:.0f}s "
                f"(health: {seen.health}); raise start_timeout or fix the healthcheck"
            )
        elif seen.status == "running":
            ports = ", ".join(port.key for port in spec.ports if port.protocol == "tcp")
            what = (
                f"ran but nothing listened on its published port(s) {ports} within "
                f"{spec.start_timeout:.0f}s; set wait_for_ports=False if it does not serve "
                "them, or raise start_timeout"
            )
        else:
            what = f"was still {seen.status!r} after {spec.start_timeout:.0f}s"
        shown = f"\n--- last {LOG_TAIL} lines of its logs ---\n{logs}" if logs.strip() else ""
        raise DeploymentError(
            f"resource {spec.key!r}: the container (image {spec.image}) {what}{shown}",
            resource=spec.key,
            logs=logs,
        )

    def destroy(self, record: ResourceRecord) -> None:
        """Remove the record's containers (networks and volumes go in :meth:`finish`)."""
        runtime = runtime_for(str(record.outputs.get("runtime", "docker")))
        for name in record.created.get("containers", []):
            runtime.remove_container(name)

    def finish(self, records: list[ResourceRecord]) -> list[str]:
        """Remove the networks and volumes these records created, once unused.

        Returns:
            What is still in use (kept for whoever uses it).
        """
        from pytest_clockwork.runtimes import dockerd

        left: list[str] = []
        for record in records:
            if record.outputs.get("runtime", "docker") != "docker":
                continue
            for network in record.created.get("networks", []):
                if not dockerd.remove_network(network):
                    left.append(f"network {network}")
            for volume in record.created.get("volumes", []):
                if not dockerd.remove_volume(volume):
                    left.append(f"volume {volume}")
        return left

    def reuse(self, task: Task) -> None:
        """Adopt a kept container's networks, so new containers join the same ones.

        A user's own network (joined under its own name) is left out: whether it is
        still there is asked again for each container.
        """
        for logical, actual in task.record.outputs.get("networks", {}).items():
            if actual != logical:
                self.networks.setdefault(logical, actual)
