"""Lines clockwork writes to pytest's terminal, from whichever thread has one to say.

pytest's output capturing belongs to the main thread: it turns capturing on and off
around every test, and stops it (closing the file it captured into) when Ctrl-C
arrives. A deployment thread that turned capturing off to write a line, and on again
after, could do so in the middle of a test (sending that test's output to the terminal,
or pytest's own lines into the test's output), or just after pytest stopped capturing,
leaving ``sys.stdout`` a closed file.

So a line from another thread is written at once only while the main thread waits in
clockwork's own code (:meth:`Outlet.waiting`: for a resource, for teardown), where it
does not touch capturing; otherwise it is kept until the main thread next passes by (a
test starting or ending, the session ending) and writes it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

WRITER_GRACE = 10.0
"""Seconds the main thread waits, leaving :meth:`Outlet.waiting`, for a line another
thread is writing: a terminal nobody reads must not hang Ctrl-C."""


class Outlet:
    """Where clockwork's lines go, safely from any thread.

    Args:
        write: Writes one line to the terminal; called with no other write under way,
            on the main thread or while the main thread waits in :meth:`waiting`.
    """

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._state = threading.Condition()
        """Guards the fields below (held briefly, never while writing)."""
        self._pending: list[str] = []
        self._waiting = 0
        """How deep the main thread is in :meth:`waiting` (only it changes this)."""
        self._writing = 0
        """How many threads are writing now (or about to)."""
        self._one_writer = threading.Lock()

    @property
    def pending(self) -> list[str]:
        """The lines kept for the main thread to write, oldest first."""
        with self._state:
            return list(self._pending)

    def line(self, text: str) -> None:
        """Write ``text`` now if this thread may, else keep it for the main thread."""
        with self._state:
            if not (_on_main_thread() or self._waiting):
                self._pending.append(text)
                return
            self._writing += 1
        self._write_out(text)

    def flush(self) -> None:
        """Write the kept lines (on the main thread; elsewhere it does nothing)."""
        if _on_main_thread():
            with self._state:
                self._writing += 1
            self._write_out(None)

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """While the main thread is inside, other threads write their lines at once.

        Wrap only code that leaves pytest's capturing alone (clockwork's waits for its
        own threads). Leaving it, the main thread waits for the lines being written, so
        that pytest, stopping capturing at Ctrl-C, never races a writer.
        """
        if not _on_main_thread():
            yield
            return
        self.flush()
        with self._state:
            self._waiting += 1
        try:
            yield
        finally:
            with self._state:
                self._waiting -= 1  # from now on other threads keep their lines
                self._state.wait_for(lambda: not self._writing, timeout=WRITER_GRACE)

    def _write_out(self, text: str | None) -> None:
        try:
            with self._one_writer:
                with self._state:
                    lines, self._pending = self._pending, []
                for line in [*lines, text] if text is not None else lines:
                    with contextlib.suppress(OSError, ValueError):  # a broken terminal
                        self._write(line)  # must not fail a deployment
        finally:
            with self._state:
                self._writing -= 1
                self._state.notify_all()


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
