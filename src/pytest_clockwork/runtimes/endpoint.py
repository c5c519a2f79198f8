"""Finding the container engine the way the ``docker`` CLI does, and saying what answered.

The order: ``DOCKER_HOST``; else the Docker context (``DOCKER_CONTEXT``, or the current
context in the Docker CLI's ``config.json``: ``docker context use colima``); else the
default socket; else Podman's sockets (rootless, then rootful). An endpoint the user
named (``DOCKER_HOST``, a context) is the only one tried: a typo there must not quietly
reach another engine. The defaults are tried in turn until one answers.

Where the engine is decides where containers' ports are published and reached: an
engine on another host (``tcp://`` or ``ssh://`` to a host that is not this one)
publishes them on all its interfaces, and tests reach them at its address (or at
``CW_DOCKER_HOST_OVERRIDE``). That is known without asking the engine anything: every
default endpoint is on this host, and a named one is the only candidate.

Only the standard library is imported at load; the Docker SDK when connecting.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
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
ALL_INTERFACES = "0.0.0.0"
PROBE_TIMEOUT = 15
"""Seconds the first question to an endpoint may take before the next one is tried."""
SETTINGS = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "XDG_RUNTIME_DIR",
)
"""The environment variables that decide the endpoint."""
_LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]", "")
_REMOTE_SCHEMES = ("tcp", "ssh", "http", "https")
_CONNECTION_PREFIX = re.compile(r"^\w*Connection\(host=[^)]*\): ")


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
        if self.scheme not in _REMOTE_SCHEMES:
            return False
        return (urlparse(self.url).hostname or "") not in _LOOPBACK

    def published_host(self, environ: Mapping[str, str] | None = None) -> str:
        """The address where published ports are reached: ``CW_DOCKER_HOST_OVERRIDE``,
        else the remote engine's host (for ``ssh://alias``, the ``HostName`` that
        ``~/.ssh/config`` gives it), else the loopback."""
        override = _override(environ)
        if override:
            return override
        if not self.remote:
            return LOCAL_HOST
        host = urlparse(self.url).hostname or LOCAL_HOST
        if self.scheme == "ssh":
            return ssh_hostname(self.url) or host
        return host

    def bind_address(self, environ: Mapping[str, str] | None = None) -> str:
        """Where a port without an address is published: all the interfaces of a remote
        engine's host (its loopback is out of reach), or of a local one whose ports tests
        reach through another address (``CW_DOCKER_HOST_OVERRIDE``); else the loopback."""
        override = _override(environ)
        if self.remote or (override and override not in _LOOPBACK):
            return ALL_INTERFACES
        return LOCAL_HOST


def _override(environ: Mapping[str, str] | None) -> str:
    return (os.environ if environ is None else environ).get(HOST_OVERRIDE, "").strip()


@functools.lru_cache(maxsize=16)
def ssh_hostname(url: str) -> str | None:
    """The address ``ssh`` connects to for ``ssh://[user@]host[:port]`` (``ssh -G``
    applies ``~/.ssh/config``: an alias's ``HostName``); ``None`` when it cannot say."""
    parsed = urlparse(url)
    if not parsed.hostname:
        return None
    try:
        shown = subprocess.run(
            ["ssh", "-G", "--", parsed.hostname],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in shown.splitlines():
        name, _, value = line.partition(" ")
        if name.lower() == "hostname" and value.strip():
            return value.strip()
    return None


def settings_of(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The values of the variables that decide the endpoint (a change means another one)."""
    environ = os.environ if environ is None else environ
    return tuple(environ.get(name, "") for name in SETTINGS)


def candidates(environ: Mapping[str, str] | None = None) -> list[Endpoint]:
    """The endpoints to try, in order (see the module's docstring).

    Raises:
        EngineUnavailableError: The Docker context named does not exist.
    """
    environ = os.environ if environ is None else environ
    if environ.get("DOCKER_HOST", "").strip():
        from docker.utils import kwargs_from_env

        url = engine_url(environ["DOCKER_HOST"].strip(), "DOCKER_HOST")
        given = kwargs_from_env(environment=dict(environ))
        return [Endpoint(url, "DOCKER_HOST", given.get("tls"))]
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


def locate(environ: Mapping[str, str] | None = None) -> Endpoint:
    """Where the engine is, as far as that is known without asking it: the endpoint the
    user named, else the first default whose socket exists (else the default socket)."""
    found = candidates(environ)
    for endpoint in found:
        if endpoint.scheme != "unix" or Path(endpoint.url[len("unix://") :]).exists():
            return endpoint
    return found[0]


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
    url = engine_url(context.Host, f"docker context {name}: host")
    return Endpoint(url, f"docker context {name}", context.TLSConfig)


def engine_url(text: str, where: str) -> str:
    """``text`` as the ``docker`` CLI reads an engine's address: ``docker:2375`` (no
    scheme) is ``tcp://docker:2375``.

    Args:
        text: The address (``DOCKER_HOST``'s value, a context's host).
        where: Where it was given, for the error: ``DOCKER_HOST``, ``docker context
            colima: host``.

    Raises:
        EngineUnavailableError: It is no engine's address (an unknown scheme, a port that
            is not a number, ``ssh://`` without a host); the error shows the forms to use.
    """
    import sys

    import docker.errors
    from docker.utils import parse_host

    url = text if "://" in text else f"tcp://{text}"
    try:
        if text.startswith("/"):
            raise ValueError(f"a socket's path is written unix://{text}")
        parse_host(url, sys.platform == "win32")
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - a port that is not a number raises here
        if parsed.scheme == "ssh" and not parsed.hostname:
            raise ValueError("no host")
    except (docker.errors.DockerException, ValueError) as exc:
        raise EngineUnavailableError(
            f"{where}={text!r} is not the address of a container engine ({_reason(exc)}): "
            "use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]"
        ) from None
    return url


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

    def report(self, environ: Mapping[str, str] | None = None) -> str:
        """:meth:`describe`, how the endpoint was found, and where ports are reached
        when that is not the loopback: ``docker 20.10.24 at tcp://docker:2375
        (DOCKER_HOST; ports reached at docker)``."""
        where = self.endpoint.published_host(environ)
        reached = f"; ports reached at {where}" if where != LOCAL_HOST else ""
        return f"{self.describe()} ({self.endpoint.found_by}{reached})"


def connect(environ: Mapping[str, str] | None = None, timeout: int = 120) -> Connection:
    """Connect to the first endpoint that answers.

    Args:
        environ: The environment (default: ``os.environ``).
        timeout: Seconds an API call of the client may take (the first answer gets
            :data:`PROBE_TIMEOUT`, so an endpoint that is away is not waited for long).

    Raises:
        EngineUnavailableError: None answered; the message lists what was tried and why
            each failed.
    """
    import docker.errors
    import requests.exceptions

    failures = (docker.errors.DockerException, requests.exceptions.RequestException, OSError)
    tried: list[str] = []
    for endpoint in candidates(environ):
        if endpoint.scheme == "unix" and not Path(endpoint.url[len("unix://") :]).exists():
            tried.append(f"{endpoint.url} ({endpoint.found_by}): no such socket")
            continue
        try:
            client = client_for(endpoint, min(timeout, PROBE_TIMEOUT))
            info = client.version()
        except failures as exc:
            tried.append(f"{endpoint.url} ({endpoint.found_by}): {_reason(exc)}")
            continue
        client.api.timeout = timeout
        product, version = identify(info)
        return Connection(client, endpoint, product, version)
    raise EngineUnavailableError(
        "no container engine answers; tried "
        + "; ".join(tried)
        + ". Start Docker or Podman (podman system service), or point DOCKER_HOST at one; "
        "or deselect the tests that need containers"
    )


def client_for(endpoint: Endpoint, timeout: int) -> docker.DockerClient:
    """A Docker SDK client of ``endpoint`` (``ssh://`` through the system's ``ssh``)."""
    import docker

    if endpoint.scheme == "ssh":
        from pytest_clockwork.runtimes.sshdial import DialStdioClient

        try:
            return DialStdioClient(endpoint.url, timeout)
        except ValueError as exc:
            raise docker.errors.DockerException(str(exc)) from None
    return docker.DockerClient(base_url=endpoint.url, tls=endpoint.tls or False, timeout=timeout)


def identify(info: Mapping[str, Any]) -> tuple[str, str]:
    """``("podman", "4.3.1")`` or ``("docker", "20.10.24")`` from the version answer."""
    for component in info.get("Components") or []:
        if "podman" in str(component.get("Name", "")).lower():
            return "podman", str(component.get("Version", info.get("Version", "?")))
    return "docker", str(info.get("Version", "?"))


def _reason(error: BaseException) -> str:
    """The first line of the innermost cause (``[Errno 113] No route to host``), without
    the layers the SDK, requests and urllib3 wrap around it."""
    for _ in range(10):
        reason = getattr(error, "reason", None)
        inner = error.__cause__ or (reason if isinstance(reason, BaseException) else None)
        if inner is None and error.args and isinstance(error.args[-1], BaseException):
            inner = error.args[-1]
        if inner is None or inner is error:
            break
        error = inner
    text = str(error).strip()
    text = text.splitlines()[0] if text else type(error).__name__
    return _CONNECTION_PREFIX.sub("", text)[:300]
