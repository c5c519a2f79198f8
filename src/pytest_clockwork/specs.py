"""The normalised view of a resource: what every engine reads.

A resource model (what users type) turns itself into one of these specs with
:meth:`Resource.spec <pytest_clockwork.Resource.spec>`. Defaults are applied, notations
are parsed and relative paths are resolved against pytest's rootdir here, once, so
that the local engine and the Pulumi engine read the same values and no mapping from
model fields to engine arguments is written twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Literal,
    Self,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from pytest_clockwork.notation import PortMapping

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource

LABEL_PREFIX = "clockwork."
"""The namespace of the labels clockwork puts on what it creates (and finds it by)."""
BUILD_LABEL = f"{LABEL_PREFIX}build.digest"
"""The label of an image clockwork built: the digest of its inputs (see :class:`BuildSpec`).
Images carrying it are clockwork's build cache."""
HOST_GATEWAY = "host-gateway"
"""What ``extra_hosts`` maps a name to for the host's address as seen from the container."""


@dataclass(frozen=True)
class SpecContext:
    """What a resource needs to know to normalise itself.

    Attributes:
        rootdir: pytest's rootdir; relative paths are relative to it.
        key: The resource's key (its fixture name, or ``parent.child`` for children).
        secret: Gives the value a ``${secret:...}`` reference names (``None``: none can
            be resolved).
        memo: What normalising may keep for the session's next specs, e.g. the digest of
            a build's inputs, read once per session (``None``: nothing is kept).
    """

    rootdir: Path
    key: str
    secret: Callable[[str], str] | None = field(default=None, compare=False)
    memo: dict[Any, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The name a resource without ``name=`` gets: its fixture's (or child's) name."""
        return default_name(self.key)


def default_name(key: str) -> str:
    """The last part of a key: ``db`` for ``db``, ``tests/db`` and ``app.db``."""
    return key.rsplit("/", 1)[-1].rsplit(".", 1)[-1]


_KINDS: dict[str, type[Spec]] = {}
"""Each kind of spec's class, by its ``kind``: what :func:`spec_from_json` rebuilds."""


