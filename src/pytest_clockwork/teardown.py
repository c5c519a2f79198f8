"""Destroying from the recorded state: the one path every teardown takes.

The session's own teardown, ``--clockwork-destroy``, the watchdog of a session that
died, the next session's reaping and the xdist controller all call
:func:`destroy_records`. It needs only the state (never the conftest files), removes
exactly what the records say was created, and drops the records that are gone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pytest_clockwork.engines import create_engine
from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.state import ResourceRecord, StackState, StateStore, process_alive, this_host


@dataclass
class Outcome:
    """What a teardown did.

    Attributes:
        destroyed: Keys of the resources removed.
        failures: Record id → what went wrong removing it (its record is kept).
    """

    destroyed: list[str] = field(default_factory=list)
    failures: dict[str, BaseException] = field(default_factory=dict)


def _levels(records: Iterable[ResourceRecord]) -> list[list[ResourceRecord]]:
    by_level: dict[int, list[ResourceRecord]] = defaultdict(list)
    for record in records:
        by_level[record.level].append(record)
    return [by_level[level] for level in sorted(by_level, reverse=True)]


def destroy_records(
    store: StateStore,
    session: SessionInfo,
    records: list[ResourceRecord],
    output: Callable[[str], None] | None = None,
) -> Outcome:
    """Destroy ``records`` (dependents first, each level at once) and forget them.

    Args:
        store: The stack's state.
        session: Whose engine does the work (any session of the stack will do).
        records: What to destroy.
        output: Where the engines' own output goes (the terminal with ``-v``).
    """
    outcome = Outcome()
    by_engine: dict[str, list[ResourceRecord]] = defaultdict(list)
    for record in records:
        by_engine[record.engine].append(record)
    for engine_name, engine_records in by_engine.items():
        engine = create_engine(engine_name, session, store)
        if output is not None:
            engine.output = output
        outcome.failures.update(engine.destroy_all(_levels(engine_records)))
    gone = [record for record in records if record.id not in outcome.failures]
    with store.transaction() as state:
        for record in gone:
            state.records.pop(record.id, None)
    outcome.destroyed = [record.key for record in gone]
    return outcome


def dead_sessions(state: StackState) -> list[str]:
    """Sessions of this host whose owning process is gone."""
    host = this_host()
    return [
        entry.id
        for entry in state.sessions.values()
        if entry.host == host and not process_alive(entry.pid, entry.pid_started)
    ]


def reap(store: StateStore, session: SessionInfo, sessions: Iterable[str] | None = None) -> Outcome:
    """Destroy what dead sessions left (not what they kept) and forget those sessions.

    Args:
        store: The stack's state.
        session: The session doing the work.
        sessions: The sessions to reap; by default every dead session of this host.
    """
    if not store.path.exists():
        return Outcome()
    state = store.read()
    targets = set(dead_sessions(state) if sessions is None else sessions)
    records = [
        record for record in state.records.values() if record.session in targets and not record.kept
    ]
    outcome = destroy_records(store, session, records) if records else Outcome()
    with store.transaction() as fresh:
        for session_id in targets:
            if not any(
                record.session == session_id and not record.kept
                for record in fresh.records.values()
            ):
                fresh.sessions.pop(session_id, None)
    return outcome


def destroy_stack(
    store: StateStore, session: SessionInfo, output: Callable[[str], None] | None = None
) -> Outcome:
    """Destroy everything the stack has (kept or left by dead sessions), except what
    live sessions own; ``--clockwork-destroy`` and ``clockwork destroy``.
    """
    if not store.path.exists():
        return Outcome()
    reaped = reap(store, session).destroyed
    state = store.read()
    live = set(state.sessions) - set(dead_sessions(state)) - {session.id}
    records = [r for r in state.records.values() if r.kept or r.session not in live]
    outcome = destroy_records(store, session, records, output) if records else Outcome()
    outcome.destroyed[:0] = reaped
    if any(record.kind == "container" for record in records):
        sweep_containers(store, session)
    return outcome


def sweep_containers(store: StateStore, session: SessionInfo) -> list[str]:
    """Remove labelled Docker objects of this rootdir and stack that no live record owns.

    This catches what a killed session created before it could record it.

    Returns:
        The names of what was removed.
    """
    from pytest_clockwork.runtimes import dockerd

    state = store.read()
    live = {
        entry.id
        for entry in state.sessions.values()
        if entry.host != this_host() or process_alive(entry.pid, entry.pid_started)
    }
    owned = {
        name
        for record in state.records.values()
        if record.kept or record.session in live
        for name in record.created.get("containers", []) + record.created.get("networks", [])
    }
    found = dockerd.labelled({"clockwork.root": session.root_id, "clockwork.stack": session.stack})
    removed = []
    for container in found["containers"]:
        if container["labels"].get("clockwork.session") in live or container["name"] in owned:
            continue
        dockerd.remove_container(container["id"])
        removed.append(container["name"])
    for network in found["networks"]:
        if network["labels"].get("clockwork.session") in live or network["name"] in owned:
            continue
        if dockerd.remove_network(network["name"]):
            removed.append(network["name"])
    return removed
