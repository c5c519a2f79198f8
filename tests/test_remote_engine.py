"""Containers on an engine on another host, over tcp and over ssh (``.ci/remote-engine``).

Real sessions against the second engine: ports published on all its interfaces and
reached by the test at its address (or ``CW_DOCKER_HOST_OVERRIDE``), images built there,
files put in, commands run; a bind mount refused; teardown, the watchdog and ``clockwork
destroy`` leaving nothing there.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.harness import (
    CLOCKWORK,
    IMAGE,
    eventually,
    start_blocked,
)
from tests.support.remote import (
    REMOTE_ALIAS,
    REMOTE_HOST,
    REMOTE_SSH,
    REMOTE_TCP,
    labelled_for,
    remote_engine_client,
    remove_labelled,
)

pytestmark = pytest.mark.remote_engine

NOTHING: dict[str, list[str]] = {"containers": [], "networks": [], "volumes": [], "images": []}
SITE = {"site/Dockerfile": f"FROM {IMAGE}\nRUN echo built > /www/built.txt\n"}


@pytest.fixture
def remote(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The second engine's client; whatever clockwork left there for this test's rootdir
    is removed afterwards. Not a setting of this machine's engine leaks in."""
    client = remote_engine_client()
    for name in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CW_DOCKER_HOST_OVERRIDE", raising=False)
    yield client
    remove_labelled(client, pytester.path)


def write(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = pytester.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize("url", [REMOTE_TCP, REMOTE_SSH], ids=["tcp", "ssh"])
def test_a_container_there_is_reached_at_the_engines_host(
    url: str,
    pytester: pytest.Pytester,
    declare: Any,
    monkeypatch: pytest.MonkeyPatch,
    remote: Any,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", url)
    write(pytester, SITE)
    declare(
        """
        web = DockerResource(
            build="site", ports=["80"], files={"/www/extra.txt": "sent from here\\n"}
        )
        """
    )
    pytester.makepyfile(
        test_web=f"""
        import docker, httpx

        def test_get(web):
            assert web.host == {REMOTE_HOST!r}
            assert web.url(80) == f"http://{REMOTE_HOST}:{{web.host_port(80)}}"
            assert httpx.get(web.url(80)).text == "hello\\n"
            assert httpx.get(web.url(80) + "/built.txt").text == "built\\n"
            assert httpx.get(web.url(80) + "/extra.txt").text == "sent from here\\n"
            assert web.exec("cat /www/extra.txt").output == "sent from here\\n"
            remote = docker.DockerClient(base_url={REMOTE_TCP!r})
            bindings = remote.api.inspect_container(web.container_id)["HostConfig"]["PortBindings"]
            assert bindings["80/tcp"] == [{{"HostIp": "0.0.0.0", "HostPort": ""}}]
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"clockwork: engine local *; containers: docker * at {url} "
            f"(DOCKER_HOST; ports reached at {REMOTE_HOST})",
            "web | Step 2/* : RUN echo built > /www/built.txt",
            f"deployed web: {REMOTE_HOST}:* → 80/tcp, ready in *s",
        ]
    )
    left = labelled_for(remote, pytester.path)
    built = left.pop("images")
    assert left == {"containers": [], "networks": [], "volumes": []}
    assert len(built) == 1  # the build cache stays, as on a local engine


def test_the_override_is_where_tests_connect(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch, remote: Any
) -> None:
    monkeypatch.setenv("DOCKER_HOST", REMOTE_TCP)
    monkeypatch.setenv("CW_DOCKER_HOST_OVERRIDE", REMOTE_ALIAS)
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(
        test_web=f"""
        import httpx

        def test_get(web):
            assert web.host == {REMOTE_ALIAS!r}
            assert httpx.get(f"http://{REMOTE_ALIAS}:{{web.host_port(80)}}").text == "hello\\n"
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"clockwork: *; containers: docker * (DOCKER_HOST; ports reached at {REMOTE_ALIAS})"]
    )
    assert labelled_for(remote, pytester.path) == NOTHING


def test_a_bind_mount_is_refused_there(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch, remote: Any
) -> None:
    monkeypatch.setenv("DOCKER_HOST", REMOTE_SSH)
    declare(
        """
        web = DockerResource(image=IMAGE, ports=["80"], volumes=["./www:/www:ro"])
        db = DockerResource(image=IMAGE, volumes=["data:/data"])
        """
    )
    pytester.makepyfile(
        test_web="""
        def test_web(web):
            pass

        def test_db(db):
            assert db.exec("ls -d /data").exit_code == 0
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*resource 'web' cannot run on the Docker engine at {REMOTE_SSH} (DOCKER_HOST), "
            "which is on another host: volumes.0 would mount */www from that host's "
            "filesystem*files={path: text}*named volume*unset DOCKER_HOST*"
        ]
    )
    assert not (pytester.path / "www").exists()  # the mount's source was not made here
    assert labelled_for(remote, pytester.path) == NOTHING  # its named volume went too


def test_a_killed_session_is_cleaned_up_there_by_its_watchdog(
    pytester: pytest.Pytester, declare: Any, remote: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    process = start_blocked(
        pytester, "--clockwork-apply", env={"DOCKER_HOST": REMOTE_SSH}, timeout=60
    )
    assert len(labelled_for(remote, pytester.path)["containers"]) == 1
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    eventually(
        lambda: labelled_for(remote, pytester.path)["containers"] == [],
        timeout=20,
        message="the watchdog did not remove the container on the remote engine",
    )


def test_kept_there_is_shown_and_destroyed_by_the_clockwork_command(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch, remote: Any
) -> None:
    monkeypatch.setenv("DOCKER_HOST", REMOTE_TCP)
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(test_x="def test_x(web):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    assert len(labelled_for(remote, pytester.path)["containers"]) == 1
    root = str(pytester.path)

    def clockwork(*args: str) -> str:
        done = subprocess.run(
            [*CLOCKWORK, *args, "--rootdir", root],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTEST_ADDOPTS": "-p no:hypothesispytest"},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert f"{REMOTE_HOST}:" in clockwork("status")
    assert "destroyed in stack 'default': web" in clockwork("destroy")
    assert labelled_for(remote, pytester.path) == NOTHING
