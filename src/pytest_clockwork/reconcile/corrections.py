"""Corrections: start a stopped container, recreate what drifted, update the record.

A correction runs under the stack's lock, so that no pytest session adopts, and no
``--clockwork-destroy`` removes, the resource halfway. It goes through the engine that
created the resource, as the session that kept it (same container names and labels),
and updates that record in place: it stays kept, with its expiry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_clockwork.engines import create_engine
from pytest_clockwork.engines.base import SessionInfo, Task
from pytest_clockwork.errors import ClockworkError
from pytest_clockwork.reconcile.drift import Fix
from pytest_clockwork.specs import ContainerSpec, spec_from_json
from pytest_clockwork.state import ResourceRecord, StateStore, now, root_id

if TYPE_CHECKING:
    from pytest_clockwork.engines.local.engine import LocalEngine
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
                return self._start(engine, record)
            if fix == "record":
                return self._record_ports(record)
            return self._recreate(engine, record, evaluation, links)

    def _engine(self, record: ResourceRecord) -> LocalEngine:
        from pytest_clockwork.engines.local.engine import LocalEngine

        rootdir = self.store.rootdir
        session = SessionInfo(
            id=record.session, stack=self.store.stack, rootdir=rootdir, root_id=root_id(rootdir)
        )
        engine = create_engine(record.engine, session, self.store)
        if not isinstance(engine, LocalEngine):
            raise CorrectionError(
                f"resource {record.key!r} was deployed with the {record.engine} engine; "
                "automatic corrections need the local engine. Redeploy it with "
                "pytest --clockwork-apply --clockwork-keep",
                resource=record.key,
            )
        return engine

    def _start(self, engine: LocalEngine, record: ResourceRecord) -> str:
        from pytest_clockwork.runtimes import dockerd

        spec = spec_from_json(record.spec)
        container_id = str(record.outputs.get("container_id", ""))
        if not isinstance(spec, ContainerSpec) or spec.runtime != "docker" or not container_id:
            raise CorrectionError(
                f"resource {record.key!r}: only Docker containers can be started again",
                resource=record.key,
            )
        seen = dockerd.observe(container_id)
        api = dockerd.client().api
        if seen is not None and seen.status == "paused":
            api.unpause(container_id)
        else:
            api.start(container_id)
        ports = engine.containers.wait_until_running(spec, container_id)
        self._update(record, outputs={**record.outputs, "ports": ports})
        return f"started container {record.outputs.get('container_name', container_id)} again"

    def _record_ports(self, record: ResourceRecord) -> str:
        from pytest_clockwork.runtimes import dockerd

        seen = dockerd.observe(str(record.outputs.get("container_id", "")))
        if seen is None:
            raise CorrectionError(f"resource {record.key!r}: its container is gone")
        self._update(record, outputs={**record.outputs, "ports": dict(seen.ports)})
        shown = ", ".join(f"{key} → {port}" for key, port in sorted(seen.ports.items()))
        return f"recorded the host ports it now has ({shown})"

    def _recreate(
        self,
        engine: LocalEngine,
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
        if record.kind == "file" and spec.kind == "file":
            outputs = engine.files.rewrite(task)
        else:
            engine.destroy(record)
            if record.kind == "container":
                self._wait_gone(record)
            outputs = engine.create(task)
        for check in getattr(resource, "wait_for", None) or []:
            check.verify(resource.deployed_copy(outputs, key=record.key))
        self._update(
            record,
            kind=spec.kind,
            outputs=outputs,
            spec=spec.to_json(),
            fingerprint=spec.fingerprint(),
        )
        if spec.kind == "container":
            return f"recreated container {outputs.get('container_name')} from its declaration"
        if spec.kind == "file":
            return f"rewrote {outputs.get('path')} from its declaration"
        return "recreated it from its declaration"

    @staticmethod
    def _wait_gone(record: ResourceRecord, timeout: float = 30.0) -> None:
        """Wait until a removal in progress (by someone else) is over, so the name is free."""
        from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential

        from pytest_clockwork.runtimes import runtime_for

        container_id = str(record.outputs.get("container_id", ""))
        if not container_id:
            return
        runtime = runtime_for(str(record.outputs.get("runtime", "docker")))
        seen = Retrying(
            stop=stop_after_delay(timeout),
            wait=wait_exponential(multiplier=0.02, max=0.5),
            retry=retry_if_result(lambda seen: seen is not None),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )(runtime.observe, container_id)
        if seen is not None:
            raise CorrectionError(
                f"resource {record.key!r}: its old container is still {seen.status} after "
                f"{timeout:g}s; remove it by hand (docker rm -f {container_id[:12]})",
                resource=record.key,
            )

    def _update(self, record: ResourceRecord, **fields: object) -> None:
        with self.store.transaction() as state:
            stored = state.records.get(record.id)
            if stored is None:  # never: the lock is held
                return
            for name, value in fields.items():
                setattr(stored, name, value)
            stored.status = "ready"
            stored.deployed_at = now()
