"""Actions on a deployed container from a test, on a real Docker engine: exec, stop, start,
restart (with the host port Docker gives it then), pause, unpause; and teardown, the
watchdog and a later session after them."""

from __future__ import annotations

import os
import signal
import textwrap
from typing import Any

import pytest

from tests.support.engine import on_podman
from tests.support.harness import eventually, read_state, run_subprocess

pytestmark = pytest.mark.docker

WEB = 'web = DockerResource(image=IMAGE, ports=["80"], init=True, working_dir="/www")\n'


def test_exec_runs_a_command_and_gives_its_exit_code_and_output(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(WEB)
    pytester.makepyfile(
        test_exec="""
        import pytest
        from pytest_clockwork import DeploymentError, ExecResult

        def test_shell_and_list(web):
            result = web.exec("echo out; echo err >&2; exit 3")
            assert isinstance(result, ExecResult)
            assert result.exit_code == 3 and not result.ok
            assert "out\\n" in result.output and "err\\n" in result.output
            listed = web.exec(["cat", "/www/index.html"])
            assert (listed.exit_code, listed.output) == (0, "hello\\n")
            # a list is not given to a shell
            assert web.exec(["echo", "$HOME;", "x"]).output == "$HOME; x\\n"

        def test_user_workdir_env(web):
            assert web.exec("pwd").output == "/www\\n"
            assert web.exec("pwd", workdir="/proc").output == "/proc\\n"
            uid = web.exec(["grep", "^Uid:", "/proc/self/status"], user="1234").output
            assert uid.split()[1] == "1234"
            assert web.exec("echo $GREETING", env={"GREETING": "hi"}).output == "hi\\n"

        def test_on_a_stopped_container_says_so(web):
            web.stop(timeout=1)
            with pytest.raises(DeploymentError, match="resource 'web': .* is not running"):
                web.exec("true")
            web.start()
            assert web.exec("true").ok
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=3)
    assert leftovers() == {"containers": [], "networks": []}


def test_stop_start_pause_unpause_and_restart_on_a_new_host_port(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(WEB)
    pytester.makepyfile(
        test_actions=f"PODMAN = {on_podman()!r}\n"
        + textwrap.dedent(
            """
        import json
        from pathlib import Path

        import docker
        import httpx

        def status(web):
            return docker.from_env().api.inspect_container(web.container_id)["State"]["Status"]

        def published(web):
            attrs = docker.from_env().api.inspect_container(web.container_id)
            return int(attrs["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"])

        def recorded_ports():
            state = json.loads(Path(".clockwork/stacks/default.json").read_text())
            (record,) = state["records"].values()
            return record["outputs"]["ports"]

        def test_stop_and_start(web):
            web.stop(timeout=1)
            assert status(web) == "exited"
            web.start()  # returns once it serves again
            assert status(web) == "running"
            assert httpx.get(web.url(80)).text == "hello\\n"
            assert web.host_port(80) == published(web)

        def test_pause_and_unpause(web):
            web.pause()
            assert status(web) == "paused"
            web.unpause()
            assert httpx.get(web.url(80)).text == "hello\\n"

        def test_restart(web):
            before = web.url(80)
            web.restart(timeout=1)
            if PODMAN:  # Podman keeps the host port it chose when it created the container
                assert web.url(80) == before
            else:  # Docker published port 80 on another free host port: url() follows it ...
                assert web.url(80) != before
            assert web.host_port(80) == published(web)
            assert httpx.get(web.url(80)).text == "hello\\n"
            # ... and so does the state, where xdist workers and later sessions attach.
            assert recorded_ports() == {"80/tcp": web.host_port(80)}
        """
        ),
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=3)
    assert leftovers() == {"containers": [], "networks": []}


def test_a_session_that_attaches_later_gets_the_port_after_a_restart(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(WEB)
    pytester.makepyfile(
        test_kept="""
        from pathlib import Path

        import httpx

        def test_it(web):
            if not Path("port").exists():  # the first session restarts it
                web.restart(timeout=1)
                Path("port").write_text(str(web.host_port(80)))
            assert web.host_port(80) == int(Path("port").read_text())
            assert httpx.get(web.url(80)).text == "hello\\n"
        """
    )
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    (kept,) = leftovers()["containers"]
    pytester.runpytest().assert_outcomes(passed=1)  # attached from the state
    assert leftovers()["containers"] == [kept]
    pytester.runpytest("--clockwork-destroy")
    assert leftovers() == {"containers": [], "networks": []}


def test_teardown_removes_a_stopped_and_a_paused_container(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        stopped = DockerResource(image=IMAGE, init=True)
        paused = DockerResource(image=IMAGE)
        """
    )
    pytester.makepyfile(
        test_left="""
        def test_leave_them(stopped, paused):
            stopped.stop(timeout=1)
            paused.pause()
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert leftovers() == {"containers": [], "networks": []}
    assert read_state(pytester.path) == {}


def test_the_watchdog_removes_a_paused_container_after_sigkill(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare("web = DockerResource(image=IMAGE)\n")
    pytester.makepyfile(
        test_x="""
        import time
        from pathlib import Path

        def test_blocks(web):
            web.pause()
            Path("paused").write_text(web.container_name)
            time.sleep(60)
        """
    )
    process = run_subprocess(pytester, "--clockwork-apply")
    eventually(lambda: (pytester.path / "paused").exists(), timeout=30)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    eventually(
        lambda: leftovers()["containers"] == [],
        timeout=15,
        message="the watchdog did not remove the paused container",
    )
    eventually(lambda: read_state(pytester.path) == {}, timeout=5)
