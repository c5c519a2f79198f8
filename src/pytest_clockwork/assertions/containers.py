"""Built-in checks of containers: running, healthy, logs, a command inside."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import field_validator

from pytest_clockwork.assertions.base import Assertion, AssertionFailed, Pattern
from pytest_clockwork.resources.container import ContainerResource

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource
    from pytest_clockwork.runtimes.dockerd import Observed

CONTAINERS: tuple[type[Resource], ...] = (ContainerResource,)
_SHOWN_LINES = 10


def _observe(resource: Resource) -> Observed:
    from pytest_clockwork.runtimes import runtime_for

    runtime = runtime_for(str(resource.outputs.get("runtime", "docker")))
    seen = runtime.observe(str(resource.outputs["container_id"]))
    if seen is None:
        raise AssertionFailed(
            f"resource {resource.key!r}: container {resource.outputs.get('container_name')} "
            "no longer exists"
        )
    return seen


def _tail(text: str) -> str:
    lines = text.strip().splitlines()[-_SHOWN_LINES:]
    return "\n".join(f"    {line}" for line in lines) if lines else "    (no output)"


class ContainerRunningAssert(Assertion):
    """The container is running.

    Example:
        ``DockerResource(..., assertions=[ContainerRunningAssert()])``
    """

    resource_types = CONTAINERS

    def check(self, resource: Resource) -> None:
        """Fail unless the container's status is ``running``."""
        seen = _observe(resource)
        if seen.status != "running":
            code = f" (exit code {seen.exit_code})" if seen.exit_code is not None else ""
            raise AssertionFailed(
                f"resource {resource.key!r}: container {resource.outputs['container_name']} "
                f"is {seen.status}{code}, expected running"
            )


class ContainerHealthyAssert(Assertion):
    """The container's own healthcheck reports healthy."""

    resource_types = CONTAINERS

    def check(self, resource: Resource) -> None:
        """Fail unless the engine reports the container healthy."""
        seen = _observe(resource)
        if seen.health == "none":
            raise AssertionFailed(
                f"resource {resource.key!r}: container {resource.outputs['container_name']} has "
                "no healthcheck; give the resource healthcheck=Healthcheck(test=...) or use "
                "another assertion"
            )
        if seen.health != "healthy":
            raise AssertionFailed(
                f"resource {resource.key!r}: container {resource.outputs['container_name']} is "
                f"{seen.health} (status {seen.status}), expected healthy"
            )


class LogContainsAssert(Assertion):
    """The container's output matches a regular expression.

    Attributes:
        pattern: A regular expression searched in stdout and stderr.
    """

    resource_types = CONTAINERS
    pattern: Pattern

    def check(self, resource: Resource) -> None:
        """Fail unless ``pattern`` is found in the logs."""
        logs = resource.logs(tail=None)  # type: ignore[attr-defined]
        if not re.search(self.pattern, logs, re.MULTILINE):
            raise AssertionFailed(
                f"resource {resource.key!r}: {self.pattern!r} not found in the logs of "
                f"container {resource.outputs['container_name']}; its last lines:\n{_tail(logs)}"
            )


class CommandSucceedsAssert(Assertion):
    """A command run inside the container exits with 0 (and prints what is expected).

    Attributes:
        command: The command, as a shell string (run with ``sh -c``) or a list.
        expect_output: Text that must appear in the command's output.
    """

    resource_types = CONTAINERS
    command: str | list[str]
    expect_output: str | None = None

    @field_validator("command")
    @classmethod
    def _runs_something(cls, value: str | list[str]) -> str | list[str]:
        if not (value.strip() if isinstance(value, str) else value and value[0].strip()):
            raise ValueError(
                f"command={value!r} runs nothing, so it would check nothing: give the "
                'command to run, e.g. command="pg_isready -U postgres"'
            )
        return value

    def check(self, resource: Resource) -> None:
        """Fail when the command exits non-zero or its output lacks ``expect_output``."""
        from pytest_clockwork.runtimes import runtime_for

        command = ["sh", "-c", self.command] if isinstance(self.command, str) else self.command
        runtime = runtime_for(str(resource.outputs.get("runtime", "docker")))
        code, output = runtime.execute(str(resource.outputs["container_id"]), command)
        shown = self.command if isinstance(self.command, str) else " ".join(self.command)
        where = f"resource {resource.key!r}: `{shown}` in {resource.outputs['container_name']}"
        if code != 0:
            raise AssertionFailed(
                f"{where} exited with {code}, expected 0; output:\n{_tail(output)}"
            )
        if self.expect_output is not None and self.expect_output not in output:
            raise AssertionFailed(
                f"{where} printed no {self.expect_output!r}; output:\n{_tail(output)}"
            )
