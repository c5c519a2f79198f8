"""The Docker engine, through the Docker SDK: containers, networks, volumes, images.

Imported only when a container is deployed, inspected or removed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import docker
import docker.errors
from docker.models.containers import Container
from docker.types import Healthcheck

from pytest_clockwork.errors import DeploymentError, ImageUnavailableError
from pytest_clockwork.runtimes.base import LOCAL_HOST, Action, ContainerRuntime, Preparation
from pytest_clockwork.runtimes.base import Observed as Observed
from pytest_clockwork.runtimes.endpoint import Connection, Endpoint, connect, locate, settings_of
from pytest_clockwork.runtimes.podman import engine_name, identified, is_podman
from pytest_clockwork.runtimes.ports import on_link, probe_direct
from pytest_clockwork.specs import HOST_GATEWAY, LABEL_PREFIX, ContainerSpec

_NS = 1_000_000_000
DIRECT_TIMEOUT = 0.25
"""Seconds to wait for a container's own address to answer before asking another way."""
_lock = threading.Lock()
_connection: tuple[tuple[str, ...], Connection] | None = None
"""The connection of this process, and the settings it was found with."""
_present: set[str] = set()
"""Images seen on this engine during this process (so one inspect per image)."""
_cpus: list[int] = []
"""The engine's CPU count, once asked."""


def connection() -> Connection:
    """The engine that answered (see :mod:`.endpoint`), connected on first use, again
    when the settings that find it (``DOCKER_HOST``...) changed.

    Raises:
        EngineUnavailableError: No engine answers; the message lists what was tried.
    """
    global _connection
    settings = settings_of()
    with _lock:
        if _connection is None or _connection[0] != settings:
            previous, _connection = _connection, None
            _present.clear()
            _cpus.clear()
            if previous is not None:  # another engine now: let go of the one before
                previous[1].client.close()
            connected = connect(timeout=120)
            identified(connected.client.api, connected.product)
            _connection = (settings, connected)
        return _connection[1]


def client() -> docker.DockerClient:
    """A Docker client for this process, created on first use (see :func:`connection`).

    Raises:
        EngineUnavailableError: No engine answers; the message lists what was tried.
    """
    return connection().client


def reset_client() -> None:
    """Forget the cached client (after the daemon restarted, or in a forked child)."""
    global _connection
    with _lock:
        _connection = None
        _present.clear()
        _cpus.clear()


def endpoint() -> Endpoint:
    """Where the engine is: the one connected, else as far as is known without asking."""
    current = _connection
    if current is not None and current[0] == settings_of():
        return current[1].endpoint
    return locate()


def published_host() -> str:
    """The address where published ports are reached (see :meth:`Endpoint.published_host`)."""
    return endpoint().published_host()


def ensure_image(
    image: str, *, resource: str, pull: str = "missing", platform: str | None = None
) -> None:
    """Use ``image`` when present locally, otherwise pull it (as ``pull`` says).

    Args:
        image: The image.
        resource: The resource's key, for errors.
        pull: ``missing``: pull only an absent image; ``always``: pull it once per
            session (process) even when present; ``never``: an absent image is an error.
        platform: The platform to pull, ``os/arch[/variant]``.

    Raises:
        ImageUnavailableError: Neither present nor pullable (or not to be pulled); the
            message names the image and the resource.
    """
    wanted = f"{image} for {platform}" if platform else image
    if pull == "always":
        wanted = f"pulled:{wanted}"
    if wanted in _present:
        return
    api = client()
    try:
        api.images.get(image)
        present = True
    except docker.errors.ImageNotFound:
        present = False
    if present and pull != "always":
        _check_platform(image, platform, resource=resource)
        _present.update({image, wanted})
        return
    if not present and pull == "never":
        raise ImageUnavailableError(
            f"resource {resource!r}: image {image!r} is not on this machine, and pull='never' "
            f"forbids pulling it. Build or load it first (docker build -t {image} ... / docker "
            "load), or let clockwork pull it: pull='missing'.",
            resource=resource,
        )
    repository, tag = _split_image(image)
    try:
        _pull(repository, tag, platform)
    except docker.errors.DockerException as exc:
        reason = getattr(exc, "explanation", None) or str(exc)
        if present:  # pull="always"
            raise ImageUnavailableError(
                f"resource {resource!r}: pull='always' could not pull image {image!r} "
                f"({reason}). It is on this machine: pull='missing' runs it without pulling; "
                "or check the registry and your login (docker login).",
                resource=resource,
            ) from None
        raise ImageUnavailableError(
            f"resource {resource!r}: image {image!r} is not on this machine and could not be "
            f"pulled ({reason}). Build or load it first (docker build -t {image} ... / "
            "docker load), or check the name.",
            resource=resource,
        ) from None
    _check_platform(image, platform, resource=resource)
    _present.update({image, wanted})


