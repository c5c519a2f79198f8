"""A session's life in its stack: registering, the watchdog, reaping, keeping, tearing down.

:class:`Lifecycle` does what happens around deployment, from the stack's state alone:
register the session (and start its watchdog) before anything is created, clean up after
sessions that died, and at the end destroy what the session owns or keep it (with an
expiry) as ``--clockwork-keep`` says.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.options import Options
from pytest_clockwork.state import (
    ResourceRecord,
    SessionEntry,
    StateStore,
    now,
    process_started,
    this_host,
)
from pytest_clockwork.teardown import Outcome, dead_sessions, destroy_records, destroy_stack, reap

if TYPE_CHECKING:
    from pytest_clockwork.watchdog import Watchdog


class Lifecycle:
    """One session's registration, watchdog, reaping and teardown in one stack.

    Args:
        rootdir: pytest's rootdir.
        options: The session's options (keep, ttl, stack).
        session: The session's ids.
        store: The stack's state.
        engine: The engine the session deploys with (recorded with the session).
        owner_pid: The process that owns what is deployed (the xdist controller).
        output: Where the engines' own output goes while destroying.
    """

    def __init__(
        self,
        *,
        rootdir: Path,
        options: Options,
        session: SessionInfo,
        store: StateStore,
        engine: str,
        owner_pid: int,
        output: Callable[[str], None],
    ) -> None:
        self.rootdir = rootdir
        self.options = options
        self.session = session
        self.store = store
        self.engine = engine
        self.owner_pid = owner_pid
        self.output = output
        self.reaped: list[str] = []
        """What was destroyed after dead sessions (shown in the summary)."""
        self.watchdog: Watchdog | None = None
        self._started = False

    def start(self) -> None:
        """Register the session in the state, reap dead sessions, start the watchdog."""
        if self._started:
            return
        self._started = True
        entry = SessionEntry(
            id=self.session.id,
            pid=self.owner_pid,
            pid_started=process_started(self.owner_pid),
            host=this_host(),
            started_at=now(),
            engine=self.engine,
        )
        with self.store.transaction() as state:
            state.sessions.setdefault(entry.id, entry)
        self.reaped.extend(reap(self.store, self.session).destroyed)
        if self.owner_pid == os.getpid():
            from pytest_clockwork.watchdog import Watchdog

            self.watchdog = Watchdog.start(self.rootdir, self.options.stack, self.session.id)
            with self.store.transaction() as state:
                if entry.id in state.sessions:
                    state.sessions[entry.id].watchdog_pid = self.watchdog.pid

    def reap_dead(self) -> None:
        """Destroy what dead sessions of this host left in the stack (if any did)."""
        if self.reaped or not self.store.path.exists():
            return
        if dead_sessions(self.store.read()):
            self.reaped = reap(self.store, self.session).destroyed

    def records(self) -> list[ResourceRecord]:
        """The records this session owns."""
        return self.store.read().of_session(self.session.id)

    def teardown(self, *, failed: bool) -> tuple[list[ResourceRecord], Outcome]:
        """Destroy what this session owns, or keep it as ``--clockwork-keep`` says (only
        session-scoped resources are ever kept).

        Returns:
            The kept records, and what the destruction did.
        """
        keep = self.options.keep == "always" or (self.options.keep == "on-failure" and failed)
        owned = self.records()
        kept: list[ResourceRecord] = []
        doomed = owned
        if keep:
            with self.store.transaction() as state:
                for record in owned:
                    stored = state.records.get(record.id)
                    if stored is not None and stored.status == "ready" and not stored.instance:
                        stored.kept = True
                        stored.expires_at = self._expiry(stored.lifetime)
                        kept.append(stored)
            # Only session-scoped resources are kept: a copy of a narrower scope is gone
            # with its scope (one left by an interrupted test goes now).
            doomed = [r for r in owned if r.status != "ready" or r.instance]
        outcome = (
            destroy_records(self.store, self.session, doomed, self.output) if doomed else Outcome()
        )
        with self.store.transaction() as state:
            if not any(r.session == self.session.id and not r.kept for r in state.records.values()):
                state.sessions.pop(self.session.id, None)
        with contextlib.suppress(FileNotFoundError):
            self.store.session_file(self.session.id, ".deploy.lock").unlink()
        if self.watchdog is not None:
            self.watchdog.release(
                clean=not outcome.failures, expiring=any(r.expires_at for r in kept)
            )
        return kept, outcome

    def _expiry(self, lifetime: float | None) -> float | None:
        """When a kept resource expires: the shorter of ``--clockwork-ttl`` and its own."""
        limits = [lifetime] if lifetime else []
        if self.options.ttl:
            limits.append(self.options.ttl)
        return now() + min(limits) if limits else None

    def run_records(self, run_id: str) -> list[ResourceRecord]:
        """The records of an xdist run: its own, and its workers' (``run-gw0``...)."""
        return [
            record
            for record in self.store.read().records.values()
            if record.session == run_id or record.session.startswith(f"{run_id}-")
        ]

    def reap_run(self, run_id: str) -> Outcome:
        """Destroy what the workers of an xdist run left (a worker that crashed)."""
        sessions = {record.session for record in self.run_records(run_id) if not record.kept}
        return reap(self.store, self.session, sessions) if sessions else Outcome()

    def destroy_expired(self) -> Outcome:
        """``--clockwork-destroy --clockwork-expired``: expired kept resources, every stack."""
        from pytest_clockwork.expiry import destroy_expired_everywhere

        combined = Outcome()
        for outcome in destroy_expired_everywhere(self.rootdir, self.session.id).values():
            combined.destroyed.extend(outcome.destroyed)
            combined.failures.update(outcome.failures)
        return combined

    def destroy_stack(self) -> Outcome:
        """``--clockwork-destroy``: remove everything the stack has, except live sessions'."""
        return destroy_stack(self.store, self.session, self.output)
