"""pytest-clockwork: infrastructure as pytest fixtures.

Declare resources as Pydantic models in ``conftest.py``; each one bound to a
module-level name becomes a session-scoped fixture of that name, deployed with
``pytest --clockwork-apply`` and destroyed at the end.

The names below load on first use, so that the plugin itself (loaded by every pytest
run) imports nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_clockwork.assertions.base import Assertion, AssertionFailed
    from pytest_clockwork.assertions.containers import (
        CommandSucceedsAssert,
        ContainerHealthyAssert,
        ContainerRunningAssert,
        LogContainsAssert,
    )
    from pytest_clockwork.assertions.files import FileContentMatchesAssert, FileExistsAssert
    from pytest_clockwork.assertions.network import HealthcheckAssert, PortAccessibleAssert
    from pytest_clockwork.errors import (
        ClockworkError,
        CompletionError,
        DeclarationError,
        DependencyCycleError,
        DeploymentError,
        EngineUnavailableError,
        FileConflictError,
        ImageUnavailableError,
        LockfileError,
        NotDeployedError,
        StateError,
    )
    from pytest_clockwork.resources.apple import AppleContainerResource
    from pytest_clockwork.resources.base import Resource
    from pytest_clockwork.resources.blank import BlankResource
    from pytest_clockwork.resources.container import ContainerResource, Healthcheck
    from pytest_clockwork.resources.docker import DockerResource
    from pytest_clockwork.resources.file import FileResource
    from pytest_clockwork.resources.git import GitRepoResource
    from pytest_clockwork.settings import ClockworkSettings, get_settings
    from pytest_clockwork.specs import SpecContext

__all__ = [
    "AppleContainerResource",
    "Assertion",
    "AssertionFailed",
    "BlankResource",
    "ClockworkError",
    "ClockworkSettings",
    "CommandSucceedsAssert",
    "CompletionError",
    "ContainerHealthyAssert",
    "ContainerResource",
    "ContainerRunningAssert",
    "DeclarationError",
    "DependencyCycleError",
    "DeploymentError",
    "DockerResource",
    "EngineUnavailableError",
    "FileConflictError",
    "FileContentMatchesAssert",
    "FileExistsAssert",
    "FileResource",
    "GitRepoResource",
    "Healthcheck",
    "HealthcheckAssert",
    "ImageUnavailableError",
    "LockfileError",
    "LogContainsAssert",
    "NotDeployedError",
    "PortAccessibleAssert",
    "Resource",
    "SpecContext",
    "StateError",
    "get_settings",
]

# Where each public name lives; they are imported on first use.
_MODULES = {
    "pytest_clockwork.assertions.base": ("Assertion", "AssertionFailed"),
    "pytest_clockwork.assertions.containers": (
        "CommandSucceedsAssert",
        "ContainerHealthyAssert",
        "ContainerRunningAssert",
        "LogContainsAssert",
    ),
    "pytest_clockwork.assertions.files": ("FileContentMatchesAssert", "FileExistsAssert"),
    "pytest_clockwork.assertions.network": ("HealthcheckAssert", "PortAccessibleAssert"),
    "pytest_clockwork.errors": (
        "ClockworkError",
        "CompletionError",
        "DeclarationError",
        "DependencyCycleError",
        "DeploymentError",
        "EngineUnavailableError",
        "FileConflictError",
        "ImageUnavailableError",
        "LockfileError",
        "NotDeployedError",
        "StateError",
    ),
    "pytest_clockwork.resources.apple": ("AppleContainerResource",),
    "pytest_clockwork.resources.base": ("Resource",),
    "pytest_clockwork.resources.blank": ("BlankResource",),
    "pytest_clockwork.resources.container": ("ContainerResource", "Healthcheck"),
    "pytest_clockwork.resources.docker": ("DockerResource",),
    "pytest_clockwork.resources.file": ("FileResource",),
    "pytest_clockwork.resources.git": ("GitRepoResource",),
    "pytest_clockwork.settings": ("ClockworkSettings", "get_settings"),
    "pytest_clockwork.specs": ("SpecContext",),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_clockwork' has no attribute {name!r}")
    # Not cached in globals(): pytester restores sys.modules between inner sessions,
    # and a cached class would outlive its module.
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
