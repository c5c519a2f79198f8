"""Teardown whatever happens: Ctrl-C, SIGTERM, SIGKILL (the watchdog), the next session."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import (
    BLOCKING_TEST,
    eventually,
    read_state,
    run_subprocess,
    start_blocked,
)

pytestmark = pytest.mark.docker

SLOW_DEPLOY = """
stuck = DockerResource(
    image=IMAGE,
    # Failures in the start period do not count: it stays "starting" for a minute.
    healthcheck=Healthcheck(test="false", interval="0.2s", retries=1, start_period="60s"),
    start_timeout=60,
)
"""


def _watchdog_log(pytester: pytest.Pytester) -> str:
    log = pytester.path / ".clockwork" / "watchdog.log"
    return log.read_text() if log.exists() else ""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_deployment_removes_what_was_created(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, signum: int
) -> None:
    declare(SLOW_DEPLOY)
    pytester.makepyfile(test_x="def test_x(stuck): pass")
    process = run_subprocess(pytester, "--clockwork-apply")
    eventually(lambda: leftovers()["containers"], message="the container never started")
    os.kill(process.pid, signum)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert leftovers() == {"containers": [], "networks": []}
    assert read_state(pytester.path) == {}
    assert "destroyed what it left" not in _watchdog_log(pytester)  # the session did it


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_a_test_tears_down(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, signum: int
) -> None:
    declare("web = DockerResource(image=IMAGE)\n")
    process = start_blocked(pytester, "--clockwork-apply")
    assert len(leftovers()["containers"]) == 1
    os.kill(process.pid, signum)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    if signum == signal.SIGTERM:
        assert "terminated by signal 15 (SIGTERM)" in output
    assert leftovers() == {"containers": [], "networks": []}
    assert read_state(pytester.path) == {}


def test_sigkill_the_watchdog_cleans_up_within_seconds(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare("web = DockerResource(image=IMAGE)\n")
    process = start_blocked(pytester, "--clockwork-apply")
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    eventually(
        lambda: leftovers()["containers"] == [],
        timeout=10,
        message="the watchdog did not remove the container within 10s",
    )
    # The watchdog logs once it has also forgotten the records.
    eventually(lambda: "died; destroyed what it left: web" in _watchdog_log(pytester), timeout=5)
    assert read_state(pytester.path) == {}


def test_watchdog_killed_too_the_next_session_reaps(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        web = DockerResource(image=IMAGE)
        notes = FileResource(name="notes.txt", content="x", directory="out")
        """
    )
    test = BLOCKING_TEST.replace("def test_blocks(web):", "def test_blocks(web, notes):")
    process = start_blocked(pytester, "--clockwork-apply", test=test)
    (session,) = read_state(pytester.path)["sessions"].values()
    os.kill(session["watchdog_pid"], signal.SIGKILL)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    assert len(leftovers()["containers"]) == 1
    assert (pytester.path / "out" / "notes.txt").exists()
    # The next session, even one that deploys nothing, removes what the dead one left.
    pytester.makepyfile(test_x="def test_nothing(): pass")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1)
    assert leftovers()["containers"] == []
    assert not (pytester.path / "out").exists()
    result.stdout.fnmatch_lines(["cleaned up after a dead session: *"])


def test_two_concurrent_sessions_do_not_clash(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(
        test_x="""
        import httpx, os, time
        from pathlib import Path

        def test_both_alive(web):
            Path(f"running-{web.container_name}").write_text("")
            deadline = time.monotonic() + 30
            while len(list(Path().glob("running-*"))) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(list(Path().glob("running-*"))) == 2
            assert httpx.get(web.url(80)).status_code == 200
            Path(f"done-{web.container_name}").write_text("")
            while len(list(Path().glob("done-*"))) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        """
    )
    first = run_subprocess(pytester, "--clockwork-apply")
    second = run_subprocess(pytester, "--clockwork-apply")
    out_first, _ = first.communicate(timeout=60)
    out_second, _ = second.communicate(timeout=60)
    assert first.returncode == 0, out_first
    assert second.returncode == 0, out_second
    names = sorted(p.name for p in pytester.path.glob("running-*"))
    assert len(set(names)) == 2
    assert leftovers() == {"containers": [], "networks": []}
    assert read_state(pytester.path) == {}


def test_destroy_leaves_a_live_session_alone(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare("web = DockerResource(image=IMAGE)\n")
    pytester.makepyfile(
        test_x="""
        import time
        from pathlib import Path

        def test_waits(web):
            Path("test-started").write_text("")
            deadline = time.monotonic() + 30
            while not Path("go-on").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        """
    )
    live = run_subprocess(pytester, "--clockwork-apply")
    eventually(lambda: (pytester.path / "test-started").exists(), timeout=30)
    result = pytester.runpytest("--clockwork-destroy")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["stack 'default' had nothing to destroy"])
    assert len(leftovers()["containers"]) == 1
    Path(pytester.path / "go-on").write_text("")
    output, _ = live.communicate(timeout=30)
    assert live.returncode == 0, output
    assert leftovers()["containers"] == []


def test_kept_container_is_attached_then_destroyed(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(
        test_x="""
        import httpx

        def test_it(web):
            assert httpx.get(web.url(80)).status_code == 200
        """
    )
    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["kept web: 127.0.0.1:* → 80/tcp", "destroy with: *"])
    (kept,) = leftovers()["containers"]
    pytester.runpytest().assert_outcomes(passed=1)
    assert leftovers()["containers"] == [kept]
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.stdout.fnmatch_lines(["clockwork: web ready in *s (reused)"])
    assert leftovers()["containers"] == []
    # A kept container that was removed behind clockwork's back is reported as such.
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    import docker

    docker.from_env().containers.get(leftovers()["containers"][0]).remove(force=True)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'web' is recorded in stack 'default', but its container web-* is gone: "
            "run pytest with --clockwork-apply to deploy it again*"
        ]
    )
    pytester.runpytest("--clockwork-destroy")
