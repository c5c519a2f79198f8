"""``clockwork watch`` rides out a Docker daemon restart.

Other tests run against the main Docker daemon at the same time, so this one starts a
private daemon of its own (in its own network namespace, so that it cannot touch the
host's ``docker0`` bridge) and restarts only that one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork.state import StateStore
from tests.support.harness import CLOCKWORK, QUICK, ROOT, eventually, run_subprocess

pytestmark = pytest.mark.docker  # a container-engine test, though it runs its own daemon


class PrivateDaemon:
    """A Docker daemon of this test's own, with its data under ``root``.

    Args:
        root: A short directory (unix socket paths are limited to about 100 bytes).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = f"unix://{root}/docker.sock"
        self.pidfile = root / "docker.pid"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the daemon and wait until it answers."""
        command = [
            "unshare",
            "--net",  # its own network namespace: --bridge=none would delete the host's docker0
            "dockerd",
            "--host",
            self.host,
            "--data-root",
            str(self.root / "data"),
            "--exec-root",
            str(self.root / "x"),
            "--pidfile",
            str(self.pidfile),
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
        ]
        with open(self.root / "dockerd.log", "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        eventually(self.answers, timeout=30, message="the private Docker daemon did not start")

    def answers(self) -> bool:
        """Whether the daemon answers a ping."""
        import docker

        try:
            client = docker.DockerClient(base_url=self.host, timeout=5)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:
            return False

    def stop(self) -> None:
        """Stop the daemon (through its pidfile) and wait until it is gone."""
        assert self.process is not None
        pid = int(self.pidfile.read_text())
        assert pid == self.process.pid  # unshare runs dockerd in its own process
        os.kill(pid, signal.SIGTERM)
        self.process.wait(timeout=30)

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.host, timeout=30)


def _can_run_a_private_daemon() -> str | None:
    if os.geteuid() != 0:
        return "starting a Docker daemon needs root"
    for tool in ("dockerd", "unshare", "busybox"):
        if shutil.which(tool) is None and not Path(f"/bin/{tool}").exists():
            return f"{tool} is not installed"
    if subprocess.run(["unshare", "--net", "true"], check=False).returncode != 0:
        return "cannot create a network namespace here"
    return None


@pytest.fixture
def private_docker() -> Iterator[PrivateDaemon]:
    """A private Docker daemon with the test image, removed with all it has afterwards."""
    reason = _can_run_a_private_daemon()
    if reason:
        pytest.skip(f"no private Docker daemon: {reason}")
    daemon = PrivateDaemon(Path(tempfile.mkdtemp(prefix="cwd", dir="/tmp")))
    try:
        daemon.start()
        subprocess.run(
            [str(ROOT / ".ci" / "build-test-images")],
            env={**os.environ, "DOCKER_HOST": daemon.host},
            check=True,
            capture_output=True,
        )
        yield daemon
    finally:
        if daemon.pidfile.exists() and daemon.answers():
            client = daemon.client()
            for container in client.containers.list(all=True):
                container.remove(force=True)
            client.close()
            daemon.stop()
        elif daemon.process is not None and daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
        shutil.rmtree(daemon.root, ignore_errors=True)


def test_watch_survives_a_docker_daemon_restart(
    pytester: pytest.Pytester, declare: Any, private_docker: PrivateDaemon
) -> None:
    declare(
        'worker = DockerResource(image=IMAGE, init=True, on_drift="auto_correct",\n'
        "                        assertions=[ContainerRunningAssert()])\n"
    )
    pytester.makepyfile(test_x="def test_x(worker):\n    pass\n")
    env = {"DOCKER_HOST": private_docker.host, **QUICK}
    kept = run_subprocess(pytester, "--clockwork-apply", "--clockwork-keep", env=env)
    output, _ = kept.communicate(timeout=120)
    assert kept.returncode == 0, output
    (record,) = StateStore(pytester.path, "default").read().records.values()
    container = record.outputs["container_id"]
    log = pytester.path / "watch.log"
    with open(log, "wb") as out:
        watch = subprocess.Popen(
            [*CLOCKWORK, "watch", "--rootdir", str(pytester.path), "--interval", "1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )
    try:
        eventually(lambda: "loaded the declarations" in log.read_text(), timeout=30)

        private_docker.stop()
        eventually(
            lambda: "the Docker engine does not answer" in log.read_text(),
            timeout=30,
            message=f"the outage was not noticed:\n{log.read_text()}",
        )
        assert watch.poll() is None  # it did not crash
        private_docker.start()  # its containers were stopped with it
        eventually(
            lambda: "started container worker-" in log.read_text(),
            timeout=30,
            message=f"the container was not started again:\n{log.read_text()}",
        )
        assert "the Docker engine answers again" in log.read_text()
        client = private_docker.client()
        assert client.containers.get(container).status == "running"
        client.close()

        watch.send_signal(signal.SIGTERM)
        assert watch.wait(timeout=30) == 0
        assert "Traceback" not in log.read_text()
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
    destroyed = subprocess.run(
        [*CLOCKWORK, "destroy", "--rootdir", str(pytester.path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert destroyed.stdout == "destroyed in stack 'default': worker\n", destroyed.stderr
