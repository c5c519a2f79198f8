"""The container shape shared by DockerResource and AppleContainerResource."""

from __future__ import annotations

import shlex
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pytest_clockwork.assertions.base import Assertion
from pytest_clockwork.errors import DeclarationError
from pytest_clockwork.notation import parse_port, parse_volume, resolve_path
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.resources.types import EnvValue, Port, Seconds, Volume
from pytest_clockwork.specs import ContainerSpec, HealthcheckSpec, SpecContext, VolumeSpec


class Healthcheck(BaseModel):
    """A healthcheck run inside the container by the engine.

    Attributes:
        test: A shell command (run with ``sh -c``) or an exec list.
        interval: Time between checks.
        timeout: Time one check may take.
        retries: Failures in a row before the container is unhealthy.
        start_period: Grace time after start during which failures do not count.
    """

    model_config = ConfigDict(extra="forbid")

    test: str | list[str]
    interval: Seconds = 1.0
    timeout: Seconds = 3.0
    retries: int = Field(default=3, ge=1)
    start_period: Seconds = 0.0

    def spec(self) -> HealthcheckSpec:
        """The normalised healthcheck, with Docker's test form."""
        test = ("CMD-SHELL", self.test) if isinstance(self.test, str) else ("CMD", *self.test)
        return HealthcheckSpec(
            test=test,
            interval=self.interval,
            timeout=self.timeout,
            retries=self.retries,
            start_period=self.start_period,
        )


def _split(command: str | list[str] | None) -> tuple[str, ...] | None:
    if command is None:
        return None
    return tuple(shlex.split(command)) if isinstance(command, str) else tuple(command)


class ContainerResource(Resource):
    """Fields and fixture accessors common to container resources.

    Attributes:
        image: The image to run; used when present locally, pulled otherwise.
        ports: Published ports: ``"80"`` gets a free host port at deploy (read it with
            :meth:`host_port`), ``"8080:80"`` pins host port 8080.
        volumes: ``"./data:/data"`` (host path, relative to rootdir), ``"name:/data"``.
        env_vars: Environment variables.
        networks: Networks to join (created when missing, removed with the stack).
        command: The command, as a string (split like a shell) or a list.
        entrypoint: Replaces the image's entrypoint.
        labels: Extra container labels.
        must_run: Wait until the container is ready: it runs, is healthy (with a
            healthcheck) and listens on its published ports; ``False`` for one-shot
            containers.
        restart: Docker's restart policy.
        healthcheck: A healthcheck; deployment waits until it reports healthy.
        user: The user to run as.
        working_dir: The working directory inside the container.
        init: Run an init process as PID 1 (forwards signals, reaps zombies).
        privileged: Run privileged. Only ever set by you, never by the AI.
        start_timeout: How long to wait for the container to be ready.
        wait_for_ports: Deployment waits until something listens on each published TCP
            port (the default); ``False`` for ports the container does not serve at once.
        wait_for: Assertions polled until they pass before tests get the fixture,
            e.g. ``[HealthcheckAssert(port=80)]``.
    """

    completable: ClassVar[tuple[str, ...]] = ("image", "ports", "env_vars")
    runtime: ClassVar[Literal["docker", "apple"]] = "docker"

    image: str | None = None
    ports: list[Port] | None = None
    volumes: list[Volume] = Field(default_factory=list)
    env_vars: dict[str, EnvValue] | None = None
    networks: list[str] = Field(default_factory=list)
    command: str | list[str] | None = None
    entrypoint: str | list[str] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    must_run: bool = True
    restart: Literal["no", "always", "on-failure", "unless-stopped"] | None = None
    healthcheck: Healthcheck | None = None
    user: str | None = None
    working_dir: str | None = None
    init: bool = False
    privileged: bool = False
    start_timeout: Seconds = 60.0
    wait_for_ports: bool = True
    wait_for: list[Assertion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_container(self) -> Self:
        if self.image is None and self.description is None:
            raise ValueError(
                f"a {type(self).__name__} needs image=..., or a description=... for the "
                "AI to choose one"
            )
        seen: dict[str, str] = {}
        for text in self.ports or []:
            key = parse_port(text).key
            if key in seen:
                raise ValueError(f"ports {seen[key]!r} and {text!r} publish the same {key}")
            seen[key] = text
        return self

    def spec(self, context: SpecContext) -> ContainerSpec:
        """The container as every engine reads it."""
        if self.image is None:
            raise DeclarationError(
                f"resource {context.key!r} has no image: give image=... or complete it "
                "(see clockwork.lock)",
                resource=context.key,
            )
        volumes = []
        for text in self.volumes:
            mount = parse_volume(text)
            source = (
                str(resolve_path(mount.source, context.rootdir)) if mount.is_bind else mount.source
            )
            volumes.append(VolumeSpec(source, mount.target, mount.read_only, mount.is_bind))
        return ContainerSpec(
            key=context.key,
            name=self.name or context.key,
            image=self.image,
            command=_split(self.command),
            entrypoint=_split(self.entrypoint),
            env=dict(self.env_vars or {}),
            ports=tuple(parse_port(text) for text in self.ports or []),
            volumes=tuple(volumes),
            networks=tuple(self.networks),
            labels=dict(self.labels),
            must_run=self.must_run,
            restart=self.restart,
            healthcheck=self.healthcheck.spec() if self.healthcheck else None,
            user=self.user,
            working_dir=self.working_dir,
            init=self.init,
            privileged=self.privileged,
            start_timeout=self.start_timeout,
            wait_for_ports=self.wait_for_ports,
            runtime=self.runtime,
        )

    # -- the deployed container --------------------------------------------------------

    @property
    def container_id(self) -> str:
        """The deployed container's id."""
        return str(self.outputs["container_id"])

    @property
    def container_name(self) -> str:
        """The deployed container's name (unique per session)."""
        return str(self.outputs["container_name"])

    @property
    def host(self) -> str:
        """The host address where published ports are reached."""
        return str(self.outputs["host"])

    def host_port(self, container_port: int | str) -> int:
        """The host port that publishes ``container_port`` (``80`` or ``"53/udp"``).

        Raises:
            KeyError: The port is not published; the message lists those that are.
        """
        key = str(container_port) if "/" in str(container_port) else f"{container_port}/tcp"
        published: dict[str, int] = self.outputs.get("ports", {})
        if key not in published:
            shown = ", ".join(sorted(published)) or "none"
            raise KeyError(
                f"resource {self.key!r} does not publish port {key} (published: {shown}); "
                f'add it to ports=[...], e.g. ports=["{container_port}"]'
            )
        return int(published[key])

    def url(self, container_port: int | str, scheme: str = "http") -> str:
        """A base URL on the host for ``container_port``, e.g. ``http://127.0.0.1:32768``."""
        return f"{scheme}://{self.host}:{self.host_port(container_port)}"

    def logs(self, tail: int | None = 100) -> str:
        """The container's output (stdout and stderr), the last ``tail`` lines."""
        from pytest_clockwork.runtimes import runtime_for

        return str(runtime_for(self.runtime).logs(self.container_id, tail=tail))
