"""DockerResource: a container on the Docker engine."""

from __future__ import annotations

import dataclasses
from typing import Annotated, ClassVar, Literal, Self, cast

from pydantic import Field, PlainValidator, SecretStr, model_validator

from pytest_clockwork.errors import DeclarationError
from pytest_clockwork.notation import parse_mode, parse_volume
from pytest_clockwork.resources.container import ContainerResource
from pytest_clockwork.resources.container_options import (
    Capability,
    Cpus,
    ExtraHosts,
    MemoryLimit,
    Platform,
    Size,
    Tmpfs,
    check_container_path,
    inside,
    split_tmpfs,
    unique,
)
from pytest_clockwork.resources.file import FileResource
from pytest_clockwork.resources.secrets import expand
from pytest_clockwork.resources.types import text_value
from pytest_clockwork.specs import ContainerFileSpec, ContainerSpec, SpecContext


def _file_content(value: object) -> str | SecretStr | FileResource:
    if isinstance(value, FileResource | SecretStr):
        return value
    if isinstance(value, str | bytes):
        return cast(str, text_value(value))
    raise ValueError(
        f"{type(value).__name__} {value!r} is not a file's content: give text, "
        "SecretStr('...') for a secret, or a FileResource(content=..., mode=...)"
    )


FileContent = Annotated[str | SecretStr | FileResource, PlainValidator(_file_content)]
"""What ``files=`` puts in a file: text, a secret, or a FileResource's content and mode."""


class DockerResource(ContainerResource):
    """A Docker container, started for the session and removed after it.

    Attributes:
        tmpfs: In-memory mounts: ``"/scratch"``, or with options
            ``"/scratch:size=64m,mode=1777"``.
        mem_limit: Memory limit: ``"256m"``, ``"1g"`` (Docker's notation) or bytes.
        cpus: How many CPUs it may use, e.g. ``1.5``.
        shm_size: Size of ``/dev/shm``: ``"128m"`` or bytes.
        cap_add: Linux capabilities to add, e.g. ``["NET_ADMIN"]`` (or ``["ALL"]``).
        cap_drop: Linux capabilities to drop.
        extra_hosts: Extra ``/etc/hosts`` entries, name → IP address;
            ``{"host.docker.internal": "host-gateway"}`` lets the container reach the
            machine that runs the tests.
        platform: The image's platform, ``os/arch[/variant]``, e.g. ``"linux/amd64"``.
        pull: When the image is pulled: ``"missing"`` (only when it is not on this
            machine), ``"always"`` (each session), ``"never"`` (an absent image is an error).
        files: Files put into the container before it starts, path → text, or a
            :class:`~pytest_clockwork.FileResource` whose content and mode are used.
            Parent directories are made.

    Example:
        ``web = DockerResource(image="nginx:alpine", ports=["80"])``; in a test,
        ``httpx.get(web.url(80))``.
    """

    runtime: ClassVar[Literal["docker", "apple"]] = "docker"

    tmpfs: list[Tmpfs] = Field(default_factory=list)
    mem_limit: MemoryLimit | None = None
    cpus: Cpus | None = None
    shm_size: Size | None = None
    cap_add: list[Capability] = Field(default_factory=list)
    cap_drop: list[Capability] = Field(default_factory=list)
    extra_hosts: ExtraHosts = Field(default_factory=dict)
    platform: Platform | None = None
    pull: Literal["missing", "always", "never"] = "missing"
    files: dict[str, FileContent] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_options(self) -> Self:
        mounts = [split_tmpfs(text)[0] for text in self.tmpfs]
        unique("tmpfs", mounts)
        volumes = [parse_volume(text).target for text in self.volumes]
        for path in mounts:
            if path in volumes:
                raise ValueError(
                    f"tmpfs {path!r} and a volume both mount at {path}; give each path once"
                )
        unique("cap_add", self.cap_add)
        unique("cap_drop", self.cap_drop)
        both = sorted(set(self.cap_add) & set(self.cap_drop))
        if both:
            raise ValueError(
                f"{both[0]} is in both cap_add and cap_drop: keep it in the one you mean"
            )
        for path, value in self.files.items():
            check_container_path(path, "files path")
            for mount, what in [(m, "tmpfs") for m in mounts] + [(v, "volume") for v in volumes]:
                if inside(path, mount):
                    raise ValueError(
                        f"files path {path!r} is inside the {what} at {mount}, which hides it "
                        f"when the container starts: put the file elsewhere, or (a volume) "
                        "put it in the volume's source"
                    )
            if isinstance(value, FileResource) and value.content is None:
                raise ValueError(
                    f"files[{path!r}]: the FileResource has no content (files= takes the "
                    "content as declared, no AI completion): give it content=..."
                )
        return self

    def spec(self, context: SpecContext) -> ContainerSpec:
        """The container as every engine reads it, with its run options."""
        return dataclasses.replace(
            super().spec(context),
            tmpfs=dict(split_tmpfs(text) for text in self.tmpfs),
            mem_limit=self.mem_limit,
            cpus=self.cpus,
            shm_size=self.shm_size,
            cap_add=tuple(self.cap_add),
            cap_drop=tuple(self.cap_drop),
            extra_hosts=dict(self.extra_hosts),
            platform=self.platform,
            pull=self.pull,
            files=tuple(
                self._file_spec(path, value, context) for path, value in self.files.items()
            ),
        )

    def _file_spec(
        self, path: str, value: str | SecretStr | FileResource, context: SpecContext
    ) -> ContainerFileSpec:
        mode = 0o644
        if isinstance(value, FileResource):
            mode = parse_mode(value.mode or "644")
            value = value.content or ""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        try:
            content, _ = expand(text, context.secret, f"files[{path!r}]")
        except ValueError as exc:
            raise DeclarationError(
                f"resource {context.key!r}: {exc}", resource=context.key
            ) from None
        return ContainerFileSpec(path=path, content=content, mode=mode)
