"""Waiting until a container is ready: polled with backoff, never a fixed sleep.

Ready means: it runs; it is healthy, when it has a healthcheck; and something listens on
each published TCP port (unless ``wait_for_ports`` is off). A one-shot container
(``must_complete``) is ready once it has exited with code 0. Used by both engines and by
the reconciler when it starts a container again.
"""

from __future__ import annotations

import threading
import time

from pytest_clockwork.errors import DeploymentError
from pytest_clockwork.runtimes.base import ContainerRuntime, Observed
from pytest_clockwork.specs import ContainerSpec

LOG_TAIL = 30
STEADY = 0.1
"""Seconds a container with nothing else to show it is ready (no healthcheck, no port to
probe) must be seen running: one that exits at once is often still "running" when first
looked at."""


def wait_until_ready(
    runtime: ContainerRuntime,
    spec: ContainerSpec,
    container_id: str,
    *,
    cancelled: threading.Event | None = None,
) -> dict[str, int]:
    """Poll ``runtime`` until the container is ready.

    Returns:
        The published ports, ``"80/tcp"`` → host port (empty when the runtime does not
        report them).

    Raises:
        DeploymentError: It exited, became unhealthy, or was not ready within
            ``start_timeout``; the error carries the last lines of its logs.
    """
    from tenacity import (
        Retrying,
        retry_if_result,
        stop_after_delay,
        stop_never,
        stop_when_event_set,
        wait_exponential,
    )

    if spec.must_complete:
        return wait_until_complete(runtime, spec, container_id, cancelled=cancelled)
    wanted = {port.key for port in spec.ports}
    verdict: dict[str, bool] = {}
    probed = spec.wait_for_ports and any(port.protocol == "tcp" for port in spec.ports)
    first_running: list[float] = []

    def listening(seen: Observed) -> bool:
        published = seen.ports or {}
        return not spec.wait_for_ports or all(
            runtime.listens(seen, port.container_port, published[port.key]) is None
            for port in spec.ports
            if port.protocol == "tcp" and port.key in published
        )

    def steady() -> bool:
        if spec.healthcheck is not None or probed:
            return True  # healthy, or listening, says it more surely than uptime
        first_running[:] = first_running or [time.monotonic()]
        return time.monotonic() - first_running[0] >= STEADY

    def settled(seen: Observed | None) -> bool:
        if seen is None or seen.status in ("exited", "dead"):
            return True
        if spec.healthcheck is not None and seen.health == "unhealthy":
            return True  # its healthcheck failed `retries` times: no use waiting on
        healthy = spec.healthcheck is None or seen.health in ("healthy", None)
        published = seen.ports is None or wanted <= set(seen.ports)
        verdict["ready"] = (
            seen.status == "running" and healthy and published and listening(seen) and steady()
        )
        return verdict["ready"]

    cancel = stop_when_event_set(cancelled) if cancelled is not None else stop_never
    started = time.monotonic()
    seen: Observed | None = Retrying(
        stop=stop_after_delay(spec.start_timeout) | cancel,
        wait=wait_exponential(multiplier=0.01, min=0.005, max=0.5),
        retry=retry_if_result(lambda seen: not settled(seen)),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )(runtime.observe, container_id)
    if seen is not None and verdict.get("ready") and seen.status == "running":
        return dict(seen.ports or {})
    logs = runtime.logs(container_id, tail=LOG_TAIL)
    raise DeploymentError(
        f"resource {spec.key!r}: the container (image {spec.image}) "
        f"{_what(spec, seen, time.monotonic() - started)}"
        + (f"\n--- last {LOG_TAIL} lines of its logs ---\n{logs}" if logs.strip() else ""),
        resource=spec.key,
        logs=logs,
    )


def wait_until_complete(
    runtime: ContainerRuntime,
    spec: ContainerSpec,
    container_id: str,
    *,
    cancelled: threading.Event | None = None,
) -> dict[str, int]:
    """Poll ``runtime`` until a one-shot container (``must_complete``) has exited with
    code 0.

    Returns:
        No published ports (it has exited).

    Raises:
        DeploymentError: It exited with another code, disappeared, or still ran after
            ``start_timeout``; the error carries the last lines of its logs.
    """
    from tenacity import (
        Retrying,
        retry_if_result,
        stop_after_delay,
        stop_never,
        stop_when_event_set,
        wait_exponential,
    )

    cancel = stop_when_event_set(cancelled) if cancelled is not None else stop_never
    seen: Observed | None = Retrying(
        stop=stop_after_delay(spec.start_timeout) | cancel,
        wait=wait_exponential(multiplier=0.01, min=0.005, max=0.5),
        retry=retry_if_result(lambda seen: seen is not None and seen.status not in _ENDED),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )(runtime.observe, container_id)
    if seen is not None and seen.status == "exited" and seen.exit_code == 0:
        return {}
    if seen is None:
        what = "disappeared before it completed"
    elif seen.status in _ENDED:
        what = (
            f"exited with code {seen.exit_code} (it must complete with 0: must_complete, or "
            "depends_on with condition: service_completed_successfully); check its command "
            "and the logs below"
        )
    else:
        what = (
            f"was still {seen.status!r} after {spec.start_timeout:.0f}s, and it must exit "
            "(must_complete); check that its command ends, or raise start_timeout"
        )
    logs = runtime.logs(container_id, tail=LOG_TAIL)
    raise DeploymentError(
        f"resource {spec.key!r}: the one-shot container (image {spec.image}) {what}"
        + (f"\n--- last {LOG_TAIL} lines of its logs ---\n{logs}" if logs.strip() else ""),
        resource=spec.key,
        logs=logs,
    )


_ENDED = ("exited", "dead")


def _what(spec: ContainerSpec, seen: Observed | None, waited: float) -> str:
    if seen is None:
        return "disappeared while starting"
    if seen.status in ("exited", "dead"):
        return (
            f"exited with code {seen.exit_code} instead of running; check its command "
            "(command=..., and the logs below), or set must_run=False for a container "
            "that does its work and exits"
        )
    if spec.healthcheck is not None and seen.health != "healthy":
        return (
            f"was not healthy after {waited:.0f}s (health: {seen.health}); raise "
            "start_timeout or fix the healthcheck"
        )
    if seen.status == "running":
        ports = ", ".join(port.key for port in spec.ports if port.protocol == "tcp")
        return (
            f"ran but nothing listened on its published port(s) {ports} within "
            f"{spec.start_timeout:.0f}s; set wait_for_ports=False if it does not serve "
            "them, or raise start_timeout"
        )
    return f"was still {seen.status!r} after {spec.start_timeout:.0f}s"
