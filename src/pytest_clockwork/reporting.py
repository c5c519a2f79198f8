"""What clockwork prints: the header line, the plan, the summary, log sections."""

from __future__ import annotations

import shlex
import statistics
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from pytest_clockwork.errors import ClockworkError
from pytest_clockwork.scopes import each, scope_of

if TYPE_CHECKING:
    from pytest_clockwork.deployment import Deployment
    from pytest_clockwork.plan import Step
    from pytest_clockwork.session import ClockworkSession


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def header_line(session: ClockworkSession) -> str:
    """``clockwork: engine local (auto: no Pulumi CLI found), stack 'default', 3 resources
    declared; containers: docker 20.10.24 at unix:///var/run/docker.sock (the default
    socket)``. The container engine is asked only when containers are declared."""
    deployment = session.deployment
    try:
        count = len(deployment.graph.nodes)
    except ClockworkError:
        count = len(session.declarations.resources)
    line = (
        f"clockwork: engine {deployment.engine_name} ({deployment.engine_reason}), "
        f"stack {deployment.options.stack!r}, {_plural(count, 'resource')} declared"
    )
    parts = [line, *container_engines(session)]
    sharing = session.topology.description
    return "; ".join([*parts, sharing] if sharing else parts)


def container_engines(session: ClockworkSession) -> list[str]:
    """``containers: docker 20.10.24 at ...`` for each runtime the declared containers use
    (connecting to it), or why it cannot be reached; nothing without containers."""
    from pytest_clockwork.resources.container import ContainerResource
    from pytest_clockwork.runtimes import runtime_for

    names = sorted(
        {
            part.runtime
            for resource in session.declarations.resources
            for part in resource.walk()
            if isinstance(part, ContainerResource)
        }
    )
    found = []
    for name in names:
        try:
            text = runtime_for(name).describe()
        except ClockworkError as exc:
            text = str(exc)
        if text:
            found.append(f"containers: {text}")
    return found


def endpoints(outputs: Mapping[str, Any]) -> str:
    """Where a deployed resource is reached, from its outputs."""
    if "ports" in outputs and outputs.get("ports"):
        host = outputs.get("host", "127.0.0.1")
        return ", ".join(f"{host}:{port} → {key}" for key, port in sorted(outputs["ports"].items()))
    if "container_name" in outputs:
        return f"container {outputs['container_name']}"
    if "path" in outputs:
        return str(outputs["path"])
    shown = [
        f"{name}={value}"
        for name, value in sorted(outputs.items())
        if isinstance(value, str | int | float | bool)
    ]
    text = ", ".join(shown)
    return text if len(text) <= 80 else text[:79] + "…"


def plan_lines(deployment: Deployment) -> list[str]:
    """What ``--clockwork-plan`` prints: levels, each resource, what would happen (the
    same :class:`~pytest_clockwork.plan.Plan` that apply carries out)."""
    try:
        plan = deployment.plan()
    except ClockworkError as exc:
        return [f"clockwork plan: {exc}"]
    if not plan:
        return ["clockwork plan: the selected tests need no resources"]
    lines = [
        f"clockwork plan for stack {deployment.options.stack!r} "
        f"(engine {deployment.engine_name}), in deploy order:"
    ]
    for number, level in enumerate(plan.levels, start=1):
        lines.append(f"  level {number}:")
        for step in level:
            kind = type(step.task.resource).__name__
            scope = step.task.record.scope
            if scope != "session":
                kind += f", scope {scope}: {each(scope)}"
            summary = _spec_summary(step.spec.to_json())
            lines.append(f"    {step.key} ({kind}{summary}): {_ACTIONS[step.action](step)}")
            lines.extend(f"      {line}" for line in deployment.catalog.details(step.key))
    try:
        preview = deployment.preview(plan)
    except ClockworkError as exc:
        preview = f"preview failed: {exc}"
    if preview:
        lines.append(f"{deployment.engine_name} preview:")
        lines.extend(f"  {line}" for line in preview.splitlines())
    return lines


_ACTIONS: dict[str, Callable[[Step], str]] = {
    "create": lambda step: "create",
    "reuse": lambda step: "reuse kept",
    "replace": lambda step: f"replace kept ({step.reason.removeprefix('kept, but ')})",
    "attach": lambda step: "attach",
}


def _spec_summary(data: Mapping[str, Any]) -> str:
    shown = []
    if data.get("image"):
        build = data.get("build") or {}
        built = f" built from {build['context']}/{build['dockerfile']}" if build else ""
        shown.append(f"image {data['image']}{built}")
    if data.get("ports"):
        shown.append("ports " + ", ".join(_port_text(port) for port in data["ports"]))
    if data.get("path"):
        shown.append(str(data["path"]))
    if data.get("dest"):
        shown.append(f"{data['repo_url']} → {data['dest']}")
    return "".join(f", {item}" for item in shown)