def _pull(repository: str, tag: str, platform: str | None) -> None:
    """Pull an image, to its end.

    Raises:
        docker.errors.APIError: The pull failed, with the engine's reason (Docker refuses
            at once; Podman answers 200 and says so in the progress stream).
    """
    progress = client().api.pull(
        repository, tag=tag or None, platform=platform, stream=True, decode=True
    )
    for chunk in progress:
        error = chunk.get("error") or (chunk.get("errorDetail") or {}).get("message")
        if error:
            raise docker.errors.APIError(str(error), explanation=str(error))


_ARCHITECTURES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "i386": "386"}


def _check_platform(image: str, platform: str | None, *, resource: str) -> None:
    """Refuse an image of another platform than ``platform`` (Docker does when it
    creates the container; Podman runs it as it is).

    Raises:
        ImageUnavailableError: Its OS or architecture (or variant, when both say one)
            differs; the message names both.
    """
    if not platform:
        return
    attrs = client().api.inspect_image(image)
    have = [attrs.get("Os") or "", attrs.get("Architecture") or "", attrs.get("Variant") or ""]
    want = [*platform.lower().split("/"), "", ""][:3]
    same = [_ARCHITECTURES.get(part, part) for part in want[:2]] == [
        _ARCHITECTURES.get(part, part) for part in have[:2]
    ] and (not want[2] or not have[2] or want[2] == have[2])
    if not same:
        actual = "/".join(part for part in have if part)
        message = (
            f"image with reference {image} was found but does not match the specified "
            f"platform: wanted {platform}, actual: {actual}"
        )
        raise ImageUnavailableError(
            f"resource {resource!r}: {message}{_hint(message)}", resource=resource
        )


def _split_image(image: str) -> tuple[str, str]:
    if "@" in image:
        return image, ""
    name, _, tag = image.rpartition(":")
    if name and "/" not in tag:
        return name, tag
    return image, "latest"


def run_kwargs(
    spec: ContainerSpec, *, name: str, labels: Mapping[str, str], bind: str = LOCAL_HOST
) -> dict[str, Any]:
    """The Docker SDK arguments for ``spec``: the one mapping from spec to Docker.

    Args:
        spec: The container.
        name: Its name.
        labels: Clockwork's labels (they win over the resource's own).
        bind: Where a port without an address gets a free host port (see
            :meth:`Endpoint.bind_address`).
    """
    ports: dict[str, Any] = {}
    for port in spec.ports:
        if port.host_port is None:
            ports[port.key] = (port.host_ip or bind, None)
        elif port.host_ip:
            ports[port.key] = (port.host_ip, port.host_port)
        else:
            ports[port.key] = port.host_port
    volumes = {
        mount.source: {"bind": mount.target, "mode": "ro" if mount.read_only else "rw"}
        for mount in spec.volumes
    }
    kwargs: dict[str, Any] = {
        "name": name,
        "detach": True,
        "labels": {**spec.labels, **labels},
        "environment": dict(spec.env),
        "ports": ports,
        "volumes": volumes,
        "init": spec.init or None,
        "privileged": spec.privileged,
    }
    optional = {
        "command": list(spec.command) if spec.command is not None else None,
        "entrypoint": list(spec.entrypoint) if spec.entrypoint is not None else None,
        "user": spec.user,
        "working_dir": spec.working_dir,
        "restart_policy": {"Name": spec.restart} if spec.restart else None,
        "tmpfs": dict(spec.tmpfs) or None,
        "mem_limit": spec.mem_limit,
        "nano_cpus": round(spec.cpus * 1e9) if spec.cpus is not None else None,
        "shm_size": spec.shm_size,
        "cap_add": list(spec.cap_add) or None,
        "cap_drop": list(spec.cap_drop) or None,
        "extra_hosts": dict(spec.extra_hosts) or None,
        "platform": spec.platform,
    }
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    if spec.healthcheck is not None:
        check = spec.healthcheck
        kwargs["healthcheck"] = Healthcheck(
            test=list(check.test),
            interval=int(check.interval * _NS),
            timeout=int(check.timeout * _NS),
            retries=check.retries,
            start_period=int(check.start_period * _NS),
        )
    return kwargs


