"""Parsers for the small notations users type: ports, volumes, file modes, durations.

Each parser raises ``ValueError`` with a message that shows the expected forms, so
that pydantic turns it into a ``ValidationError`` naming the field and the value.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os.path
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Protocol = Literal["tcp", "udp", "sctp"]

_PORT_FORMS = '"80", "8080:80", "127.0.0.1:8080:80", "127.0.0.1::80", "[::1]:8080:80" or "53/udp"'
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# The lookbehind keeps the scan linear: a number is only tried where one starts.
_DURATION = re.compile(r"(?<![0-9.])([0-9]+(?:\.[0-9]+)?)\s*([smhdw])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
MAX_DURATION = 100 * 365 * 86400.0
"""The longest duration accepted, in seconds (Docker counts nanoseconds in an int64)."""
_DOMAIN_PART = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?/)?"
    rf"{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


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
    if not (text.isascii() and text.isdigit() and len(text) <= 5 and 0 < int(text) < 65536):
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
        raise ValueError(
            f"invalid port {original!r}: unknown protocol {protocol!r}; use tcp (the "
            'default), udp or sctp, e.g. "53/udp"'
        )
    if body.startswith("["):  # an IPv6 host address: "[::1]:8080:80"
        address, bracket, rest = body[1:].partition("]")
        if not bracket or not rest.startswith(":") or ":" not in address:
            raise ValueError(f"invalid port {original!r}: expected {_PORT_FORMS}")
        parts = [address, *rest[1:].split(":")]
    else:
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
            if ":" in host_ip and not body.startswith("["):
                raise ValueError
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
    if "\0" in text:
        raise ValueError(f"invalid volume {text!r}: it contains a NUL character")
    if not mount.is_bind and (len(mount.source) < 2 or not _NAME.fullmatch(mount.source)):
        raise ValueError(
            f"invalid volume {text!r}: {parts[0]!r} is neither a host path (start it with "
            "'/', './' or '~') nor a volume name (2 or more letters, digits, '_', '.', '-'); "
            f"expected {forms}"
        )
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
    if not _NAME.fullmatch(text):
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
    if len(text.encode(errors="surrogatepass")) > 255:
        raise ValueError(
            f"invalid file name {text!r}: it is {len(text.encode(errors='surrogatepass'))} "
            "bytes long, and file systems take at most 255; give a shorter name"
        )
    return text


def parse_duration(text: str | float | int, *, allow_zero: bool = False) -> float:
    """Parse a duration: seconds as a number, or ``"90s"``, ``"30m"``, ``"2h"``, ``"1h30m"``.

    Args:
        text: The duration.
        allow_zero: Accept ``0`` (a grace period that may be none).

    Raises:
        ValueError: The text is not a finite, positive duration of at most 100 years.
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(
            f"invalid duration {text!r}: give seconds as a number or a string like '30m'"
        )
    if isinstance(text, int | float):
        try:
            seconds = float(text)
        except OverflowError:
            seconds = math.inf
        if math.isnan(seconds):
            raise ValueError(f"invalid duration {text!r}: give a number of seconds")
    else:
        compact = text.strip().lower()
        pos, seconds = 0, 0.0
        for match in _DURATION.finditer(compact):
            if compact[pos : match.start()].strip():
                break
            seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            pos = match.end()
        if pos == 0 or compact[pos:].strip():
            if not _NUMBER.fullmatch(compact):
                raise ValueError(
                    f"invalid duration {text!r}: expected seconds or a form like '90s', "
                    "'30m', '2h', '1h30m'"
                )
            seconds = float(compact)
    if not math.isfinite(seconds) or seconds > MAX_DURATION:
        raise ValueError(f"invalid duration {text!r}: it must be at most 100 years")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(
            f"invalid duration {text!r}: it must be positive" + (" or zero" if allow_zero else "")
        )
    return seconds + 0.0  # never -0.0


def check_text(text: str, what: str) -> str:
    """Check that ``text`` can be encoded as UTF-8 (it has no lone surrogate).

    Raises:
        ValueError: It cannot; the message says where.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{what} is not valid text: it has the lone surrogate {text[exc.start]!r} at "
            f"position {exc.start} (from bytes decoded with errors='surrogateescape'?); "
            "give proper text"
        ) from None
    return text


def check_image(text: str) -> str:
    """Check that ``text`` is an image reference Docker accepts (``postgres:16-alpine``).

    Raises:
        ValueError: It is not; the message shows the expected form.
    """
    if len(text) > 255 or not _IMAGE.fullmatch(text):
        if not text.strip():
            problem = "it is empty"
        elif any(char.isspace() for char in text):
            problem = "it has spaces in it"
        elif _IMAGE.fullmatch(text.lower()):
            problem = "repository names are lowercase"
        else:
            problem = "it is not of that form"
        raise ValueError(
            f"invalid image {text!r}: {problem}; expected [registry/]name[:tag][@digest], "
            "e.g. 'postgres:16-alpine' or 'ghcr.io/org/app:1.2'"
        )
    return text


_DEFAULT_DOMAINS = ("docker.io", "index.docker.io", "localhost")
"""Registries an image's short name stands for: Docker's default one, and Podman's
``localhost`` (where Podman keeps images it built or imported without a registry)."""


def familiar_image(reference: str) -> str:
    """The short form of an image reference, as ``docker`` shows it: ``busybox:latest``
    for ``docker.io/library/busybox`` or ``busybox``.

    The registry is dropped when it is a default one (``docker.io``, where a one-part
    name is under ``library/``, or Podman's ``localhost``); the tag defaults to
    ``latest`` (not with a digest). Podman reports the full names of images that Docker
    reports as they were given: compare these forms, not the names.
    """
    name = reference
    first, _, rest = name.partition("/")
    on_docker_hub = True
    if rest and ("." in first or ":" in first or first == "localhost"):  # a registry
        on_docker_hub = first != "localhost" and first in _DEFAULT_DOMAINS
        if first in _DEFAULT_DOMAINS:
            name = rest
    if on_docker_hub and name.startswith("library/") and name.count("/") == 1:
        name = name.removeprefix("library/")
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def same_image(first: str, second: str) -> bool:
    """Whether two image references name the same image (see :func:`familiar_image`)."""
    return familiar_image(first) == familiar_image(second)


def check_env_name(text: str) -> str:
    """Check an environment variable's name: not empty, no ``=`` and no NUL.

    Raises:
        ValueError: It is not usable.
    """
    if not text or "=" in text or "\0" in text or text != text.strip():
        raise ValueError(
            f"invalid environment variable name {text!r}: names are not empty and have no "
            "'=', NUL or surrounding spaces (write env_vars={'NAME': 'value'})"
        )
    return text


def resolve_path(path: str | Path, rootdir: Path) -> Path:
    """Resolve a user path: ``~`` expands, relative paths are relative to ``rootdir``.

    Raises:
        ValueError: The path holds a NUL character or a lone surrogate.
    """
    text = str(path)
    if "\0" in text:
        raise ValueError(f"invalid path {text!r}: it contains a NUL character")
    check_text(text, f"path {text!r}")
    candidate = Path(text)
    if text.startswith("~"):
        with contextlib.suppress(RuntimeError):  # "~someone" unknown here: a plain name
            candidate = candidate.expanduser()
    if not candidate.is_absolute():
        candidate = rootdir / candidate
    return Path(os.path.normpath(candidate))