def _port_text(port: Mapping[str, Any]) -> str:
    host = f"{port['host_port']}:" if port.get("host_port") else ""
    return f"{host}{port['container_port']}/{port['protocol']}"


def summary_lines(session: ClockworkSession) -> list[str]:
    """The terminal summary: deployed, failed, kept (and how to destroy), destroyed."""
    lines: list[str] = []
    if session.error:
        lines.append(f"error: {session.error}")
    deployment = session.started
    if deployment is None:
        return lines
    lines.extend(f"warning: {message}" for message in deployment.store.damaged)
    if session.destroyed_stack is not None:
        destroyed = session.destroyed_stack.destroyed
        if session.config.getoption("clockwork_expired", False):
            where, nothing = "expired, destroyed", "nothing had expired"
        else:
            stack = deployment.options.stack
            where, nothing = (
                f"destroyed in stack {stack!r}",
                f"stack {stack!r} had nothing to destroy",
            )
        lines.append(f"{where}: {', '.join(destroyed)}" if destroyed else nothing)
        for record_id, error in session.destroyed_stack.failures.items():
            lines.append(f"could not destroy {record_id}: {error}")
        return lines
    for record in session.shared_records:
        timing = f", ready in {record.seconds:.2f}s" if record.seconds is not None else ""
        lines.append(
            f"shared by all workers: {record.key}: {endpoints(record.outputs)} "
            f"(deployed by {record.worker or 'the controller'}{timing})"
        )
    for key, value in deployment.deployed.items():
        seconds = deployment.seconds.get(key)
        reused = " (reused)" if key in deployment.reused else ""
        timing = f", ready in {seconds:.2f}s" if seconds is not None else ""
        where = endpoints(value.outputs) or (
            "group of " + ", ".join(value.children)
            if value.children
            else f"{type(value).__name__} (no outputs)"
        )
        lines.append(f"deployed {key}: {where}{reused}{timing}")
    for key, times in sorted(deployment.copies.made.items()):
        scope = scope_of(deployment.graph.nodes[key])
        lines.append(
            f"deployed {key}: {len(times)} {scope} {'copy' if len(times) == 1 else 'copies'} "
            f"({each(scope)}), ready in {statistics.median(times):.2f}s (median)"
        )
    reported: set[int] = set()
    for key, error in deployment.failures.items():
        if id(error) not in reported:
            reported.add(id(error))
            lines.append(f"failed {key}: {str(error).splitlines()[0]}")
    if deployment.reaped:
        lines.append(f"cleaned up after a dead session: {', '.join(deployment.reaped)}")
    if session.kept:
        command = destroy_command(deployment)
        for record in session.kept:
            expiry = ""
            if record.expires_at:
                from datetime import datetime

                expiry = f", expires {datetime.fromtimestamp(record.expires_at):%Y-%m-%d %H:%M:%S}"
            lines.append(f"kept {record.key}: {endpoints(record.outputs)}{expiry}")
        lines.append(f"destroy with: {command}")
    if (deployment.options.keep == "always" or session.kept) and deployment.copies.made:
        narrower = ", ".join(
            f"{key} (scope {scope_of(deployment.graph.nodes[key])})"
            for key in sorted(deployment.copies.made)
        )
        lines.append(
            f"not kept: {narrower}: --clockwork-keep keeps only session-scoped resources; a "
            "copy of a narrower scope is removed when its scope ends"
        )
    if session.outcome is not None:
        for record_id, error in session.outcome.failures.items():
            lines.append(f"could not destroy {record_id}: {error}")
    return lines


def destroy_command(deployment: Deployment) -> str:
    """The command that destroys this session's stack."""
    command = ["pytest", "--rootdir", str(deployment.rootdir), "--clockwork-destroy"]
    if deployment.options.stack != "default":
        command += ["--clockwork-stack", deployment.options.stack]
    return shlex.join(command)


def container_logs(
    session: ClockworkSession, item: pytest.Item, *, tail: int
) -> Iterator[tuple[str, str]]:
    """Report sections with the log tail of each container ``item`` used."""
    deployment = session.started
    if deployment is None:
        return
    target = getattr(item, "resource_key", None)
    if target is not None:  # an assertion item: the logs of what it checked
        keys = [target]
    else:
        keys = [resource.key for _, resource in session.declarations.used_by(item)]
    seen: set[str] = set()
    chain = item.listchain()
    for key in keys:
        deployed = deployment.deployed.get(key) or deployment.copies.value_for(chain, key)
        if deployed is None:
            continue
        for part in deployed.walk():
            if part.key in seen or not part.is_deployed or "container_id" not in part.outputs:
                continue
            seen.add(part.key)
            try:
                text = part.logs(tail=tail)  # type: ignore[attr-defined]
            except Exception as exc:  # logs are a courtesy; never mask the failure
                text = f"(logs unavailable: {exc})"
            yield f"clockwork: logs of {part.key} (last {tail} lines)", text or "(no output)"
