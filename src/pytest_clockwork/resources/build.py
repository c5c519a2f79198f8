"""Build: how a container's image is built from a Dockerfile in your repository."""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from pytest_clockwork.errors import DeclarationError
from pytest_clockwork.notation import check_text, resolve_path
from pytest_clockwork.specs import BuildSpec, SpecContext

_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STAGE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_TAG_PART = re.compile(r"[^a-z0-9]+")
DIGEST_IN_TAG = 12
"""How many hex digits of the build's digest a derived tag carries."""


def _arg_name(text: str) -> str:
    if not _ARG_NAME.fullmatch(text):
        raise ValueError(
            f"invalid build argument name {text!r}: a Dockerfile's ARG names are letters, "
            "digits and '_', not starting with a digit (e.g. args={'APP_VERSION': '1.2'})"
        )
    return text


def _arg_value(value: object) -> object:
    if isinstance(value, SecretStr):
        raise ValueError(
            "a build argument is no place for a secret: its value stays in the image's "
            "history (docker history shows it); pass secrets to the container with "
            "env_vars=... instead"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{type(value).__name__} {value!r} is not text: give a string")
    return check_text(value, "a build argument")


ArgName = Annotated[str, BeforeValidator(_arg_name)]
ArgValue = Annotated[str, BeforeValidator(_arg_value)]


class Build(BaseModel):
    """How to build a container's image (``DockerResource(build=Build(...))``).

    ``build="api"`` is short for ``build=Build(context="api")``. The image is built once
    per session, and not again while its inputs (the files of the context that
    ``.dockerignore`` leaves in, the Dockerfile, ``target`` and ``args``) are unchanged.

    Attributes:
        context: The directory sent to the build, relative to pytest's rootdir.
        dockerfile: The Dockerfile, relative to the context (and inside it).
        target: The stage of a multi-stage Dockerfile to build (default: the last).
        args: Build arguments (the Dockerfile's ``ARG`` values). Not for secrets: they
            stay in the image's history.

    Example:
        ``Build(context="api", dockerfile="Dockerfile.test", target="test", args={"X": "1"})``
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)

    context: str
    dockerfile: str = "Dockerfile"
    target: str | None = None
    args: dict[ArgName, ArgValue] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _check_arguments(cls, data: Any) -> Any:
        from pytest_clockwork.validation import check_arguments

        return check_arguments(cls, data)

    @field_validator("context")
    @classmethod
    def _a_directory(cls, value: str) -> str:
        if not value.strip() or "\0" in value:
            raise ValueError(
                f"context={value!r}: give the directory to build, relative to the rootdir "
                "(e.g. context='api', the directory that holds the Dockerfile)"
            )
        return check_text(value, "the build context")

    @field_validator("dockerfile")
    @classmethod
    def _inside_the_context(cls, value: str) -> str:
        check_text(value, "the dockerfile")
        normal = posixpath.normpath(value.replace("\\", "/")) if value.strip() else ""
        if not normal or "\0" in value or normal == ".":
            raise ValueError(
                f"dockerfile={value!r}: give the Dockerfile's path relative to the context "
                "(default 'Dockerfile')"
            )
        if normal.startswith("/") or normal == ".." or normal.startswith("../"):
            raise ValueError(
                f"dockerfile={value!r} is outside the context: the build only sees the "
                "context's files; give a path inside the context (relative to it), or make "
                "the context the directory that holds both"
            )
        return normal

    @field_validator("target")
    @classmethod
    def _a_stage(cls, value: str | None) -> str | None:
        if value is not None and not _STAGE.fullmatch(value):
            raise ValueError(
                f"target={value!r}: name a stage of the Dockerfile ('FROM ... AS test' is "
                "target='test'): letters, digits, '_', '.', '-'"
            )
        return value

    def spec(self, context: SpecContext) -> BuildSpec:
        """The build with its context resolved against the rootdir, and its digest.

        Raises:
            DeclarationError: The context or Dockerfile is missing or outside the context,
                the target is no stage of the Dockerfile, or a file cannot be read.
        """
        from pytest_clockwork.buildcontext import build_digest, stages

        rootdir, key = context.rootdir, context.key

        def refuse(problem: str) -> DeclarationError:
            return DeclarationError(f"resource {key!r}: build: {problem}", resource=key)

        try:
            directory = resolve_path(self.context, rootdir)
        except ValueError as exc:
            raise refuse(f"context={self.context!r}: {exc}") from None
        if not directory.is_dir():
            state = "is not a directory" if directory.exists() else "does not exist"
            raise refuse(
                f"the build context {directory} {state} (context={self.context!r} is relative "
                f"to the rootdir {rootdir}): create it, or give the directory that holds the "
                "Dockerfile"
            )
        dockerfile = directory / self.dockerfile
        if not dockerfile.resolve().is_relative_to(directory.resolve()):
            raise refuse(
                f"dockerfile={self.dockerfile!r} leads outside the context {directory} (through "
                "a symlink): the build only sees the context's files; put it inside"
            )
        if not dockerfile.is_file():
            raise refuse(
                f"there is no Dockerfile at {dockerfile}: add one, or give "
                "dockerfile=... (relative to the context)"
            )
        try:
            if self.target is not None:
                named = stages(dockerfile.read_text(errors="replace"))
                if self.target.lower() not in named:
                    shown = ", ".join(repr(name) for name in named) or "none"
                    raise refuse(
                        f"target={self.target!r} is no stage of {dockerfile} (its named "
                        f"stages: {shown}); name one ('FROM ... AS {self.target}'), or leave "
                        "target out to build the last stage"
                    )
            digest = build_digest(directory, self.dockerfile, self.target, self.args, context.memo)
        except OSError as exc:
            raise refuse(
                f"cannot read the build context {directory} ({exc}): make it readable, or "
                "leave the file out with .dockerignore"
            ) from None
        return BuildSpec(
            context=str(directory),
            dockerfile=self.dockerfile,
            target=self.target,
            args=dict(self.args),
            digest=digest,
        )


def derived_tag(name: str, digest: str) -> str:
    """The tag of a built image not named with ``image=``: ``clockwork/<name>:<digest>``."""
    repository = _TAG_PART.sub("-", name.lower()).strip("-") or "image"
    return f"clockwork/{repository}:{digest.removeprefix('sha256:')[:DIGEST_IN_TAG]}"
