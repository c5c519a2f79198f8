"""Host ports: choosing free ones, and finding out whether something listens on one."""

from __future__ import annotations

import socket
from contextlib import ExitStack
from pathlib import Path

ROUTES = Path("/proc/net/route")


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


def probe_direct(address: str, port: int, timeout: float) -> bool | None:
    """Whether something listens on ``address:port``, asked with no proxy in between.

    Returns:
        ``True`` when it accepts, ``False`` when it refuses (the container's own network
        stack answered: nothing listens), ``None`` when the address cannot be reached from
        here (no route, or no answer within ``timeout``): ask another way.
    """
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return False
    except OSError:
        return None


def on_link(address: str, routes: Path = ROUTES) -> bool:
    """Whether ``address`` is on a network this machine is attached to (or is its own):
    a refusal from it then comes from that host, not from a firewall on the way.

    Reads Linux's IPv4 routing table; ``False`` wherever that cannot be read (macOS,
    Windows, IPv6), so callers ask another way there.
    """
    import ipaddress

    try:
        ip = ipaddress.IPv4Address(address)
        lines = routes.read_text().splitlines()[1:]
    except (ValueError, OSError):
        return False
    if ip.is_loopback:
        return True
    value = int.from_bytes(ip.packed, "little")  # the table is in the kernel's byte order
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        destination, gateway, mask = (int(fields[index], 16) for index in (1, 2, 7))
        if mask and not gateway and value & mask == destination:
            return True
    return False
