"""Shared fixtures and rules: the ``docker`` marker, the engine pinned, inner sessions.

Hermetic by construction:

- A test that needs a container engine carries the ``docker`` marker (``pytest -m docker``
  and ``-m "not docker"`` select the group). It is skipped when no engine answers, unless
  ``CLOCKWORK_REQUIRE_DOCKER`` is set: then it fails, saying so. A test that uses the
  ``docker_client`` or ``leftovers`` fixture without the marker fails, saying to add it.
  Tests of an engine on another host carry ``remote_engine`` instead, with the same rule
  for the second engine that ``.ci/remote-engine`` sets up (tests/support/remote.py).
- Every test runs with ``CW_ENGINE=local``, so its inner sessions (in-process pytester
  runs and subprocesses alike) deploy with the local engine whether or not a ``pulumi``
  executable is installed. A test of ``auto`` or ``pulumi`` removes or overrides it and
  makes its own PATH (``tests/support/harness.py``: ``without_pulumi``, ``fake_pulumi``).
"""

from __future__ import annotations

import functools
import os
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

# Loaded once here so that pytester's in-process sessions (which restore sys.modules
# after each run) do not import pydantic models, settings and engines again every time.
import hypothesis.internal.observability  # noqa: F401  (its pytest plugin reports)
import pytest

import pytest_clockwork.deployment
import pytest_clockwork.engines.local.containers
import pytest_clockwork.engines.local.engine
import pytest_clockwork.reporting
import pytest_clockwork.settings  # noqa: F401
from tests.support.harness import IMAGE, ROOT, clockwork_objects

DOCKER_FIXTURES = ("docker_client", "leftovers")
"""Fixtures that need a container engine: a test that uses one must be marked ``docker``."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "docker: needs a container engine; skipped when no Docker engine answers, failed "
        "instead when CLOCKWORK_REQUIRE_DOCKER is set",
    )
    config.addinivalue_line(
        "markers",
        "remote_engine: needs the second engine of .ci/remote-engine (tcp and ssh); skipped "
        "when it does not answer, failed instead when CLOCKWORK_REQUIRE_DOCKER is set",
    )


@functools.cache
def _docker() -> tuple[Any | None, str]:
    """A client of the Docker engine that answers, or ``None`` and why (asked once)."""
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        where = os.environ.get("DOCKER_HOST", "the default socket")
        return None, f"{where}: {type(exc).__name__}: {exc}"
    return client, ""


def _without_docker(why: str) -> NoReturn:
    """Skip the running test, or fail it when CLOCKWORK_REQUIRE_DOCKER is set."""
    if os.environ.get("CLOCKWORK_REQUIRE_DOCKER"):
        pytest.fail(
            f"CLOCKWORK_REQUIRE_DOCKER is set but no Docker engine answers ({why}): start "
            "Docker (or point DOCKER_HOST at one), or unset CLOCKWORK_REQUIRE_DOCKER to skip "
            "the tests marked docker",
            pytrace=False,
        )
    pytest.skip(f"no Docker engine answers ({why}); set CLOCKWORK_REQUIRE_DOCKER=1 to fail")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """The ``docker`` marker's rule, before any fixture is set up."""
    marked = item.get_closest_marker("docker") is not None
    if not marked:
        used = [name for name in DOCKER_FIXTURES if name in getattr(item, "fixturenames", ())]
        if used:
            pytest.fail(
                f"{item.nodeid} uses {', '.join(used)} but is not marked docker: add "
                "@pytest.mark.docker (or pytestmark = pytest.mark.docker in its module)",
                pytrace=False,
            )
        return
    client, why = _docker()
    if client is None:
        _without_docker(why)


@pytest.fixture(autouse=True)
def _local_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner sessions deploy with the local engine, whatever is installed (see above)."""
    monkeypatch.setenv("CW_ENGINE", "local")


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """A Docker client with the test image present; skips (or fails in CI) without one."""
    client, why = _docker()
    if client is None:
        _without_docker(why)
    try:
        client.images.get(IMAGE)
    except Exception:
        subprocess.run([str(ROOT / ".ci" / "build-test-images")], check=True)
    return client


@pytest.fixture
def leftovers(docker_client: Any, pytester: pytest.Pytester) -> Iterator[Any]:
    """A function listing what clockwork left for the pytester rootdir; cleans up after."""

    def check() -> dict[str, list[str]]:
        return clockwork_objects(docker_client, pytester.path)

    yield check
    for name in check()["containers"]:
        docker_client.containers.get(name).remove(force=True)


@pytest.fixture
def built(docker_client: Any, pytester: pytest.Pytester) -> Iterator[Any]:
    """A function listing the images clockwork built for the pytester rootdir (a cache);
    removes them after the test."""
    from pytest_clockwork.state import root_id

    label = f"clockwork.root={root_id(pytester.path)}"

    def images() -> list[Any]:
        return list(docker_client.images.list(filters={"label": label}))

    yield images
    # Containers first (a failed test may leave one running): an image in use stays.
    for container in docker_client.containers.list(all=True, filters={"label": label}):
        container.remove(force=True)
    for image in images():
        docker_client.images.remove(image.id, force=True)


@pytest.fixture
def token() -> str:
    """Text no other run has: what a test builds is its own, even with another suite
    building the same Dockerfile on the same engine."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def declare(pytester: pytest.Pytester) -> Any:
    """Write a conftest.py (with clockwork's names imported) into the pytester dir."""

    def write(body: str, path: str = "conftest.py") -> Path:
        header = "from pytest_clockwork import *  # noqa: F403\n"
        header += f"IMAGE = {IMAGE!r}\n"
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + textwrap.dedent(body))
        return target

    return write
