"""pytest-clockwork: infrastructure as pytest fixtures.

Declare resources as Pydantic models in ``conftest.py``; each one bound to a
module-level name becomes a fixture of that name (session-scoped unless its ``scope``
says otherwise), deployed with ``pytest --clockwork-apply`` and destroyed at the end.

The names below load on first use, so that the plugin itself (loaded by every pytest
run) imports nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# What type checkers see: each public name, re-exported ("X as X"). At run time the
# names are imported on first use, from where _EXPORTS says; tests/test_public_api.py
# checks that the two agree.
if TYPE_CHECKING:
    from pytest_clockwork.assertions.base import Assertion as Assertion
    from pytest_clockwork.assertions.base import AssertionFailed as AssertionFailed
    from pytest_clockwork.assertions.containers import (
        CommandSucceedsAssert as CommandSucceedsAssert,
    )
    from pytest_clockwork.assertions.containers import (
        ContainerHealthyAssert as ContainerHealthyAssert,
    )
    from pytest_clockwork.assertions.containers import (
        ContainerRunningAssert as ContainerRunningAssert,
    )
    from pytest_clockwork.assertions.containers import LogContainsAssert as LogContainsAssert
    from pytest_clockwork.assertions.files import (
        FileContentMatchesAssert as FileContentMatchesAssert,
    )
    from pytest_clockwork.assertions.files import FileExistsAssert as FileExistsAssert
    from pytest_clockwork.assertions.network import HealthcheckAssert as HealthcheckAssert
    from pytest_clockwork.assertions.network import PortAccessibleAssert as PortAccessibleAssert
    from pytest_clockwork.errors import ClockworkError as ClockworkError
    from pytest_clockwork.errors import CompletionError as CompletionError
    from pytest_clockwork.errors import DeclarationError as DeclarationError
    from pytest_clockwork.errors import DependencyCycleError as DependencyCycleError
    from pytest_clockwork.errors import DeploymentError as DeploymentError
    from pytest_clockwork.errors import EngineUnavailableError as EngineUnavailableError
    from pytest_clockwork.errors import FileConflictError as FileConflictError
    from pytest_clockwork.errors import ImageUnavailableError as ImageUnavailableError
    from pytest_clockwork.errors import LockfileError as LockfileError
    from pytest_clockwork.errors import NotDeployedError as NotDeployedError
    from pytest_clockwork.errors import ResetError as ResetError
    from pytest_clockwork.errors import StateError as StateError
    from pytest_clockwork.resources.actions import ExecResult as ExecResult
    from pytest_clockwork.resources.apple import AppleContainerResource as AppleContainerResource
    from pytest_clockwork.resources.base import Resource as Resource
    from pytest_clockwork.resources.blank import BlankResource as BlankResource
    from pytest_clockwork.resources.build import Build as Build
    from pytest_clockwork.resources.compose import ComposeResource as ComposeResource
    from pytest_clockwork.resources.container import ContainerResource as ContainerResource
    from pytest_clockwork.resources.container import Healthcheck as Healthcheck
    from pytest_clockwork.resources.docker import DockerResource as DockerResource
    from pytest_clockwork.resources.file import FileResource as FileResource
    from pytest_clockwork.resources.git import GitRepoResource as GitRepoResource
    from pytest_clockwork.settings import ClockworkSettings as ClockworkSettings
    from pytest_clockwork.settings import get_settings as get_settings
    from pytest_clockwork.specs import SpecContext as SpecContext

_EXPORTS: dict[str, str] = {
    name: module
    for module, names in {
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
            "ResetError",
            "StateError",
        ),
        "pytest_clockwork.resources.actions": ("ExecResult",),
        "pytest_clockwork.resources.apple": ("AppleContainerResource",),
        "pytest_clockwork.resources.base": ("Resource",),
        "pytest_clockwork.resources.blank": ("BlankResource",),
        "pytest_clockwork.resources.build": ("Build",),
        "pytest_clockwork.resources.compose": ("ComposeResource",),
        "pytest_clockwork.resources.container": ("ContainerResource", "Healthcheck"),
        "pytest_clockwork.resources.docker": ("DockerResource",),
        "pytest_clockwork.resources.file": ("FileResource",),
        "pytest_clockwork.resources.git": ("GitRepoResource",),
        "pytest_clockwork.settings": ("ClockworkSettings", "get_settings"),
        "pytest_clockwork.specs": ("SpecContext",),
    }.items()
    for name in names
}
"""Each public name, with the module it is imported from on first use."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_clockwork' has no attribute {name!r}")
    # Not cached in globals(): pytester restores sys.modules between inner sessions,
    # and a cached class would outlive its module.
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
