"""Choosing free host ports, for engines that must know them before a container starts."""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_port(protocol: str, host_ip: str | None, taken: set[int]) -> int:
    """A host port that is free now (the OS's choice), not in ``taken``.

    The port is only free when chosen: Docker's own choice (``"80"`` with the local
    engine) has no such race, so use this only when the port must be known up front.
    """
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    family = socket.AF_INET6 if host_ip and ":" in host_ip else socket.AF_INET
    with ExitStack() as held:
        for _ in range(50):
            sock = held.enter_context(socket.socket(family, kind))
            sock.bind((host_ip or "127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            if port not in taken:
                return port
    raise OSError("no free host port found")


def probe_tcp(host: str, port: int, timeout: float, settle: float = 0.05) -> str | None:
    """Whether something listens on ``host:port``; ``None`` when it does, else why not.

    Docker's userland port proxy accepts a connection to a published port even when
    nothing listens in the container, then closes it at once. So after connecting, wait
    ``settle`` seconds: data, or silence (a server waiting for the client to speak),
    means a listener; an immediate close means none.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(settle)
            try:
                closed = sock.recv(1) == b""
            except TimeoutError:
                closed = False
            except OSError:
                closed = True
    except OSError as exc:
        return f"is not accessible: {exc}"
    if closed:
        return "accepted the connection and closed it at once: nothing listens behind it"
    return None
