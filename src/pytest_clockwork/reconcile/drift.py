"""What counts as drift: pure comparisons of a spec with what was observed.

Nothing here touches Docker or the disk. A drift names what differs, says it in words
(never with an environment variable's value: those are often secrets and end up in
webhooks), and says how it is fixed: ``start`` a stopped container, ``record`` a host
port that moved (only the state changes), or ``recreate`` (destroy what is there and
create it again from the declaration). ``destructive`` marks a fix that would destroy
something that still exists, which a ``stateful=True`` resource only gets with
``--allow-stateful``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pytest_clockwork.notation import format_mode, same_image

if TYPE_CHECKING:
    from pytest_clockwork.runtimes.base import Observed
    from pytest_clockwork.specs import ContainerSpec, FileSpec

Fix = Literal["start", "record", "recreate"]
FIX_ORDER: tuple[Fix, ...] = ("recreate", "start", "record")
"""When several drifts need fixing, the first of these that any needs does for all."""


@dataclass(frozen=True)
class Drift:
    """One way a deployed resource differs from its declaration.

    Attributes:
        what: A short tag: ``gone``, ``stopped``, ``image``, ``env``, ``port``,
            ``health``, ``missing``, ``content``, ``mode``, ``declaration``, ``assertion``.
        message: What differs, in words.
        fix: How it is corrected.
        destructive: The fix destroys something that still exists.
    """

    what: str
    message: str
    fix: Fix = "recreate"
    destructive: bool = True

    def to_json(self) -> dict[str, Any]:
        """The drift as sent in alerts."""
        return {"what": self.what, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class FileObserved:
    """What is at a file resource's path.

    Attributes:
        is_file: It is a regular file (not a directory).
        digest: The digest of its content (``None`` when unreadable), as in the state.
        mode: Its permission bits.
        size: Its size in bytes (``None`` when unreadable).
    """

    is_file: bool
    digest: str | None
    mode: int
    size: int | None = None


def container_drift(
    spec: ContainerSpec, seen: Observed | None, recorded_ports: Mapping[str, int]
) -> list[Drift]:
    """How a container differs from the spec it was deployed from.

    Only what the runtime reports is compared: a field of ``seen`` that is ``None`` (the
    runtime cannot see it) is never taken for a difference.

    Args:
        spec: The spec the container was created from.
        seen: What the runtime reports of it now (``None``: it no longer exists).
        recorded_ports: The host ports recorded when it was deployed, ``"80/tcp"`` → port.
    """
    if seen is None:
        return [Drift("gone", "the container no longer exists", "recreate", destructive=False)]
    drifts = []
    if seen.image is not None and not same_image(seen.image, spec.image):
        drifts.append(Drift("image", f"it runs image {seen.image!r}, declared {spec.image!r}"))
    env = seen.env if seen.env is not None else {}
    for name in sorted(spec.env) if seen.env is not None else ():
        if name not in env:
            drifts.append(Drift("env", f"env {name} is not set in the container"))
        elif not spec.env_matches(name, env[name]):
            drifts.append(Drift("env", f"env {name} has another value than declared"))
    if spec.must_run:
        drifts.extend(_status_drift(seen))
    if seen.status == "running" and seen.ports is not None:
        drifts.extend(_port_drift(spec, seen.ports, recorded_ports))
        if spec.healthcheck is not None and seen.health == "unhealthy":
            drifts.append(Drift("health", "its healthcheck reports it unhealthy"))
    return drifts


def _status_drift(seen: Observed) -> list[Drift]:
    if seen.status in ("exited", "created", "paused"):
        code = f" (exit code {seen.exit_code})" if seen.exit_code is not None else ""
        message = f"the container is {seen.status}{code}, declared running"
        return [Drift("stopped", message, "start", destructive=False)]
    if seen.status == "removing":
        return [Drift("gone", "the container is being removed", destructive=False)]
    if seen.status == "dead":
        return [Drift("stopped", "the container is dead, declared running")]
    return []


def _port_drift(
    spec: ContainerSpec, published: Mapping[str, int], recorded: Mapping[str, int]
) -> list[Drift]:
    drifts = []
    for port in spec.ports:
        host = published.get(port.key)
        if host is None:
            drifts.append(Drift("port", f"port {port.key} is not published"))
        elif port.host_port is not None and host != port.host_port:
            drifts.append(
                Drift("port", f"port {port.key} is on host port {host}, declared {port.host_port}")
            )
        elif port.host_port is None and recorded.get(port.key) not in (None, host):
            drifts.append(
                Drift(
                    "port",
                    f"port {port.key} moved to host port {host} (recorded {recorded[port.key]})",
                    "record",
                    destructive=False,
                )
            )
    return drifts


def file_drift(spec: FileSpec, seen: FileObserved | None) -> list[Drift]:
    """How a file differs from the spec it was written from (``seen`` None: missing)."""
    if seen is None:
        return [Drift("missing", f"{spec.path} no longer exists", "recreate", destructive=False)]
    if not seen.is_file:
        return [Drift("missing", f"{spec.path} is no longer a file")]
    drifts = []
    if seen.digest != spec.digest:
        what = "it is unreadable" if seen.digest is None else f"now {seen.size} bytes"
        drifts.append(Drift("content", f"{spec.path} was changed ({what})"))
    if seen.mode != spec.mode:
        drifts.append(
            Drift(
                "mode",
                f"{spec.path} has mode {format_mode(seen.mode)}, declared {format_mode(spec.mode)}",
                destructive=False,
            )
        )
    return drifts


def clone_drift(dest: str, exists: bool) -> list[Drift]:
    """A repository clone that is gone."""
    if exists:
        return []
    return [Drift("missing", f"the clone at {dest} no longer exists", destructive=False)]


def declaration_drift(declared: Mapping[str, Any], recorded: Mapping[str, Any]) -> list[Drift]:
    """The fields of the declaration (as spec JSON) that changed since deployment."""
    changed = [
        field
        for field in sorted(set(declared) | set(recorded))
        if field != "key" and declared.get(field) != recorded.get(field)
    ]
    if not changed:
        return []
    shown = ", ".join(_changed_field(field, declared, recorded) for field in changed)
    return [Drift("declaration", f"the declaration changed since it was deployed: {shown}")]


def _changed_field(field: str, declared: Mapping[str, Any], recorded: Mapping[str, Any]) -> str:
    new, old = declared.get(field), recorded.get(field)
    if field == "env" and isinstance(new, Mapping) and isinstance(old, Mapping):
        names = sorted(name for name in set(new) | set(old) if new.get(name) != old.get(name))
        return f"env ({', '.join(names)})"
    if field == "digest":
        return "content"
    if field == "build":
        return "build (the image's code, Dockerfile or arguments)"
    if field in ("settings", "labels"):
        return field
    return f"{field} ({_short(old)} → {_short(new)})"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


def fix_for(drifts: Iterable[Drift]) -> Fix | None:
    """The one fix that corrects all of ``drifts`` (``None`` when there are none)."""
    needed = {drift.fix for drift in drifts}
    return next((fix for fix in FIX_ORDER if fix in needed), None)


def summary(drifts: Iterable[Drift]) -> str:
    """The drifts in one line."""
    return "; ".join(drift.message for drift in drifts)
