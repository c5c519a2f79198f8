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
    with ExitStack() as held:
        for _ in range(50):
            sock = held.enter_context(socket.socket(socket.AF_INET, kind))
            sock.bind((host_ip or "127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            if port not in taken:
                return port
    raise OSError("no free host port found")
