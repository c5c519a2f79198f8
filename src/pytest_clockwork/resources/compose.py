"""ComposeResource: a Compose file's services, one DockerResource child each."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path, PurePath
from typing import Any, ClassVar, Self

from pydantic import PrivateAttr, ValidationError, field_validator, model_validator

from pytest_clockwork.errors import DeclarationError
from pytest_clockwork.notation import resolve_path
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.resources.docker import DockerResource
from pytest_clockwork.specs import ContainerSpec, GroupSpec, SpecContext, default_name


class ComposeService(DockerResource):
    """One service of a Compose file: a :class:`DockerResource` whose container is named
    after its project too (``app.db-<session>``), so that two projects, or a project and
    a resource of your own, may have services of one name; the other services still reach
    it by its service name."""

    _project: str = PrivateAttr(default="")

    def spec(self, context: SpecContext) -> ContainerSpec:
        """As a DockerResource's, named ``<project>.<service>``."""
        spec = super().spec(context)
        return dataclasses.replace(spec, name=f"{self._project}.{spec.name}")


class ComposeResource(Resource):
    """The services of a Compose file, deployed as containers for the session.

    A composite: each service becomes a child :class:`DockerResource` (``app.children
    ["db"]``, with ``url()``, ``host_port()``, ``logs()`` as any container). Services
    reach each other by their service names, and deploy in ``depends_on`` order (after
    a dependency is ready, healthy, or has completed, as its condition says). The file is
    read when the conftest is scanned: an error in it (a misspelt key, a ``depends_on``
    cycle, bad YAML) stops the run before anything is deployed.

    Attributes:
        file: The Compose file, relative to pytest's rootdir (or absolute).
        services: The services to take (with what they depend on); all by default.
        project_dir: Where relative paths in the file point from (relative to the
            rootdir); the file's directory by default.
        env_file: The variables for ``${VAR}`` (relative to the rootdir); by default
            the ``.env`` in the project directory, when there is one. The environment
            wins over it.

    Example:
        ``app = ComposeResource(file="compose.yaml")``; in a test,
        ``httpx.get(app.children["web"].url(80))``.
    """

    in_words: ClassVar[str | None] = "Compose projects"

    file: str
    services: list[str] | None = None
    project_dir: str | None = None
    env_file: str | None = None

    _loaded: bool = PrivateAttr(default=False)
    _sources: list[Path] = PrivateAttr(default_factory=list)

    @field_validator("file", "project_dir", "env_file", mode="before")
    @classmethod
    def _a_path_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, PurePath) else value

    @field_validator("file")
    @classmethod
    def _names_a_file(cls, value: str) -> str:
        if not value.strip():
            raise ValueError('file is empty: give the Compose file, e.g. file="compose.yaml"')
        return value

    @field_validator("project_dir", "env_file")
    @classmethod
    def _not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("it is empty: give a path, or leave it out")
        return value

    @model_validator(mode="after")
    def _check_services(self) -> Self:
        if self.services is None:
            return self
        if not self.services:
            raise ValueError(
                "services=[] takes no service: name the services to take, or leave services "
                "out to take them all"
            )
        for name in self.services:
            if self.services.count(name) > 1:
                raise ValueError(f"services names {name!r} twice; give each once")
        return self

    @property
    def project(self) -> str:
        """The project's name (its volumes and networks are ``<project>-<name>``)."""
        return self.name or default_name(self.key)

    def load(self, rootdir: Path) -> None:
        """Read the Compose file and add one child per service (once).

        Raises:
            DeclarationError: The file cannot be used; the message names this resource,
                the file (and line), the service and the key.
        """
        if self._loaded:
            return
        from pytest_clockwork.compose.errors import ComposeFileError
        from pytest_clockwork.compose.project import read_project

        def show(path: Path) -> str:
            return (
                path.relative_to(rootdir).as_posix() if path.is_relative_to(rootdir) else str(path)
            )

        file = resolve_path(self.file, rootdir)
        project_dir = resolve_path(self.project_dir, rootdir) if self.project_dir else file.parent
        env_file = resolve_path(self.env_file, rootdir) if self.env_file else None
        given = {"file": file, "env_file": env_file}
        if self.project_dir:
            given["project_dir"] = project_dir
        for field, path in given.items():
            if path is None or (path.is_dir() if field == "project_dir" else path.is_file()):
                continue
            what = "is not a directory" if field == "project_dir" else "is not a file"
            raise DeclarationError(
                f"{self._label()}: {field}={getattr(self, field)!r}: {show(path)} "
                f"{what if path.exists() else 'does not exist'} (paths are relative to "
                f"pytest's rootdir, {rootdir}); check the path",
                resource=self.key,
            )
        try:
            project = read_project(
                file,
                project=self.project,
                project_dir=project_dir,
                environ=os.environ,
                env_file=env_file,
                services=self.services,
                show=show,
            )
            # every service is checked as a DockerResource, also those not taken
            children = {
                name: self._child(service.arguments, service.lines, service.line, project.shown)
                for name, service in project.services.items()
            }
        except ComposeFileError as exc:
            raise DeclarationError(f"{self._label()}: {exc}", resource=self.key) from None
        for name in project.taken:
            depends_on = project.services[name].depends_on
            children[name].connect(*(children[other] for other in depends_on))
        self.add(*(children[name] for name in project.taken))
        self._loaded = True
        self._sources = project.files
        if project.unset:
            names = ", ".join(project.unset)
            warnings.warn(
                f"{self._label()}: {project.shown} uses {names}, not set in the environment "
                f"or the .env file: substituted empty text (give a default: "
                f"${{{project.unset[0]}:-value}})",
                stacklevel=2,
            )

    def sources(self) -> list[Path]:
        """The Compose file and the env files read from it."""
        return list(self._sources)

    def _child(
        self, arguments: dict[str, Any], lines: dict[str, int], line: int, shown: str
    ) -> ComposeService:
        """The DockerResource of one service; a value it refuses names the Compose key."""
        from pytest_clockwork.compose.errors import ComposeFileError
        from pytest_clockwork.compose.project import FIELD_KEYS

        try:
            child = ComposeService(**arguments)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else ""
            key = FIELD_KEYS.get(field, field)  # the value it says is wrong is quoted
            message = str(error["msg"]).removeprefix("Value error, ")
            raise ComposeFileError(
                f"{shown}, line {lines.get(field, line)}: service {arguments['name']!r}: "
                + (f"{key}: " if key else "")
                + message
            ) from None
        child._project = self.project
        return child

    def spec(self, context: SpecContext) -> GroupSpec:
        """A group: nothing is deployed for the project itself."""
        return GroupSpec(key=context.key)
