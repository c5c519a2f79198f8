"""Lines from clockwork's threads reach the terminal without touching pytest's capturing
from those threads: a test's captured output holds only its own, every line is shown,
and Ctrl-C while a thread writes leaves a working terminal."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from typing import Any

import pytest

from pytest_clockwork.terminal import Outlet
from tests.support.harness import run_subprocess


def in_thread(function: Any) -> None:
    thread = threading.Thread(target=function)
    thread.start()
    thread.join()


def test_a_line_from_another_thread_waits_for_the_main_thread() -> None:
    written: list[str] = []
    outlet = Outlet(written.append)
    in_thread(lambda: outlet.line("from a thread"))
    assert written == []
    assert outlet.pending == ["from a thread"]
    outlet.line("from the main thread")  # the kept line goes first
    assert written == ["from a thread", "from the main thread"]
    assert outlet.pending == []


def test_flush_writes_kept_lines_only_on_the_main_thread() -> None:
    written: list[str] = []
    outlet = Outlet(written.append)
    in_thread(lambda: outlet.line("one"))
    in_thread(outlet.flush)
    assert written == []
    outlet.flush()
    assert written == ["one"]


def test_while_the_main_thread_waits_a_thread_writes_at_once() -> None:
    written: list[str] = []
    outlet = Outlet(written.append)
    with outlet.waiting(), outlet.waiting():  # nested waits are one wait
        in_thread(lambda: outlet.line("now"))
        assert written == ["now"]
    in_thread(lambda: outlet.line("later"))
    assert written == ["now"]


def test_leaving_a_wait_waits_for_the_line_being_written() -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def slow(text: str) -> None:
        started.set()
        release.wait(5)
        finished.append(text)

    outlet = Outlet(slow)
    writer = threading.Thread(target=lambda: outlet.line("slow"))
    with outlet.waiting():
        writer.start()
        assert started.wait(5)
        threading.Timer(0.2, release.set).start()
    assert finished == ["slow"]  # not left before the writer was done
    writer.join()


def test_a_broken_terminal_does_not_raise_into_the_writer() -> None:
    def closed(text: str) -> None:
        raise ValueError("I/O operation on closed file.")

    outlet = Outlet(closed)
    outlet.line("lost")  # no exception: a deployment goes on


CHATTY = """
import threading, time
import pytest

LINES = 400


@pytest.fixture(scope="session")
def chatter(request):
    outlet = request.config.pluginmanager.get_plugin("clockwork-session").outlet

    def talk():
        for i in range(LINES):
            outlet.line(f"clockwork-line {i}")
            time.sleep(0.001)

    thread = threading.Thread(target=talk)
    thread.start()
    yield
    thread.join()
"""

NOISY_TESTS = """
import time
import pytest


@pytest.mark.parametrize("n", range(12))
def test_prints(chatter, n):
    for i in range(40):
        print(f"test-out {n} {i}")
        time.sleep(0.001)
    assert n != 11
"""


def test_lines_from_a_thread_never_mix_with_a_tests_captured_output(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        'from pytest_clockwork import FileResource\n\nunused = FileResource(content="x")\n' + CHATTY
    )
    pytester.makepyfile(test_noisy=NOISY_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = [line.strip() for line in result.outlines]
    said = [line for line in lines if line.startswith("clockwork-line")]
    assert said == [f"clockwork-line {i}" for i in range(400)]  # all, in order, whole
    captured = [line for line in lines if re.fullmatch(r"test-out \d+ \d+", line)]
    assert captured == [f"test-out 11 {i}" for i in range(40)]  # the failing test's own
    section = result.stdout.str().split("Captured stdout call")[1]
    assert "clockwork-line" not in section.split("short test summary")[0]
    assert "closed file" not in result.stdout.str() + result.stderr.str()


INTERRUPTED = """
import threading, time


def test_waits(request):
    outlet = request.config.pluginmanager.get_plugin("clockwork-session").outlet

    def talk():
        i = 0
        while True:
            outlet.line(f"clockwork-line {i}")
            i += 1
            time.sleep(0.0002)

    threading.Thread(target=talk, daemon=True).start()
    with outlet.waiting():  # as for a resource: the thread writes at once
        while True:
            time.sleep(0.01)
"""


@pytest.mark.parametrize("attempt", range(3))
def test_ctrl_c_while_a_thread_writes_leaves_a_working_terminal(
    pytester: pytest.Pytester, attempt: int
) -> None:
    pytester.makeconftest(
        'from pytest_clockwork import FileResource\n\nunused = FileResource(content="x")\n'
    )
    pytester.makepyfile(test_waits=INTERRUPTED)
    process = run_subprocess(pytester)  # capturing on, as users run it
    assert process.stdout is not None
    for line in process.stdout:
        if re.match(r"clockwork-line \d{4,}", line):  # well under way
            break
    time.sleep(0.05 * attempt)  # somewhere else in the stream each time
    os.kill(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert "KeyboardInterrupt" in output
    assert "closed file" not in output, output[-3000:]
    assert re.fullmatch(r"=+ .* in [0-9.]+s =+", output.splitlines()[-1]), output[-3000:]
