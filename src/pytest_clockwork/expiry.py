"""Time limits of kept resources: ``--clockwork-ttl`` and ``max_duration``.

A kept resource with a lifetime records when it expires. The watchdog of the session
that kept it waits until then and destroys what is still kept and expired, even if
nobody runs pytest again; ``--clockwork-destroy --clockwork-expired`` and the
reconciler do the same on demand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.state import ResourceRecord, StateStore, now, root_id
from pytest_clockwork.teardown import Outcome, destroy_records


def expired(store: StateStore, at: float | None = None) -> list[ResourceRecord]:
    """The kept records of ``store`` whose lifetime has run out."""
    moment = now() if at is None else at
    return [
        record
        for record in store.read().records.values()
        if record.kept and record.expires_at is not None and record.expires_at <= moment
    ]


def destroy_expired(store: StateStore, session: SessionInfo, at: float | None = None) -> Outcome:
    """Destroy the expired kept records of one stack."""
    records = expired(store, at)
    return destroy_records(store, session, records) if records else Outcome()


def destroy_expired_everywhere(rootdir: Path, session_id: str) -> dict[str, Outcome]:
    """Destroy the expired kept records of every stack under ``rootdir``."""
    outcomes = {}
    for stack in StateStore.stacks(rootdir):
        store = StateStore(rootdir, stack)
        info = SessionInfo(id=session_id, stack=stack, rootdir=rootdir, root_id=root_id(rootdir))
        outcomes[stack] = destroy_expired(store, info)
    return outcomes


def destroy_when_expired(
    store: StateStore,
    session: SessionInfo,
    *,
    log: Callable[[str], None],
    clock: Callable[[], float] = now,
    pause: Callable[[float], None] = time.sleep,
) -> None:
    """Destroy each kept resource of ``session`` when it expires, then return.

    Used by the watchdog of a session that kept resources with a lifetime. It wakes at
    the next expiry (at least once a minute, so a changed clock cannot make it oversleep
    by much) and stops when none of the session's kept resources is left: destroyed,
    or taken over by a later session.
    """
    while True:
        due = [
            record.expires_at
            for record in store.read().of_session(session.id)
            if record.kept and record.expires_at is not None
        ]
        if not due:
            return
        wait = min(due) - clock()
        if wait > 0:
            pause(min(wait, 60.0))
            continue
        outcome = destroy_expired(store, session, at=clock())
        if outcome.destroyed:
            log(
                f"destroyed expired resources of stack {session.stack!r}: "
                f"{', '.join(outcome.destroyed)}"
            )
        for record_id, error in outcome.failures.items():
            log(f"could not destroy expired {record_id}: {error}")
        if outcome.failures:
            pause(60.0)
