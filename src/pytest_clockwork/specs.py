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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pytest_clockwork.notation import PortMapping

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource

LABEL_PREFIX = "clockwork."
"""The namespace of the labels clockwork puts on what it creates (and finds it by)."""


@dataclass(frozen=True)
class SpecContext:
    """What a resource needs to know to normalise itself.

    Attributes:
        rootdir: pytest's rootdir; relative paths are relative to it.
        key: The resource's key (its fixture name, or ``parent.child`` for children).
        secret: Gives the value a ``${secret:...}`` reference names (``None``: none can
            be resolved).
    """

    rootdir: Path
    key: str
    secret: Callable[[str], str] | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """The name a resource without ``name=`` gets: its fixture's (or child's) name."""
        return default_name(self.key)


def default_name(key: str) -> str:
    """The last part of a key: ``db`` for ``db``, ``tests/db`` and ``app.db``."""
    return key.rsplit("/", 1)[-1].rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Spec:
    """Base of the normalised views. ``kind`` names the view; ``key`` the resource."""

    kind: ClassVar[str] = "abstract"
    key: str

    def to_json(self) -> dict[str, Any]:
        """The spec as plain JSON data (as recorded in the stack's state)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.compare}
        data: dict[str, Any] = json.loads(json.dumps(values, default=_jsonable))
        return {"kind": self.kind, **data}

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

    def to_json(self) -> dict[str, Any]:
        """As :meth:`Spec.to_json`, with a digest in place of each secret value."""
        from pytest_clockwork.resources.secrets import digest, is_digest

        data = super().to_json()
        data["env"] = {
            name: digest(name, value) if name in self.secret_env and not is_digest(value) else value
            for name, value in self.env.items()
        }
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

    The result has the same JSON and the same fingerprint as the spec it was made from.
    A custom spec gets its resource back: the class is imported from where
    :meth:`CustomSpec.to_json` says it lives and validated from the recorded settings.

    Raises:
        ValueError: ``data`` has an unknown kind.
        pytest_clockwork.errors.DeploymentError: A custom resource's class is gone.
    """
    kind, key = data.get("kind"), str(data["key"])
    if kind == "container":
        check = data.get("healthcheck")
        return ContainerSpec(
            key=key,
            name=data["name"],
            image=data["image"],
            command=_strings(data.get("command")),
            entrypoint=_strings(data.get("entrypoint")),
            env=dict(data.get("env") or {}),
            ports=tuple(PortMapping(**port) for port in data.get("ports") or ()),
            volumes=tuple(VolumeSpec(**mount) for mount in data.get("volumes") or ()),
            networks=tuple(data.get("networks") or ()),
            labels=dict(data.get("labels") or {}),
            must_run=data.get("must_run", True),
            restart=data.get("restart"),
            healthcheck=HealthcheckSpec(**{**check, "test": tuple(check["test"])})
            if check
            else None,
            user=data.get("user"),
            working_dir=data.get("working_dir"),
            init=data.get("init", False),
            privileged=data.get("privileged", False),
            start_timeout=data.get("start_timeout", 60.0),
            wait_for_ports=data.get("wait_for_ports", True),
            runtime=data.get("runtime", "docker"),
            secret_env=tuple(data.get("secret_env") or ()),
        )
    if kind == "file":
        return FileSpec(
            key=key,
            path=Path(data["path"]),
            digest=data["digest"],
            mode=data["mode"],
            overwrite=data.get("overwrite", False),
        )
    if kind == "git":
        return GitSpec(
            key=key,
            repo_url=data["repo_url"],
            dest=Path(data["dest"]),
            branch=data.get("branch"),
            pull=data.get("pull", False),
        )
    if kind == "group":
        return GroupSpec(key=key)
    if kind == "custom":
        settings = dict(data.get("settings") or {})
        resource = _resource_class(key, data.get("class") or {}).model_validate(settings)
        origin = dict(data.get("class") or {})
        return CustomSpec(key=key, resource=resource, settings=settings, origin=origin)
    raise ValueError(f"unknown spec kind {kind!r} for resource {key!r}")


def _strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(item) for item in value)


def _resource_class(key: str, origin: Mapping[str, Any]) -> type[Resource]:
    """The class of a custom resource, from where ``CustomSpec.to_json`` says it lives."""
    import importlib
    import importlib.util
    import sys

    from pytest_clockwork.errors import DeploymentError
    from pytest_clockwork.resources.base import Resource

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
    if not (isinstance(found, type) and issubclass(found, Resource)):
        raise DeploymentError(
            f"resource {key!r}: cannot find its class {qualname} (module {module_name}, "
            f"file {path}); restore that file, or remove what the resource created by hand",
            resource=key,
        )
    return found
