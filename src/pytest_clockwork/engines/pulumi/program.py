"""The Pulumi program: entries (spec + settled facts) → Pulumi resources and stack outputs.

Each built-in kind compiles from the same :mod:`specs <pytest_clockwork.specs>` the local
engine reads, through the plain functions of :mod:`.args`:

- container (Docker): ``pulumi_docker.RemoteImage`` (kept locally), or
  ``pulumi_docker.Image`` when it is built from a Dockerfile (never pushed), and
  ``pulumi_docker.Container``, plus a ``pulumi_docker.Network`` per network clockwork
  creates for it (the user's own networks are only joined, by name), a
  ``pulumi_docker.Volume`` per named volume clockwork creates for it, and a directory
  resource per bind-mount source;
- container (Apple): ``pulumi_command.local.Command``;
- file: :class:`~.files.ClockworkFile` (a dynamic resource);
- git clone: :class:`~.files.ClockworkClone` (a dynamic resource calling the same
  clone functions as the local engine, :mod:`pytest_clockwork.filesystem`);
- group: a ``clockwork:index:Group`` component, the parent of its children;
- custom: the resource's own ``to_pulumi(context)``.

Connections become ``depends_on``. Every entry exports its outputs under its Pulumi
name (:attr:`.args.Entry.name`), in the local engine's shape. When the Docker engine is
not at the default socket (``DOCKER_HOST``, a context, Podman's socket; tcp or ssh), the
Docker resources are created through an explicit ``pulumi_docker.Provider`` for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import pulumi

from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.engines.pulumi import args as mapping
from pytest_clockwork.engines.pulumi.args import Entry
from pytest_clockwork.resources.secrets import is_digest
from pytest_clockwork.runtimes import runtime_for
from pytest_clockwork.runtimes.endpoint import Endpoint
from pytest_clockwork.specs import (
    ContainerSpec,
    CustomSpec,
    FileSpec,
    GitSpec,
    GroupSpec,
    SpecContext,
)

GROUP_TYPE = "clockwork:index:Group"
PROVIDER_NAME = "clockwork-docker"
"""The explicit pulumi-docker provider, when the engine is not at the default socket."""


class Index:
    """Finds entries by key, their composite and what they are connected to."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.by_key: dict[str, list[Entry]] = {}
        for entry in entries:
            self.by_key.setdefault(entry.key, []).append(entry)

    def find(self, key: str, session: str) -> Entry | None:
        """The entry of ``key``: the one ``session`` deployed when there are several."""
        candidates = self.by_key.get(key, [])
        for entry in candidates:
            if entry.facts.session == session:
                return entry
        return candidates[0] if candidates else None

    def group_of(self, entry: Entry) -> Entry | None:
        """The nearest enclosing composite (group) of ``entry``: its Pulumi parent."""
        owner = self._owner(entry)
        while owner is not None and not isinstance(owner.spec, GroupSpec):
            owner = self._owner(owner)
        return owner

    def _owner(self, entry: Entry) -> Entry | None:
        parent = entry.facts.parent
        return self.find(parent, entry.facts.session) if parent else None

    def connections(self, entry: Entry) -> list[Entry]:
        """What ``entry`` deploys after; a group's own children are left out (it is
        their parent, and a Pulumi component already waits for its children)."""
        found = []
        for key in entry.facts.depends_on:
            if isinstance(entry.spec, GroupSpec) and key.startswith(entry.key + "."):
                continue
            other = self.find(key, entry.facts.session)
            if other is not None:
                found.append(other)
        return found


def order(entries: Iterable[Entry]) -> list[Entry]:
    """Entries in an order Pulumi can declare them: parents and dependencies first."""
    listed = list(entries)
    index = Index(listed)
    seen: set[str] = set()
    result: list[Entry] = []

    def visit(entry: Entry) -> None:
        if entry.name in seen:
            return
        seen.add(entry.name)
        group = index.group_of(entry)
        for other in ([group] if group else []) + index.connections(entry):
            visit(other)
        result.append(entry)

    for entry in listed:
        visit(entry)
    return result


