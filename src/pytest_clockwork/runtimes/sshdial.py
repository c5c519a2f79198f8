"""Docker's API over ssh, through the system's ``ssh`` client (no paramiko).

``DOCKER_HOST=ssh://me@box`` means what it means to the ``docker`` CLI: each connection
is an ``ssh me@box docker system dial-stdio`` process, whose standard input and output
carry the HTTP conversation with the engine over there. Here that process's stdin and
stdout are one end of a socket pair; the other end is the socket of an ordinary HTTP
connection, so everything the Docker SDK does over a Unix socket works unchanged:
plain requests, streams (logs, build output, events) and the raw sockets of ``exec``.

Whatever the user's ``ssh`` does is used: ``~/.ssh/config`` (host aliases, keys,
``ProxyJump``), the agent, known hosts. It never prompts (``BatchMode``): a key that
needs a passphrase must be in the agent. Each ``ssh`` starts in its own session, so the
Ctrl-C that interrupts pytest does not cut the connections its teardown still needs.
"""

from __future__ import annotations

import contextlib
import http.client
import shlex
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import urlparse

import docker
import urllib3
import urllib3.connection
import urllib3.connectionpool
from docker.api.client import APIClient
from docker.constants import DEFAULT_MAX_POOL_SIZE, MINIMUM_DOCKER_API_VERSION
from docker.transport.basehttpadapter import BaseHTTPAdapter

BASE_URL = "http+docker://dialstdio"
"""The Docker SDK's base URL for these connections. Not ``http+docker://ssh``: the SDK
takes that for its paramiko transport and looks for paramiko's channel in responses."""
ENDING = 2.0
"""Seconds an ``ssh`` process gets to end by itself once its connection is closed."""
STDERR_TAIL = 500
"""Characters of ``ssh``'s error output quoted when a connection fails."""


def ssh_command(url: str) -> list[str]:
    """The command that connects to the engine at ``url`` (``ssh://[user@]host[:port]``),
    as the ``docker`` CLI runs it.

    Raises:
        ValueError: ``url`` is not of that form (it has a path, or no host).
    """
    parsed = urlparse(url)
    if parsed.scheme != "ssh" or not parsed.hostname:
        raise ValueError(f"{url!r} is not an ssh://[user@]host[:port] address")
    if parsed.path not in ("", "/") or parsed.query or parsed.password:
        raise ValueError(
            f"{url!r}: an ssh address is ssh://[user@]host[:port], without a path, query or "
            "password (use a key, in ssh-agent or ~/.ssh/config)"
        )
    command = ["ssh", "-T", "-o", "BatchMode=yes"]
    if parsed.username:
        command += ["-l", parsed.username]
    if parsed.port:
        command += ["-p", str(parsed.port)]
    return [*command, "--", parsed.hostname, "docker", "system", "dial-stdio"]


