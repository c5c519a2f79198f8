"""The container shape shared by DockerResource and AppleContainerResource."""

from __future__ import annotations

import shlex
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from pytest_clockwork.assertions.base import Assertion
from pytest_clockwork.errors import DeclarationError
from pytest_clockwork.notation import parse_port, parse_volume, resolve_path
from pytest_clockwork.resources.actions import ContainerActions
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.resources.build import Build, derived_tag
from pytest_clockwork.resources.resets import ResetCommand, check_commands, run_commands
from pytest_clockwork.resources.secrets import conceal_env, expand
from pytest_clockwork.resources.types import (
    EnvName,
    EnvValue,
    GraceSeconds,
    Image,
    NetworkName,
    Port,
    Seconds,
    Volume,
)
from pytest_clockwork.specs import (
    LABEL_PREFIX,
    ContainerSpec,
    HealthcheckSpec,
    SpecContext,
    VolumeSpec,
)


class Healthcheck(BaseModel):
    """A healthcheck run inside the container by the engine.

    Attributes:
        test: A shell command (run with ``sh -c``), an exec list (``["pg_isready"]``), or
            Docker's own form (``["CMD", "pg_isready"]``, ``["CMD-SHELL", "..."]``).
        interval: Time between checks (at least 1ms).
        timeout: Time one check may take (at least 1ms).
        retries: Failures in a row before the container is unhealthy.
        start_period: Grace time after start during which failures do not count.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)

    test: str | list[str]

    @model_validator(mode="before")
    @classmethod
    def _check_arguments(cls, data: Any) -> Any:
        from pytest_clockwork.validation import check_arguments

        return check_arguments(cls, data)

    interval: Seconds = 1.0
    timeout: Seconds = 3.0
    retries: int = Field(default=3, ge=1, le=10_000)
    start_period: GraceSeconds = 0.0

    @field_validator("test")
    @classmethod
    def _runs_a_command(cls, value: str | list[str]) -> str | list[str]:
        example = 'e.g. test="wget -q -O /dev/null http://localhost/" or test=["pg_isready"]'
        if isinstance(value, str):
            if not value.strip():
                raise ValueError(f"the healthcheck's test is empty: give a command, {example}")
            return value
        form = value[0] if value else None
        if form == "NONE":
            raise ValueError(
                'test=["NONE"] turns the image\'s healthcheck off; leave healthcheck=None '
                "instead (clockwork then waits for the container to run and listen)"
            )
        if form == "CMD-SHELL" and (len(value) != 2 or not value[1].strip()):
            raise ValueError(
                f"test={value!r}: Docker's CMD-SHELL form takes exactly one shell command, "
                'e.g. ["CMD-SHELL", "pg_isready -U postgres"]'
            )
        command = value[1:] if form == "CMD" else value
        if not command or not command[0].strip():
            raise ValueError(
                f"test={value!r} runs no command (Docker's engine crashes on an empty one): "
                f"give a command, {example}"
            )
        return value

    @model_validator(mode="after")
    def _docker_limits(self) -> Self:
        for name in ("interval", "timeout", "start_period"):
            seconds = getattr(self, name)
            if 0 < seconds < 0.001 or (name != "start_period" and seconds == 0):
                raise ValueError(f"healthcheck {name}={seconds!r}s: Docker needs at least 1ms")
        return self

    def spec(self) -> HealthcheckSpec:
        """The normalised healthcheck, with Docker's test form."""
        if isinstance(self.test, str):
            test: tuple[str, ...] = ("CMD-SHELL", self.test)
        elif self.test[0] in ("CMD", "CMD-SHELL"):
            test = tuple(self.test)
        else:
            test = ("CMD", *self.test)
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


def _check_command(value: str | list[str] | None, field: str) -> None:
    if value is None:
        return
    try:
        words = _split(value)
    except ValueError as exc:
        raise ValueError(f"{field}={value!r} cannot be split like a shell would: {exc}") from None
    if field == "command" and not words:
        raise ValueError(
            f"command={value!r} is empty: leave command out to run the image's own command"
        )


def _check_build(resource: ContainerResource) -> None:
    kind = type(resource).__name__
    if not resource.builds_images:
        raise ValueError(
            f"build=...: a {kind} does not build images; build it with its runtime's own "
            "tool and give image=... (or use a DockerResource)"
        )
    if resource.image is not None and "@" in resource.image:
        raise ValueError(
            f"image={resource.image!r} with build=...: image names the built image, and a "
            "built image gets a tag, not a digest; give name[:tag] (e.g. 'myapi:dev'), or "
            "leave image out"
        )


