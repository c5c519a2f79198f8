"""Shared fixtures: a real Docker engine (or a skip), the test image, inner sessions."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

REQUIRE_DOCKER = bool(os.environ.get("CLOCKWORK_REQUIRE_DOCKER"))


def _docker_client() -> Any | None:
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
    except Exception:
        return None
    return client


@pytest.fixture(scope="session")
def docker_client() -> Any:
    """A Docker client with the test image present; skips (or fails in CI) without one."""
    client = _docker_client()
    if client is None:
        if REQUIRE_DOCKER:
            pytest.fail("CLOCKWORK_REQUIRE_DOCKER is set but no Docker engine answers")
        pytest.skip("no Docker engine (set CLOCKWORK_REQUIRE_DOCKER=1 to make this an error)")
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
