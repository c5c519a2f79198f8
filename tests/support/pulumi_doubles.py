"""Doubles of Pulumi for the Pulumi tests: its unit-test mocks, and a fake Automation API.

``PulumiMocks`` runs a Pulumi program under Pulumi's own unit-test mocks and records
every resource it registers (type, inputs, parent, dependencies). ``FakePulumi`` stands
in for ``pulumi.automation`` (the CLI is not installed): each ``up`` runs the engine's
program under those mocks, then does what Pulumi would with it: creates what is new,
deletes what the program left out, replaces what changed. File, directory and clone
resources are really made by their dynamic providers, so what a test sees on disk is
what the program asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi
import pulumi.runtime
from pulumi import automation as auto
from pulumi.runtime.mocks import MockMonitor

from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.engines.pulumi.args import Entry
from pytest_clockwork.engines.pulumi.files import CloneProvider, DirectoryProvider, FileProvider
from pytest_clockwork.engines.pulumi.program import Declarer, Program
from pytest_clockwork.runtimes.endpoint import Endpoint

ROOT = Path("/srv/project")
SESSION = SessionInfo(id="s1", stack="default", rootdir=ROOT, root_id="r00t")
CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
PROVIDER = "pulumi:providers:docker"
COMMAND = "command:local:Command"
FILE = "pulumi-python:dynamic/clockwork:File"
DIRECTORY = "pulumi-python:dynamic/clockwork:Directory"
CLONE = "pulumi-python:dynamic/clockwork:Clone"
GROUP = "clockwork:index:Group"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
"""How Pulumi marks a secret value in the inputs it is sent."""


@dataclass
class Declared:
    """One resource the program registered: type, inputs, parent and dependencies."""

    type: str
    inputs: dict[str, Any]
    parent: str = ""
    depends_on: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    secret_outputs: list[str] = field(default_factory=list)
    provider: str = ""
    """The explicit provider it is created with (``urn::id``), or ``""``: the default."""

    @property
    def parent_name(self) -> str:
        return self.parent.rsplit("::", 1)[-1]


class PulumiMocks(pulumi.runtime.Mocks):
    """Pulumi's mocks, recording every registration (with parent and dependencies)."""

    def __init__(self) -> None:
        self.declared: dict[str, Declared] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        """The functions (invokes) the program called: token, arguments."""
        self.call_providers: list[str] = []
        """The explicit provider of each call (``urn::id``), ``""`` for the default."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.declared[args.name] = Declared(
            args.typ, dict(args.inputs), provider=args.provider or ""
        )
        resource_id = f"id-of-{args.name}" if args.custom else ""
        return resource_id, dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.calls.append((args.token, dict(args.args)))
        self.call_providers.append(args.provider or "")
        return {}

    def names(self, type_: str) -> list[str]:
        return [name for name, item in self.declared.items() if item.type == type_]

    def depends_on(self, name: str) -> set[str]:
        """The names of what ``name`` depends on."""
        return {urn.rsplit("::", 1)[-1] for urn in self.declared[name].depends_on}

    def run(self, body: Any) -> Any:
        """Run ``body()`` as a Pulumi program under these mocks; return its resolved result."""
        mocks = self

        class Monitor(MockMonitor):  # type: ignore[misc]
            def RegisterResource(self, request: Any) -> Any:
                response = super().RegisterResource(request)
                if request.name in mocks.declared:
                    declared = mocks.declared[request.name]
                    declared.parent = request.parent
                    declared.depends_on = list(request.dependencies)
                    declared.ignore_changes = list(request.ignoreChanges)
                    declared.secret_outputs = list(request.additionalSecretOutputs)
                return response

        pulumi.runtime.settings.reset_options(project="proj", stack="dev")
        pulumi.runtime.set_mocks(
            self, project="proj", stack="dev", preview=False, monitor=Monitor(self)
        )
        result: dict[str, Any] = {}

        @pulumi.runtime.test  # type: ignore[misc]
        def program() -> Any:
            return pulumi.Output.from_input(body()).apply(lambda value: result.update(v=value))

        program()
        return result["v"]

    def declare(
        self, entries: list[Entry], host: str = "127.0.0.1", engine: Endpoint | None = None
    ) -> dict[str, Any]:
        """Declare ``entries`` as the engine's program does (on ``engine``: ``None`` is the
        default socket); return the resolved exports."""
        return self.run(lambda: Declarer(SESSION, host, engine).declare(entries))  # type: ignore[no-any-return]


PROVIDERS: dict[str, Callable[[], Any]] = {
    FILE: FileProvider,
    DIRECTORY: DirectoryProvider,
    CLONE: CloneProvider,
}


@dataclass
class Held:
    """A resource the fake stack holds."""

    type: str
    inputs: dict[str, Any]
    outs: dict[str, Any]


def _inputs(declared: Declared) -> dict[str, Any]:
    return {k: v for k, v in declared.inputs.items() if k != "__provider"}


class FakeStack:
    """One stack of :class:`FakePulumi`: holds resources across ``up``s like Pulumi does."""

    def __init__(self, api: FakePulumi, name: str) -> None:
        self.api = api
        self.name = name
        self.program: Program | None = None
        self.held: dict[str, Held] = {}
        self.changes: list[dict[str, list[str]]] = []
        self.workspace = SimpleNamespace(remove_stack=self._remove)

    def _plan(self) -> tuple[dict[str, Any], dict[str, Declared], dict[str, list[str]]]:
        assert self.program is not None
        program = self.program
        mocks = PulumiMocks()

        def body() -> Any:
            program()
            return pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]

        exports = mocks.run(body)
        declared = mocks.declared
        changes: dict[str, list[str]] = {"create": [], "replace": [], "update": [], "same": []}
        for name, wanted in declared.items():
            changes[self._change(name, wanted)].append(name)
        changes["delete"] = [name for name in self.held if name not in declared]
        return exports, declared, changes

    def _change(self, name: str, declared: Declared) -> str:
        """What Pulumi does with ``name``: a dynamic provider's own diff decides for its
        resources; other inputs are compared, except those the program ignores."""
        held = self.held.get(name)
        if held is None:
            return "create"
        inputs = _inputs(declared)
        if declared.type in PROVIDERS:
            diff = PROVIDERS[declared.type]().diff(name, dict(held.outs), dict(inputs))
            return "replace" if diff.replaces else "update" if diff.changes else "same"
        names = (set(held.inputs) | set(inputs)) - set(declared.ignore_changes)
        return "replace" if any(held.inputs.get(n) != inputs.get(n) for n in names) else "same"

    def _delete(self, name: str) -> None:
        held = self.held.pop(name)
        if held.type in PROVIDERS:
            PROVIDERS[held.type]().delete(name, held.outs)

    def _create(self, name: str, declared: Declared) -> None:
        inputs = _inputs(declared)
        outs = inputs
        if declared.type in PROVIDERS:
            created = PROVIDERS[declared.type]().create(dict(inputs))
            outs = created.outs or {}
        self.held[name] = Held(declared.type, inputs, outs)

    def _update(self, name: str, declared: Declared) -> None:
        held, inputs = self.held[name], _inputs(declared)
        updated = PROVIDERS[declared.type]().update(name, dict(held.outs), dict(inputs))
        self.held[name] = Held(declared.type, inputs, updated.outs or {})

    def up(self, *, on_output: Any, on_error: Any, color: str) -> Any:
        self.api.calls.append("up")
        if self.api.before_up is not None:
            self.api.before_up(self)
        on_output(f"Updating ({self.name}):")
        exports, declared, changes = self._plan()
        try:
            for name in reversed(changes["delete"]):
                self._delete(name)
            for name in declared:
                if name in changes["replace"]:
                    self._delete(name)
                if name in changes["create"] or name in changes["replace"]:
                    on_output(f"    + {declared[name].type} {name} creating")
                    self._create(name, declared[name])
                elif name in changes["update"]:
                    self._update(name, declared[name])
        except Exception as exc:
            on_error(f"    error: {exc}")
            raise auto.CommandError(auto.CommandResult("", str(exc), 1)) from None
        self.changes.append(changes)
        on_output(f"Resources: {len(changes['create'])} created")
        return SimpleNamespace(
            outputs={name: auto.OutputValue(value, False) for name, value in exports.items()}
        )

    def preview(self, *, on_output: Any, on_error: Any, color: str) -> Any:
        self.api.calls.append("preview")
        _, _, changes = self._plan()
        return SimpleNamespace(change_summary={op: len(names) for op, names in changes.items()})

    def destroy(self, *, on_output: Any, on_error: Any, color: str, remove: bool) -> Any:
        self.api.calls.append("destroy")
        for name in reversed(list(self.held)):
            self._delete(name)
        if remove:
            self._remove(self.name)

    def _remove(self, name: str) -> None:
        self.api.calls.append("remove_stack")
        self.api.stacks.pop(name, None)


class FakePulumi:
    """A double of ``pulumi.automation`` whose stacks act like Pulumi's (see the module)."""

    LocalWorkspaceOptions = auto.LocalWorkspaceOptions
    ProjectSettings = auto.ProjectSettings
    ProjectBackend = auto.ProjectBackend
    StackNotFoundError = auto.StackNotFoundError
    ConcurrentUpdateError = auto.ConcurrentUpdateError

    def __init__(self) -> None:
        self.stacks: dict[str, FakeStack] = {}
        self.calls: list[str] = []
        self.options: list[Any] = []
        self.before_up: Callable[[FakeStack], None] | None = None

    def PulumiCommand(self, root: str) -> Any:
        return SimpleNamespace(root=root)

    def create_or_select_stack(
        self, *, stack_name: str, project_name: str, program: Any, opts: Any
    ) -> FakeStack:
        stack = self.stacks.setdefault(stack_name, FakeStack(self, stack_name))
        stack.program = program
        self.options.append(opts)
        return stack

    def select_stack(
        self, *, stack_name: str, project_name: str, program: Any, opts: Any
    ) -> FakeStack:
        if stack_name not in self.stacks:
            raise auto.StackNotFoundError(auto.CommandResult("", "no stack named found", 255))
        return self.create_or_select_stack(
            stack_name=stack_name, project_name=project_name, program=program, opts=opts
        )

    @property
    def stack(self) -> FakeStack:
        (stack,) = self.stacks.values()
        return stack

    def entries(self) -> list[str]:
        """The names of the entries of the last program."""
        assert self.stack.program is not None
        return [entry.name for entry in self.stack.program.entries]