def _unique(field: str, keys: list[str], texts: list[str], clash: str) -> None:
    seen: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key in seen:
            raise ValueError(f"{field} {seen[key]!r} and {text!r} {clash} {key}; give each once")
        seen[key] = text


def _check_one_shot(container: ContainerResource) -> None:
    """``must_complete=True`` asks the container to exit: refuse what says otherwise."""
    if container.must_run and "must_run" in container.model_fields_set:
        raise ValueError(
            "must_run=True and must_complete=True contradict each other: a container that "
            "must complete exits; drop must_run"
        )
    if container.restart_policy in ("always", "unless-stopped"):
        raise ValueError(
            f"must_complete=True with restart={container.restart_policy!r}: Docker would start it "
            "again each time it exits, so it never completes; drop restart"
        )


class ContainerResource(ContainerActions, Resource):
    """Fields, fixture accessors and actions common to container resources.

    The deployed value (the fixture) also has ``exec()``, ``stop()``, ``start()``,
    ``restart()``, ``pause()`` and ``unpause()`` (see
    :class:`~pytest_clockwork.resources.actions.ContainerActions`).

    Attributes:
        image: The image to run; used when present locally, pulled otherwise. With
            ``build``, the name the built image gets (default ``clockwork/<name>:<digest>``).
        build: Build the image from a Dockerfile: ``build="api"`` (a directory relative
            to the rootdir), or ``build=Build(context=..., dockerfile=..., target=...,
            args=...)``. Built once per session, and again only when its inputs change.
        ports: Published ports: ``"80"`` gets a free host port at deploy (read it with
            :meth:`host_port`), ``"8080:80"`` pins host port 8080.
        volumes: ``"./data:/data"`` (host path, relative to rootdir), ``"name:/data"``.
        env_vars: Environment variables.
        networks: Networks to join: one that exists (made by you) is joined as it is and
            left alone; otherwise clockwork makes one for the session and removes it after.
        command: The command, as a string (split like a shell) or a list.
        entrypoint: Replaces the image's entrypoint.
        labels: Extra container labels.
        must_run: Wait until the container is ready: it runs, is healthy (with a
            healthcheck) and listens on its published ports; ``False`` for one-shot
            containers.
        must_complete: A one-shot container (a migration, a seed): deployment waits until
            it exits, and fails with its logs unless its exit code is 0. Those that
            depend on it deploy after it has completed.
        restart_policy: Docker's restart policy, given as ``restart="always"`` (the
            deployed value's ``restart()`` restarts the container).
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
        reset: Commands run inside the container, in order, before each test that uses
            its fixture (a string runs with ``sh -c``, a list as it is): a clean slate
            cheaper than a new container, e.g. ``["psql -U postgres -c 'TRUNCATE users'"]``.
            One that fails fails the test's setup, with the command and its output.
    """

    # ``restart=`` is the policy's name where it is declared; ``restart()`` is the action.
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)
    completable: ClassVar[tuple[str, ...]] = ("image", "ports", "env_vars")
    in_words: ClassVar[str | None] = "containers"
    runtime: ClassVar[Literal["docker", "apple"]] = "docker"
    builds_images: ClassVar[bool] = True
    """Whether ``build=`` is possible (its runtime builds images)."""

    image: Image | None = None
    build: Build | None = None
    ports: list[Port] | None = None
    volumes: list[Volume] = Field(default_factory=list)
    env_vars: dict[EnvName, EnvValue] | None = None
    networks: list[NetworkName] = Field(default_factory=list)
    command: str | list[str] | None = None
    entrypoint: str | list[str] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    must_run: bool = True
    must_complete: bool = False
    restart_policy: Literal["no", "always", "on-failure", "unless-stopped"] | None = Field(
        default=None, alias="restart"
    )
    healthcheck: Healthcheck | None = None
    user: str | None = None
    working_dir: str | None = None
    init: bool = False
    privileged: bool = False
    start_timeout: Seconds = 60.0
    wait_for_ports: bool = True
    wait_for: list[Assertion] = Field(default_factory=list)
    reset: list[ResetCommand] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _check_reset_argument(cls, data: Any) -> Any:
        # Before the generic argument check, which would say "reset takes a list" of True.
        if isinstance(data, dict) and "reset" in data:
            data = {**data, "reset": check_commands(data["reset"])}
        return data

    @field_validator("build", mode="before")
    @classmethod
    def _build_from_a_directory(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"context": value}
        if value is not None and not isinstance(value, Build | dict):
            raise ValueError(
                f"build={value!r}: give the directory to build (build='api', relative to the "
                "rootdir), or build=Build(context=..., dockerfile=..., target=..., args=...)"
            )
        return value

    @field_validator("env_vars")
    @classmethod
    def _conceal_secrets(
        cls, value: dict[str, str | SecretStr] | None
    ) -> dict[str, str | SecretStr] | None:
        return None if value is None else conceal_env(value)

    @model_validator(mode="after")
    def _check_container(self) -> Self:
        if self.image is None and self.build is None and self.description is None:
            raise ValueError(
                f"a {type(self).__name__} needs image=..., or a description=... for the AI "
                "to choose one, or build=... to build it from your Dockerfile (build='api': "
                "a directory relative to the rootdir)"
            )
        if self.build is not None:
            _check_build(self)
        ports = self.ports or []
        _unique("ports", [parse_port(text).key for text in ports], ports, "publish the same")
        targets = [parse_volume(text).target for text in self.volumes]
        _unique("volumes", targets, self.volumes, "both mount at")
        _unique("networks", self.networks, self.networks, "both join network")
        _check_command(self.command, "command")
        _check_command(self.entrypoint, "entrypoint")
        for label in self.labels:
            if not label.strip() or label.startswith(LABEL_PREFIX):
                raise ValueError(
                    f"label {label!r}: labels are not empty, and {LABEL_PREFIX}* is "
                    "clockwork's own (it finds and removes its containers by them); "
                    "choose another name"
                )
        if self.must_complete:
            _check_one_shot(self)
        if self.working_dir is not None and not self.working_dir.startswith("/"):
            raise ValueError(
                f"working_dir={self.working_dir!r}: Docker needs an absolute path inside the "
                "container, e.g. '/app'"
            )
        if self.user is not None and (not self.user.strip() or " " in self.user):
            raise ValueError(
                f"user={self.user!r}: give a user name or uid, optionally with a group "
                "('app', '1000', '1000:1000')"
            )
        for check in self.wait_for:
            problem = check.misfit(self)
            if problem:
                raise ValueError(
                    f"wait_for: {type(check).__name__} does not fit a {type(self).__name__}: "
                    f"{problem}; remove it, or wait for the container with "
                    "ContainerRunningAssert(), HealthcheckAssert(port=...) or "
                    "PortAccessibleAssert(port=...)"
                )
        return self

    def missing_fields(self) -> list[str]:
        """As :meth:`Resource.missing_fields`; a built image is never completed."""
        missing = super().missing_fields()
        return [name for name in missing if name != "image"] if self.build else missing

    def spec(self, context: SpecContext) -> ContainerSpec:
        """The container as every engine reads it."""
        build = self.build.spec(context) if self.build else None
        image = self.image or (
            derived_tag(self.name or context.name, build.digest) if build else None
        )
        if image is None:
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
        env, secret = {}, []
        for variable, value in (self.env_vars or {}).items():
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            try:
                env[variable], referred = expand(text, context.secret, f"env_vars[{variable!r}]")
            except ValueError as exc:
                raise DeclarationError(
                    f"resource {context.key!r}: {exc}", resource=context.key
                ) from None
            if referred or isinstance(value, SecretStr):
                secret.append(variable)
        return ContainerSpec(
            key=context.key,
            name=self.name or context.name,
            image=image,
            command=_split(self.command),
            entrypoint=_split(self.entrypoint),
            env=env,
            secret_env=tuple(sorted(secret)),
            ports=tuple(parse_port(text) for text in self.ports or []),
            volumes=tuple(volumes),
            networks=tuple(self.networks),
            labels=dict(self.labels),
            must_run=self.must_run and not self.must_complete,
            must_complete=self.must_complete,
            restart=self.restart_policy,
            healthcheck=self.healthcheck.spec() if self.healthcheck else None,
            user=self.user,
            working_dir=self.working_dir,
            init=self.init,
            privileged=self.privileged,
            start_timeout=self.start_timeout,
            wait_for_ports=self.wait_for_ports,
            runtime=self.runtime,
            build=build,
        )

    # -- the deployed container --------------------------------------------------------

    @property
    def resets(self) -> bool:
        """Whether ``reset=`` has commands to run before each test."""
        return bool(self.reset)

    def reset_now(self) -> None:
        """Run the ``reset=`` commands in the deployed container, as before each test.

        Raises:
            ResetError: A command failed (its output is in the message).
        """
        run_commands(self)

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
