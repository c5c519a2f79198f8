"""Telling the Docker engine being away from a resource's own fault, and recovering."""

from __future__ import annotations

import sys

from pytest_clockwork.errors import EngineUnavailableError
from pytest_clockwork.state import ResourceRecord


def uses_docker(record: ResourceRecord) -> bool:
    """Whether checking ``record`` needs the Docker engine."""
    return record.kind == "container" and record.outputs.get("runtime", "docker") == "docker"


def engine_fault(exc: BaseException) -> bool:
    """Whether ``exc`` says the Docker engine cannot be reached (not a resource's fault)."""
    if isinstance(exc, EngineUnavailableError | ConnectionError):
        return True
    import docker.errors
    import requests.exceptions

    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return True
    return isinstance(exc, docker.errors.DockerException) and not isinstance(
        exc, docker.errors.NotFound
    )


def reset_docker() -> None:
    """Forget the Docker client (when one was made), so the next call connects afresh."""
    dockerd = sys.modules.get("pytest_clockwork.runtimes.dockerd")
    if dockerd is not None:
        dockerd.reset_client()
