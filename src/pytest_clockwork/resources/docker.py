"""DockerResource: a container on the Docker engine."""

from __future__ import annotations

from typing import ClassVar, Literal

from pytest_clockwork.resources.container import ContainerResource


class DockerResource(ContainerResource):
    """A Docker container, started for the session and removed after it.

    Example:
        ``web = DockerResource(image="nginx:alpine", ports=["80"])``; in a test,
        ``httpx.get(web.url(80))``.
    """

    runtime: ClassVar[Literal["docker", "apple"]] = "docker"
