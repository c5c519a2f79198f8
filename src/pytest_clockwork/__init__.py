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
    from pytest_clockwork.assertions.base import (
        Assertion as Assertion,
    )
    from pytest_clockwork.assertions.base import (
        AssertionFailed as AssertionFailed,
    )
    from pytest_clockwork.assertions.containers import (
        CommandSucceedsAssert as CommandSucceedsAssert,
    )
    from pytest_clockwork.assertions.containers import (
        ContainerHealthyAssert as ContainerHealthyAssert,
    )
    from pytest_clockwork.assertions.containers import (
        ContainerRunningAssert as ContainerRunningAssert,
    )
    from pytest_clockwork.assertions.containers import (
        LogContainsAssert as LogContainsAssert,
    )
    from pytest_clockwork.assertions.files import (
        FileContentMatchesAssert as FileContentMatchesAssert,
    )
    from pytest_clockwork.assertions.files import (
        FileExistsAssert as FileExistsAssert,
    )
    from pytest_clockwork.assertions.network import (
        HealthcheckAssert as HealthcheckAssert,
    )
    from pytest_clockwork.assertions.network import (
        PortAccessibleAssert as PortAccessibleAssert,
    )
    from pytest_clockwork.errors import (
        ClockworkError as ClockworkError,
    )
    from pytest_clockwork.errors import (
        CompletionError as CompletionError,
    )
    from pytest_clockwork.errors import (
        DeclarationError as DeclarationError,
    )
    from pytest_clockwork.errors import (
        DependencyCycleError as DependencyCycleError,
    )
    from pytest_clockwork.errors import (
        DeploymentError as DeploymentError,
    )
    from pytest_clockwork.errors import (
        EngineUnavailableError as EngineUnavailableError,
    )
    from pytest_clockwork.errors import (
        FileConflictError as FileConflictError,
    )
    from pytest_clockwork.errors import (
        ImageUnavailableError as ImageUnavailableError,
    )
    from pytest_clockwork.errors import (
        LockfileError as LockfileError,
    )
    from pytest_clockwork.errors import (
        NotDeployedError as NotDeployedError,
    )
    from pytest_clockwork.errors import (
        StateError as StateError,
    )
    from pytest_clockwork.resources.apple import (
        AppleContainerResource as AppleContainerResource,
    )
    from pytest_clockwork.resources.base import (
        Resource as Resource,
    )
    from pytest_clockwork.resources.blank import (
        BlankResource as BlankResource,
    )
    from pytest_clockwork.resources.container import (
        ContainerResource as ContainerResource,
    )
    from pytest_clockwork.resources.container import (
        Healthcheck as Healthcheck,
    )
    from pytest_clockwork.resources.docker import (
        DockerResource as DockerResource,
    )
    from pytest_clockwork.resources.file import (
        FileResource as FileResource,
    )
    from pytest_clockwork.resources.git import (
        GitRepoResource as GitRepoResource,
    )
    from pytest_clockwork.settings import (
        ClockworkSettings as ClockworkSettings,
    )
    from pytest_clockwork.settings import (
        get_settings as get_settings,
    )
    from pytest_clockwork.specs import (
        SpecContext as SpecContext,
    )

_EXPORTS = {
    "AppleContainerResource": "pytest_clockwork.resources.apple",
    "Assertion": "pytest_clockwork.assertions.base",
    "AssertionFailed": "pytest_clockwork.assertions.base",
    "BlankResource": "pytest_clockwork.resources.blank",
    "ClockworkError": "pytest_clockwork.errors",
    "ClockworkSettings": "pytest_clockwork.settings",
    "CommandSucceedsAssert": "pytest_clockwork.assertions.containers",
    "CompletionError": "pytest_clockwork.errors",
    "ContainerHealthyAssert": "pytest_clockwork.assertions.containers",
    "ContainerResource": "pytest_clockwork.resources.container",
    "ContainerRunningAssert": "pytest_clockwork.assertions.containers",
    "DeclarationError": "pytest_clockwork.errors",
    "DependencyCycleError": "pytest_clockwork.errors",
    "DeploymentError": "pytest_clockwork.errors",
    "DockerResource": "pytest_clockwork.resources.docker",
    "EngineUnavailableError": "pytest_clockwork.errors",
    "FileConflictError": "pytest_clockwork.errors",
    "FileContentMatchesAssert": "pytest_clockwork.assertions.files",
    "FileExistsAssert": "pytest_clockwork.assertions.files",
    "FileResource": "pytest_clockwork.resources.file",
    "GitRepoResource": "pytest_clockwork.resources.git",
    "Healthcheck": "pytest_clockwork.resources.container",
    "HealthcheckAssert": "pytest_clockwork.assertions.network",
    "ImageUnavailableError": "pytest_clockwork.errors",
    "LockfileError": "pytest_clockwork.errors",
    "LogContainsAssert": "pytest_clockwork.assertions.containers",
    "NotDeployedError": "pytest_clockwork.errors",
    "PortAccessibleAssert": "pytest_clockwork.assertions.network",
    "Resource": "pytest_clockwork.resources.base",
    "SpecContext": "pytest_clockwork.specs",
    "StateError": "pytest_clockwork.errors",
    "get_settings": "pytest_clockwork.settings",
}

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
