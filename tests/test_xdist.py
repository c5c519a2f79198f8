"""pytest-xdist: one deployment for all workers (share=run), or one per worker."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from tests.support.harness import eventually, run_subprocess

pytestmark = pytest.mark.docker

COUNTING_TESTS = """
import os, time
import docker, httpx
from pytest_clockwork.state import root_id

def alive(config):
    label = f"clockwork.root={{root_id(config.rootpath)}}"
    return [c.name for c in docker.from_env().containers.list(filters={{"label": label}})]

def wait_for_count(config, expected):
    # Wait (once per run) until all copies are alive together.
    deadline = time.monotonic() + 20
    while not os.path.exists("reached") and time.monotonic() < deadline:
        if len(alive(config)) >= expected:
            open("reached", "w").close()
        time.sleep(0.05)
    return alive(config)

{tests}
"""

ONE_TEST = """
def test_{index}(web, request):
    assert httpx.get(web.url(80)).status_code == 200
    running = wait_for_count(request.config, {expected})
    with open("counts.txt", "a") as counts:
        counts.write(f"{{len(running)}}\\n")
"""


def _counts(pytester: pytest.Pytester) -> list[int]:
    """How many containers each test saw (it waits, up to a limit, to see ``expected``)."""
    return [int(line) for line in (pytester.path / "counts.txt").read_text().split()]


def _tests(count: int, expected: int) -> str:
    body = "".join(ONE_TEST.format(index=i, expected=expected) for i in range(count))
    return COUNTING_TESTS.format(tests=body)


@pytest.mark.parametrize(
    ("workers", "share", "expected"),
    [("0", "run", 1), ("2", "run", 1), ("0", "worker", 1), ("2", "worker", 2)],
)
def test_containers_alive_during_the_run(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    workers: str,
    share: str,
    expected: int,
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(test_web=_tests(8, expected))
    result = pytester.runpytest(
        "--clockwork-apply",
        "-n",
        workers,
        f"--clockwork-share={share}",
        "-p",
        "xdist",
        "-p",
        "no:hypothesispytest",
    )
    result.assert_outcomes(passed=8)
    counts = _counts(pytester)
    # Never more than expected; all copies alive together at some point. (With one copy
    # per worker, a worker that runs out of tests destroys its copy while the other
    # still runs, so later tests may see fewer.)
    assert max(counts) == expected and len(counts) == 8, counts
    if share == "run" or workers == "0":
        assert set(counts) == {1}, counts
    if workers == "2":
        sharing = "deployed once, shared by all workers" if share == "run" else "its own copy"
        result.stdout.fnmatch_lines([f"clockwork: *; xdist: *{sharing}*"])
    if workers == "2" and share == "run":
        result.stdout.fnmatch_lines(
            ["shared by all workers: web: 127.0.0.1:* → 80/tcp (deployed by gw*, ready in *s)"]
        )
    assert leftovers() == {"containers": [], "networks": []}
    assert not (pytester.path / ".clockwork" / "stacks" / "default.json").exists()


def test_a_worker_killed_mid_run_tears_nothing_down(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    tests = (
        _tests(8, 1)
        + """
def test_crash(web):
    import signal
    os.kill(os.getpid(), signal.SIGKILL)
"""
    )
    pytester.makepyfile(test_web=tests)
    result = pytester.runpytest(
        "--clockwork-apply", "-n", "2", "-p", "xdist", "-p", "no:hypothesispytest"
    )
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(["*worker 'gw*' crashed while running 'test_web.py::test_crash'*"])
    assert leftovers() == {"containers": [], "networks": []}


@pytest.mark.parametrize(("share", "kept"), [("run", 1), ("worker", 2)])
def test_keep_under_xdist(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, share: str, kept: int
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(test_web=_tests(6, kept))
    result = pytester.runpytest(
        "--clockwork-apply",
        "--clockwork-keep",
        "-n",
        "2",
        f"--clockwork-share={share}",
        "-p",
        "xdist",
        "-p",
        "no:hypothesispytest",
    )
    result.assert_outcomes(passed=6)
    assert max(_counts(pytester)) == kept
    assert len(leftovers()["containers"]) == kept
    # A later session (no xdist, no apply) attaches to what was kept.
    pytester.makepyfile(test_web=_tests(1, kept))
    pytester.runpytest("-p", "xdist", "-p", "no:hypothesispytest").assert_outcomes(passed=1)
    result = pytester.runpytest("--clockwork-destroy")
    assert result.ret == 0
    assert leftovers()["containers"] == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_signals_to_the_whole_run_leave_nothing(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, signum: int
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(
        test_web="""
        import time
        from pathlib import Path

        def test_a(web):
            Path(f"started-{time.monotonic_ns()}").write_text("")
            time.sleep(60)

        def test_b(web):
            Path(f"started-{time.monotonic_ns()}").write_text("")
            time.sleep(60)
        """
    )
    process = run_subprocess(pytester, "--clockwork-apply", "-n", "2")
    eventually(lambda: len(list(pytester.path.glob("started-*"))) == 2, timeout=30)
    assert len(leftovers()["containers"]) == 1
    os.killpg(process.pid, signum)  # what a CI system does when it cancels a job
    process.communicate(timeout=30)
    eventually(
        lambda: leftovers()["containers"] == [],
        timeout=15,
        message="the shared container outlived the run",
    )
