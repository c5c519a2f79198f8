"""The interface every container runtime implements, and what it reports of a container.

A runtime is what runs containers: Docker through its API, Apple's ``container`` command
(Podman and remote Docker next). The engines, the readiness wait, the assertions and the
reconciler use a runtime only through :class:`ContainerRuntime`; what differs between
runtimes is said by the runtime itself (its methods and capabilities), never by
comparing runtime names elsewhere.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

from pytest_clockwork.specs import ContainerSpec

if TYPE_CHECKING:
    from pytest_clockwork.runtimes.endpoint import Endpoint

Action = Literal["stop", "start", "restart", "pause", "unpause"]
"""What a test may do to a deployed container (see :meth:`ContainerRuntime.control`)."""

LOCAL_HOST = "127.0.0.1"
PROXY_SETTLE = 0.05
"""Seconds a published port's proxy gets to close a connection nothing behind it takes."""


@dataclass(frozen=True)
class Observed:
    """What a runtime reports of a container right now.

    A field the runtime cannot see is ``None`` (see :attr:`ContainerRuntime.sees`):
    comparisons skip it rather than take "unknown" for "different".

    Attributes:
        status: ``running``, ``exited``, ``paused``, ``created``...
        health: ``healthy``, ``unhealthy``, ``starting`` or ``none`` (no healthcheck).
        image: The image it runs.
        env: Its environment.
        ports: Published ports, ``"80/tcp"`` → host port.
        exit_code: The exit code, once it exited.
        address: Its own IP address, where its ports answer without the published-port
            proxy in between (``None``: unknown, or not reachable that way).
    """

    status: str
    health: str | None
    image: str | None
    env: dict[str, str] | None
    ports: dict[str, int] | None
    exit_code: int | None
    address: str | None = None


def _quiet(line: str) -> None:
    return None


