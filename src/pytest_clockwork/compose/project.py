"""A Compose file, read into the keyword arguments of one ``DockerResource`` per service.

This is the one mapping from Compose to clockwork: a service becomes the arguments of a
:class:`~pytest_clockwork.DockerResource` (``environment`` → ``env_vars``, relative paths
made absolute against the project directory, named volumes and networks named after the
project), and every engine then reads that container as it reads any other. Nothing
here imports pydantic or an engine; PyYAML is imported when a file is read.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_clockwork.compose import keys
from pytest_clockwork.compose.errors import ComposeFileError
from pytest_clockwork.compose.interpolation import InterpolationError, Variables, read_env_file
from pytest_clockwork.compose.yamlfile import Located, load_yaml

CONDITIONS = ("service_started", "service_healthy", "service_completed_successfully")
"""The ``depends_on`` conditions: deploy after the dependency is started (ready), healthy,
or has exited with code 0."""
FIELD_KEYS = {"env_vars": "environment", "must_complete": "depends_on", "pull": "pull_policy"}
"""The Compose key a ``DockerResource`` field comes from, where the names differ."""
_GO_DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_EXPOSE = re.compile(r"[0-9]+(?:-[0-9]+)?(?:/(?:tcp|udp|sctp))?")


class _Bad(ValueError):
    """A value of the wrong shape; the caller adds where it is (``line``, when known)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class Service:
    """One service, as the arguments of the ``DockerResource`` it becomes.

    Attributes:
        name: The service's name (the child's name, and how others reach it).
        arguments: The ``DockerResource`` keyword arguments.
        lines: The line of the Compose key each argument comes from.
        depends_on: The services it deploys after, with their conditions.
        line: The line where the service starts.
    """

    name: str
    arguments: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    depends_on: dict[str, str] = field(default_factory=dict)
    line: int = 0


