"""What the terminal says: reaped leftovers, paused containers, custom resources."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from tests.support.harness import (
    read_state,
    start_blocked,
)

CUSTOM = """
class Thing(Resource):
    def create(self, context):
        return {"made": "yes", "count": 2}

    def delete(self, outputs):
        pass

thing = Thing()
"""


@pytest.mark.docker
def test_a_deploying_session_says_it_cleaned_up_after_a_dead_one(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare("web = DockerResource(image=IMAGE)\n")
    process = start_blocked(pytester, "--clockwork-apply")
    (session,) = read_state(pytester.path)["sessions"].values()
    os.kill(session["watchdog_pid"], signal.SIGKILL)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    (orphan,) = leftovers()["containers"]

    pytester.makepyfile(test_x="def test_uses(web): pass")
    result = pytester.runpytest("--clockwork-apply")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["cleaned up after a dead session: web"])
    assert orphan not in leftovers()["containers"]


@pytest.mark.docker
def test_a_paused_kept_container_is_reported_as_paused(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, docker_client: Any
) -> None:
    declare("web = DockerResource(image=IMAGE)\n")
    pytester.makepyfile(test_x="def test_x(web): pass")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    (name,) = leftovers()["containers"]
    docker_client.containers.get(name).pause()

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*resource 'web' is recorded in stack 'default', but its container {name} is paused "
            f"(docker unpause {name} resumes it)*"
        ]
    )
    docker_client.containers.get(name).unpause()
    pytester.runpytest("--clockwork-destroy")
    assert leftovers()["containers"] == []


def test_a_custom_resource_is_summarised_by_its_outputs(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare(CUSTOM + "group = BlankResource(name='group')\n")
    pytester.makepyfile(test_x="def test_x(thing, group): pass")

    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["deployed thing: count=2, made=yes, ready in *s", "kept thing: count=2, made=yes"]
    )
    result.stdout.fnmatch_lines(["deployed group: BlankResource (no outputs)*"])
    assert "group of" not in result.stdout.str()
    pytester.runpytest("--clockwork-destroy")


@pytest.mark.docker
def test_an_empty_healthcheck_never_reaches_docker(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, docker_client: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, healthcheck=Healthcheck(test=["CMD"]))\n')
    pytester.makepyfile(test_x="def test_x(web): pass")

    result = pytester.runpytest("--clockwork-apply")

    assert result.ret != pytest.ExitCode.OK
    assert "test=['CMD'] runs no command" in result.stderr.str()
    assert leftovers() == {"containers": [], "networks": []}
    assert docker_client.ping()
