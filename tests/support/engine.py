"""The container engine under test (the one ``DOCKER_HOST`` names, as the product finds
it): Docker or Podman, and what each of them reports in its own way.

Tests that check the engine's own answers (``docker inspect``) expect each engine's
exact answer; everything else is the same on both.
"""

from __future__ import annotations

import functools

PODMAN_ONLY_REGISTRY = "docker.io"
"""Where Podman puts images named without a registry (Docker shows them without one)."""


@functools.cache
def on_podman() -> bool:
    """Whether the engine under test is Podman (asked once, as the product asks)."""
    import docker

    from pytest_clockwork.runtimes.podman import is_podman

    client = docker.from_env(timeout=30)
    try:
        return is_podman(client.api)
    finally:
        client.close()


def reported_image(name: str) -> str:
    """The name the engine reports for an image made or run as ``name`` (a name with no
    registry): as it is on Docker, with its full registry path on Podman."""
    if not on_podman():
        return name
    path = name if "/" in name else f"library/{name}"
    return f"{PODMAN_ONLY_REGISTRY}/{path}"
