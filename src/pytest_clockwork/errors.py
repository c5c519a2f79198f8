"""The errors clockwork raises.

Every error derives from :class:`ClockworkError`; each message names the resource it
is about and says what to do. Invalid declarations are pydantic ``ValidationError``s
instead (they name the field and the value), raised when the model is built.
"""

from __future__ import annotations


class ClockworkError(Exception):
    """Base class of every clockwork error.

    Args:
        message: What went wrong, and what to do about it.
        resource: The key of the resource the error is about, when there is one.
    """

    def __init__(self, message: str, *, resource: str | None = None) -> None:
        super().__init__(message)
        self.resource = resource


class DeclarationError(ClockworkError):
    """The declarations cannot be used together (duplicate names, a missing name)."""


class DependencyCycleError(DeclarationError):
    """Connections form a cycle.

    Args:
        cycle: The resource keys along the cycle; the first is repeated at the end.
    """

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(
            "Dependency cycle detected: "
            + " → ".join(cycle)
            + ". Remove one of the connect() calls along it (a composite deploys after its "
            "children, so a child cannot connect to it)",
            resource=cycle[0] if cycle else None,
        )
        self.cycle = cycle


class EngineUnavailableError(ClockworkError):
    """The chosen engine cannot run on this machine (no Docker, no Pulumi CLI)."""


class DeploymentError(ClockworkError):
    """A resource could not be deployed.

    Args:
        message: What went wrong, and what to do about it.
        resource: The key of the resource that failed.
        logs: The last lines of the container's logs, when it is a container.
    """

    def __init__(self, message: str, *, resource: str | None = None, logs: str = "") -> None:
        super().__init__(message, resource=resource)
        self.logs = logs


class ImageUnavailableError(DeploymentError):
    """A container image is neither present locally nor could be pulled."""


class FileConflictError(DeploymentError):
    """A file resource would overwrite a file that clockwork did not create."""


class ResetError(ClockworkError):
    """A resource's ``reset=`` failed before a test: a command exited with another code than
    0 (the message has the command and its output), or a file could not be restored."""


class NotDeployedError(ClockworkError):
    """A fixture asked for a resource that is not running in the stack."""


class CompletionError(ClockworkError):
    """AI completion failed: no model, no key, or a proposal that kept being rejected."""


class LockfileError(CompletionError):
    """``clockwork.lock`` has no usable entry and no model may be asked."""


class StateError(ClockworkError):
    """The stack's state file cannot be read or written."""