@dataclass
class Project:
    """A Compose file's services, in the file's order.

    Attributes:
        shown: The file, as messages show it.
        services: Every service, by name (each checked, taken or not).
        taken: The services taken (``services=[...]`` and what they depend on), in the
            file's order.
        unset: Variables used without a value or a default (they became empty text).
        files: The files read: the Compose file, the ``.env`` file, services' env files.
    """

    shown: str
    services: dict[str, Service]
    taken: list[str] = field(default_factory=list)
    unset: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def read_project(
    file: Path,
    *,
    project: str,
    project_dir: Path,
    environ: Mapping[str, str],
    env_file: Path | None = None,
    services: Iterable[str] | None = None,
    show: Callable[[Path], str] = str,
) -> Project:
    """Read the Compose file ``file`` into its services.

    Args:
        file: The Compose file (absolute).
        project: The project's name: named volumes and networks are ``<project>-<name>``.
        project_dir: Where relative paths in the file point from.
        environ: The environment ``${VAR}`` reads first.
        env_file: The file of variables for ``${VAR}``; by default the ``.env`` beside
            ``file`` (in ``project_dir``), when there is one.
        services: The services to take (and what they depend on); all by default.
        show: How messages show a path.

    Raises:
        ComposeFileError: The file cannot be read or used; the message says where, what
            and the fix.
    """
    shown = show(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ComposeFileError(f"{shown} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ComposeFileError(f"{shown} cannot be read ({reason})") from None
    variables = Variables(environ=environ)
    read = [file]
    dotenv = env_file if env_file is not None else project_dir / ".env"
    if env_file is not None or dotenv.is_file():
        variables.dotenv = read_env_file(dotenv, show(dotenv), variables)
        read.append(dotenv)
    reader = _Reader(shown, project, project_dir, variables, show)
    found = reader.read(load_yaml(text, shown), services)
    found.files = [*read, *reader.files]
    return found


class _Reader:
    """Reads one file: the top level, then each service."""

    def __init__(
        self,
        shown: str,
        project: str,
        project_dir: Path,
        variables: Variables,
        show: Callable[[Path], str],
    ) -> None:
        self.shown = shown
        self.project = project
        self.project_dir = project_dir
        self.variables = variables
        self.show = show
        self.networks: dict[str, str] = {}
        """Network key in the file → the network name the containers join."""
        self.volumes: dict[str, str] = {}
        """Volume key in the file → the Docker volume's name."""
        self.files: list[Path] = []
        """The services' env files read."""

    def fail(self, line: int, where: str, message: str) -> ComposeFileError:
        place = f"{self.shown}, line {line}" if line else self.shown
        return ComposeFileError(f"{place}: {where}: {message}")

    # -- the top level ---------------------------------------------------------------------

    def read(self, data: Any, wanted: Iterable[str] | None) -> Project:
        if not isinstance(data, Located):
            raise ComposeFileError(
                f"{self.shown} is {'empty' if data is None else 'not a mapping'}: a Compose "
                "file is a mapping with a services: key, e.g. services: {web: {image: nginx}}"
            )
        keys.check_keys(
            data, keys.TOP_LEVEL, where="the top level", line_of=data.lines, shown=self.shown
        )
        found = data.get("services")
        if not isinstance(found, Located) or not found:
            raise self.fail(
                data.line_of("services"),
                "services",
                "the file declares no services: give at least one, e.g. services: {web: "
                "{image: nginx}}",
            )
        self.networks = self._declared(data, "networks", keys.TOP_NETWORK, "bridge")
        self.networks.setdefault("default", f"{self.project}-default")
        self.volumes = self._declared(data, "volumes", keys.TOP_VOLUME, "local")
        read = {}
        for name, raw in found.items():
            if str(name).startswith("x-"):
                continue
            read[str(name)] = self.service(str(name), raw, found.line_of(name))
        if not read:
            raise self.fail(found.line, "services", "the file declares no services")
        self._check_dependencies(read)
        taken = self._taken(read, wanted)
        return Project(
            self.shown,
            read,
            [name for name in read if name in taken],
            self.variables.unset,
        )

    def _declared(
        self, data: Located, section: str, known: tuple[str, ...], driver: str
    ) -> dict[str, str]:
        """The top-level ``networks:`` or ``volumes:``: each key → the name to use."""
        raw = data.get(section)
        if raw is None:
            return {}
        line = data.line_of(section)
        if not isinstance(raw, Located):
            raise self.fail(line, section, f"expected a mapping of names, got {_kind(raw)}")
        names: dict[str, str] = {}
        singular = section[:-1]
        for key, value in raw.items():
            if str(key).startswith("x-"):
                continue
            where = f"{singular} {key!r}"
            at = raw.line_of(key)
            if value is None:
                value = Located()
            if not isinstance(value, Located):
                raise self.fail(at, where, f"expected a mapping (or nothing), got {_kind(value)}")
            keys.check_keys(value, known, where=where, line_of=value.lines, shown=self.shown)
            settings = {
                k: self.resolve(v, value.line_of(k), f"{where}, {k}")
                for k, v in value.items()
                if not str(k).startswith("x-")
            }
            try:
                external = _flag(settings.get("external", False))
                given = settings.get("name")
                if settings.get("driver", driver) != driver:
                    raise _Bad(
                        f"driver {settings['driver']!r} is not supported: clockwork makes "
                        f"{driver} {section} (remove driver:)"
                    )
            except _Bad as exc:
                raise self.fail(at, where, str(exc)) from None
            if given is not None:
                names[str(key)] = _text(given)  # Compose uses the name as it is
            elif external:
                names[str(key)] = str(key)
            else:
                names[str(key)] = f"{self.project}-{key}"
        return names

    def _check_dependencies(self, services: dict[str, Service]) -> None:
        for service in services.values():
            for other, condition in service.depends_on.items():
                where = f"service {service.name!r}"
                line = service.lines.get("depends_on", service.line)
                if other not in services:
                    raise self.fail(
                        line,
                        where,
                        f"depends_on names {other!r}, which is not a service of the file"
                        + _close(other, services),
                    )
                if other == service.name:
                    raise self.fail(line, where, "depends_on names the service itself")
                dependency = services[other]
                if condition == "service_healthy" and not dependency.arguments.get("healthcheck"):
                    raise self.fail(
                        line,
                        where,
                        f"it waits for {other!r} to be healthy (condition: service_healthy), "
                        f"but {other!r} has no healthcheck in the file (clockwork does not "
                        f"read an image's own): give {other!r} a healthcheck:, or use "
                        "condition: service_started",
                    )
                if condition == "service_completed_successfully":
                    dependency.arguments["must_complete"] = True
        cycle = _cycle({name: list(s.depends_on) for name, s in services.items()})
        if cycle:
            first = services[cycle[0]]
            raise self.fail(
                first.lines.get("depends_on", first.line),
                f"service {first.name!r}",
                "depends_on makes a cycle: "
                + " → ".join(cycle)
                + "; remove one of these dependencies",
            )

    def _taken(self, services: dict[str, Service], wanted: Iterable[str] | None) -> set[str]:
        if wanted is None:
            return set(services)
        taken: set[str] = set()
        pending = list(wanted)
        for name in pending:
            if name not in services:
                raise ComposeFileError(
                    f"services=[...] names {name!r}, which is not a service of {self.shown}"
                    + _close(name, services)
                )
        while pending:
            name = pending.pop()
            if name not in taken:
                taken.add(name)
                pending.extend(services[name].depends_on)
        return taken

    # -- values ----------------------------------------------------------------------------

    def resolve(self, raw: Any, line: int, where: str) -> Any:
        """``raw`` with ``${VAR}`` substituted in its texts (``x-`` keys left alone)."""
        try:
            return _substitute(raw, self.variables)
        except InterpolationError as exc:
            raise self.fail(line, where, str(exc)) from None

    def path(self, text: str) -> str:
        """A host path of the file, absolute (relative ones from the project directory)."""
        candidate = Path(text).expanduser() if text.startswith("~") else Path(text)
        if not candidate.is_absolute():
            candidate = self.project_dir / candidate
        return str(Path(_normal(candidate)))

    # -- a service -------------------------------------------------------------------------

    def service(self, name: str, raw: Any, line: int) -> Service:
        where = f"service {name!r}"
        if "." in name:
            raise self.fail(
                line,
                where,
                "a '.' in a service name is not supported (clockwork names a project's "
                "services app.<service>): rename it, e.g. with '-' or '_'",
            )
        if not isinstance(raw, Located):
            raise self.fail(
                line, where, f"expected a mapping of keys (image:, ports:...), got {_kind(raw)}"
            )
        keys.check_keys(raw, keys.SERVICE, where=where, line_of=raw.lines, shown=self.shown)
        service = Service(name=name, arguments={"name": name}, line=line)
        env_files: dict[str, str] = {}
        environment: dict[str, str] = {}
        for key, value in raw.items():
            if str(key).startswith("x-"):
                continue
            at = raw.line_of(key)
            value = self.resolve(value, at, f"{where}, {key}")
            try:
                if key == "env_file":
                    env_files = self._env_files(value)
                elif key == "environment":
                    environment = self._environment(value)
                elif key == "depends_on":
                    service.depends_on = _depends_on(value)
                    service.lines["depends_on"] = at
                elif key == "expose":
                    _expose(value)
                elif value is not None:
                    field_name, argument = self._argument(str(key), value)
                    service.arguments[field_name] = argument
                    service.lines[field_name] = at
            except _Bad as exc:
                raise self.fail(exc.line or at, where, f"{key}: {exc}") from None
        if env_files or environment:
            service.arguments["env_vars"] = {**env_files, **environment}
            service.lines["env_vars"] = raw.line_of("environment" if environment else "env_file")
        if "image" not in service.arguments and "build" not in service.arguments:
            raise self.fail(
                line,
                where,
                "it has neither image: nor build: give it an image to run, or a build: "
                "context to build one from",
            )
        if raw.get("pull_policy") == "build" and "build" not in service.arguments:
            raise self.fail(
                raw.line_of("pull_policy"),
                where,
                "pull_policy: build needs a build: section to build the image from",
            )
        if "networks" not in service.arguments:
            service.arguments["networks"] = [self.networks["default"]]
        return service

    def _argument(self, key: str, value: Any) -> tuple[str, Any]:
        """The ``DockerResource`` field and value a service key becomes."""
        if key in ("image", "working_dir", "user", "mem_limit", "shm_size", "platform"):
            return key, _text(value)
        if key == "cpus":
            return key, value if isinstance(value, int | float) else _text(value)
        if key == "pull_policy":
            return "pull", _pull(value)
        if key == "restart":
            text = _text(value)
            if text.startswith("on-failure:"):
                raise _Bad(f"{text!r}: a retry count is not supported; write on-failure")
            return key, text
        if key in ("init", "privileged"):
            return key, _flag(value)
        if key in ("command", "entrypoint"):
            return key, _text(value) if isinstance(value, str) else _texts(value)
        if key in ("cap_add", "cap_drop"):
            return key, _texts(value)
        if key == "tmpfs":
            return key, [_text(value)] if isinstance(value, str) else _texts(value)
        if key == "ports":
            return key, [_port(item) for item in _list(value)]
        if key == "labels":
            return key, _pairs(value, "labels", self.variables, keep_unset=True)
        if key == "extra_hosts":
            return key, _hosts(value)
        if key == "healthcheck":
            return key, _healthcheck(value)
        if key == "networks":
            return key, self._networks(value)
        if key == "volumes":
            return key, [self._volume(item) for item in _list(value)]
        if key == "build":
            return key, self._build(value)
        raise _Bad("not mapped")  # the key table and this method disagree

    def _environment(self, value: Any) -> dict[str, str]:
        return _pairs(value, "environment", self.variables, keep_unset=False)

    def _env_files(self, value: Any) -> dict[str, str]:
        values: dict[str, str] = {}
        for item in [value] if isinstance(value, str | Located) else _list(value):
            required = True
            if isinstance(item, Located):
                _check(item, keys.ENV_FILE, "an entry")
                required = _flag(item.get("required", True))
                item = item.get("path")
            path = Path(self.path(_text(item)))
            if not path.is_file():
                if not required:
                    continue
                raise _Bad(
                    f"{self.show(path)} does not exist (paths are relative to the project "
                    f"directory, {self.show(self.project_dir)}); create it, or mark it "
                    "required: false"
                )
            try:
                values.update(read_env_file(path, self.show(path), self.variables))
            except ComposeFileError as exc:
                raise _Bad(str(exc)) from None
            self.files.append(path)
        return values

    def _networks(self, value: Any) -> list[str]:
        if isinstance(value, Located):
            for name, settings in value.items():
                if settings is not None and not isinstance(settings, Located):
                    raise _Bad(f"network {name!r}: expected a mapping, got {_kind(settings)}")
                _check(settings or Located(), (), f"network {name!r}")
            names = [str(name) for name in value if not str(name).startswith("x-")]
        else:
            names = _texts(value)
        joined = []
        for name in names:
            if name not in self.networks:
                declared = ", ".join(sorted(self.networks))
                raise _Bad(
                    f"{name!r} is not declared under the top-level networks: (declared: "
                    f"{declared}); declare it there"
                )
            joined.append(self.networks[name])
        return joined

    def _volume(self, item: Any) -> str:
        if isinstance(item, Located):
            _check(item, keys.VOLUME_MOUNT, "a volume mapping")
            kind = _text(item.get("type", "volume"))
            if kind not in ("bind", "volume"):
                raise _Bad(f"type {kind!r} is not supported: use bind or volume (tmpfs: tmpfs:)")
            if item.get("source") is None or item.get("target") is None:
                raise _Bad("a volume needs source: and target: (clockwork has no anonymous ones)")
            source, target = _text(item["source"]), _text(item["target"])
            read_only = _flag(item.get("read_only", False))
            if kind == "bind" and not source.startswith(("/", ".", "~")):
                source = "./" + source
        else:
            text = _text(item)
            parts = text.split(":")
            if len(parts) == 1:
                raise _Bad(
                    f"{text!r} is an anonymous volume, which clockwork does not make: name it "
                    f"(data:{text}) and declare it under the top-level volumes:"
                )
            if len(parts) > 3:
                raise _Bad(f"{text!r}: expected source:target or source:target:ro")
            source, target = parts[0], parts[1]
            options = parts[2].split(",") if len(parts) == 3 else []
            unknown = [option for option in options if option not in ("ro", "rw")]
            if unknown:
                raise _Bad(f"{text!r}: the option {unknown[0]!r} is not supported (ro or rw)")
            read_only = "ro" in options
        if source.startswith(("/", ".", "~")):
            source = self.path(source)
        elif source in self.volumes:
            source = self.volumes[source]
        else:
            declared = ", ".join(sorted(self.volumes)) or "none"
            raise _Bad(
                f"{source!r} is neither a host path (start it with ./ or /) nor a volume "
                f"declared under the top-level volumes: (declared: {declared}); declare it there"
            )
        return f"{source}:{target}" + (":ro" if read_only else "")

    def _build(self, value: Any) -> str | dict[str, Any]:
        if isinstance(value, str):
            return self.path(_context(value))
        if not isinstance(value, Located):
            raise _Bad(
                f"expected a directory or a mapping (context:, dockerfile:...), got {_kind(value)}"
            )
        _check(value, keys.BUILD)
        build: dict[str, Any] = {"context": self.path(_context(_text(value.get("context", "."))))}
        for name in ("dockerfile", "target"):
            if value.get(name) is not None:
                build[name] = _text(value[name])
        if value.get("args") is not None:
            build["args"] = _pairs(value["args"], "args", self.variables, keep_unset=False)
        return build["context"] if len(build) == 1 else build


# -- shapes ------------------------------------------------------------------------------------


def _substitute(value: Any, variables: Variables) -> Any:
    if isinstance(value, str):
        return variables.interpolate(value)
    if isinstance(value, Located):
        done = Located()
        done.line, done.lines = value.line, value.lines
        for key, item in value.items():
            done[key] = item if str(key).startswith("x-") else _substitute(item, variables)
        return done
    if isinstance(value, list):
        return [_substitute(item, variables) for item in value]
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _check(mapping: Located, known: tuple[str, ...], where: str = "") -> None:
    """Refuse unknown keys in a mapping inside a service's key (``where``: what it is)."""
    try:
        keys.check_keys(mapping, known, where=where, shown="")
    except ComposeFileError as exc:
        bad = next(key for key in mapping if key not in known and not str(key).startswith("x-"))
        raise _Bad(str(exc).removeprefix(": "), mapping.line_of(bad)) from None


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise _Bad(f"expected text, got {_kind(value)}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(f"expected a list, got {_kind(value)}")
    return value


def _texts(value: Any) -> list[str]:
    return [_text(item) for item in _list(value)]


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _Bad(f"expected true or false, got {_kind(value)}")


def _number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _Bad(f"expected a whole number, got {_kind(value)}")


def _duration(value: Any, name: str) -> float:
    text = _text(value).strip() if not isinstance(value, int | float) else ""
    position, seconds = 0, 0.0
    for match in _GO_DURATION.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise _Bad(f"{name}: {value!r} is not a duration: write e.g. '10s', '500ms' or '1m30s'")
    return seconds


def _context(text: str) -> str:
    if "://" in text or text.startswith("git@"):
        raise _Bad(f"context {text!r}: a remote build context is not supported; use a directory")
    return text


def _port(item: Any) -> str:
    if isinstance(item, int) and not isinstance(item, bool):
        return str(item)
    if isinstance(item, str):
        return item
    if not isinstance(item, Located):
        raise _Bad(f'expected a port like "8080:80" or a mapping, got {_kind(item)}')
    _check(item, keys.PORT, "a port mapping")
    if item.get("target") is None:
        raise _Bad("a port mapping needs target: (the container's port)")
    text = _text(item["target"])
    published = item.get("published")
    host_ip = item.get("host_ip")
    if published not in (None, "") or host_ip:
        text = f"{_text(published) if published not in (None, '') else ''}:{text}"
    if host_ip:
        text = f"{_text(host_ip)}:{text}"
    protocol = item.get("protocol")
    return f"{text}/{_text(protocol)}" if protocol else text


def _pull(value: Any) -> str:
    """Compose's ``pull_policy`` as a DockerResource's ``pull``."""
    policy = _text(value)
    pulls = {"always": "always", "never": "never", "missing": "missing"}
    pulls.update({"if_not_present": "missing", "build": "missing"})
    if policy not in pulls:
        raise _Bad(
            f"{policy!r} is not supported: use always, never, missing (if_not_present) or build"
        )
    return pulls[policy]


def _expose(value: Any) -> None:
    for item in _list(value):
        text = _text(item)
        if not _EXPOSE.fullmatch(text):
            raise _Bad(f'{text!r} is not a port (e.g. "80" or "53/udp")')


def _pairs(value: Any, what: str, variables: Variables, *, keep_unset: bool) -> dict[str, str]:
    """``environment``, ``labels`` or build ``args``: a mapping, or a list of
    ``NAME=value`` (a bare ``NAME`` takes its value from the environment, or is left out
    when it has none)."""
    pairs: dict[str, Any] = {}
    if isinstance(value, Located):
        pairs = {str(name): item for name, item in value.items()}
    elif isinstance(value, list):
        for item in value:
            name, equals, text = _text(item).partition("=")
            pairs[name] = text if equals else None
    else:
        raise _Bad(f"expected a mapping or a list of NAME=value, got {_kind(value)}")
    result = {}
    for name, item in pairs.items():
        if item is None:
            found = variables.get(name)
            if found is None and not keep_unset:
                continue
            item = found or ""
        if isinstance(item, bool):
            item = "true" if item else "false"
        try:
            result[name] = _text(item)
        except _Bad:
            raise _Bad(f"{name}: expected text, got {_kind(item)}") from None
    return result


def _hosts(value: Any) -> dict[str, str]:
    if isinstance(value, Located):
        return {str(host): _text(address) for host, address in value.items()}
    hosts = {}
    for item in _list(value):
        text = _text(item)
        host, sep, address = text.partition("=") if "=" in text else text.partition(":")
        if not sep or not host or not address:
            raise _Bad(f"{text!r}: expected host:address or host=address")
        hosts[host] = address
    return hosts


def _healthcheck(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Located):
        raise _Bad(f"expected a mapping (test:, interval:...), got {_kind(value)}")
    _check(value, keys.HEALTHCHECK)
    if _flag(value.get("disable", False)):
        return None
    test = value.get("test")
    if test is None:
        raise _Bad(
            "it has no test: clockwork cannot change only the timing of the image's own "
            "healthcheck; give test: too"
        )
    if isinstance(test, list):
        test = _texts(test)
        if test[:1] == ["NONE"]:
            return None
    else:
        test = _text(test)
    check: dict[str, Any] = {"test": test}
    for name in ("interval", "timeout", "start_period"):
        if value.get(name) is not None:
            check[name] = _duration(value[name], name)
    if value.get("retries") is not None:
        check["retries"] = _number(value["retries"])
    return check


def _depends_on(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        return {name: "service_started" for name in _texts(value)}
    if not isinstance(value, Located):
        raise _Bad(f"expected a list of services or a mapping, got {_kind(value)}")
    found = {}
    for name, settings in value.items():
        settings = settings if settings is not None else Located()
        if not isinstance(settings, Located):
            raise _Bad(f"{name}: expected a mapping (condition: ...), got {_kind(settings)}")
        _check(settings, keys.DEPENDENCY, f"the dependency on {name!r}")
        condition = _text(settings.get("condition", "service_started"))
        if condition not in CONDITIONS:
            raise _Bad(
                f"{name}: condition {condition!r} is not one of {', '.join(CONDITIONS)}"
                + _close(condition, CONDITIONS)
            )
        if not _flag(settings.get("required", True)):
            raise _Bad(f"{name}: required: false is not supported; take the dependency out")
        found[str(name)] = condition
    return found


def _cycle(graph: Mapping[str, list[str]]) -> list[str]:
    """The first cycle in ``graph`` (its first node repeated at the end), or ``[]``."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for other in graph.get(node, []):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other]
            if other not in state and other in graph:
                found = visit(other)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def _close(name: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f": did you mean {close[0]!r}?"
    return f" (there are: {', '.join(choices)})"


def _normal(path: Path) -> str:
    import os.path

    return os.path.normpath(path)
