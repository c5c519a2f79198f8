"""The Pulumi engine: one Pulumi stack per clockwork stack, driven by the Automation API.

Every change is an ``up`` of a program that describes everything the stack should have
afterwards (see :mod:`.entries`): deploying adds the new tasks to the stack's live
records; destroying some records is an ``up`` without them; destroying the last ones
is ``pulumi destroy`` and removing the stack. Before an ``up``, each new resource's
facts (container name, host ports, networks, the stack) are noted in its record, so
that another process (the watchdog, ``--clockwork-destroy``) can always rebuild the
same program from the state alone.

Sessions on one machine take turns on the Pulumi stack (a file lock); sessions on
several machines sharing a backend and a stack name cannot deploy at the same time
(Pulumi's own stack lock refuses the second): give each its own ``--clockwork-stack``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_clockwork.engines.base import Engine, Ready, SessionInfo, Task
from pytest_clockwork.engines.pulumi.args import Entry
from pytest_clockwork.engines.pulumi.automation import (
    PULUMI_DIR,
    PulumiError,
    PulumiStack,
    StackConfig,
    describe_changes,
    stack_config,
)
from pytest_clockwork.engines.pulumi.entries import (
    FACTS,
    entry_of,
    facts_of,
    in_pulumi,
    settle,
)
from pytest_clockwork.engines.pulumi.program import Program
from pytest_clockwork.errors import ClockworkError, DeploymentError
from pytest_clockwork.filesystem import state_directory
from pytest_clockwork.settings import ClockworkSettings, get_settings
from pytest_clockwork.specs import ContainerSpec, GitSpec
from pytest_clockwork.state import ResourceRecord, StateStore

if TYPE_CHECKING:
    from pytest_clockwork.plan import Plan
    from pytest_clockwork.runtimes.endpoint import Endpoint

LOCK_TIMEOUT = 900.0
LOG_TAIL = 30


class PulumiEngine(Engine):
    """Deploys through a Pulumi stack (pulumi-docker, pulumi-command, dynamic resources).

    Args:
        session: The deploying session.
        store: The clockwork stack's state.
        automation: The Automation API (``pulumi.automation``); tests pass a double.
        settings: The settings (default: :func:`~pytest_clockwork.get_settings`).
        environ: The environment (default: ``os.environ``).
        cli: The Pulumi CLI's path (default: found as ``--clockwork-engine`` found it).
    """

    name: ClassVar[str] = "pulumi"
    background: ClassVar[bool] = False
    automation: ClassVar[Any] = None
    """The Automation API used when none is given (None: ``pulumi.automation``)."""

    def __init__(
        self,
        session: SessionInfo,
        store: StateStore,
        *,
        automation: Any = None,
        settings: ClockworkSettings | None = None,
        environ: Mapping[str, str] | None = None,
        cli: str | None = None,
    ) -> None:
        super().__init__(session, store)
        self._automation = automation
        self._settings = settings
        self._environ = environ
        self._cli = cli

    # -- the stack -------------------------------------------------------------------

    @cached_property
    def config(self) -> StackConfig:
        """Where the stack lives (raises when a user backend has no passphrase)."""
        from pytest_clockwork.engines import pulumi_cli

        return stack_config(
            self.session,
            self._settings or get_settings(),
            os.environ if self._environ is None else self._environ,
            self._cli or pulumi_cli(),
        )

    def stack(self) -> PulumiStack:
        """The Automation API calls on this clockwork stack's Pulumi stack."""
        return PulumiStack(
            self.config,
            output=lambda line: self.output(line),
            api=self._automation or type(self).automation,
        )

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Take turns with other sessions of this machine on the Pulumi stack."""
        from pytest_clockwork.locks import FileLock, LockTimeout

        directory = state_directory(self.session.rootdir, PULUMI_DIR.name)
        path = directory / f"{self.store.file_stem}.lock"
        try:
            with FileLock(path).hold(timeout=LOCK_TIMEOUT):
                yield
        except LockTimeout:
            raise ClockworkError(
                f"another session has been updating Pulumi stack {self.session.stack!r} for "
                f"{LOCK_TIMEOUT / 60:.0f} minutes ({path}); is it stuck?"
            ) from None

    def program(self, entries: list[Entry]) -> Program:
        """The inline program that makes the stack hold exactly ``entries``, on the
        Docker engine that answers (asked only when there are containers)."""
        return Program(tuple(entries), self.session, engine=_docker_engine(entries))

    # -- deploy ------------------------------------------------------------------------

    def deploy(
        self, levels: list[list[Task]], ready: Ready, done: Ready | None = None
    ) -> dict[str, BaseException]:
        """``up`` with the new tasks added; fill each task's outputs; check readiness.

        Returns:
            The failures by key: on a failed ``up`` every task, with Pulumi's output.
        """
        tasks = [task for level in levels for task in level]
        started = time.monotonic()
        try:
            names, outputs = self._up(tasks)
        except Exception as exc:
            return {task.key: self._not_deployed(task, tasks, exc) for task in tasks}
        failures: dict[str, BaseException] = {}
        for level in levels:
            for task in level:
                blocked = self._blocked(task, failures)
                if blocked is not None:
                    failures[task.key] = blocked
                    continue
                try:
                    task.outputs = _fixture_outputs(task, outputs.get(names[task.key]))
                    ready(task)
                except Exception as exc:
                    failures[task.key] = exc
                    continue
                task.record.seconds = round(time.monotonic() - started, 3)
                if done is not None:
                    done(task)
        return failures

    def _up(self, tasks: list[Task]) -> tuple[dict[str, str], dict[str, Any]]:
        with self.exclusive():
            state = self.store.read()
            leaving = {task.record.id for task in tasks}
            others = [entry_of(record) for record in in_pulumi(state, leaving=leaving)]
            new = settle(tasks, others, self.session)
            stack = self.stack()
            for task, entry in zip(tasks, new, strict=True):
                self._note(task.record, entry)
            try:
                outputs = stack.up(self.program(others + new))
            except ClockworkError:
                self._mark_failed(tasks)
                raise
        return {task.key: entry.name for task, entry in zip(tasks, new, strict=True)}, outputs

    def _note(self, record: ResourceRecord, entry: Entry) -> None:
        """Record, before ``up``, what the stack will hold for ``record``."""
        self.note(record, FACTS, entry.facts.to_json())
        self.note(record, "pulumi-stacks", f"{self.config.project}/{self.config.stack}")
        if isinstance(entry.spec, ContainerSpec):
            self.note(record, "containers", entry.facts.container_name)
            for network in entry.facts.managed_networks:
                self.note(record, "networks", network)
            for volume in entry.facts.volumes:
                self.note(record, "volumes", volume)

    def _mark_failed(self, tasks: list[Task]) -> None:
        """Leave failed resources out of the next programs (Pulumi deletes what it made)."""
        with self.store.transaction() as state:
            for task in tasks:
                stored = state.records.get(task.record.id)
                if stored is not None:
                    stored.status = "failed"

    def _not_deployed(self, task: Task, tasks: list[Task], exc: Exception) -> DeploymentError:
        """The error of one task of a failed ``up``: Pulumi's reason and output tail."""
        tail = exc.tail if isinstance(exc, PulumiError) else ""
        headline, _, details = str(exc).partition("\n")
        lines = [f"resource {task.key!r} was not deployed: {headline}"]
        if len(tasks) > 1:
            lines.append(f"(one Pulumi update was deploying {', '.join(t.key for t in tasks)})")
        if details:
            lines.append(details)
        logs = _container_logs(task)
        if logs.strip():
            lines.append(f"--- last {LOG_TAIL} lines of its logs ---\n{logs}")
        return DeploymentError(
            "\n".join(lines),
            resource=task.key,
            logs="\n".join(part for part in (tail, logs) if part),
        )

    def create(self, task: Task) -> dict[str, Any]:
        """Deploy one task (an ``up`` with it added); return its outputs."""
        failures = self.deploy([[task]], lambda done: None)
        if task.key in failures:
            raise failures[task.key]
        return task.outputs

    def preview(self, plan: Plan) -> str | None:
        """Pulumi's change summary for carrying ``plan`` out (what it reuses is unchanged)."""
        with self.exclusive():
            state = self.store.read()
            tasks = [task for level in plan.tasks("create", "replace") for task in level]
            leaving = {record.id for record in plan.replaced()}
            others = [entry_of(record) for record in in_pulumi(state, leaving=leaving)]
            new = settle(tasks, others, self.session)
            summary = self.stack().preview(self.program(others + new))
        return describe_changes(summary)

    # -- destroy -----------------------------------------------------------------------

    def destroy_all(self, levels: list[list[ResourceRecord]]) -> dict[str, BaseException]:
        """``up`` without these records, or ``destroy`` and remove the stack when none stay.

        Returns:
            The failures by record id (all of them when Pulumi failed).
        """
        records = [record for level in levels for record in level]
        handed = [record for record in records if facts_of(record) is not None]
        if not handed:
            return {}
        try:
            with self.exclusive():
                state = self.store.read()
                remaining = in_pulumi(state, leaving={record.id for record in records})
                stack = self.stack()
                if remaining:
                    stack.up(self.program([entry_of(record) for record in remaining]))
                else:
                    stack.destroy()
                    if self.config.local_backend is not None:
                        shutil.rmtree(self.config.work_dir, ignore_errors=True)
        except Exception as exc:
            return {
                record.id: DeploymentError(
                    f"resource {record.key!r} could not be destroyed: {exc}", resource=record.key
                )
                for record in handed
            }
        return {}

    def destroy(self, record: ResourceRecord) -> None:
        """Destroy one record (an ``up`` without it)."""
        failures = self.destroy_all([[record]])
        if failures:
            raise next(iter(failures.values()))

    # -- checks ------------------------------------------------------------------------

    def reuse(self, task: Task) -> None:
        """``git pull`` a kept clone that asks for it."""
        spec = task.spec
        if isinstance(spec, GitSpec) and spec.pull:
            from pytest_clockwork.filesystem import pull_clone

            pull_clone(spec.key, spec.dest, shown=str(spec.dest))