def start(
    spec: ContainerSpec,
    *,
    name: str,
    labels: Mapping[str, str],
    networks: Mapping[str, list[str]],
) -> Container:
    """Create the container, put its files in, start it, join it to ``networks`` (name →
    aliases).

    Raises:
        DeploymentError: Docker refused (a port in use, a bad volume); says which.
    """
    kwargs = run_kwargs(spec, name=name, labels=labels, bind=endpoint().bind_address())
    names = list(networks)
    engine = engine_name(client().api)
    if spec.cpus is not None:
        _check_cpus(spec, engine)
    if HOST_GATEWAY in kwargs.get("extra_hosts", {}).values() and is_podman(client().api):
        from pytest_clockwork.runtimes.podman import host_gateway

        gateway = host_gateway(client().api, names[0] if names else None, resource=spec.key)
        kwargs["extra_hosts"] = {
            host: gateway if address == HOST_GATEWAY else address
            for host, address in kwargs["extra_hosts"].items()
        }
    if names:
        kwargs["network"] = names[0]
        kwargs["networking_config"] = {
            names[0]: client().api.create_endpoint_config(aliases=networks[names[0]])
        }
    try:
        container = client().containers.create(spec.image, **kwargs)
        if spec.files:
            from pytest_clockwork.runtimes.archive import files_archive

            container.put_archive("/", files_archive(spec.files))
        container.start()
    except docker.errors.APIError as exc:
        raise DeploymentError(
            f"resource {spec.key!r}: {engine} could not start the container: "
            f"{exc.explanation or exc}{_hint(str(exc.explanation or exc))}",
            resource=spec.key,
        ) from None
    for extra in names[1:]:
        client().networks.get(extra).connect(container, aliases=networks[extra])
    return container


def _check_cpus(spec: ContainerSpec, engine: str) -> None:
    """Refuse more CPUs than the engine has (Docker does; Podman takes any number).

    Raises:
        DeploymentError: ``cpus`` is above the engine's CPU count.
    """
    if not _cpus:
        _cpus.append(int(client().info().get("NCPU") or 0))
    available = _cpus[0]
    if spec.cpus is not None and 0 < available < spec.cpus:
        message = (
            f"Range of CPUs is from 0.01 to {available:.2f}, as there are only {available} "
            "CPUs available"
        )
        raise DeploymentError(
            f"resource {spec.key!r}: {engine} could not start the container: "
            f"{message}{_hint(message)}",
            resource=spec.key,
        )


def _hint(message: str) -> str:
    if "container-init binary not found" in message:  # Podman without catatonit
        from pytest_clockwork.runtimes.podman import INIT_HINT

        return INIT_HINT
    if "port is already allocated" in message or "address already in use" in message:
        return (
            '. A pinned host port is in use: publish "80" instead of "8080:80" to get a free '
            "port, or stop what holds it"
        )
    if "executable file not found" in message or "no such file or directory" in message:
        return (
            ". The command (command=... or entrypoint=...) names a program the image does "
            "not have: check its name and path, or run it through a shell it has "
            '(command=["sh", "-c", "..."])'
        )
    if "unable to find user" in message or "no matching entries in passwd" in message:
        return (
            ". user=... names a user the image does not have: use one it has, or a "
            'numeric uid (user="1000")'
        )
    hints = {
        "does not match the specified platform": ". platform=... asks for another platform "
        "than the image on this machine has: leave platform out, or give the image's",
        "Range of CPUs": ". cpus=... asks for more CPUs than the engine has: lower it",
        "unknown capability": ". cap_add/cap_drop name a capability this Docker engine does "
        "not know: remove it",
        "Minimum memory limit": ". mem_limit=... is below what Docker allows: raise it",
    }
    return next((hint for text, hint in hints.items() if text in message), "")


