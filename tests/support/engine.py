"""The container engine under test (the one ``DOCKER_HOST`` names, as the product finds
it): Docker or Podman, and what each of them reports in its own way.

Tests that check the engine's own answers (``docker inspect``) expect each engine's
exact answer; everything else is the same on both.
"""

from __future__ import annotations

import functools

PODMAN_ONLY_REGISTRY = "docker.io"
"""Where Podman puts images named without a registry (Docker shows them without one)."""


@functools.cache
def on_podman() -> bool:
    """Whether the engine under test is Podman (asked once, as the product asks)."""
    import docker

    from pytest_clockwork.runtimes.podman import is_podman

    client = docker.from_env(timeout=30)
    try:
        return is_podman(client.api)
    finally:
        client.close()


def reported_image(name: str) -> str:
    """The name the engine reports for an image made or run as ``name`` (a name with no
    registry): as it is on Docker, with its full registry path on Podman."""
    if not on_podman():
        return name
    path = name if "/" in name else f"library/{name}"
    return f"{PODMAN_ONLY_REGISTRY}/{path}"


PODMAN_TMPFS_DEFAULTS = "rw,rprivate,nosuid,nodev,tmpcopyup"
"""The options Podman adds to every tmpfs mount it reports (Docker reports only those given)."""


def reported_tmpfs(options: str) -> str:
    """The options the engine reports (``HostConfig.Tmpfs``) for a tmpfs mount given
    with ``options`` (``""``: none): as given on Docker, with Podman's defaults after them
    on Podman."""
    if not on_podman():
        return options
    return ",".join(part for part in (options, PODMAN_TMPFS_DEFAULTS) if part)


PODMAN_DROPPED_BY_DEFAULT = ("AUDIT_WRITE", "MKNOD", "NET_RAW")
"""Docker's default capabilities that Podman's (``default_capabilities`` in Debian's
containers.conf) leave out: Podman reports them among every container's dropped ones."""


def reported_capabilities(names: list[str], *, dropped: bool = False) -> list[str]:
    """What the engine reports (``HostConfig.CapAdd``, with ``dropped`` ``CapDrop``) for
    capabilities added or dropped as ``names`` (without ``CAP_``): ``CAP_``-prefixed, in
    the order given, on Docker; unprefixed and sorted, with the ones Podman drops by
    default when ``dropped``, on Podman."""
    if not on_podman():
        return [f"CAP_{name}" for name in names]
    return sorted({*names, *(PODMAN_DROPPED_BY_DEFAULT if dropped else ())})


def nothing_listens_behind() -> str:
    """What clockwork finds at a published port that nothing in the container listens
    on (an fnmatch pattern): Docker's userland proxy accepts the connection and closes it
    at once; Podman forwards it (with iptables) to the container, which refuses it."""
    if on_podman():
        return "is not accessible: *Errno 111* Connection refused"
    return "accepted the connection and closed it at once: nothing listens behind it"
