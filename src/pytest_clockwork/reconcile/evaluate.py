"""Evaluating one record: observe what is deployed, compare, run the assertions.

A record is compared three ways: what runs against the spec it was deployed from
(tampering: a container gone, stopped, with another image, env or ports; a file
changed, missing or with another mode), the current declaration against that spec (the
conftest changed since), and, when both agree, the resource's assertions (a failing
one is drift too).
"""

from __future__ import annotations

import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_clockwork.errors import ClockworkError
from pytest_clockwork.reconcile.drift import (
    Drift,
    FileObserved,
    Fix,
    clone_drift,
    container_drift,
    declaration_drift,
    file_drift,
    fix_for,
)
from pytest_clockwork.specs import ContainerSpec, FileSpec, Spec, content_digest, spec_from_json
from pytest_clockwork.state import ResourceRecord

if TYPE_CHECKING:
    from pytest_clockwork.reconcile.loader import Declared
    from pytest_clockwork.resources.base import Resource

_MESSAGE_LIMIT = 300


@dataclass
class Evaluation:
    """What one evaluation of a record found.

    Attributes:
        record: The record evaluated.
        drifts: How it differs from its declaration; empty when it is healthy.
        exists: Something of it still exists (a recreation would destroy it).
        spec: The spec a correction deploys: the declaration's, else the recorded one.
        resource: Its completed declaration, when the declarations are loaded.
        notes: Why something could not be checked (not declared any more...).
    """

    record: ResourceRecord
    drifts: list[Drift] = field(default_factory=list)
    exists: bool = True
    spec: Spec | None = None
    resource: Resource | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def fix(self) -> Fix | None:
        """The fix that corrects every drift found."""
        return fix_for(self.drifts)

    @property
    def destructive(self) -> bool:
        """Whether that fix destroys something that still exists."""
        return self.exists and self.fix == "recreate" and any(d.destructive for d in self.drifts)


def observe_file(path: Path) -> FileObserved | None:
    """What is at ``path`` now (``None``: nothing)."""
    try:
        info = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return FileObserved(is_file=False, digest=None, mode=stat.S_IMODE(info.st_mode))
    try:
        data = path.read_bytes()
    except OSError:
        return FileObserved(is_file=True, digest=None, mode=stat.S_IMODE(info.st_mode))
    return FileObserved(
        is_file=True, digest=content_digest(data), mode=stat.S_IMODE(info.st_mode), size=len(data)
    )


class Evaluator:
    """Evaluates records against their declarations.

    Args:
        assertions: Run the resources' assertions (when nothing else drifted).
        cancel: Stop polling assertions when set (SIGTERM); the result is then partial.
    """

    def __init__(self, *, assertions: bool = True, cancel: threading.Event | None = None) -> None:
        self.assertions = assertions
        self.cancel = cancel

    def evaluate(self, record: ResourceRecord, declared: Declared | None) -> Evaluation:
        """Evaluate ``record``; ``declared`` is ``None`` when only the state is known.

        Raises:
            Exception: What the engine raised when it could not be asked (Docker down).
        """
        evaluation = Evaluation(record)
        recorded: Spec | None = None
        try:
            recorded = spec_from_json(record.spec)
        except (ClockworkError, ValueError, KeyError, TypeError) as exc:
            evaluation.notes.append(f"its recorded spec cannot be read: {exc}")
        if declared is not None:
            try:
                evaluation.resource = declared.resource(record.key)
                if evaluation.resource is None:
                    evaluation.notes.append(
                        "it is no longer declared in any conftest (`clockwork destroy` removes it)"
                    )
                else:
                    evaluation.spec = declared.spec(record.key)
            except ClockworkError as exc:
                evaluation.resource = None
                evaluation.notes.append(f"its declaration cannot be completed: {exc}")
        evaluation.drifts, evaluation.exists = self._observe(record, recorded)
        spec = evaluation.spec
        if spec is not None and spec.fingerprint() != record.fingerprint:
            evaluation.drifts += declaration_drift(spec.to_json(), record.spec)
        if evaluation.spec is None:
            evaluation.spec = recorded
        if not evaluation.drifts and evaluation.resource is not None and self.assertions:
            failed = self._assertions(record, evaluation.resource)
            if failed:  # say what broke, when it broke while they ran (a container killed)
                evaluation.drifts, evaluation.exists = self._observe(record, recorded)
                evaluation.drifts = evaluation.drifts or failed
        return evaluation

    def _observe(self, record: ResourceRecord, recorded: Spec | None) -> tuple[list[Drift], bool]:
        outputs = record.outputs
        if isinstance(recorded, ContainerSpec):
            from pytest_clockwork.runtimes import runtime_for

            container_id = outputs.get("container_id")
            runtime = runtime_for(str(outputs.get("runtime", recorded.runtime)))
            seen = runtime.observe(str(container_id)) if container_id else None
            return container_drift(recorded, seen, outputs.get("ports") or {}), seen is not None
        if isinstance(recorded, FileSpec):
            seen_file = observe_file(Path(str(outputs.get("path") or recorded.path)))
            return file_drift(recorded, seen_file), seen_file is not None
        if record.kind == "git" and outputs.get("path"):
            exists = Path(str(outputs["path"])).exists()
            return clone_drift(str(outputs["path"]), exists), exists
        return [], True

    def _assertions(self, record: ResourceRecord, resource: Resource) -> list[Drift]:
        from pytest_clockwork.items import item_names

        value = resource.deployed_copy(record.outputs, key=record.key)
        drifts = []
        for name, assertion in item_names(resource):
            if not assertion.fits(resource):
                continue
            try:
                assertion.verify(value, cancel=self.cancel)
            except AssertionError as exc:
                drifts.append(Drift("assertion", f"assertion {name} failed: {_first(exc)}"))
            except Exception as exc:  # a broken check fails like a failed one
                message = f"assertion {name} failed: {type(exc).__name__}: {_first(exc)}"
                drifts.append(Drift("assertion", message))
            if self.cancel is not None and self.cancel.is_set():
                break
        return drifts


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= _MESSAGE_LIMIT else line[: _MESSAGE_LIMIT - 3] + "..."
