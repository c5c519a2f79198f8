"""Podman behind Docker's API: what it answers differently, and what clockwork does about it.

Podman serves Docker's API (``podman system service``); clockwork drives it with the
Docker SDK and the same code as Docker (:mod:`~pytest_clockwork.runtimes.dockerd`).
Where Podman's answers differ, that code asks :func:`is_podman` and uses what this
module offers:

- **Healthchecks.** Podman runs them from systemd timers; without systemd (a CI job in
  a container, most Docker-in-Docker images) they never run and a container stays
  ``starting`` for ever. :func:`run_due_healthcheck` runs a check that is due, through
  Podman's own API, whenever clockwork looks at the container.
- **host-gateway.** Podman 4 writes an ``extra_hosts`` address of ``host-gateway`` into
  ``/etc/hosts`` as it is; :func:`host_gateway` gives the address it stands for, the
  gateway of the container's network (where Podman's ``host.containers.internal`` points).
- **init=True** needs Podman's init binary (catatonit) on the engine's host:
  :data:`INIT_HINT` says so when it is missing.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from docker import APIClient

from pytest_clockwork.errors import DeploymentError

INIT_HINT = (
    ". init=True needs Podman's init binary (catatonit) on the engine's host, which is "
    "missing: install it (apt-get install catatonit), or point init_path in "
    "containers.conf at another init (tini), or leave init out"
)
DEFAULT_INTERVAL = 30.0
"""Seconds between healthchecks when the container's healthcheck does not say."""
_kinds: weakref.WeakKeyDictionary[APIClient, bool] = weakref.WeakKeyDictionary()
_checked: dict[str, float] = {}
"""Container id → when this process last ran its healthcheck (this machine's clock)."""
_lock = threading.Lock()
_FRACTION = re.compile(r"(\.\d{6})\d+")


def is_podman(api: APIClient) -> bool:
    """Whether the engine behind ``api`` is Podman (asked once per client).

    Read from the engine's version answer, as :func:`.endpoint.identify` reads it.
    """
    with _lock:
        known = _kinds.get(api)
    if known is None:
        from pytest_clockwork.runtimes.endpoint import identify

        known = identify(api.version())[0] == "podman"
        with _lock:
            _kinds[api] = known
    return known


def identified(api: APIClient, product: str) -> None:
    """Note what answered on ``api`` when the connection already asked (see
    :class:`.endpoint.Connection`), so :func:`is_podman` does not ask again."""
    with _lock:
        _kinds[api] = product == "podman"


def engine_name(api: APIClient) -> str:
    """``Podman`` or ``Docker``: the engine's name, for messages."""
    return "Podman" if is_podman(api) else "Docker"


def run_due_healthcheck(api: APIClient, attrs: Mapping[str, Any]) -> bool:
    """Run the container's healthcheck when one is due, through Podman's own API.

    Due means: the container runs, has a healthcheck, and its last check ended (or it
    started) at least the healthcheck's interval ago, and this process has not run one
    within the interval. Podman counts the result as its timers would (retries, the
    start period) and updates the container's health.

    Args:
        api: A client of a Podman engine.
        attrs: The container's inspect answer (Docker's shape).

    Returns:
        Whether a check was run (the container's health may have changed).
    """
    state = attrs.get("State") or {}
    check = (attrs.get("Config") or {}).get("Healthcheck") or {}
    test = check.get("Test") or []
    if state.get("Status") != "running" or not test or test[0] == "NONE":
        return False
    interval = (check.get("Interval") or 0) / 1e9 or DEFAULT_INTERVAL
    now = time.time()
    container_id = str(attrs["Id"])
    log = (state.get("Health") or {}).get("Log") or []
    last = _timestamp(log[-1].get("End") if log else state.get("StartedAt"))
    with _lock:
        ours = _checked.get(container_id)
        if (last is not None and now - last < interval) or (
            ours is not None and now - ours < interval
        ):
            return False
        _checked[container_id] = now
    response = api.get(api._url("/libpod/containers/{0}/healthcheck", container_id))
    # 409: it stopped meanwhile; anything else is the check's own result, now recorded.
    return bool(response.status_code != 409)


def forget(container_id: str) -> None:
    """Drop what this process remembers of a removed container."""
    with _lock:
        _checked.pop(container_id, None)


def _timestamp(text: object) -> float | None:
    """Seconds since the epoch of one of the engine's RFC 3339 times (nanoseconds cut
    to microseconds); ``None`` for none, or Go's zero time."""
    if not isinstance(text, str) or not text or text.startswith("0001-"):
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", text.replace("Z", "+00:00"))).timestamp()
    except ValueError:
        return None


def host_gateway(api: APIClient, network: str | None, *, resource: str) -> str:
    """The address ``host-gateway`` stands for in a container on ``network``: its
    gateway, where the engine's host answers (Podman's ``host.containers.internal``).

    Args:
        api: A client of a Podman engine.
        network: The container's first network; ``None``: the default one.
        resource: The resource's key, for the error.

    Raises:
        DeploymentError: The network has no IPv4 gateway (an internal network).
    """
    attrs = api.inspect_network(network or "bridge")
    for config in (attrs.get("IPAM") or {}).get("Config") or []:
        gateway = (config or {}).get("Gateway") or ""
        if gateway and ":" not in gateway:
            return str(gateway)
    raise DeploymentError(
        f"resource {resource!r}: extra_hosts asks for 'host-gateway', but Podman's network "
        f"{attrs.get('Name') or network!r} has no gateway to the host (an internal network?): "
        "give the host's address instead of 'host-gateway', or put the container on a "
        "network with a gateway",
        resource=resource,
    )
