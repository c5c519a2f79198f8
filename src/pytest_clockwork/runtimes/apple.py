"""Apple's ``container`` runtime (macOS), driven through its command-line tool.

It offers the functions of :mod:`pytest_clockwork.runtimes.dockerd` that a container
resource needs. It is exercised only on macOS with the ``container`` tool installed;
elsewhere every entry point raises a clear "not available on this platform" error.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from typing import ClassVar

from pytest_clockwork.errors import DeploymentError, EngineUnavailableError
from pytest_clockwork.runtimes.base import Action, ContainerRuntime, Observed
from pytest_clockwork.specs import ContainerSpec


def available() -> bool:
    """Whether this is macOS with Apple's ``container`` command on PATH."""
    return sys.platform == "darwin" and shutil.which("container") is not None


def _cli(*args: str, resource: str | None = None) -> str:
    if not available():
        raise EngineUnavailableError(
            f"resource {resource or '?'!r} is an AppleContainerResource, and Apple's "
            f"`container` runtime is not available on this platform ({sys.platform}): it "
            "needs macOS with `container` installed. Use DockerResource elsewhere.",
            resource=resource,
        )
    done = subprocess.run(["container", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DeploymentError(
            f"resource {resource or '?'!r}: `container {' '.join(args[:2])}` failed: "
            f"{done.stderr.strip() or done.stdout.strip()}",
            resource=resource,
        )
    return done.stdout


def run_args(
    spec: ContainerSpec,
    *,
    name: str,
    labels: Mapping[str, str],
    host_ports: Mapping[str, int],
    networks: Iterable[str],
) -> list[str]:
    """The ``container run`` command for ``spec``: the one mapping from spec to Apple's CLI.

    Args:
        spec: The container.
        name: The container's name.
        labels: clockwork's labels, added to the spec's own.
        host_ports: ``"80/tcp"`` → the host port to publish it on.
        networks: The networks to join.
    """
    args = ["container", "run", "--detach", "--name", name]
    for key, value in sorted({**spec.labels, **labels}.items()):
        args += ["--label", f"{key}={value}"]
    for key, value in sorted(spec.env.items()):
        args += ["--env", f"{key}={value}"]
    for port in spec.ports:
        address = f"[{port.host_ip}]" if port.host_ip and ":" in port.host_ip else port.host_ip
        host = f"{address}:" if address else ""
        args += ["--publish", f"{host}{host_ports[port.key]}:{port.key}"]
    for mount in spec.volumes:
        args += ["--volume", f"{mount.source}:{mount.target}" + (":ro" if mount.read_only else "")]
    for network in networks:
        args += ["--network", network]
    if spec.entrypoint:
        args += ["--entrypoint", spec.entrypoint[0]]
    return [*args, spec.image, *(spec.command or ())]


def start(
    spec: ContainerSpec,
    *,
    name: str,
    labels: Mapping[str, str],
    networks: Mapping[str, list[str]],
) -> str:
    """Run the container detached (unpinned ports get free host ports); return its id."""
    from pytest_clockwork.runtimes.ports import free_port

    taken: set[int] = set()
    host_ports = {}
    for port in spec.ports:
        host_ports[port.key] = port.host_port or free_port(port.protocol, port.host_ip, taken)
        taken.add(host_ports[port.key])
    args = run_args(spec, name=name, labels=labels, host_ports=host_ports, networks=networks)
    _cli(*args[1:], resource=spec.key)
    return name


def observe(container_id: str) -> Observed | None:
    """The container's state, or ``None`` when it is gone."""
    try:
        data = json.loads(_cli("inspect", container_id))
    except DeploymentError:
        return None
    item = data[0] if isinstance(data, list) and data else {}
    status = str(item.get("status", "unknown"))
    return Observed(status=status, health=None, image=None, env=None, ports=None, exit_code=None)


def logs(container_id: str, tail: int | None = 100) -> str:
    """The container's output, the last ``tail`` lines."""
    text = _cli("logs", container_id)
    return text if tail is None else "\n".join(text.splitlines()[-tail:])


def execute(
    container_id: str,
    command: list[str],
    *,
    user: str | None = None,
    workdir: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Run ``command`` inside the container."""
    options = ["--user", user] if user else []
    options += ["--workdir", workdir] if workdir else []
    for name, value in (env or {}).items():
        options += ["--env", f"{name}={value}"]
    done = subprocess.run(
        ["container", "exec", *options, container_id, *command],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def remove_container(container_id: str) -> None:
    """Remove the container; gone already is fine."""
    if available():
        subprocess.run(["container", "delete", "--force", container_id], capture_output=True)


class AppleRuntime(ContainerRuntime):
    """Apple's ``container`` command (macOS). Its ``inspect`` tells clockwork the status
    only; host ports are chosen before the container starts."""

    name: ClassVar[str] = "apple"
    actions: ClassVar[frozenset[Action]] = frozenset({"stop", "start", "restart"})

    def start(
        self,
        spec: ContainerSpec,
        *,
        name: str,
        labels: Mapping[str, str],
        networks: Mapping[str, list[str]],
    ) -> str:
        """See :func:`start`."""
        return start(spec, name=name, labels=labels, networks=networks)

    def observe(self, container_id: str) -> Observed | None:
        """See :func:`observe`."""
        return observe(container_id)

    def resume(self, container_id: str) -> None:
        """``container start``."""
        _cli("start", container_id)

    def logs(self, container_id: str, tail: int | None = 100) -> str:
        """See :func:`logs`."""
        return logs(container_id, tail)

    def execute(
        self,
        container_id: str,
        command: list[str],
        *,
        user: str | None = None,
        workdir: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> tuple[int, str]:
        """See :func:`execute`."""
        return execute(container_id, command, user=user, workdir=workdir, env=env)

    def control(self, container_id: str, action: Action, *, timeout: float = 10) -> None:
        """``container stop`` / ``start``; a restart is both (no pause: the runtime has none)."""
        if action not in self.actions:
            super().control(container_id, action, timeout=timeout)
        if action in ("stop", "restart"):
            _cli("stop", "--time", str(max(0, math.ceil(timeout))), container_id)
        if action in ("start", "restart"):
            _cli("start", container_id)

    def remove(self, container_id: str) -> None:
        """See :func:`remove_container`."""
        remove_container(container_id)

    def command_line(
        self,
        spec: ContainerSpec,
        *,
        name: str,
        labels: Mapping[str, str],
        host_ports: Mapping[str, int],
        networks: list[str],
    ) -> list[str] | None:
        """See :func:`run_args`."""
        return run_args(spec, name=name, labels=labels, host_ports=host_ports, networks=networks)

    def removal_command_line(self, name: str) -> list[str] | None:
        """``container delete --force NAME``."""
        return ["container", "delete", "--force", name]
