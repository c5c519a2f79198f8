"""Finding the container engine the way the ``docker`` CLI does, and saying what answered.

The order: ``DOCKER_HOST``; else the Docker context (``DOCKER_CONTEXT``, or the current
context in the Docker CLI's ``config.json``: ``docker context use colima``); else the
default socket; else Podman's sockets (rootless, then rootful). An endpoint the user
named (``DOCKER_HOST``, a context) is the only one tried: a typo there must not quietly
reach another engine. The defaults are tried in turn until one answers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pytest_clockwork.errors import EngineUnavailableError

if TYPE_CHECKING:
    import docker

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
ROOTFUL_PODMAN_SOCKET = "unix:///run/podman/podman.sock"
HOST_OVERRIDE = "CW_DOCKER_HOST_OVERRIDE"
"""The address tests connect to for published ports, when the engine's own is not it."""
LOCAL_HOST = "127.0.0.1"
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "")


@dataclass(frozen=True)
class Endpoint:
    """Where a container engine is asked, and why there.

    Attributes:
        url: ``unix:///var/run/docker.sock``, ``tcp://docker:2375``, ``ssh://me@box``...
        found_by: How it was found, for messages: ``DOCKER_HOST``, ``docker context
            colima``, ``the default socket``, ``Podman's socket``.
        tls: The TLS settings that go with it (from ``DOCKER_TLS_VERIFY`` or the context).
    """

    url: str
    found_by: str
    tls: Any = field(default=None, compare=False, repr=False)

    @property
    def scheme(self) -> str:
        """``unix``, ``tcp``, ``ssh``, ``npipe``..."""
        return self.url.split("://", 1)[0] if "://" in self.url else "unix"

    @property
    def remote(self) -> bool:
        """Whether the engine runs on another host (tcp or ssh to a host not this one):
        its containers' ports are then published on all its interfaces."""
        if self.scheme not in ("tcp", "ssh", "http", "https"):
            return False
        return (urlparse(self.url).hostname or "") not in _LOOPBACK

    def published_host(self, environ: Mapping[str, str] | None = None) -> str:
        """The address where published ports are reached: ``CW_DOCKER_HOST_OVERRIDE``,
        else the remote engine's host name, else the loopback."""
        override = (os.environ if environ is None else environ).get(HOST_OVERRIDE, "").strip()
        if override:
            return override
        if self.remote:
            return urlparse(self.url).hostname or LOCAL_HOST
        return LOCAL_HOST


def candidates(environ: Mapping[str, str] | None = None) -> list[Endpoint]:
    """The endpoints to try, in order (see the module's docstring)."""
    environ = os.environ if environ is None else environ
    from docker.utils import kwargs_from_env

    given = kwargs_from_env(environment=dict(environ))
    if environ.get("DOCKER_HOST", "").strip():
        return [Endpoint(given["base_url"], "DOCKER_HOST", given.get("tls"))]
    context = _context(environ)
    if context is not None:
        return [context]
    found = [Endpoint(DEFAULT_SOCKET, "the default socket")]
    runtime_dir = environ.get("XDG_RUNTIME_DIR", "").strip()
    if runtime_dir:
        rootless = f"unix://{Path(runtime_dir) / 'podman' / 'podman.sock'}"
        found.append(Endpoint(rootless, "Podman's socket (rootless)"))
    found.append(Endpoint(ROOTFUL_PODMAN_SOCKET, "Podman's socket"))
    return found


def _context(environ: Mapping[str, str]) -> Endpoint | None:
    """The Docker context's endpoint, unless it is ``default`` (the default socket)."""
    from docker.context import ContextAPI
    from docker.context.config import get_current_context_name

    name = environ.get("DOCKER_CONTEXT", "").strip() or get_current_context_name()
    if not name or name == "default":
        return None
    how = "DOCKER_CONTEXT" if environ.get("DOCKER_CONTEXT", "").strip() else "docker context"
    context = ContextAPI.get_context(name)
    if context is None or not context.Host:
        raise EngineUnavailableError(
            f"the Docker context {name!r} ({how}) does not exist or names no endpoint: "
            "`docker context ls` lists them; choose one with `docker context use NAME`, "
            "or set DOCKER_HOST"
        )
    return Endpoint(context.Host, f"docker context {name}", context.TLSConfig)


@dataclass(frozen=True)
class Connection:
    """A client that answered, where, and what answered.

    Attributes:
        client: The Docker SDK client.
        endpoint: Where it is connected.
        product: ``docker`` or ``podman``.
        version: The engine's version (``20.10.24``).
    """

    client: docker.DockerClient
    endpoint: Endpoint
    product: str
    version: str

    def describe(self) -> str:
        """``docker 20.10.24 at unix:///var/run/docker.sock``."""
        return f"{self.product} {self.version} at {self.endpoint.url}"


def connect(environ: Mapping[str, str] | None = None, timeout: int = 120) -> Connection:
    """Connect to the first endpoint that answers.

    Raises:
        EngineUnavailableError: None answered; the message lists what was tried and why
            each failed.
    """
    import docker
    import docker.errors

    tried: list[str] = []
    for endpoint in candidates(environ):
        if endpoint.scheme == "unix" and not Path(endpoint.url[len("unix://") :]).exists():
            tried.append(f"{endpoint.url} ({endpoint.found_by}): no such socket")
            continue
        try:
            client = docker.DockerClient(
                base_url=endpoint.url,
                tls=endpoint.tls or False,
                timeout=timeout,
                use_ssh_client=endpoint.scheme == "ssh",
            )
            info = client.version()
        except (docker.errors.DockerException, OSError) as exc:
            tried.append(f"{endpoint.url} ({endpoint.found_by}): {_reason(exc)}")
            continue
        product, version = _product(info)
        return Connection(client, endpoint, product, version)
    raise EngineUnavailableError(
        "no container engine answers; tried "
        + "; ".join(tried)
        + ". Start Docker or Podman (podman system service), or point DOCKER_HOST at one"
    )


def _product(info: Mapping[str, Any]) -> tuple[str, str]:
    """``("podman", "4.3.1")`` or ``("docker", "20.10.24")`` from the version answer."""
    for component in info.get("Components") or []:
        if "podman" in str(component.get("Name", "")).lower():
            return "podman", str(component.get("Version", info.get("Version", "?")))
    return "docker", str(info.get("Version", "?"))


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:200]
