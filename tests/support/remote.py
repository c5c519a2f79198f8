"""The second Docker engine "on another host" that ``.ci/remote-engine`` sets up.

A network namespace with its own addresses (10.213.0.2, and 10.213.0.3 for the override),
a dockerd in it on ``tcp://10.213.0.2:2375``, and an sshd in it serving that engine as
``ssh://cw-remote-engine`` (an alias in ``~/.ssh/config``). Tests marked
``remote_engine`` use it through the :func:`remote_engine` fixture's rule: skipped when
it does not answer, failed instead when ``CLOCKWORK_REQUIRE_DOCKER`` is set (CI).
"""

from __future__ import annotations

import functools
import os
import subprocess
from typing import Any

import pytest

from tests.support.harness import IMAGE, ROOT

REMOTE_TCP = "tcp://10.213.0.2:2375"
REMOTE_SSH = "ssh://cw-remote-engine"
REMOTE_HOST = "10.213.0.2"
"""Where the engine's published ports are reached (the ssh alias's HostName too)."""
REMOTE_ALIAS = "10.213.0.3"
"""Another address of the engine's host: what CW_DOCKER_HOST_OVERRIDE points at."""
SETUP = ROOT / ".ci" / "remote-engine"


@functools.cache
def _answer() -> tuple[Any | None, str]:
    """A client of the second engine over tcp once it (and its ssh side) answer; else
    ``None`` and why. Asked once per session."""
    try:
        import docker

        from pytest_clockwork.runtimes.sshdial import DialStdioClient

        client = docker.DockerClient(base_url=REMOTE_TCP, timeout=10)
        client.ping()
        DialStdioClient(REMOTE_SSH, timeout=10).close()
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    try:
        client.images.get(IMAGE)
    except Exception:
        subprocess.run(
            [str(ROOT / ".ci" / "build-test-images")],
            check=True,
            env={**os.environ, "DOCKER_HOST": REMOTE_TCP},
        )
    return client, ""


def remote_engine_client() -> Any:
    """The second engine's client (tcp); skips, or fails under CLOCKWORK_REQUIRE_DOCKER,
    when it does not answer."""
    client, why = _answer()
    if client is not None:
        return client
    message = (
        f"the second engine ({REMOTE_TCP}, {REMOTE_SSH}) does not answer ({why}); "
        f"{SETUP} sets it up (as root)"
    )
    if os.environ.get("CLOCKWORK_REQUIRE_DOCKER"):
        pytest.fail(f"CLOCKWORK_REQUIRE_DOCKER is set but {message}", pytrace=False)
    pytest.skip(message)


def labelled_for(client: Any, rootdir: Any) -> dict[str, list[str]]:
    """What clockwork made on the engine of ``client`` for ``rootdir``: containers,
    networks, volumes and built images."""
    from pytest_clockwork.state import root_id

    label = {"label": f"clockwork.root={root_id(rootdir)}"}
    return {
        "containers": sorted(c.name for c in client.containers.list(all=True, filters=label)),
        "networks": sorted(n.name for n in client.networks.list(filters=label)),
        "volumes": sorted(v.name for v in client.volumes.list(filters=label)),
        "images": sorted(i.id for i in client.images.list(filters=label)),
    }


def remove_labelled(client: Any, rootdir: Any) -> None:
    """Remove what :func:`labelled_for` finds (after a test, whatever it left)."""
    found = labelled_for(client, rootdir)
    for name in found["containers"]:
        client.containers.get(name).remove(force=True)
    for name in found["networks"]:
        client.networks.get(name).remove()
    for name in found["volumes"]:
        client.volumes.get(name).remove(force=True)
    for image in found["images"]:
        client.images.remove(image, force=True)
