"""Spec → Pulumi arguments: plain functions over the normalised view, no Pulumi import.

The Pulumi program (:mod:`.program`) passes these dictionaries to the resource
constructors as they are (pulumi-docker and pulumi-command accept plain dicts for
their argument types), so the whole mapping from a spec to what Pulumi creates is
here, next to nothing else, and is tested without Pulumi.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_clockwork.errors import DeclarationError
from pytest_clockwork.runtimes.endpoint import DEFAULT_SOCKET, Endpoint
from pytest_clockwork.specs import ContainerSpec, HealthcheckSpec, Spec, content_digest

LOCAL_HOST = "127.0.0.1"
MIB = 1024 * 1024
LOCAL_ENGINE = "use --clockwork-engine local"


@dataclass(frozen=True)
class Facts:
    """What an entry of the program needs besides its spec, settled before ``up``.

    They are noted in the resource's record (``created["pulumi"]``) before ``up``, so
    that any later program (of this session or another) declares the resource with
    exactly the same inputs, and Pulumi leaves it alone.

    Attributes:
        session: The session that first deployed it (in its Pulumi name and labels).
        parent: The key of the composite it belongs to, if any.
        depends_on: Keys it is deployed after (its connections).
        container_name: The container's name (containers only).
        host_ports: ``"80/tcp"`` → host port, for every published port.
        networks: Logical network name → the Docker network it joins.
        volumes: Named volumes that clockwork creates for it (and removes after).
        external_networks: Networks of ``networks`` that clockwork did not make (the
            user's own, joined under their own name): referenced, never declared.
        publish_address: The host address unpinned ports are published on: the
            loopback, or all interfaces of an engine on another host.
    """

    session: str
    parent: str | None = None
    depends_on: tuple[str, ...] = ()
    container_name: str = ""
    host_ports: Mapping[str, int] = field(default_factory=dict)
    networks: Mapping[str, str] = field(default_factory=dict)
    volumes: tuple[str, ...] = ()
    external_networks: tuple[str, ...] = ()
    publish_address: str = LOCAL_HOST

    @property
    def managed_networks(self) -> tuple[str, ...]:
        """The Docker networks clockwork declares (creates and removes) for it."""
        return tuple(
            actual for actual in self.networks.values() if actual not in self.external_networks
        )

    def to_json(self) -> str:
        """The facts as the JSON text noted in the record."""
        return json.dumps(asdict(self), sort_keys=True, default=dict)

    @classmethod
    def from_json(cls, text: str) -> Facts:
        """Read back :meth:`to_json`."""
        data = json.loads(text)
        return cls(
            session=data["session"],
            parent=data.get("parent"),
            depends_on=tuple(data.get("depends_on") or ()),
            container_name=data.get("container_name", ""),
            host_ports={key: int(port) for key, port in (data.get("host_ports") or {}).items()},
            networks=dict(data.get("networks") or {}),
            volumes=tuple(data.get("volumes") or ()),
            external_networks=tuple(data.get("external_networks") or ()),
            publish_address=data.get("publish_address") or LOCAL_HOST,
        )


@dataclass(frozen=True)
class Entry:
    """One resource of the Pulumi program: its spec and its settled facts."""

    spec: Spec
    facts: Facts

    @property
    def key(self) -> str:
        """The resource's key."""
        return self.spec.key

    @property
    def name(self) -> str:
        """Its Pulumi name and stack output name: unique in the stack, stable for life."""
        return f"{self.spec.key}@{self.facts.session}"


def go_duration(seconds: float) -> str:
    """A duration the way Go prints it (``1.5s``, ``1m30s``, ``500ms``), as Docker reads back."""
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    if minutes:
        return f"{minutes}m{secs}"
    return secs


def healthcheck_args(check: HealthcheckSpec) -> dict[str, Any]:
    """pulumi-docker's ``ContainerHealthcheckArgs`` for a healthcheck."""
    return {
        "tests": list(check.test),
        "interval": go_duration(check.interval),
        "timeout": go_duration(check.timeout),
        "retries": check.retries,
        "start_period": go_duration(check.start_period),
    }


def label_args(labels: Mapping[str, str]) -> list[dict[str, str]]:
    """Labels as pulumi-docker's list of ``{"label", "value"}``, sorted (stable inputs)."""
    return [{"label": key, "value": value} for key, value in sorted(labels.items())]


def network_aliases(spec: ContainerSpec) -> list[str]:
    """The names other containers reach it by on its networks (as the local engine gives)."""
    return sorted({spec.name, spec.name.rsplit(".", 1)[-1]})


def port_args(spec: ContainerSpec, facts: Facts) -> list[dict[str, Any]]:
    """Published ports: each at its settled host port; unpinned ones on the settled
    address (the loopback, or all interfaces of a remote engine's host)."""
    ports = []
    for port in spec.ports:
        item: dict[str, Any] = {
            "internal": port.container_port,
            "external": facts.host_ports[port.key],
            "protocol": port.protocol,
        }
        ip = port.host_ip or (None if port.pinned else facts.publish_address)
        if ip:
            item["ip"] = ip
        ports.append(item)
    return ports


def volume_args(spec: ContainerSpec) -> list[dict[str, Any]]:
    """Mounts: host paths as binds, other sources as named volumes."""
    volumes = []
    for mount in spec.volumes:
        source = "host_path" if mount.is_bind else "volume_name"
        volumes.append(
            {source: mount.source, "container_path": mount.target, "read_only": mount.read_only}
        )
    return volumes


def image_args(spec: ContainerSpec) -> dict[str, Any]:
    """The arguments of the container's image resource: ``pulumi_docker.Image`` (built
    here, tagged ``spec.image``, never pushed) when it is built, else
    ``pulumi_docker.RemoteImage`` (used when present, pulled otherwise; kept after)."""
    if spec.build is None:
        args: dict[str, Any] = {"name": spec.image, "keep_locally": True}
        if spec.platform is not None:
            args["platform"] = spec.platform
        return args
    build: dict[str, Any] = {
        "context": spec.build.context,
        "dockerfile": spec.build.dockerfile_path,
    }
    if spec.build.target is not None:
        build["target"] = spec.build.target
    if spec.platform is not None:
        build["platform"] = spec.platform
    if spec.build.args:
        build["args"] = dict(sorted(spec.build.args.items()))
    if spec.platform is not None:
        build["platform"] = spec.platform
    return {"image_name": spec.image, "build": build, "skip_push": True}


def container_args(spec: ContainerSpec, facts: Facts, labels: Mapping[str, str]) -> dict[str, Any]:
    """The ``pulumi_docker.Container`` arguments for a Docker container.

    Args:
        spec: The container.
        facts: Its settled name, host ports and networks.
        labels: Clockwork's labels (they win over the resource's own labels).
    """
    args: dict[str, Any] = {
        "name": facts.container_name,
        "image": spec.image,
        "envs": [f"{key}={value}" for key, value in sorted(spec.env.items())],
        "ports": port_args(spec, facts),
        "volumes": volume_args(spec),
        "networks_advanced": [
            {"name": actual, "aliases": network_aliases(spec)} for actual in facts.networks.values()
        ],
        "labels": label_args({**spec.labels, **labels}),
        "must_run": spec.must_run,
        "init": spec.init,
        "privileged": spec.privileged,
    }
    optional: dict[str, Any] = {
        "command": list(spec.command) if spec.command is not None else None,
        "entrypoints": list(spec.entrypoint) if spec.entrypoint is not None else None,
        "restart": spec.restart,
        "user": spec.user,
        "working_dir": spec.working_dir,
    }
    args.update({key: value for key, value in optional.items() if value is not None})
    if spec.healthcheck is not None:
        args["healthcheck"] = healthcheck_args(spec.healthcheck)
        if spec.must_run:
            args["wait"] = True
            args["wait_timeout"] = max(1, round(spec.start_timeout))
    args.update(option_args(spec))
    return args


def check_supported(spec: ContainerSpec) -> None:
    """Refuse what pulumi-docker cannot do for a container (before anything is deployed).

    Raises:
        DeclarationError: Naming the field, and saying to use the local engine.
    """
    problems = []
    if spec.pull == "always":
        problems.append(
            "pull='always': pulumi-docker never pulls an image that is already on the machine"
        )
    for name in ("mem_limit", "shm_size"):
        size = getattr(spec, name)
        if size is not None and size % MIB:
            problems.append(
                f"{name}={size} bytes: pulumi-docker takes whole MiB (give e.g. '256m')"
            )
    if spec.must_complete:
        problems.append(
            "must_complete=True (a one-shot, e.g. Compose's condition: "
            "service_completed_successfully): pulumi-docker does not wait for a container to "
            "exit, nor check its exit code"
        )
    for item in spec.files:
        if item.mode > 0o4777:
            problems.append(
                f"files[{item.path!r}] mode {item.mode:o}: pulumi-docker takes up to 4777"
            )
    if problems:
        raise DeclarationError(
            f"resource {spec.key!r}: the Pulumi engine cannot deploy it as declared: "
            + "; ".join(problems)
            + f". Change that, or {LOCAL_ENGINE}",
            resource=spec.key,
        )


def option_args(spec: ContainerSpec) -> dict[str, Any]:
    """Docker's run options as ``pulumi_docker.Container`` arguments (those given)."""
    args: dict[str, Any] = {}
    if spec.tmpfs:
        args["tmpfs"] = dict(spec.tmpfs)
    if spec.mem_limit is not None:
        args["memory"] = spec.mem_limit // MIB
    if spec.cpus is not None:
        args["cpus"] = f"{spec.cpus:g}"
    if spec.shm_size is not None:
        args["shm_size"] = spec.shm_size // MIB
    if spec.cap_add or spec.cap_drop:
        args["capabilities"] = {"adds": list(spec.cap_add), "drops": list(spec.cap_drop)}
    if spec.extra_hosts:
        args["hosts"] = [{"host": host, "ip": ip} for host, ip in sorted(spec.extra_hosts.items())]
    if spec.platform is not None:
        args["platform"] = spec.platform
    if spec.files:
        args["uploads"] = [
            {"file": item.path, "content": item.content, "permissions": f"0{item.mode:o}"}
            for item in spec.files
        ]
    return args


def uploads_known(spec: ContainerSpec) -> bool:
    """Whether the spec has its files' content (one rebuilt from the state has digests)."""
    return all(content_digest(item.content) == item.digest for item in spec.files)


def container_outputs(
    spec: ContainerSpec, facts: Facts, container_id: Any, host: str
) -> dict[str, Any]:
    """The fixture's outputs, in the local engine's shape (``container_id`` may be an Output)."""
    return {
        "container_id": container_id,
        "container_name": facts.container_name,
        "host": host,
        "ports": dict(facts.host_ports) if spec.must_run else {},
        "networks": dict(facts.networks),
        "runtime": spec.runtime,
    }


def provider_args(endpoint: Endpoint | None) -> dict[str, Any] | None:
    """pulumi-docker's ``Provider`` arguments for the engine at ``endpoint``; ``None``
    for the default socket, which pulumi-docker's default provider uses."""
    if endpoint is None or endpoint.url == DEFAULT_SOCKET:
        return None
    args: dict[str, Any] = {"host": endpoint.url}
    if endpoint.scheme == "ssh":  # Pulumi's provider has no terminal to ask anything on
        args["ssh_opts"] = ["-o", "BatchMode=yes"]
    ca_cert = getattr(endpoint.tls, "ca_cert", None)
    if ca_cert:  # DOCKER_CERT_PATH's or the context's ca.pem, cert.pem and key.pem
        args["cert_path"] = str(Path(ca_cert).parent)
    return args


def command_args(create: list[str], delete: list[str]) -> dict[str, Any]:
    """``pulumi_command.local.Command`` arguments for a container run by a command
    (a runtime without an API Pulumi has a provider for: Apple's ``container``)."""
    return {"create": shlex.join(create), "delete": shlex.join(delete)}
