"""What ``Deployment`` does around the Pulumi engine, for tests that drive the engine
itself with :class:`~tests.support.pulumi_doubles.FakePulumi`: make it, plan tasks,
deploy them and record the outcome, keep records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_clockwork import Resource
from pytest_clockwork.engines.base import SessionInfo, Task
from pytest_clockwork.engines.pulumi.engine import PulumiEngine
from pytest_clockwork.graph import ResourceGraph
from pytest_clockwork.settings import ClockworkSettings
from pytest_clockwork.specs import SpecContext
from pytest_clockwork.state import ResourceRecord, StateStore, root_id
from tests.support.pulumi_doubles import FakePulumi


def engine_for(rootdir: Path, fake: FakePulumi, session: str = "s1", **kw: Any) -> PulumiEngine:
    info = SessionInfo(id=session, stack="default", rootdir=rootdir, root_id=root_id(rootdir))
    settings = ClockworkSettings(
        pulumi_backend_url=kw.get("backend"), pulumi_config_passphrase=None
    )
    return PulumiEngine(
        info,
        StateStore(rootdir, "default"),
        automation=fake,
        settings=settings,
        environ={"PATH": "/usr/bin"},
        cli="/usr/bin/pulumi",
    )


def plan(engine: PulumiEngine, *roots: Resource) -> list[list[Task]]:
    """Tasks level by level, recorded as ``creating`` (as Deployment does before deploy)."""
    graph = ResourceGraph.build(roots)
    levels = []
    for index, level in enumerate(graph.levels()):
        row = []
        for key in level:
            resource = graph.nodes[key]
            spec = resource.spec(SpecContext(rootdir=engine.session.rootdir, key=key))
            record = ResourceRecord(
                key=key,
                session=engine.session.id,
                kind=spec.kind,
                engine="pulumi",
                fingerprint=spec.fingerprint(),
                level=index,
                spec=spec.to_json(),
            )
            row.append(Task(spec, resource, record, depends_on=tuple(sorted(graph.deps[key]))))
        levels.append(row)
    with engine.store.transaction() as state:
        for row in levels:
            for task in row:
                state.put(task.record)
    return levels


def settle_records(
    engine: PulumiEngine, levels: list[list[Task]], failures: dict[str, BaseException]
) -> None:
    """Record the outcome (as Deployment does after deploy)."""
    with engine.store.transaction() as state:
        for task in (task for level in levels for task in level):
            record = state.records[task.record.id]
            record.created = {**record.created, **task.record.created}
            record.status = "failed" if task.key in failures else "ready"
            record.outputs = task.outputs
            state.put(record)


def deploy(engine: PulumiEngine, *roots: Resource) -> dict[str, BaseException]:
    levels = plan(engine, *roots)
    failures = engine.deploy(levels, lambda task: None)
    settle_records(engine, levels, failures)
    return failures


def records(engine: PulumiEngine) -> dict[str, ResourceRecord]:
    return {record.key: record for record in engine.store.read().records.values()}


def keep(engine: PulumiEngine, *keys: str) -> None:
    with engine.store.transaction() as state:
        for record in state.records.values():
            if record.key in keys:
                record.kept = True