@dataclass(frozen=True)
class Preparation:
    """What preparing a container's image may use besides its spec.

    Attributes:
        labels: Labels for what preparing creates (a built image): whose it is.
        output: Where detail goes as it happens (the terminal with ``-v``).
        status: Where a line goes that always shows (what is being built).
        cancelled: Set when the session is ending: stop as soon as possible.
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    output: Callable[[str], None] = _quiet
    status: Callable[[str], None] = _quiet
    cancelled: threading.Event | None = None


class ContainerRuntime(ABC):
    """Runs, observes and removes containers.

    Attributes:
        name: What resources say in their spec (``ContainerSpec.runtime``).
        sees: What :meth:`observe` reports (the other fields of :class:`Observed` are
            ``None``).
        makes_networks: Networks and named volumes are created and removed through it.
        picks_host_ports: It chooses free host ports itself when a container starts
            (otherwise they are chosen before, and may race).
        serves_remotely: It is a server (a daemon) that can be away while its
            containers are fine: an error reaching it is no fault of theirs.
        actions: What :meth:`control` can do to a container.
    """

    name: ClassVar[str]
    sees: ClassVar[frozenset[str]] = frozenset({"status"})
    makes_networks: ClassVar[bool] = False
    picks_host_ports: ClassVar[bool] = False
    serves_remotely: ClassVar[bool] = False
    actions: ClassVar[frozenset[Action]] = frozenset()

    def unreachable(self, error: BaseException) -> bool:
        """Whether ``error`` says the runtime itself cannot be reached."""
        from pytest_clockwork.errors import EngineUnavailableError

        return isinstance(error, EngineUnavailableError | ConnectionError)

    def reconnect(self) -> None:
        """Forget any connection, so the next call connects afresh."""
        return None

    def describe(self) -> str | None:
        """What runs the containers and where, for the report header (``docker 20.10.24
        at unix:///var/run/docker.sock (the default socket)``); ``None``: nothing to say."""
        return None

    def api_endpoint(self) -> Endpoint | None:
        """Where its Docker-compatible API answers, for another client of that API
        (pulumi-docker's provider); ``None`` for a runtime without one."""
        return None

    def check_runnable(self, spec: ContainerSpec) -> None:
        """Refuse, before anything is created for it, what this runtime cannot run where
        it runs (an engine on another host cannot mount this machine's paths).

        Raises:
            DeploymentError: Naming the resource, the field and what to do instead.
        """
        return None

    # -- containers ----------------------------------------------------------------------

    def prepare(self, spec: ContainerSpec, how: Preparation | None = None) -> None:
        """Make sure the container can start (its image is there, built when the spec
        says so); raise a clear error."""
        return None

    @abstractmethod
    def start(
        self,
        spec: ContainerSpec,
        *,
        name: str,
        labels: Mapping[str, str],
        networks: Mapping[str, list[str]],
    ) -> str:
        """Create and start the container, joined to ``networks`` (name → aliases).

        Returns:
            Its id.
        """

    @abstractmethod
    def observe(self, container_id: str) -> Observed | None:
        """The container's state now, or ``None`` when it no longer exists."""

    @abstractmethod
    def resume(self, container_id: str) -> None:
        """Start a stopped container again, or unpause a paused one."""

    @abstractmethod
    def logs(self, container_id: str, tail: int | None = 100) -> str:
        """Its output (stdout and stderr), the last ``tail`` lines; ``""`` when gone."""

    @abstractmethod
    def execute(
        self,
        container_id: str,
        command: list[str],
        *,
        user: str | None = None,
        workdir: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> tuple[int, str]:
        """Run ``command`` inside it (as ``user``, in ``workdir``, with ``env`` added);
        return the exit code and the output (stdout and stderr together)."""

    def control(self, container_id: str, action: Action, *, timeout: float = 10) -> None:
        """Stop, start, restart, pause or unpause it (what :attr:`actions` lists).

        Args:
            container_id: The container.
            action: What to do.
            timeout: For ``stop`` and ``restart``: seconds it gets to stop before it is
                killed.

        Raises:
            DeploymentError: The runtime cannot do that, or refused.
        """
        from pytest_clockwork.errors import DeploymentError

        can = ", ".join(sorted(self.actions)) or "none of them"
        raise DeploymentError(
            f"the {self.name} runtime cannot {action} a container (it can: {can})"
        )

    @abstractmethod
    def remove(self, container_id: str) -> None:
        """Remove it (and its anonymous volumes); gone already is fine."""

    def published_host(self) -> str:
        """The address where its published ports are reached."""
        return LOCAL_HOST

    def bind_address(self) -> str:
        """The host address a port without one is published on (where tests reach it)."""
        return LOCAL_HOST

    def listens(self, seen: Observed, port: int, host_port: int) -> str | None:
        """Why nothing listens on the container's ``port`` (published on ``host_port``);
        ``None`` when something does.

        Through the published port, a proxy may accept for a container that does not
        listen; see :func:`~pytest_clockwork.runtimes.ports.probe_tcp`.
        """
        from pytest_clockwork.runtimes.ports import probe_tcp

        return probe_tcp(self.published_host(), host_port, timeout=1.0, settle=PROXY_SETTLE)

    def command_line(
        self,
        spec: ContainerSpec,
        *,
        name: str,
        labels: Mapping[str, str],
        host_ports: Mapping[str, int],
        networks: list[str],
    ) -> list[str] | None:
        """The command that starts the container, for a runtime driven by a command (so
        another tool, e.g. Pulumi's ``Command``, can run it); ``None`` for an API."""
        return None

    def removal_command_line(self, name: str) -> list[str] | None:
        """The command that removes the container named ``name`` (with
        :meth:`command_line`)."""
        return None

    # -- networks and volumes (when makes_networks) ------------------------------------

    def external_network(self, name: str) -> bool:
        """Whether a network of that name exists and clockwork did not make it."""
        return False

    def ensure_network(self, name: str, labels: Mapping[str, str]) -> bool:
        """Create the network unless it exists; return whether it was created here."""
        return False

    def remove_network(self, name: str) -> bool:
        """Remove the network when nothing uses it; return whether it is gone."""
        return True

    def volume_exists(self, name: str) -> bool:
        """Whether a named volume of that name exists."""
        return False

    def ensure_volume(self, name: str, labels: Mapping[str, str]) -> bool:
        """Create the named volume unless it exists; return whether it was created here."""
        return False

    def remove_volume(self, name: str) -> bool:
        """Remove the volume when nothing uses it; return whether it is gone."""
        return True
