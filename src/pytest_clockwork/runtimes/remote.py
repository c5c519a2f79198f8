"""What cannot work on an engine on another host, refused before anything is created.

A remote engine (``DOCKER_HOST=tcp://docker:2375``, ``ssh://me@box``) runs containers
on its own host: a bind mount names a path of *that* host's filesystem, where this
machine's ``./data`` is not (Docker would mount an empty directory it makes there), and
a port published on its loopback is out of reach from here. Everything else clockwork
sends over the engine's API (images to build, ``files={...}``), and works.
"""

from __future__ import annotations

from pytest_clockwork.errors import DeploymentError
from pytest_clockwork.runtimes.endpoint import Endpoint
from pytest_clockwork.specs import ContainerSpec

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def refuse_remote(spec: ContainerSpec, endpoint: Endpoint) -> None:
    """Refuse what ``spec`` needs of this machine when ``endpoint`` is on another host.

    Raises:
        DeploymentError: Naming the resource, each field that cannot work, and what to
            use instead.
    """
    if not endpoint.remote:
        return
    problems, fixes = [], []
    binds = [
        f"volumes.{index} would mount {mount.source} from that host's filesystem (not this "
        "machine's: an empty directory there)"
        for index, mount in enumerate(spec.volumes)
        if mount.is_bind
    ]
    if binds:
        problems += binds
        fixes.append(
            "put files in the container with files={path: text} (or a FileResource), or "
            "use a named volume (volumes=['data:/data'])"
        )
    loopback = [
        f"ports '{port.host_ip}:{port.host_port or ''}:{port.key}' would be published on "
        "that host's loopback, out of reach from here"
        for port in spec.ports
        if port.host_ip in _LOOPBACK
    ]
    if loopback:
        problems += loopback
        fixes.append(
            "leave the address out of ports (free ports are published where tests reach them)"
        )
    if not problems:
        return
    local = (
        "unset DOCKER_HOST" if endpoint.found_by == "DOCKER_HOST" else "docker context use default"
    )
    raise DeploymentError(
        f"resource {spec.key!r} cannot run on the Docker engine at {endpoint.url} "
        f"({endpoint.found_by}), which is on another host: "
        + "; ".join(problems)
        + ". "
        + "; ".join(fix[0].upper() + fix[1:] for fix in fixes)
        + f"; or run on an engine on this machine ({local})",
        resource=spec.key,
    )