@dataclass(frozen=True)
class Spec:
    """Base of the normalised views. ``kind`` names the view; ``key`` the resource.

    A subclass that sets ``kind`` is the class :func:`spec_from_json` rebuilds that kind
    with; its JSON is derived from its fields (those compared, i.e. not ``compare=False``).
    """

    kind: ClassVar[str] = "abstract"
    key: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in vars(cls):
            known = _KINDS.setdefault(cls.kind, cls)
            if known is not cls:
                raise TypeError(f"{cls.__qualname__}: kind {cls.kind!r} is {known.__qualname__}'s")

    def to_json(self) -> dict[str, Any]:
        """The spec as plain JSON data (as recorded in the stack's state)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.compare}
        data: dict[str, Any] = json.loads(json.dumps(values, default=_jsonable))
        return {"kind": self.kind, **data}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild the spec from :meth:`to_json`, as its fields' annotations say.

        A field ``data`` lacks (a record written before the field existed) gets its
        default; keys that are no field are ignored.
        """
        return cls(**_field_values(cls, data))

    def fingerprint(self) -> str:
        """A digest of everything that would be deployed; equal specs deploy the same."""
        payload = json.dumps(self.to_json(), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def footprint(self) -> tuple[tuple[str, str], ...]:
        """What it occupies that no other resource of a session may: ``(what, name)``."""
        return ()


def content_digest(content: str | bytes) -> str:
    """The digest a file's content is known by in the state: ``sha256:<hex>``."""
    data = content.encode() if isinstance(content, str) else content
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _jsonable(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


@dataclass(frozen=True)
class VolumeSpec:
    """A mount: ``source`` is an absolute host path when ``is_bind``, else a volume name."""

    source: str
    target: str
    read_only: bool
    is_bind: bool


@dataclass(frozen=True)
class HealthcheckSpec:
    """A container healthcheck, durations in seconds."""

    test: tuple[str, ...]
    interval: float
    timeout: float
    retries: int
    start_period: float

    def __post_init__(self) -> None:
        # The last guard before Docker: dockerd 20.10 panics on a test of ["CMD"].
        form, command = (self.test[0], self.test[1:]) if self.test else ("", ())
        if form not in ("CMD", "CMD-SHELL") or not command or not command[0].strip():
            raise ValueError(f"healthcheck test {list(self.test)!r} runs no command")


@dataclass(frozen=True)
class BuildSpec:
    """An image to build for a container.

    Attributes:
        context: The build context, an absolute directory.
        dockerfile: The Dockerfile, relative to the context (and inside it).
        target: The stage to build (``None``: the last one).
        args: Build arguments.
        digest: ``sha256:`` of the inputs: the files sent (``.dockerignore`` honoured),
            the Dockerfile, ``target`` and ``args``. Equal digests build the same image.
    """

    context: str
    dockerfile: str
    target: str | None
    args: Mapping[str, str]
    digest: str

    @property
    def dockerfile_path(self) -> str:
        """The Dockerfile's absolute path."""
        return str(Path(self.context) / self.dockerfile)


@dataclass(frozen=True)
class ContainerFileSpec:
    """A file put into a container before it starts; ``path`` is absolute in the container."""

    path: str
    content: str = field(default="", compare=False, repr=False)
    """The text; not in the state (a spec rebuilt from it has only the digest)."""
    digest: str = ""
    """``sha256:`` of the content; computed from it when not given."""
    mode: int = 0o644

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", content_digest(self.content))


@dataclass(frozen=True)
class ContainerSpec(Spec):
    """A container, for Docker or for Apple's ``container`` runtime."""

    kind: ClassVar[str] = "container"
    name: str = ""
    image: str = ""
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortMapping, ...] = ()
    volumes: tuple[VolumeSpec, ...] = ()
    networks: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    must_run: bool = True
    must_complete: bool = False
    """A one-shot: ready once it has exited with code 0."""
    restart: str | None = None
    healthcheck: HealthcheckSpec | None = None
    user: str | None = None
    working_dir: str | None = None
    init: bool = False
    privileged: bool = False
    start_timeout: float = 60.0
    wait_for_ports: bool = True
    runtime: Literal["docker", "apple"] = "docker"
    secret_env: tuple[str, ...] = ()
    """The names in ``env`` whose values are secret: the state records digests of them."""
    build: BuildSpec | None = None
    """The image is built (and tagged ``image``) before the container starts."""
    tmpfs: Mapping[str, str] = field(default_factory=dict)
    """Path → tmpfs options (``""`` for Docker's defaults)."""
    mem_limit: int | None = None
    """Bytes."""
    cpus: float | None = None
    shm_size: int | None = None
    """Bytes."""
    cap_add: tuple[str, ...] = ()
    """Capabilities as Docker stores them (``CAP_NET_ADMIN``, or ``ALL``)."""
    cap_drop: tuple[str, ...] = ()
    extra_hosts: Mapping[str, str] = field(default_factory=dict)
    """Host name → IP address, or :data:`HOST_GATEWAY`."""
    platform: str | None = None
    pull: Literal["missing", "always", "never"] = "missing"
    files: tuple[ContainerFileSpec, ...] = ()

    OPTIONS: ClassVar[tuple[str, ...]] = (
        "tmpfs", "mem_limit", "cpus", "shm_size", "cap_add", "cap_drop", "extra_hosts",
        "platform", "pull", "files",
    )  # fmt: skip
    """Docker's run options: left out of the JSON while they have their defaults, so a
    container declared without them keeps the fingerprint it was recorded with."""

    def to_json(self) -> dict[str, Any]:
        """As :meth:`Spec.to_json`, with a digest in place of each secret value and of each
        file's content, and without the :attr:`OPTIONS` left at their defaults (nor
        ``build`` when nothing is built, nor ``must_complete`` unless it is a one-shot):
        the fingerprints of containers declared without them stay."""
        from pytest_clockwork.resources.secrets import digest, is_digest

        data = super().to_json()
        if data.get("build") is None:
            data.pop("build", None)
        if not data.get("must_complete"):  # likewise for containers that are no one-shot
            data.pop("must_complete", None)
        data["env"] = {
            name: digest(name, value) if name in self.secret_env and not is_digest(value) else value
            for name, value in self.env.items()
        }
        data["files"] = [
            {"path": item.path, "digest": item.digest, "mode": item.mode} for item in self.files
        ]
        blank = ContainerSpec(key=self.key)
        for name in self.OPTIONS:
            if getattr(self, name) == getattr(blank, name):
                del data[name]
        return data

    def env_matches(self, name: str, value: str) -> bool:
        """Whether ``value`` is what ``name`` was deployed with (also for a recorded digest)."""
        from pytest_clockwork.resources.secrets import digest, is_digest

        declared = self.env.get(name)
        if declared is not None and is_digest(declared):
            return digest(name, value) == declared
        return declared == value

    def footprint(self) -> tuple[tuple[str, str], ...]:
        """Its name: each container of a session has its own."""
        return (("a container named", self.name),)

    def container_name(self, session_id: str) -> str:
        """The container's name in a session: unique, so sessions on one host never clash."""
        return f"{self.name}-{session_id}"

    def aliases(self) -> list[str]:
        """The names other containers reach it by on its networks."""
        return sorted({self.name, self.name.rsplit(".", 1)[-1]})

    def logical_networks(self, linked: bool) -> list[str]:
        """The networks it joins, as declared: its ``networks``, else ``clockwork`` (the
        session's own) when it is connected with other containers."""
        return list(self.networks) or (["clockwork"] if linked else [])


def session_network(logical: str, session_id: str) -> str:
    """The network clockwork makes for ``logical`` in a session (``backend-1a2b3c4d``)."""
    return f"{logical}-{session_id}"


@dataclass(frozen=True)
class FileSpec(Spec):
    """A file with its content and mode; ``path`` is absolute."""

    kind: ClassVar[str] = "file"
    path: Path = Path()
    content: str = field(default="", compare=False, repr=False)
    """The text; not in the state (a spec rebuilt from it has only the digest)."""
    digest: str = ""
    """``sha256:`` of the content; computed from it when not given."""
    mode: int = 0o644
    overwrite: bool = False

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", content_digest(self.content))

    def footprint(self) -> tuple[tuple[str, str], ...]:
        """Its path."""
        return (("the file", str(self.path)),)


@dataclass(frozen=True)
class GitSpec(Spec):
    """A clone of ``repo_url`` at ``dest`` (absolute)."""

    kind: ClassVar[str] = "git"
    repo_url: str = ""
    dest: Path = Path()
    branch: str | None = None
    pull: bool = False

    def footprint(self) -> tuple[tuple[str, str], ...]:
        """Its destination."""
        return (("a clone at", str(self.dest)),)


@dataclass(frozen=True)
class GroupSpec(Spec):
    """A composite with no footprint of its own."""

    kind: ClassVar[str] = "group"


@dataclass(frozen=True)
class CustomSpec(Spec):
    """A user's own resource type; engines call its hooks (see :class:`Resource`)."""

    kind: ClassVar[str] = "custom"
    resource: Resource | None = field(default=None, compare=False, repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)
    origin: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """Where the class lives, as recorded (a spec rebuilt from the state keeps it)."""

    def to_json(self) -> dict[str, Any]:
        """The settings, and where the class lives (to call ``delete`` from elsewhere)."""
        data = super().to_json()
        cls = type(self.resource)
        data["class"] = (
            dict(self.origin)
            if self.origin is not None
            else {
                "module": cls.__module__,
                "qualname": cls.__qualname__,
                "file": _class_file(cls) if self.resource is not None else None,
            }
        )
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The settings, validated by the class recorded under ``class`` (imported again)."""
        key = str(data["key"])
        settings = dict(data.get("settings") or {})
        origin = dict(data.get("class") or {})
        resource = _resource_class(key, origin).model_validate(settings)
        return cls(key=key, resource=resource, settings=settings, origin=origin)


def _class_file(cls: type) -> str | None:
    """The file that defines ``cls``.

    Read from the code of a method defined in its body when it has one: ``inspect`` goes
    through ``sys.modules``, where another module may have taken its module's name (two
    ``conftest`` modules) or none is left (a collection that unloaded it).
    """
    import inspect

    for value in vars(cls).values():
        function = getattr(value, "__func__", value)
        code = getattr(function, "__code__", None)
        if code is not None and function.__qualname__.startswith(cls.__qualname__ + "."):
            return str(code.co_filename)
    try:
        return inspect.getsourcefile(cls)
    except (TypeError, OSError):
        return None


def check_distinct(specs: Iterable[Spec]) -> None:
    """Refuse two resources that would create the same container, file or clone.

    Raises:
        DeclarationError: Naming both resources, what they share, and the fix.
    """
    from pytest_clockwork.errors import DeclarationError

    owners: dict[tuple[str, str], str] = {}
    for spec in specs:
        for place in spec.footprint():
            owner = owners.setdefault(place, spec.key)
            if owner != spec.key:
                what, name = place
                raise DeclarationError(
                    f"resources {owner!r} and {spec.key!r} would both create {what} {name!r}: "
                    "give one of them another name=... (or path)",
                    resource=spec.key,
                )


def spec_from_json(data: Mapping[str, Any]) -> Spec:
    """Rebuild a spec from :meth:`Spec.to_json` (as recorded in the stack's state).

    ``kind`` chooses the class (see :meth:`Spec.from_json`). The result has the same JSON
    and the same fingerprint as the spec it was made from. A custom spec gets its resource
    back: the class is imported from where :meth:`CustomSpec.to_json` says it lives and
    validated from the recorded settings.

    Raises:
        ValueError: ``data`` has an unknown kind.
        pytest_clockwork.errors.DeploymentError: A custom resource's class is gone.
    """
    kind, key = data.get("kind"), str(data["key"])
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown spec kind {kind!r} for resource {key!r}")
    return cls.from_json({**data, "key": key})


def _field_values(cls: type[Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments that rebuild the dataclass ``cls`` from its JSON ``data``.

    Each value is read as its field's annotation says; a field ``data`` lacks is left
    out, so it gets its default.
    """
    hints = get_type_hints(cls)
    return {
        item.name: _from_json_value(hints[item.name], data[item.name])
        for item in dataclasses.fields(cls)
        if item.init and item.name in data
    }


def _from_json_value(annotation: Any, value: Any) -> Any:
    """``value`` as read from JSON, made what ``annotation`` says.

    Tuples, paths and nested dataclasses are rebuilt (also inside ``X | None`` and
    ``tuple[X, ...]``); mappings become dicts; anything else is kept as it is.
    """
    origin, args = get_origin(annotation), get_args(annotation)
    if value is None:
        return None
    if origin in (Union, types.UnionType):
        options = [arg for arg in args if arg is not type(None)]
        return _from_json_value(options[0], value) if len(options) == 1 else value
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json_value(args[0], item) for item in value)
        return tuple(_from_json_value(arg, item) for arg, item in zip(args, value, strict=True))
    if origin in (dict, Mapping):
        kind = args[1] if args else Any
        return {name: _from_json_value(kind, item) for name, item in dict(value).items()}
    if annotation is Path:
        return Path(value)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return annotation(**_field_values(annotation, value))
    return value