class Declarer:
    """Declares the entries' resources in the running Pulumi program.

    Args:
        session: The deploying session (its stack and root id go into labels).
        host: Where published ports are reached (the fixture's ``host``); ``None``: where
            each container's runtime says.
        engine: The Docker engine the containers run on; other than the default socket,
            an explicit ``pulumi_docker.Provider`` for it creates them.
    """

    def __init__(
        self, session: SessionInfo, host: str | None = None, engine: Endpoint | None = None
    ) -> None:
        self.session = session
        self.host = host
        self.engine = engine
        self._provider: pulumi.ProviderResource | None = None
        self.resources: dict[str, pulumi.Resource] = {}
        self.index = Index(())
        self.shared: dict[str, pulumi.Resource] = {}
        self.custom_depends_on: list[pulumi.Resource] = []

    def declare(self, entries: Iterable[Entry]) -> dict[str, Any]:
        """Declare every entry; return the stack outputs by entry name."""
        ordered = order(entries)
        self.index = Index(ordered)
        if any(isinstance(entry.spec, CustomSpec) for entry in ordered):
            pulumi.runtime.register_stack_transformation(self._custom_dependencies)
        return {entry.name: self.declare_one(entry) for entry in ordered}

    def labels(self, entry: Entry) -> dict[str, str]:
        """Clockwork's labels for ``entry``, in the name of the session that created it."""
        creator = dataclasses.replace(self.session, id=entry.facts.session)
        return creator.labels(entry.key)

    def parent(self, entry: Entry) -> pulumi.Resource | None:
        """The component of the composite ``entry`` belongs to, if any."""
        group = self.index.group_of(entry)
        return self.resources.get(group.name) if group is not None else None

    def dependencies(self, entry: Entry) -> list[pulumi.Resource]:
        """The resources of what ``entry`` is connected to (what it deploys after)."""
        return [
            self.resources[other.name]
            for other in self.index.connections(entry)
            if other.name in self.resources
        ]

    def options(self, entry: Entry, *extra: pulumi.Resource) -> pulumi.ResourceOptions:
        """Its parent, and its connections (plus ``extra``) as ``depends_on``."""
        return pulumi.ResourceOptions(
            parent=self.parent(entry), depends_on=[*self.dependencies(entry), *extra]
        )

    def provider(self) -> pulumi.ProviderResource | None:
        """The pulumi-docker provider of :attr:`engine` (declared once), or ``None``:
        the default provider, which uses the default socket."""
        args = mapping.provider_args(self.engine)
        if args is None:
            return None
        if self._provider is None:
            import pulumi_docker as docker

            self._provider = docker.Provider(PROVIDER_NAME, **args)
        return self._provider

    def declare_one(self, entry: Entry) -> Any:
        """Declare one entry's resources; return its outputs."""
        spec = entry.spec
        if isinstance(spec, ContainerSpec):
            runtime = runtime_for(spec.runtime)
            line = runtime.command_line(
                spec,
                name=entry.facts.container_name,
                labels=self.labels(entry),
                host_ports=entry.facts.host_ports,
                networks=list(entry.facts.networks.values()),
            )
            if line is not None:
                removal = runtime.removal_command_line(entry.facts.container_name) or []
                return self._by_command(entry, spec, line, removal, runtime.published_host())
            return self._container(entry, spec, self.host or runtime.published_host())
        if isinstance(spec, FileSpec):
            return self._file(entry, spec)
        if isinstance(spec, GitSpec):
            return self._git(entry, spec)
        if isinstance(spec, GroupSpec):
            group = pulumi.ComponentResource(GROUP_TYPE, entry.name, None, self.options(entry))
            group.register_outputs({})
            self.resources[entry.name] = group
            return {}
        if isinstance(spec, CustomSpec):
            return self._custom(entry, spec)
        raise TypeError(f"resource {entry.key!r}: the Pulumi engine cannot deploy a {spec.kind}")

    def _container(self, entry: Entry, spec: ContainerSpec, host: str) -> Any:
        import pulumi_docker as docker

        provider = self.provider()
        parent = pulumi.ResourceOptions(parent=self.parent(entry), provider=provider)
        needs: list[pulumi.Resource] = []
        looked_up = spec.build is None and spec.pull == "never"
        if spec.build is not None:
            needs.append(
                docker.Image(f"{entry.name}-image", opts=parent, **mapping.image_args(spec))
            )
        elif looked_up:  # only looked up: it fails when the image is not there
            found = docker.get_remote_image_output(
                name=spec.image,
                opts=pulumi.InvokeOutputOptions(parent=self.parent(entry), provider=provider),
            )
        else:
            needs.append(
                docker.RemoteImage(f"{entry.name}-image", **mapping.image_args(spec), opts=parent)
            )
        for actual in entry.facts.managed_networks:  # external ones: joined, not declared
            needs.append(self._shared(f"network:{actual}", actual, docker.Network))
        for volume in entry.facts.volumes:
            needs.append(self._shared(f"volume:{volume}", volume, docker.Volume))
        needs += self._directories(entry, spec)
        args = mapping.container_args(spec, entry.facts, self.labels(entry))
        opts = pulumi.ResourceOptions.merge(
            self.options(entry, *needs), pulumi.ResourceOptions(provider=provider)
        )
        if looked_up:
            args["image"] = found.apply(lambda _: spec.image)
        if spec.secret_env:
            args["envs"] = pulumi.Output.secret(args["envs"])
            opts = _keeping_secrets(opts, spec, "envs")
        if spec.files:  # their content may be secret; a rebuilt spec has only digests
            args["uploads"] = pulumi.Output.secret(args["uploads"])
            if not mapping.uploads_known(spec):
                opts = pulumi.ResourceOptions.merge(
                    opts, pulumi.ResourceOptions(ignore_changes=["uploads"])
                )
        container = docker.Container(entry.name, opts=opts, **args)
        self.resources[entry.name] = container
        return mapping.container_outputs(spec, entry.facts, container.id, host)

    def _shared(self, name: str, actual: str, kind: Callable[..., pulumi.Resource]) -> Any:
        """A network or volume that several containers use, declared once.

        Its labels leave out the session: it outlives the session that made it as long
        as a container of the stack uses it.
        """
        if name not in self.shared:
            labels = self.session.labels()
            labels.pop("clockwork.session", None)
            self.shared[name] = kind(
                name,
                name=actual,
                labels=mapping.label_args(labels),
                opts=pulumi.ResourceOptions(provider=self.provider()),
            )
        return self.shared[name]

    def _directories(self, entry: Entry, spec: ContainerSpec) -> list[pulumi.Resource]:
        """A directory resource for each bind-mount source (created when missing)."""
        from pytest_clockwork.engines.pulumi.files import ClockworkDirectory

        binds = [mount.source for mount in spec.volumes if mount.is_bind]
        parent = pulumi.ResourceOptions(parent=self.parent(entry))
        return [
            ClockworkDirectory(f"{entry.name}-dir-{index}", source, opts=parent)
            for index, source in enumerate(binds)
        ]

    def _by_command(
        self, entry: Entry, spec: ContainerSpec, create: list[str], delete: list[str], host: str
    ) -> Any:
        from pulumi_command import local

        args = mapping.command_args(create, delete)
        opts = self.options(entry, *self._directories(entry, spec))
        if spec.secret_env:
            args["create"] = pulumi.Output.secret(args["create"])
            opts = _keeping_secrets(opts, spec, "create")
        command = local.Command(entry.name, opts=opts, **args)
        self.resources[entry.name] = command
        return mapping.container_outputs(spec, entry.facts, entry.facts.container_name, host)

    def _file(self, entry: Entry, spec: FileSpec) -> Any:
        from pytest_clockwork.engines.pulumi.files import ClockworkFile

        props = {
            "key": spec.key,
            "path": str(spec.path),
            "content": spec.content,
            "digest": spec.digest,
            "mode": spec.mode,
            "overwrite": spec.overwrite,
        }
        file = ClockworkFile(entry.name, props, opts=self.options(entry))
        self.resources[entry.name] = file
        return {"path": file.path}

    def _git(self, entry: Entry, spec: GitSpec) -> Any:
        from pytest_clockwork.engines.pulumi.files import ClockworkClone

        props = {
            "key": spec.key,
            "repo_url": spec.repo_url,
            "dest": str(spec.dest),
            "branch": spec.branch,
        }
        clone = ClockworkClone(entry.name, props, opts=self.options(entry))
        self.resources[entry.name] = clone
        return {"path": str(spec.dest)}

    def _custom(self, entry: Entry, spec: CustomSpec) -> Any:
        if spec.resource is None:
            raise TypeError(f"resource {entry.key!r}: its custom resource was not rebuilt")
        self.custom_depends_on = self.dependencies(entry)
        try:
            context = SpecContext(rootdir=self.session.rootdir, key=entry.key)
            outputs = spec.resource.to_pulumi(context)
        finally:
            self.custom_depends_on = []
        return dict(outputs)

    def _custom_dependencies(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        """Make what a custom ``to_pulumi`` creates wait for the resource's connections.

        Registered as a stack transformation, it applies to the resources constructed
        while ``to_pulumi`` runs (not to those made later inside ``apply`` callbacks).
        """
        if not self.custom_depends_on:
            return None
        extra = pulumi.ResourceOptions(depends_on=list(self.custom_depends_on))
        return pulumi.ResourceTransformationResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, extra)
        )


def _keeping_secrets(
    opts: pulumi.ResourceOptions, spec: ContainerSpec, field: str
) -> pulumi.ResourceOptions:
    """``opts`` that leave ``field`` as Pulumi has it when ``spec`` was rebuilt from the
    state, which holds digests of its secret values, not the values: they are in Pulumi's
    own (encrypted) state, from when the resource was first declared."""
    if not any(is_digest(spec.env[name]) for name in spec.secret_env):
        return opts
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=[field]))


@dataclasses.dataclass(frozen=True)
class Program:
    """The inline Pulumi program that declares ``entries`` and exports their outputs.

    Attributes:
        entries: Everything the stack should have after ``up``.
        session: The deploying session.
        host: Where published ports are reached (``None``: as each runtime says).
        engine: The Docker engine its containers run on (``None``: the default socket).
    """

    __name__ = "clockwork_program"  # the Automation API shows a program by its name

    entries: tuple[Entry, ...]
    session: SessionInfo
    host: str | None = None
    engine: Endpoint | None = None

    def __call__(self) -> None:
        """Run by Pulumi: declare the resources, export the outputs."""
        declarer = Declarer(self.session, self.host, self.engine)
        for name, outputs in declarer.declare(self.entries).items():
            pulumi.export(name, outputs)