def _docker_engine(entries: list[Entry]) -> Endpoint | None:
    """Where the API of the entries' containers' runtime answers (its provider's host)."""
    from pytest_clockwork.runtimes import runtime_for

    for entry in entries:
        if isinstance(entry.spec, ContainerSpec):
            found = runtime_for(entry.spec.runtime).api_endpoint()
            if found is not None:
                return found
    return None


def _fixture_outputs(task: Task, value: Any) -> dict[str, Any]:
    """The stack output of ``task`` as the fixture's outputs (as the local engine gives)."""
    if not isinstance(value, dict):
        raise DeploymentError(
            f"resource {task.key!r}: the Pulumi stack has no outputs for it after up "
            f"(got {value!r}); run with --clockwork-engine local to compare",
            resource=task.key,
        )
    outputs = dict(value)
    if isinstance(task.spec, ContainerSpec):
        outputs["ports"] = {key: int(port) for key, port in outputs["ports"].items()}
    return outputs


def _container_logs(task: Task) -> str:
    """The last lines of a container that failed to start, when its runtime still has it."""
    spec = task.spec
    noted = task.record.created.get("containers")
    if not isinstance(spec, ContainerSpec) or not noted:
        return ""
    try:
        from pytest_clockwork.runtimes import runtime_for

        return runtime_for(spec.runtime).logs(noted[-1], tail=LOG_TAIL)
    except Exception:  # logs are a courtesy; the Pulumi error is what matters
        return ""
