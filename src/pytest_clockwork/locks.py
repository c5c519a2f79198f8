"""A lock on a file that processes take in turn (``flock``), with a timeout.

Used for the stack's state, the run's deploy lock under xdist, ``clockwork.lock``, the
Pulumi stack and ``clockwork watch``. A lock is held by an open file, so it is released
when its holder dies, whatever the cause.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path


class LockTimeout(TimeoutError):
    """The lock was not had within the time given."""


class FileLock:
    """An exclusive lock on ``path`` (created, mode 0600, when missing).

    Two holders in one process also exclude each other (each opens the file). Not
    reentrant: a holder that wants it again waits for itself.

    Args:
        path: The lock file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._descriptor: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._descriptor is not None

    def acquire(self, timeout: float | None = None, poll: float = 0.005) -> None:
        """Take the lock, waiting at most ``timeout`` seconds (``None``: as long as it takes;
        ``0``: not at all).

        Raises:
            LockTimeout: Someone else held it all that time.
            OSError: The lock file cannot be opened.
        """
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = poll
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(descriptor)
                    raise LockTimeout(f"{self.path} is held by another process") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
                continue
            self._descriptor = descriptor
            return

    def release(self) -> None:
        """Let go of the lock (closing the file releases it)."""
        if self._descriptor is not None:
            descriptor, self._descriptor = self._descriptor, None
            os.close(descriptor)

    @contextlib.contextmanager
    def hold(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock for the block (see :meth:`acquire`)."""
        self.acquire(timeout)
        try:
            yield
        finally:
            self.release()
