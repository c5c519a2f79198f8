"""Docker's run options on a DockerResource: their notations, checks and normalised values.

``tmpfs``, ``mem_limit``, ``cpus``, ``shm_size``, ``cap_add``, ``cap_drop``,
``extra_hosts``, ``platform`` and ``files`` are checked here when the resource is
declared (each error names the field, the value and the form expected) and normalised
once (sizes in bytes, capabilities as Docker stores them) for
:class:`~pytest_clockwork.specs.ContainerSpec`, which both engines read.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from pytest_clockwork.specs import HOST_GATEWAY

MIB = 1024 * 1024
MIN_MEMORY = 6 * MIB
"""The smallest memory limit Docker accepts."""

_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?([kmgtp])?i?b?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_SIZE_EXAMPLES = "e.g. '256m', '1g', '512mb', or a number of bytes"
_HOST = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_PLATFORM = re.compile(r"([a-z0-9]+)(?:/([a-z0-9_]+)(?:/([a-z0-9.]+))?)?")
_OPERATING_SYSTEMS = frozenset(
    {"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix"}
)
CAPABILITIES = frozenset(
    {
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
        "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
        "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
        "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
        "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
        "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
    }
)  # fmt: skip
"""Linux's capabilities, without the ``CAP_`` prefix (``man 7 capabilities``)."""
_TMPFS_FLAGS = frozenset(
    {
        "rw", "ro", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "sync", "async",
        "dirsync", "mand", "nomand", "atime", "noatime", "diratime", "nodiratime",
        "relatime", "norelatime", "strictatime", "nostrictatime", "tmpcopyup",
        "notmpcopyup",
    }
)  # fmt: skip
_TMPFS_VALUES = {
    "size": re.compile(r"[0-9]+[kmg%]?", re.IGNORECASE),
    "mode": re.compile(r"[0-7]{3,4}"),
    "uid": re.compile(r"[0-9]+"),
    "gid": re.compile(r"[0-9]+"),
    "nr_inodes": re.compile(r"[0-9]+[kmg]?", re.IGNORECASE),
    "nr_blocks": re.compile(r"[0-9]+[kmg]?", re.IGNORECASE),
}


def parse_size(value: object) -> int:
    """A size in bytes from Docker's notation (``"256m"``, ``"1g"``, ``"512MiB"``) or an int.

    Units are binary, as Docker reads them: ``k`` is 1024 bytes, ``m`` 1024², ``g`` 1024³.

    Raises:
        ValueError: Not a size, or not positive.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"invalid size {value!r}: give a string like '256m' or a number of bytes")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"invalid size {value!r}: use Docker's notation, {_SIZE_EXAMPLES}")
        size = math.floor(float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()])
    if size <= 0:
        raise ValueError(f"invalid size {value!r}: it must be more than 0 bytes, {_SIZE_EXAMPLES}")
    return size


def check_memory(size: int) -> int:
    """Refuse a memory limit below Docker's minimum (6 MiB)."""
    if size < MIN_MEMORY:
        raise ValueError(
            f"mem_limit of {size} bytes is below Docker's minimum of 6 MiB: give e.g. '64m'"
        )
    return size


def parse_cpus(value: object) -> float:
    """A number of CPUs (``1.5``, ``"0.5"``), at least 0.01 as Docker counts them.

    Raises:
        ValueError: Not a number, or out of range.
    """
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        cpus = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"invalid cpus {value!r}: give a number of CPUs, e.g. cpus=1.5") from None
    if not math.isfinite(cpus) or not 0.01 <= cpus <= 1024:
        raise ValueError(
            f"invalid cpus {value!r}: give a number of CPUs from 0.01 up, e.g. cpus=0.5 or cpus=2"
        )
    return cpus


