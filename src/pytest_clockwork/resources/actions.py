"""What a test can do to a deployed container: run a command in it, stop, start, restart,
pause and unpause it.

The fixture value of a container resource has these methods (through
:class:`ContainerActions`). They act through the container's runtime
(:class:`~pytest_clockwork.runtimes.base.ContainerRuntime`), whatever engine deployed it.
After ``start``, ``restart`` and ``unpause`` the container is waited for as at deploy, and
the host ports it has now become the value's outputs, and the recorded ones (so
``url()`` is right, here and in whoever attaches later).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_clockwork.errors import NotDeployedError

if TYPE_CHECKING:
    from pytest_clockwork.runtimes.base import Action, ContainerRuntime
    from pytest_clockwork.specs import Spec

STOP_TIMEOUT = 10.0
"""Seconds a container gets to stop before it is killed (Docker's default)."""


@dataclass(frozen=True)
class ExecResult:
    """What a command run in a container with ``exec()`` gave.

    Attributes:
        exit_code: Its exit code (0: success).
        output: Its stdout and stderr together, as text.
    """

    exit_code: int
    output: str

    @property
    def ok(self) -> bool:
        """Whether it exited with 0."""
        return self.exit_code == 0


class ContainerActions:
    """The actions of a deployed container (mixed into ``ContainerResource``).

    Each one raises :class:`~pytest_clockwork.NotDeployedError` on the declaration (use
    the fixture), and :class:`~pytest_clockwork.DeploymentError` when the runtime
    refuses, or when a container started again does not get ready.
    """

    if TYPE_CHECKING:
        _spec: Spec | None

        @property
        def key(self) -> str: ...

        @property
        def outputs(self) -> Mapping[str, Any]: ...

        def _outputs_changed(self, changes: Mapping[str, Any]) -> None: ...

    def exec(
        self,
        cmd: str | list[str],
        *,
        user: str | None = None,
        workdir: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """Run a command in the running container and wait for it to end.

        Args:
            cmd: A shell command (run with ``sh -c``), or a list run as it is.
            user: The user to run as (name or uid, ``"1000:1000"``); default: the
                container's.
            workdir: The working directory (absolute); default: the container's.
            env: Environment variables added for this command.

        Returns:
            Its exit code and its output (stdout and stderr together).

        Example:
            ``assert db.exec("pg_isready").exit_code == 0``
        """
        command = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        if not command:
            raise ValueError("exec() needs a command: a string for sh -c, or a list")
        runtime, container_id = self._container()
        with self._as_resource():
            code, output = runtime.execute(
                container_id, command, user=user, workdir=workdir, env=env
            )
        return ExecResult(exit_code=code, output=output)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the container (it gets ``timeout`` seconds, then it is killed)."""
        self._act("stop", timeout)

    def start(self) -> None:
        """Start the stopped container again; returns once it is ready, as at deploy."""
        self._act("start")

    def restart(self, timeout: float = STOP_TIMEOUT) -> None:
        """Restart the container; returns once it is ready. Its unpinned host ports may
        change: ``host_port()`` and ``url()`` give the new ones."""
        self._act("restart", timeout)

    def pause(self) -> None:
        """Freeze every process of the container (it stays there, not running)."""
        self._act("pause")

    def unpause(self) -> None:
        """Let a paused container run on; returns once it is ready."""
        self._act("unpause")

    # -- the way through -------------------------------------------------------------

    def _container(self) -> tuple[ContainerRuntime, str]:
        """The runtime and id of the deployed container."""
        from pytest_clockwork.runtimes import runtime_for

        container_id = str(self.outputs.get("container_id") or "")
        if not container_id:
            raise NotDeployedError(
                f"resource {self.key!r} has no container (its outputs name none): use the "
                "fixture of a deployed container",
                resource=self.key,
            )
        return runtime_for(str(self.outputs.get("runtime", "docker"))), container_id

    @contextlib.contextmanager
    def _as_resource(self) -> Iterator[None]:
        """A runtime's refusal, said as this resource's."""
        from pytest_clockwork.errors import DeploymentError

        try:
            yield
        except DeploymentError as exc:
            if exc.resource is not None:
                raise
            raise DeploymentError(f"resource {self.key!r}: {exc}", resource=self.key) from None

    def _act(self, action: Action, timeout: float = STOP_TIMEOUT) -> None:
        """Do ``action``; after one that runs the container again, wait until it is ready
        and take the host ports it has now."""
        runtime, container_id = self._container()
        with self._as_resource():
            runtime.control(container_id, action, timeout=timeout)
        if action in ("start", "restart", "unpause"):
            self._settle(runtime, container_id)

    def _settle(self, runtime: ContainerRuntime, container_id: str) -> None:
        from pytest_clockwork.runtimes.readiness import wait_until_ready
        from pytest_clockwork.specs import ContainerSpec

        spec = self._spec
        if isinstance(spec, ContainerSpec):
            if not spec.must_run:
                return  # not waited for at deploy either, and its outputs have no ports
            ports = wait_until_ready(runtime, spec, container_id)
        else:  # a copy made without its spec: no readiness to wait for, only the ports
            seen = runtime.observe(container_id)
            ports = dict(seen.ports or {}) if seen is not None else {}
        if "ports" in runtime.sees and ports:
            self._outputs_changed({"ports": ports})
