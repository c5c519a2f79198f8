"""Deployment overlaps the tests that need nothing; a test waits only for its resources."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from tests.support.harness import eventually, run_subprocess

pytestmark = pytest.mark.docker

CONFTEST = """
quick = DockerResource(image=IMAGE, ports=["80"])
slow = DockerResource(
    image=IMAGE,
    ports=["80"],
    command=["sh", "-c", "sleep 4; exec httpd -f -p 80 -h /www"],
)
"""

TESTS = """
import json
import time
from pathlib import Path

import docker
import httpx

def labelled(resource):
    client = docker.from_env()
    return client.containers.list(all=True, filters={"label": f"clockwork.resource={resource}"})

def status(key):
    state = json.loads(next(Path(".clockwork/stacks").glob("default.json")).read_text())
    return {record["key"]: record["status"] for record in state["records"].values()}.get(key)

def test_unit_first():
    # Nothing here needs a container, yet they are being deployed already.
    deadline = time.monotonic() + 20
    while not (labelled("quick") and labelled("slow")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert labelled("quick") and labelled("slow")

def test_quick_only(quick):
    assert httpx.get(quick.url(80)).status_code == 200
    assert status("slow") == "creating"  # not waited for: this test does not need it

def test_slow(slow):
    assert httpx.get(slow.url(80)).status_code == 200
"""


def test_deployment_runs_while_the_first_tests_do(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(CONFTEST)
    pytester.makepyfile(test_order=TESTS)

    result = pytester.runpytest("--clockwork-apply", "-p", "no:randomly")

    result.assert_outcomes(passed=3)
    assert leftovers() == {"containers": [], "networks": []}


def test_ctrl_c_while_deploying_in_the_background_leaves_nothing(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:

    declare(CONFTEST)
    pytester.makepyfile(
        test_order="""
        import time

        def test_unit():
            time.sleep(60)

        def test_slow(slow):
            pass
        """
    )
    process = run_subprocess(pytester, "--clockwork-apply")
    eventually(lambda: len(leftovers()["containers"]) == 1, timeout=30)  # slow, deploying
    os.kill(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=30)

    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert leftovers() == {"containers": [], "networks": []}