def observe(container_id: str) -> Observed | None:
    """The container's current state, or ``None`` when it no longer exists."""
    api = client().api
    try:
        attrs = api.inspect_container(container_id)
        if is_podman(api):
            from pytest_clockwork.runtimes.podman import run_due_healthcheck

            if run_due_healthcheck(api, attrs):
                attrs = api.inspect_container(container_id)
    except docker.errors.NotFound:
        return None
    state = attrs.get("State", {})
    env = dict(item.split("=", 1) for item in attrs["Config"].get("Env") or [] if "=" in item)
    return Observed(
        status=state.get("Status", "unknown"),
        # No healthcheck: Docker has no Health, Podman one with an empty status.
        health=(state.get("Health") or {}).get("Status") or "none",
        image=attrs["Config"].get("Image", ""),
        env=env,
        ports=_host_ports(attrs),
        exit_code=state.get("ExitCode") if state.get("Status") == "exited" else None,
        address=_address(attrs),
    )


def _address(attrs: Mapping[str, Any]) -> str | None:
    """The container's IP address on its first network that gave it one."""
    settings = attrs.get("NetworkSettings") or {}
    if settings.get("IPAddress"):
        return str(settings["IPAddress"])
    for network in (settings.get("Networks") or {}).values():
        if (network or {}).get("IPAddress"):
            return str(network["IPAddress"])
    return None


def _host_ports(attrs: Mapping[str, Any]) -> dict[str, int]:
    published: dict[str, int] = {}
    for key, bindings in (attrs.get("NetworkSettings", {}).get("Ports") or {}).items():
        for binding in bindings or []:
            if binding.get("HostPort"):
                published.setdefault(key, int(binding["HostPort"]))
    return published


def logs(container_id: str, tail: int | None = 100) -> str:
    """The container's stdout and stderr, the last ``tail`` lines ('' when gone)."""
    try:
        raw = client().api.logs(container_id, tail="all" if tail is None else tail)
    except docker.errors.NotFound:
        return ""
    return bytes(raw).decode(errors="replace")


