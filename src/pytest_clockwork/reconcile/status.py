"""``clockwork status``: each stack's resources, their health, expiry and corrections.

It works from the state alone; with the declarations it also shows what changed in
them and each resource's ``on_drift``. Health is ``ok``, ``drifted`` (what differs is
listed under the row), ``unknown`` (the engine did not answer), ``creating`` or
``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_clockwork.reconcile.evaluate import Evaluator
from pytest_clockwork.reconcile.faults import engine_fault, reset_docker, uses_docker
from pytest_clockwork.reconcile.safety import describe, ledger_path
from pytest_clockwork.reporting import endpoints
from pytest_clockwork.state import (
    ResourceRecord,
    SessionEntry,
    StateStore,
    process_alive,
    this_host,
)

if TYPE_CHECKING:
    from pytest_clockwork.reconcile.loader import Declared

HEADERS = ("RESOURCE", "KIND", "OWNER", "HEALTH", "ON DRIFT", "EXPIRES", "WHERE")


@dataclass
class Status:
    """The status of some stacks.

    Attributes:
        lines: What ``clockwork status`` prints.
        drifted: Whether any resource drifted (the command then exits with 1).
    """

    lines: list[str]
    drifted: bool


def stack_status(
    rootdir: Path,
    stacks: list[str],
    declared: Declared | None,
    *,
    evaluator: Evaluator,
    now: float,
) -> Status:
    """The status of ``stacks`` under ``rootdir``."""
    if not stacks:
        return Status([f"no stacks under {rootdir}: nothing is deployed or kept"], False)
    lines: list[str] = []
    drifted = False
    for stack in stacks:
        state = StateStore(rootdir, stack).read()
        records = sorted(state.records.values(), key=lambda r: (r.level, r.key, r.session))
        lines.append(f"stack {stack!r}: {len(records)} resource{'' if len(records) == 1 else 's'}")
        health = _Health(evaluator, declared)
        rows: list[tuple[str, ...]] = []
        details: list[list[str]] = []
        for record in records:
            condition, notes = health.of(record)
            drifted = drifted or condition == "drifted"
            corrections = describe(ledger_path(rootdir, stack), record.key, now)
            if corrections:
                notes.append(f"clockwork watch: {corrections}")
            rows.append(
                (
                    record.key,
                    record.kind,
                    _owner(record, state.sessions),
                    condition,
                    health.on_drift(record.key),
                    _expiry(record.expires_at, now),
                    endpoints(record.outputs),
                )
            )
            details.append(notes)
        if rows:
            lines.extend(_table(rows, details))
    return Status(lines, drifted)


class _Health:
    """Evaluates the records of one stack; after Docker failed once, asks it no more."""

    def __init__(self, evaluator: Evaluator, declared: Declared | None) -> None:
        self.evaluator = evaluator
        self.declared = declared
        self.docker_error: str | None = None

    def of(self, record: ResourceRecord) -> tuple[str, list[str]]:
        """The record's health and the notes shown under it."""
        if record.status != "ready":
            return record.status, []
        if self.docker_error is not None and uses_docker(record):
            return "unknown", [f"Docker does not answer: {self.docker_error}"]
        try:
            evaluation = self.evaluator.evaluate(record, self.declared)
        except Exception as exc:
            if uses_docker(record) and engine_fault(exc):
                self.docker_error = str(exc)
                reset_docker()
            return "unknown", [f"cannot be checked: {type(exc).__name__}: {exc}"]
        notes = [drift.message for drift in evaluation.drifts] + evaluation.notes
        return ("drifted" if evaluation.drifts else "ok"), notes

    def on_drift(self, key: str) -> str:
        """The declaration's ``on_drift`` (``?`` when it is not known)."""
        deployment = self.declared.deployment if self.declared is not None else None
        resource = deployment.graph.nodes.get(key) if deployment is not None else None
        if resource is None:
            return "?"
        return resource.on_drift + (", stateful" if resource.stateful else "")


def _owner(record: ResourceRecord, sessions: dict[str, SessionEntry]) -> str:
    if record.kept:
        return "kept"
    entry = sessions.get(record.session)
    if entry is None:
        return f"session {record.session}"
    alive = entry.host != this_host() or process_alive(entry.pid, entry.pid_started)
    return f"session {record.session} ({'running' if alive else 'dead'})"


def _expiry(expires_at: float | None, now: float) -> str:
    if expires_at is None:
        return "never"
    stamp = datetime.fromtimestamp(expires_at).strftime("%Y-%m-%d %H:%M:%S")
    left = expires_at - now
    if left <= 0:
        return f"expired {stamp}"
    hours, rest = divmod(int(left), 3600)
    minutes, seconds = divmod(rest, 60)
    span = f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"
    return f"in {span} ({stamp})"


def _table(rows: list[tuple[str, ...]], details: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(len(HEADERS))]

    def line(row: tuple[str, ...]) -> str:
        return (
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )

    lines = [line(HEADERS)]
    for row, notes in zip(rows, details, strict=True):
        lines.append(line(row))
        lines.extend(f"      - {note}" for note in notes)
    return lines