def _resource_class(key: str, origin: Mapping[str, Any]) -> type[Resource]:
    """The class of a custom resource, from where ``CustomSpec.to_json`` says it lives."""
    import importlib
    import importlib.util
    import sys

    from pytest_clockwork.errors import DeploymentError

    module_name, qualname, path = origin.get("module"), origin.get("qualname"), origin.get("file")
    module: Any = sys.modules.get(str(module_name))
    same_file = module is not None and (
        not path or getattr(module, "__file__", None) in (None, path)
    )
    if not same_file:
        module = None
        if path and Path(path).exists():
            loaded = importlib.util.spec_from_file_location(f"_clockwork_{key}", path)
            if loaded is not None and loaded.loader is not None:
                module = importlib.util.module_from_spec(loaded)
                loaded.loader.exec_module(module)
    try:
        if module is None:
            module = importlib.import_module(str(module_name))
        found: Any = module
        for part in str(qualname).split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        found = None
    # A resource class (not imported to check: the resource models import this module).
    if not (isinstance(found, type) and callable(getattr(found, "spec", None))):
        raise DeploymentError(
            f"resource {key!r}: cannot find its class {qualname} (module {module_name}, "
            f"file {path}); restore that file, or remove what the resource created by hand",
            resource=key,
        )
    return found
