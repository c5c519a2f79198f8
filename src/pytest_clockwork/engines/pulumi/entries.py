"""What the Pulumi program declares: the stack's live records plus the new tasks.

A Pulumi program describes everything the stack should have after ``up``: whatever it
leaves out, Pulumi deletes. So the program is built from the state, not only from the
tasks at hand: every Pulumi record of the clockwork stack that has been handed to
Pulumi (its facts are noted) and has not failed, whichever session owns it (kept ones,
this session's earlier ones, other sessions' ones), rebuilt from its recorded spec;
plus the new tasks, with facts settled now (free host ports, network names, volumes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pytest_clockwork.engines.base import SessionInfo, Task
from pytest_clockwork.engines.pulumi.args import Entry, Facts, check_supported
from pytest_clockwork.runtimes import runtime_for
from pytest_clockwork.runtimes.ports import free_port
from pytest_clockwork.specs import ContainerSpec, session_network, spec_from_json
from pytest_clockwork.state import ResourceRecord, StackState

FACTS = "pulumi"
"""The ``created`` entry of a record that holds its facts (JSON)."""


def facts_of(record: ResourceRecord) -> Facts | None:
    """The facts noted for ``record`` before it was handed to Pulumi, if it was."""
    noted = record.created.get(FACTS)
    return Facts.from_json(noted[-1]) if noted else None


def in_pulumi(state: StackState, *, leaving: Iterable[str] = ()) -> list[ResourceRecord]:
    """The records whose resources the Pulumi stack has (or is getting), minus ``leaving``.

    Args:
        state: The clockwork stack's state.
        leaving: Ids of records being destroyed or deployed anew.
    """
    gone = set(leaving)
    return sorted(
        (
            record
            for record in state.records.values()
            if record.engine == "pulumi"
            and record.status != "failed"
            and record.id not in gone
            and facts_of(record) is not None
        ),
        key=lambda record: (record.level, record.key, record.session),
    )


def entry_of(record: ResourceRecord) -> Entry:
    """The program entry of a recorded resource, exactly as it was first declared."""
    facts = facts_of(record)
    if facts is None:
        raise ValueError(f"record {record.id} was never handed to Pulumi")
    return Entry(spec=spec_from_json(record.spec), facts=facts)


PortChooser = Callable[[str, str | None, set[int]], int]


def _parent_key(task: Task, keys: set[str]) -> str | None:
    parent = task.resource.parent
    if parent is not None:
        return parent.key
    parts = task.key.split(".")
    for end in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in keys:
            return candidate
    return None


def settle(
    tasks: list[Task],
    others: list[Entry],
    session: SessionInfo,
    *,
    volume_exists: Callable[[str], bool] | None = None,
    external_network: Callable[[str], bool] | None = None,
    choose_port: PortChooser = free_port,
) -> list[Entry]:
    """Entries for ``tasks``: their facts decided now, consistent with ``others``.

    Unpinned ports get a free host port (not one another entry uses), published where
    the container's runtime says tests reach them (all interfaces of a remote engine's
    host); what the runtime cannot run where it is (a bind mount on a remote engine) is
    refused before anything is deployed; a network named
    in ``networks=[...]`` that exists and that clockwork did not make (the user's own)
    is joined as it is, marked external (never declared, so never removed); any other
    logical network maps to the Docker network the stack already uses for it, else to
    a new one named for this session (as with the local engine); a named volume is
    created by clockwork when it does not exist yet, or when another entry of the
    stack created it (so it stays while anyone uses it).

    Args:
        tasks: What is deployed now.
        others: The entries the stack already has (their facts are kept as they are).
        session: The deploying session.
        volume_exists: Whether a named volume exists (default: the container's runtime
            says).
        external_network: Whether a network of that exact name exists and clockwork
            did not make it (default: the container's runtime says).
        choose_port: Picks a free host port.
    """
    taken = {port for entry in others for port in entry.facts.host_ports.values()}
    networks: dict[str, str] = {}
    owned_volumes: set[str] = set()
    for entry in others:
        for name, actual in entry.facts.networks.items():
            if actual not in entry.facts.external_networks:
                networks.setdefault(name, actual)
        owned_volumes.update(entry.facts.volumes)
    keys = {task.key for task in tasks} | {entry.key for entry in others}
    entries = []
    for task in tasks:
        spec = task.spec
        facts = Facts(
            session=session.id,
            parent=_parent_key(task, keys),
            depends_on=tuple(task.depends_on),
        )
        if isinstance(spec, ContainerSpec):
            check_supported(spec)
            runtime = runtime_for(spec.runtime)
            runtime.check_runnable(spec)
            host_ports = {}
            for port in spec.ports:
                chosen = port.host_port or choose_port(port.protocol, port.host_ip, taken)
                taken.add(chosen)
                host_ports[port.key] = chosen
            logical = spec.logical_networks(bool(task.links))
            is_external = external_network or runtime.external_network
            exists = volume_exists or runtime.volume_exists
            external = tuple(
                name for name in spec.networks if runtime.makes_networks and is_external(name)
            )
            volumes = [
                mount.source
                for mount in spec.volumes
                if not mount.is_bind
                and runtime.makes_networks
                and (mount.source in owned_volumes or not exists(mount.source))
            ]
            owned_volumes.update(volumes)
            facts = Facts(
                session=facts.session,
                parent=facts.parent,
                depends_on=facts.depends_on,
                container_name=spec.container_name(session.id),
                host_ports=host_ports,
                networks={
                    name: name
                    if name in external
                    else networks.setdefault(name, session_network(name, session.id))
                    for name in logical
                },
                volumes=tuple(volumes),
                external_networks=external,
                publish_address=runtime.bind_address(),
            )
        entries.append(Entry(spec=spec, facts=facts))
    return entries