def execute(
    container_id: str,
    command: list[str],
    *,
    user: str | None = None,
    workdir: str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Run ``command`` inside the container; return its exit code and output (stdout and
    stderr together).

    Raises:
        DeploymentError: Docker could not run it (the container is gone, or not running).
    """
    try:
        result = (
            client()
            .containers.get(container_id)
            .exec_run(
                command, user=user or "", workdir=workdir, environment=dict(env) if env else None
            )
        )
    except docker.errors.APIError as exc:
        seen = observe(container_id)
        why = (
            f"it is not running (it is {seen.status}): start it first"
            if seen is not None and seen.status != "running"
            else str(exc.explanation or exc)
        )
        raise DeploymentError(
            f"{engine_name(client().api)} could not run {command!r} in container "
            f"{container_id[:12]}: {why}"
        ) from None
    return int(result.exit_code), bytes(result.output).decode(errors="replace")


def control(container_id: str, action: Action, *, timeout: float = 10) -> None:
    """Stop, start, restart, pause or unpause the container.

    Raises:
        DeploymentError: Docker refused (it is gone, or not in a state for that).
    """
    api = client().api
    seconds = max(0, math.ceil(timeout))
    calls: dict[str, Callable[[], Any]] = {
        "stop": lambda: api.stop(container_id, timeout=seconds),
        "start": lambda: api.start(container_id),
        "restart": lambda: api.restart(container_id, timeout=seconds),
        "pause": lambda: api.pause(container_id),
        "unpause": lambda: api.unpause(container_id),
    }
    try:
        calls[action]()
    except docker.errors.APIError as exc:
        raise DeploymentError(
            f"{engine_name(api)} could not {action} container {container_id[:12]}: "
            f"{exc.explanation or exc}"
        ) from None


def remove_container(container_id: str) -> None:
    """Remove the container and its anonymous volumes; gone already is fine."""
    from pytest_clockwork.runtimes.podman import forget

    forget(container_id)
    try:
        client().api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if "already in progress" not in str(exc):
            raise


def _network_named(name: str) -> dict[str, Any] | None:
    """The network called exactly ``name`` (Docker's name filter also matches parts)."""
    for item in client().api.networks(names=[name]):
        if item.get("Name") == name:
            return dict(item)
    return None


def external_network(name: str) -> bool:
    """Whether a network called exactly ``name`` exists and clockwork did not make it.

    Such a network (the user's own) is joined as it is: never created, recorded or
    removed by clockwork.
    """
    found = _network_named(name)
    return found is not None and (found.get("Labels") or {}).get(f"{LABEL_PREFIX}managed") != "true"


def ensure_network(name: str, labels: Mapping[str, str]) -> bool:
    """Create the network unless it exists; return whether it was created here."""
    api = client()
    if _network_named(name) is not None:
        return False
    try:
        api.networks.create(name, labels=dict(labels), check_duplicate=True)
    except docker.errors.APIError as exc:
        if "already exists" in str(exc):
            return False
        raise
    return True


def remove_network(name: str) -> bool:
    """Remove the network when no container uses it; return whether it is gone."""
    try:
        network = client().networks.get(name)
        network.reload()
        if network.attrs.get("Containers"):
            return False
        network.remove()
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError:
        return False
    return True


def ensure_volume(name: str, labels: Mapping[str, str]) -> bool:
    """Create the named volume unless it exists; return whether it was created here."""
    if volume_exists(name):
        return False
    client().volumes.create(name, labels=dict(labels))
    return True


def volume_exists(name: str) -> bool:
    """Whether a named volume exists."""
    try:
        client().volumes.get(name)
    except docker.errors.NotFound:
        return False
    return True


def remove_volume(name: str) -> bool:
    """Remove the named volume when unused; return whether it is gone."""
    try:
        client().volumes.get(name).remove()
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError:
        return False
    return True


def labelled(labels: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Containers, networks and volumes carrying all of ``labels`` (with their labels).

    The engine is asked for the first label only, and each answer checked for all of them:
    Podman 4 takes several label filters of volumes for any one of them.
    """
    first = next(iter(labels.items()), None)
    filters = {"label": [f"{first[0]}={first[1]}"]} if first else {}
    api = client().api
    containers = [
        {"id": item["Id"], "name": item["Names"][0].lstrip("/"), "labels": item["Labels"] or {}}
        for item in api.containers(all=True, filters=filters)
    ]
    networks = [
        {"id": item["Id"], "name": item["Name"], "labels": item.get("Labels") or {}}
        for item in api.networks(filters=filters)
    ]
    volumes = [
        {"id": item["Name"], "name": item["Name"], "labels": item.get("Labels") or {}}
        for item in (api.volumes(filters=filters).get("Volumes") or [])
    ]
    found = {"containers": containers, "networks": networks, "volumes": volumes}
    return {
        kind: [item for item in items if labels.items() <= item["labels"].items()]
        for kind, items in found.items()
    }


class DockerRuntime(ContainerRuntime):
    """Docker (or an engine with Docker's API), through the Docker SDK."""

    name: ClassVar[str] = "docker"
    sees: ClassVar[frozenset[str]] = frozenset(
        {"status", "health", "image", "env", "ports", "exit_code"}
    )
    makes_networks: ClassVar[bool] = True
    picks_host_ports: ClassVar[bool] = True
    serves_remotely: ClassVar[bool] = True
    actions: ClassVar[frozenset[Action]] = frozenset(
        {"stop", "start", "restart", "pause", "unpause"}
    )
    _direct: bool = True
    """Whether containers' own addresses may answer from here (until one does not)."""

    def unreachable(self, error: BaseException) -> bool:
        """Also the SDK's and requests' errors of a daemon that does not answer."""
        import requests.exceptions

        if super().unreachable(error):
            return True
        if isinstance(error, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            return True
        return isinstance(error, docker.errors.DockerException) and not isinstance(
            error, docker.errors.NotFound
        )

    def reconnect(self) -> None:
        """See :func:`reset_client`."""
        reset_client()

    def prepare(self, spec: ContainerSpec, how: Preparation | None = None) -> None:
        """Build the image when the spec says so (unless built before); otherwise use it
        when it is there, else pull it (as ``spec.pull`` says)."""
        if spec.build is not None:
            from pytest_clockwork.runtimes.imagebuild import ensure_built

            ensure_built(client().api, spec, how or Preparation())
            return
        ensure_image(spec.image, resource=spec.key, pull=spec.pull, platform=spec.platform)

    def start(
        self,
        spec: ContainerSpec,
        *,
        name: str,
        labels: Mapping[str, str],
        networks: Mapping[str, list[str]],
    ) -> str:
        """Create and start the container (see :func:`start`)."""
        return str(start(spec, name=name, labels=labels, networks=networks).id)

    def observe(self, container_id: str) -> Observed | None:
        """See :func:`observe`."""
        return observe(container_id)

    def resume(self, container_id: str) -> None:
        """Unpause a paused container, start a stopped one."""
        seen = observe(container_id)
        if seen is not None and seen.status == "paused":
            client().api.unpause(container_id)
        else:
            client().api.start(container_id)

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
        """See :func:`control`."""
        control(container_id, action, timeout=timeout)

    def remove(self, container_id: str) -> None:
        """See :func:`remove_container`."""
        remove_container(container_id)

    def published_host(self) -> str:
        """See :func:`published_host`."""
        return published_host()

    def bind_address(self) -> str:
        """See :meth:`Endpoint.bind_address`."""
        return endpoint().bind_address()

    def describe(self) -> str:
        """What answered, where, and where its ports are reached (connects)."""
        return connection().report()

    def check_runnable(self, spec: ContainerSpec) -> None:
        """Refuse what an engine on another host cannot run (see :mod:`.remote`)."""
        from pytest_clockwork.runtimes.remote import refuse_remote

        refuse_remote(spec, endpoint())

    def api_endpoint(self) -> Endpoint:
        """See :func:`endpoint`."""
        return endpoint()

    def listens(self, seen: Observed, port: int, host_port: int) -> str | None:
        """Ask the container itself when it is on a network attached to this machine (a
        local engine on Linux): a refusal then means no listener, whatever the port proxy
        does. Elsewhere (a remote engine's containers may have addresses that are on a
        network of this machine too, another one), or when it does not answer, ask
        through the published port."""
        local = not endpoint().remote
        if seen.address and self._direct and local and on_link(seen.address):
            answer = probe_direct(seen.address, port, timeout=DIRECT_TIMEOUT)
            if answer is not None:
                return None if answer else "refuses connections: nothing listens on it"
            self._direct = False  # containers are not reachable from here: stop trying
        return super().listens(seen, port, host_port)

    def external_network(self, name: str) -> bool:
        """See :func:`external_network`."""
        return external_network(name)

    def ensure_network(self, name: str, labels: Mapping[str, str]) -> bool:
        """See :func:`ensure_network`."""
        return ensure_network(name, labels)

    def remove_network(self, name: str) -> bool:
        """See :func:`remove_network`."""
        return remove_network(name)

    def volume_exists(self, name: str) -> bool:
        """See :func:`volume_exists`."""
        return volume_exists(name)

    def ensure_volume(self, name: str, labels: Mapping[str, str]) -> bool:
        """See :func:`ensure_volume`."""
        return ensure_volume(name, labels)

    def remove_volume(self, name: str) -> bool:
        """See :func:`remove_volume`."""
        return remove_volume(name)