class DialStdioConnection(urllib3.connection.HTTPConnection):
    """One HTTP connection: one ``ssh ... docker system dial-stdio`` process.

    Args:
        command: The command to run (see :func:`ssh_command`).
        timeout: Seconds a read or write may wait.
    """

    def __init__(self, command: list[str], timeout: float | None = 60) -> None:
        super().__init__("localhost", timeout=timeout)
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self._ended: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    def connect(self) -> None:
        """Start the ``ssh`` process and talk to it through a socket pair."""
        ours, theirs = socket.socketpair()
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (lives with the connection)
        self._ended = None
        try:
            self.process = subprocess.Popen(
                self.command,
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=self._stderr,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            ours.close()
            raise ConnectionError(
                f"could not run {shlex.join(self.command)}: {exc}. DOCKER_HOST=ssh://... needs "
                "the ssh client (apt-get install openssh-client)"
            ) from None
        finally:
            theirs.close()
        ours.settimeout(self.timeout if isinstance(self.timeout, int | float) else None)
        self.sock = ours

    def request(self, *args: Any, **kwargs: Any) -> None:
        """Send a request; when ``ssh`` gave up instead, say why."""
        with self._explained():
            super().request(*args, **kwargs)

    def getresponse(self) -> Any:  # urllib3's HTTPResponse
        """The response; when ``ssh`` gave up instead, say why."""
        with self._explained():
            return super().getresponse()

    @contextlib.contextmanager
    def _explained(self) -> Iterator[None]:
        try:
            yield
        except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError):
            failure = self.failure()
            if failure is None:
                raise
            raise ConnectionError(failure) from None  # what ssh said is the cause

    def failure(self) -> str | None:
        """What went wrong, once the ``ssh`` process has exited with an error."""
        process = self.process or self._ended
        if process is None:
            return None
        try:
            code = process.wait(timeout=ENDING)
        except subprocess.TimeoutExpired:
            return None
        if code == 0:
            return None
        said = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            said = self._stderr.read().decode(errors="replace").strip()[-STDERR_TAIL:]
        return f"{shlex.join(self.command)} exited with status {code}: {said or 'no message'}"

    def close(self) -> None:
        """Close the connection; its ``ssh`` process ends (or is ended)."""
        super().close()
        process, self.process = self.process, None
        if process is None:
            return
        try:  # the end of its input ends it, or it ended already (then: why, see failure)
            process.wait(timeout=ENDING)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=ENDING)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._ended = process


class DialStdioConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
    """A pool of :class:`DialStdioConnection`."""

    def __init__(self, command: list[str], timeout: float, maxsize: int) -> None:
        super().__init__("localhost", timeout=timeout, maxsize=maxsize)
        self.command = command
        self.seconds = timeout

    def _new_conn(self) -> DialStdioConnection:
        return DialStdioConnection(self.command, self.seconds)


class DialStdioAdapter(BaseHTTPAdapter):  # type: ignore[misc]
    """The requests adapter the Docker SDK's API client sends everything through.

    One pool for every URL (the SDK's own adapters keep one per URL, which costs nothing
    over a Unix socket and an ssh handshake per path here).
    """

    def __init__(
        self, command: list[str], timeout: float, *, max_pool_size: int = DEFAULT_MAX_POOL_SIZE
    ) -> None:
        self.command = command
        self.timeout = timeout
        self.max_pool_size = max_pool_size
        self.pool: DialStdioConnectionPool | None = None
        self._lock = threading.Lock()
        super().__init__()

    def get_connection(self, url: str, proxies: Any = None) -> DialStdioConnectionPool:
        """The pool (the same for every ``url``: they all go to one engine)."""
        with self._lock:
            if self.pool is None:
                self.pool = DialStdioConnectionPool(self.command, self.timeout, self.max_pool_size)
            return self.pool

    def request_url(self, request: Any, proxies: Any) -> str:
        """Only the path: there is no host to name (nor a proxy to use)."""
        return str(request.path_url)

    def close(self) -> None:
        """Close every connection (ending their ``ssh`` processes)."""
        super().close()
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.close()


class DialStdioAPIClient(APIClient):  # type: ignore[misc]
    """The Docker SDK's low-level client, speaking to ``url`` through ``ssh``.

    Args:
        url: ``ssh://[user@]host[:port]``.
        timeout: Seconds an API call may take.
    """

    def __init__(self, url: str, timeout: int = 60) -> None:
        # A version given up front: the SDK asks the engine nothing before the adapter is in.
        super().__init__(
            base_url="tcp://localhost:2375", version=MINIMUM_DOCKER_API_VERSION, timeout=timeout
        )
        self.endpoint_url = url
        self._custom_adapter = DialStdioAdapter(ssh_command(url), timeout)
        self.mount(BASE_URL, self._custom_adapter)
        self._unmount("http://", "https://")
        self.base_url = BASE_URL
        self._version = self._retrieve_server_version()


class DialStdioClient(docker.DockerClient):  # type: ignore[misc]
    """A ``docker.DockerClient`` for ``ssh://`` addresses, through :class:`DialStdioAPIClient`."""

    def __init__(self, url: str, timeout: int = 60) -> None:
        self.api = DialStdioAPIClient(url, timeout)
