"""Corrections: start a stopped container, recreate what drifted, update the record.

A correction runs under the stack's lock, so that no pytest session adopts, and no
``--clockwork-destroy`` removes, the resource halfway. It goes through the engine that
created the resource (local or Pulumi, through :class:`~pytest_clockwork.engines.base.
Engine`'s ``resume``, ``current_outputs`` and ``recreate``), as the session that kept it
(same container names and labels), and updates that record in place: it stays kept, with
its expiry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_clockwork.engines import create_engine
from pytest_clockwork.engines.base import Engine, SessionInfo, Task
from pytest_clockwork.errors import ClockworkError
from pytest_clockwork.reconcile.drift import Fix
from pytest_clockwork.state import ResourceRecord, StateStore, now, root_id

if TYPE_CHECKING:
    from pytest_clockwork.reconcile.evaluate import Evaluation


class CorrectionError(ClockworkError):
    """A correction could not be made; the message says why and what to do."""


class RecordChanged(CorrectionError):
    """The record is no longer kept (destroyed, or adopted by a session) since evaluation."""


class Corrector:
    """Applies fixes to kept resources of one stack.

    Args:
        store: The stack's state.
    """

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def apply(self, evaluation: Evaluation, fix: Fix, links: tuple[str, ...] = ()) -> str:
        """Correct ``evaluation``'s record with ``fix``.

        Args:
            evaluation: What was found; its spec and resource are what is deployed.
            fix: How to correct it.
            links: The containers it is connected with (they share a network).

        Returns:
            What was done, in words.

        Raises:
            RecordChanged: The record is no longer kept; nothing was done.
            CorrectionError: It cannot be corrected this way.
            Exception: What the engine raised.
        """
        key = evaluation.record.key
        with self.store.lock():
            record = self.store.read().records.get(evaluation.record.id)
            if record is None or not record.kept:
                raise RecordChanged(
                    f"resource {key!r} is no longer kept (destroyed, or taken over by a pytest "
                    "session) since it was evaluated; nothing was done",
                    resource=key,
                )
            engine = self._engine(record)
            if fix == "start":
                self._update(record, outputs=engine.resume(record))
                return f"started container {record.outputs.get('container_name')} again"
            if fix == "record":
                outputs = engine.current_outputs(record)
                self._update(record, outputs=outputs)
                ports = outputs.get("ports") or {}
                shown = ", ".join(f"{key} → {port}" for key, port in sorted(ports.items()))
                return f"recorded the host ports it now has ({shown})"
            return self._recreate(engine, record, evaluation, links)

    def _engine(self, record: ResourceRecord) -> Engine:
        """The engine that created ``record``, acting as the session that owns it."""
        rootdir = self.store.rootdir
        session = SessionInfo(
            id=record.session, stack=self.store.stack, rootdir=rootdir, root_id=root_id(rootdir)
        )
        return create_engine(record.engine, session, self.store)

    def _recreate(
        self,
        engine: Engine,
        record: ResourceRecord,
        evaluation: Evaluation,
        links: tuple[str, ...],
    ) -> str:
        spec, resource = evaluation.spec, evaluation.resource
        if spec is None or resource is None:
            raise CorrectionError(
                f"resource {record.key!r} cannot be recreated without its declaration",
                resource=record.key,
            )
        task = Task(spec=spec, resource=resource, record=record.model_copy(deep=True), links=links)
        outputs = engine.recreate(record, task)
        for check in getattr(resource, "wait_for", None) or []:
            check.verify(resource.deployed_copy(outputs, key=record.key))
        stored = self.store.read().records.get(record.id)
        self._update(
            record,
            kind=spec.kind,
            outputs=outputs,
            spec=spec.to_json(),
            fingerprint=spec.fingerprint(),
            created=stored.created if stored is not None else record.created,
        )
        if spec.kind == "container":
            return f"recreated container {outputs.get('container_name')} from its declaration"
        if spec.kind == "file":
            return f"rewrote {outputs.get('path')} from its declaration"
        return "recreated it from its declaration"

    def _update(self, record: ResourceRecord, **fields: object) -> None:
        with self.store.transaction() as state:
            stored = state.records.get(record.id)
            if stored is None:  # never: the lock is held
                return
            for name, value in fields.items():
                setattr(stored, name, value)
            stored.status = "ready"
            stored.deployed_at = now()
