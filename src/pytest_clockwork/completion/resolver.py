"""Completing resources in dependency order: from ``clockwork.lock``, or by a model.

A resource's completion waits for its parent's (phase 2 of the seeds' composite
completion sees the completed parent) and for those of the resources it is connected
to (it sees their completed context). Independent completions run concurrently; the
model completer bounds how many ask at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from pytest_clockwork.errors import LockfileError
from pytest_clockwork.graph import ResourceGraph
from pytest_clockwork.resources.base import Resource

from .lockfile import LOCK_NAME, LockEntry, describe_changes
from .policy import review
from .rebuild import rebuild
from .request import CompletionRequest, build_request

if TYPE_CHECKING:
    from .agent import ModelCompleter


@dataclass
class Resolution:
    """What one pass over the resources found.

    Attributes:
        completed: The completed declaration of each resource resolved.
        requests: The request of each resource that had fields to complete.
        sources: For those, ``("lock" | "model", model name)``.
        misses: Resources the lock could not answer (no model was asked), and why.
        fresh: New lock entries, from the model.
        failures: Resources whose completion failed, with the error.
    """

    completed: dict[str, Resource] = field(default_factory=dict)
    requests: dict[str, CompletionRequest] = field(default_factory=dict)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    misses: dict[str, str] = field(default_factory=dict)
    fresh: dict[str, LockEntry] = field(default_factory=dict)
    failures: dict[str, BaseException] = field(default_factory=dict)


class Resolver:
    """One pass over the resources, in completion order.

    Args:
        graph: The declared resources.
        order: Each resource and the keys its completion waits for (dependencies first).
        done: Completed declarations from earlier passes, reused as they are.
        entries: The lock's entries.
        rootdir: pytest's rootdir, for the safety policy.
        refresh: Ask the model again even when the lock matches.
    """

    def __init__(
        self,
        graph: ResourceGraph,
        order: list[tuple[str, set[str]]],
        *,
        done: Mapping[str, Resource],
        entries: Mapping[str, LockEntry],
        rootdir: Path,
        refresh: bool,
    ) -> None:
        self.graph = graph
        self.order = order
        self.done = done
        self.entries = entries
        self.rootdir = rootdir
        self.refresh = refresh

    async def run(self, completer: ModelCompleter | None) -> Resolution:
        """Resolve every resource; ask ``completer`` for what the lock cannot answer.

        Without a completer, what the lock cannot answer is recorded in ``misses``.
        """
        result = Resolution()
        finished = {key: asyncio.Event() for key, _ in self.order}

        async def resolve(key: str, needs: set[str]) -> None:
            for other in needs:
                await finished[other].wait()
            try:
                await self._resolve(key, needs, result, completer)
            except Exception as exc:
                result.failures[key] = exc
            finally:
                finished[key].set()

        await asyncio.gather(*(resolve(key, needs) for key, needs in self.order))
        return result

    async def _resolve(
        self, key: str, needs: set[str], result: Resolution, completer: ModelCompleter | None
    ) -> None:
        if key in self.done:
            result.completed[key] = self.done[key]
            return
        waiting = sorted(other for other in needs if other not in result.completed)
        if waiting:
            result.misses[key] = f"waits for the completion of {', '.join(map(repr, waiting))}"
            return
        resource = self.graph.nodes[key]
        if not resource.missing_fields():
            result.completed[key] = resource
            return
        request = build_request(resource, result.completed)
        result.requests[key] = request
        entry = self.entries.get(key)
        legacy = self.entries.get(key.rsplit("/", 1)[-1])  # keyed before keys had directories
        if entry is None and legacy is not None and legacy.fingerprint == request.fingerprint:
            entry = legacy
        if entry is not None and entry.fingerprint == request.fingerprint and not self.refresh:
            result.completed[key] = self._from_lock(resource, request, entry)
            result.sources[key] = ("lock", entry.model)
            return
        if completer is None:
            result.misses[key] = self._why_not(request, entry)
            return
        proposal = await completer.complete(request, resource)
        result.completed[key] = rebuild(resource, proposal.values)
        result.sources[key] = ("model", proposal.model)
        result.fresh[key] = LockEntry(
            fingerprint=request.fingerprint,
            seen=request.seen(),
            values=proposal.values,
            model=proposal.model,
        )

    def _why_not(self, request: CompletionRequest, entry: LockEntry | None) -> str:
        if entry is None:
            return f"not in {LOCK_NAME}"
        if entry.fingerprint == request.fingerprint:
            return "--clockwork-refresh asks the model again"
        changes = describe_changes(entry.seen, request.seen())
        return f"changed since {LOCK_NAME} was written: {changes}"

    def _from_lock(
        self, resource: Resource, request: CompletionRequest, entry: LockEntry
    ) -> Resource:
        key = request.key
        fix = f"fix the entry of {key!r} in {LOCK_NAME}, or remove it and complete again"
        if set(entry.values) != set(request.fields):
            raise LockfileError(
                f"resource {key!r}: its entry in {LOCK_NAME} has values for "
                f"{', '.join(sorted(entry.values)) or 'nothing'} but "
                f"{', '.join(request.fields)} are to complete: {fix}",
                resource=key,
            )
        try:
            completed = rebuild(resource, entry.values)
        except ValidationError as exc:
            raise LockfileError(
                f"resource {key!r}: its values in {LOCK_NAME} are invalid: {exc}\n{fix}",
                resource=key,
            ) from None
        rejected = review(
            completed, entry.values, rootdir=self.rootdir, references=request.references
        )
        if rejected:
            raise LockfileError(
                f"resource {key!r}: {LOCK_NAME} has a value the safety policy refuses: "
                f"{rejected[0]}; {fix}",
                resource=key,
            )
        return completed
