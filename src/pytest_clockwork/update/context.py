"""What the model is shown for an update: the declarations, the pinned completions of
``clockwork.lock``, the stack's records, and what the engine observes now.

Secret values are never shown: declarations show them as ``${secret:...}`` references
(:meth:`Resource.context`), and an observed environment variable whose declared value
holds a secret is shown as that reference too.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_clockwork.completion.lockfile import LockEntry
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.state import ResourceRecord

logger = logging.getLogger("pytest_clockwork.update")

Json = dict[str, Any]


@dataclass
class Context:
    """Everything an update starts from.

    Attributes:
        rootdir: pytest's rootdir.
        stack: The stack.
        roots: The declared module-level resources by key.
        where: The conftest each resource is declared in (as shown), by key.
        pinned: The pinned completions of ``clockwork.lock`` by key.
        records: The stack's kept records by key.
        observed: What the engine observes of each kept record now, by key.
    """

    rootdir: Path
    stack: str
    roots: dict[str, Resource]
    where: dict[str, str] = field(default_factory=dict)
    pinned: dict[str, LockEntry] = field(default_factory=dict)
    records: dict[str, ResourceRecord] = field(default_factory=dict)
    observed: dict[str, Json] = field(default_factory=dict)

    def declarations(self) -> Json:
        """The declarations as the model sees them: fields, numbered checks, where."""
        shown: Json = {}
        for key, resource in self.roots.items():
            entry = resource.context()
            if resource.assertions:
                entry["assertions"] = {
                    str(number): {"type": type(check).__name__, **_arguments(check)}
                    for number, check in enumerate(resource.assertions, start=1)
                }
            connected = [other.key for other in resource.connections]
            if connected:
                entry["connect"] = connected
            if resource.children:
                entry["children"] = sorted(resource.children)
            if key in self.where:
                entry["conftest"] = self.where[key]
            if key in self.pinned:
                entry["completed_from_lock"] = self.pinned[key].values
            shown[key] = entry
        return shown

    def deployed(self) -> Json:
        """The stack's kept records and what is observed of them now."""
        shown: Json = {}
        for key, record in self.records.items():
            outputs = {
                name: value
                for name, value in record.outputs.items()
                if name in ("ports", "path", "hostname", "url", "image")
            }
            shown[key] = {"kind": record.kind, "outputs": outputs}
            if key in self.observed:
                shown[key]["observed_now"] = self.observed[key]
        return shown


def gather(
    rootdir: Path,
    stack: str,
    roots: Mapping[str, Resource],
    where: Mapping[str, str],
    records: Mapping[str, ResourceRecord],
) -> Context:
    """The context of an update: reads ``clockwork.lock`` and observes the kept records.

    Raises:
        LockfileError: ``clockwork.lock`` cannot be read.
    """
    from pytest_clockwork.completion.lockfile import Lockfile

    entries = Lockfile(rootdir).read()
    context = Context(
        rootdir=rootdir,
        stack=stack,
        roots=dict(roots),
        where=dict(where),
        pinned={key: entry for key, entry in entries.items() if key in roots},
        records=dict(records),
    )
    for key, record in records.items():
        try:
            seen = observe(record, roots.get(key))
        except Exception as exc:  # the engine could not be asked: say so, go on
            logger.debug("could not observe %s: %s", key, exc)
            seen = {"unknown": f"could not be observed ({type(exc).__name__})"}
        if seen is not None:
            context.observed[key] = seen
    return context


def observe(record: ResourceRecord, declared: Resource | None) -> Json | None:
    """What is deployed for ``record`` now, as JSON (secret values as references)."""
    from pytest_clockwork.reconcile.evaluate import observe_file

    outputs = record.outputs
    if record.kind == "container" and outputs.get("container_id"):
        from pytest_clockwork.runtimes import runtime_for

        runtime = runtime_for(str(outputs.get("runtime") or record.spec.get("runtime") or "docker"))
        seen = runtime.observe(str(outputs["container_id"]))
        if seen is None:
            return {"status": "gone"}
        hidden = _secret_names(declared)
        env = {
            name: (f"${{secret:{record.key}.env_vars.{name}}}" if name in hidden else value)
            for name, value in (seen.env or {}).items()
        }
        return {
            "status": seen.status,
            "health": seen.health,
            "image": seen.image,
            "env": env,
            "ports": seen.ports,
        }
    if record.kind == "file" and (outputs.get("path") or record.spec.get("path")):
        path = Path(str(outputs.get("path") or record.spec.get("path")))
        file = observe_file(path)
        if file is None:
            return {"exists": False}
        shown: Json = {"exists": True, "mode": oct(file.mode)}
        secret = declared is not None and "${secret:" in json.dumps(declared.context())
        if file.is_file and file.size is not None and file.size <= 2000 and not secret:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                shown["content"] = path.read_text(encoding="utf-8")
        return shown
    return None


def _secret_names(declared: Resource | None) -> set[str]:
    if declared is None:
        return set()
    env = declared.context().get("env_vars") or {}
    return {name for name, value in env.items() if "${secret:" in json.dumps(value)}


def _arguments(check: Any) -> Json:
    data: Json = check.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    return data