def normalise_capability(value: object) -> str:
    """A capability as Docker stores it: ``net_admin`` and ``NET_ADMIN`` → ``CAP_NET_ADMIN``.

    Raises:
        ValueError: Not a Linux capability; the message suggests the nearest one.
    """
    if not isinstance(value, str):
        raise ValueError(f"invalid capability {value!r}: give its name, e.g. 'NET_ADMIN'")
    name = value.strip().upper()
    if name == "ALL":
        return name
    bare = name.removeprefix("CAP_")
    if bare not in CAPABILITIES:
        close = difflib.get_close_matches(bare, sorted(CAPABILITIES), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(
            f"unknown capability {value!r}: {hint}give a Linux capability's name, e.g. "
            "'NET_ADMIN' or 'SYS_PTRACE' (the CAP_ prefix is optional), or 'ALL'"
        )
    return f"CAP_{bare}"


def check_container_path(text: str, what: str) -> str:
    """Check an absolute path inside the container (``/scratch``, ``/etc/app.conf``).

    Raises:
        ValueError: It is relative, the root itself, or not in its plain form.
    """
    if not text.startswith("/"):
        raise ValueError(
            f"{what} {text!r}: paths inside the container are absolute, e.g. '/{text.lstrip('./')}'"
        )
    plain = posixpath.normpath(text)
    if plain == "/" or plain.startswith("//"):
        raise ValueError(f"{what} {text!r}: give a path below '/', e.g. '/scratch'")
    if plain != text or any(part in (".", "..") for part in text.split("/")):
        raise ValueError(f"{what} {text!r}: write it plainly, as {plain!r}")
    return text


def split_tmpfs(text: str) -> tuple[str, str]:
    """``"/scratch:size=64m,mode=1777"`` → ``("/scratch", "size=64m,mode=1777")``."""
    path, _, options = text.partition(":")
    return path, options


def check_tmpfs(text: str) -> str:
    """Check a tmpfs mount: ``"/scratch"`` or ``"/scratch:size=64m,mode=1777"``.

    Raises:
        ValueError: A relative path, or an option Docker's tmpfs does not take.
    """
    path, options = split_tmpfs(text)
    check_container_path(path, "tmpfs path")
    for option in options.split(",") if options else ():
        name, equals, value = option.partition("=")
        known = name in _TMPFS_FLAGS if not equals else name in _TMPFS_VALUES
        if not known:
            shown = ", ".join(sorted(_TMPFS_VALUES)) + " or flags like noexec, nosuid"
            raise ValueError(
                f"tmpfs {text!r}: unknown option {option!r}; tmpfs takes {shown}, e.g. "
                "'/scratch:size=64m,mode=1777'"
            )
        if equals and not _TMPFS_VALUES[name].fullmatch(value):
            example = {"size": "64m", "mode": "1777"}.get(name, "1000")
            raise ValueError(f"tmpfs {text!r}: invalid {name}={value!r}, e.g. {name}={example}")
    return text


def normalise_extra_hosts(value: object) -> object:
    """``{"name": "ip"}`` as given, or Compose's list form ``["name:ip", "name=ip"]``."""
    if not isinstance(value, list | tuple):
        return value
    hosts: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str) or not re.match(r"[^:=]+[:=].", item):
            raise ValueError(
                f"extra_hosts entry {item!r}: give 'name:address', or a mapping "
                '{"host.docker.internal": "host-gateway"}'
            )
        name, address = re.split(r"[:=]", item, maxsplit=1)
        hosts[name] = address
    return hosts


def check_extra_hosts(hosts: Mapping[str, str]) -> Mapping[str, str]:
    """Check host names and addresses (an IP address, or ``"host-gateway"``).

    Raises:
        ValueError: A name or an address Docker would refuse.
    """
    for name, address in hosts.items():
        if not _HOST.fullmatch(name):
            raise ValueError(
                f"extra_hosts name {name!r}: give a host name (letters, digits, '-' and '.'), "
                "e.g. 'host.docker.internal'"
            )
        if address != HOST_GATEWAY:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(
                    f"extra_hosts[{name!r}] = {address!r}: give an IP address, or "
                    f"'{HOST_GATEWAY}' for the Docker host itself"
                ) from None
    return hosts


def check_platform(text: str) -> str:
    """Check a platform: ``os[/arch[/variant]]``, e.g. ``"linux/amd64"``, ``"linux/arm64/v8"``.

    Raises:
        ValueError: Another form, or an unknown operating system first.
    """
    match = _PLATFORM.fullmatch(text)
    if match is None or match.group(1) not in _OPERATING_SYSTEMS:
        hint = "platforms are lowercase; " if text != text.lower() else ""
        raise ValueError(
            f"invalid platform {text!r}: {hint}give os/arch[/variant], the OS first, e.g. "
            "'linux/amd64' or 'linux/arm64'"
        )
    return text


def unique(field: str, items: Iterable[str]) -> None:
    """Refuse an item given twice in ``field``."""
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ValueError(f"{field} names {item!r} twice; give each once")
        seen.add(item)


def inside(path: str, mount: str) -> bool:
    """Whether ``path`` is ``mount`` or below it."""
    return path == mount or path.startswith(mount.rstrip("/") + "/")


def _memory(value: Any) -> int:
    return check_memory(parse_size(value))


Size = Annotated[int, BeforeValidator(parse_size)]
"""A size in bytes; accepts Docker's notation (``"256m"``) and ints."""

MemoryLimit = Annotated[int, BeforeValidator(_memory)]
"""A memory limit in bytes: a :data:`Size` of at least 6 MiB."""

Cpus = Annotated[float, BeforeValidator(parse_cpus)]
"""A number of CPUs."""

Capability = Annotated[str, BeforeValidator(normalise_capability)]
"""A Linux capability, stored as ``CAP_NAME`` (or ``ALL``)."""

Tmpfs = Annotated[str, AfterValidator(check_tmpfs)]
"""A tmpfs mount: ``"/scratch"`` or ``"/scratch:size=64m,mode=1777"``."""

ExtraHosts = Annotated[
    dict[str, str], BeforeValidator(normalise_extra_hosts), AfterValidator(check_extra_hosts)
]
"""Extra ``/etc/hosts`` entries: name → IP address or ``"host-gateway"``."""

Platform = Annotated[str, AfterValidator(check_platform)]
"""A platform, ``os[/arch[/variant]]``."""
