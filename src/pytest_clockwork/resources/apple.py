"""AppleContainerResource: a container on Apple's ``container`` runtime (macOS)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pytest_clockwork.resources.container import ContainerResource


class AppleContainerResource(ContainerResource):
    """A container run by Apple's ``container`` command-line runtime on macOS.

    It has the same shape as :class:`~pytest_clockwork.DockerResource`. On a machine
    without the ``container`` command, deployment fails with an error that says so.
    """

    runtime: ClassVar[Literal["docker", "apple"]] = "apple"
    builds_images: ClassVar[bool] = False
