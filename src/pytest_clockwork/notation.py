"""Parsers for the small notations users type: ports, volumes, file modes, durations.

Each parser raises ``ValueError`` with a message that shows the expected forms, so
that pydantic turns it into a ``ValidationError`` naming the field and the value.
"""

from __future__ import annotations

import ipaddress
import os.path
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Protocol = Literal["tcp", "udp", "sctp"]

_PORT_FORMS = '"80", "8080:80", "127.0.0.1:8080:80", "127.0.0.1::80" or "53/udp"'
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class PortMapping:
    """One published port.

    Attributes:
        container_port: The port inside the container.
        protocol: ``tcp``, ``udp`` or ``sctp``.
        host_port: The pinned host port, or ``None`` to have a free one chosen at deploy.
        host_ip: The host address to bind, or ``None`` for the engine's default.
    """

    container_port: int
    protocol: Protocol = "tcp"
    host_port: int | None = None
    host_ip: str | None = None

    @property
    def pinned(self) -> bool:
        """Whether the user chose the host port."""
        return self.host_port is not None

    @property
    def key(self) -> str:
        """The Docker-style key of the container side, e.g. ``"80/tcp"``."""
        return f"{self.container_port}/{self.protocol}"


def _port_number(text: str, original: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"invalid port {original!r}: expected {_PORT_FORMS}")
    return int(text)


def parse_port(text: str) -> PortMapping:
    """Parse a port in Docker's notation.

    Args:
        text: ``"80"``, ``"8080:80"``, ``"127.0.0.1:8080:80"``, ``"127.0.0.1::80"``,
            optionally followed by ``/udp`` (or ``/tcp``, ``/sctp``).

    Returns:
        The parsed mapping.

    Raises:
        ValueError: The text is not one of those forms.
    """
    original = text
    body, _, proto = text.strip().partition("/")
    protocol = proto or "tcp"
    if protocol not in ("tcp", "udp", "sctp"):
        raise ValueError(f"invalid port {original!r}: unknown protocol {protocol!r}")
    parts = body.split(":")
    if len(parts) == 1:
        return PortMapping(_port_number(parts[0], original), protocol)  # type: ignore[arg-type]
    if len(parts) == 2:
        return PortMapping(
            _port_number(parts[1], original),
            protocol,  # type: ignore[arg-type]
            host_port=_port_number(parts[0], original),
        )
    if len(parts) == 3:
        host_ip, host_port, container_port = parts
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise ValueError(
                f"invalid port {original!r}: {host_ip!r} is not an IP address"
            ) from None
        return PortMapping(
            _port_number(container_port, original),
            protocol,  # type: ignore[arg-type]
            host_port=_port_number(host_port, original) if host_port else None,
            host_ip=host_ip,
        )
    raise ValueError(f"invalid port {original!r}: expected {_PORT_FORMS}")


@dataclass(frozen=True)
class VolumeMount:
    """One volume: a host path (bind mount) or a named volume, mounted at ``target``.

    Attributes:
        source: The host path (as written) or the volume's name.
        target: The absolute path inside the container.
        read_only: Whether the mount is read-only.
        is_bind: True for a host path, False for a named volume.
    """

    source: str
    target: str
    read_only: bool = False

    @property
    def is_bind(self) -> bool:
        """Whether the source is a host path (it starts with ``/``, ``.`` or ``~``)."""
        return self.source.startswith(("/", ".", "~"))


def parse_volume(text: str) -> VolumeMount:
    """Parse ``"source:/target"`` or ``"source:/target:ro"``.

    Args:
        text: The volume notation. A source starting with ``/``, ``.`` or ``~`` is a
            host path (relative paths are relative to pytest's rootdir); anything
            else names a Docker volume.

    Returns:
        The parsed mount.

    Raises:
        ValueError: The text is not of that form.
    """
    forms = '"./data:/data", "/abs/path:/data:ro" or "volname:/data"'
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise ValueError(f"invalid volume {text!r}: expected {forms}")
    mode = parts[2] if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise ValueError(f"invalid volume {text!r}: the mode must be 'ro' or 'rw'")
    if not parts[1].startswith("/"):
        raise ValueError(f"invalid volume {text!r}: the container path must be absolute")
    mount = VolumeMount(parts[0], parts[1], read_only=mode == "ro")
    if not mount.is_bind and not _NAME.match(mount.source):
        raise ValueError(f"invalid volume {text!r}: {parts[0]!r} is not a volume name")
    return mount


def parse_mode(text: str) -> int:
    """Parse a file mode given as an octal string (``"644"``, ``"0644"``, ``"0o755"``).

    Raises:
        ValueError: The text is not an octal mode.
    """
    digits = text[2:] if text.lower().startswith("0o") else text
    if not digits or not re.fullmatch(r"[0-7]{1,4}", digits):
        raise ValueError(f"invalid file mode {text!r}: expected an octal string such as '644'")
    return int(digits, 8)


def format_mode(mode: int) -> str:
    """Format a mode the way :func:`parse_mode` reads it back: ``0o644`` → ``"0644"``."""
    return f"{mode:04o}"


def check_name(text: str, what: str = "name") -> str:
    """Check that a name can be used as a container, network or volume name.

    Raises:
        ValueError: The name has characters Docker refuses.
    """
    if not _NAME.match(text):
        raise ValueError(
            f"invalid {what} {text!r}: use letters, digits, '_', '.' and '-', "
            "starting with a letter or digit"
        )
    return text


def check_filename(text: str) -> str:
    """Check that a name is a plain file name (no directory part).

    Raises:
        ValueError: The name contains a path separator or is empty.
    """
    if not text or text in (".", "..") or "/" in text or "\\" in text or "\0" in text:
        raise ValueError(
            f"invalid file name {text!r}: give a plain name; use 'directory' or 'path' "
            "for where it goes"
        )
    return text


def parse_duration(text: str | float | int) -> float:
    """Parse a duration: seconds as a number, or ``"90s"``, ``"30m"``, ``"2h"``, ``"1h30m"``.

    Raises:
        ValueError: The text is not a positive duration.
    """
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        compact = text.strip().lower()
        pos, seconds = 0, 0.0
        for match in _DURATION.finditer(compact):
            if compact[pos : match.start()].strip():
                break
            seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            pos = match.end()
        if pos == 0 or compact[pos:].strip():
            try:
                seconds = float(compact)
            except ValueError:
                raise ValueError(
                    f"invalid duration {text!r}: expected seconds or a form like '90s', "
                    "'30m', '2h', '1h30m'"
                ) from None
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: it must be positive")
    return seconds


def resolve_path(path: str | Path, rootdir: Path) -> Path:
    """Resolve a user path: ``~`` expands, relative paths are relative to ``rootdir``."""
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        candidate = rootdir / candidate
    return Path(os.path.normpath(candidate))
