"""The file lock: one holder at a time, a timeout, released when its holder dies."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pytest_clockwork.locks import FileLock, LockTimeout
from tests.support.harness import eventually

HOLDER = """
import sys, time
from pytest_clockwork.locks import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_one_holder_at_a_time_and_a_timeout(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first, second = FileLock(path), FileLock(path)
    with first.hold():
        with pytest.raises(LockTimeout, match="held by another process"):
            second.acquire(timeout=0.05)
        got = threading.Event()

        def take() -> None:
            with second.hold(timeout=10):
                got.set()

        waiter = threading.Thread(target=take)
        waiter.start()
        assert not got.wait(0.1)
    waiter.join(10)
    assert got.is_set() and not second.held
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockTimeout):
            FileLock(path).acquire(timeout=0.05)
    finally:
        holder.kill()
        holder.wait()
    lock = FileLock(path)
    eventually(lambda: _tries(lock), timeout=5)
    lock.release()


def _tries(lock: FileLock) -> bool:
    try:
        lock.acquire(timeout=0)
    except LockTimeout:
        return False
    return True
