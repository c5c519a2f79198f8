"""Finding resources in conftest files and registering them as fixtures (of each
resource's scope: the session's unless it says otherwise).

A conftest's module-level resources become fixtures visible exactly where that
conftest's own fixtures are: registered on its directory's node once pytest has
collected that directory (or on the session for the rootdir conftest and those above
it), which is when pytest parses conftest fixtures too.

Nothing here imports pydantic: a conftest can only hold resources if it imported
``pytest_clockwork``'s resource models, so when those are not loaded there is nothing
to look for.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource

RESOURCE_MODULE = "pytest_clockwork.resources.base"

Provider = Callable[["Resource", str, Any], "Resource"]
"""Gives a fixture its value: the resource, the fixture's name, and for a resource of a
narrower scope the node of its scope (``None`` for the session)."""


BUILT_IN_FIXTURES = frozenset(
    {
        "cache",
        "capfd",
        "capfdbinary",
        "caplog",
        "capsys",
        "capsysbinary",
        "capteesys",
        "doctest_namespace",
        "monkeypatch",
        "pytestconfig",
        "pytester",
        "record_property",
        "record_testsuite_property",
        "record_xml_attribute",
        "recwarn",
        "request",
        "subtests",
        "testdir",
        "tmp_path",
        "tmp_path_factory",
        "tmpdir",
        "tmpdir_factory",
        "worker_id",
        "testrun_uid",
    }
)
"""Fixtures pytest (and pytest-xdist) define: a resource of one of these names is never seen."""


def _a_class_for_an_instance(name: str, value: object, base: type) -> bool:
    """``web = DockerResource``: a lowercase name bound to a resource class (an import or
    an alias keeps the class's capitalised name)."""
    return isinstance(value, type) and issubclass(value, base) and name[:1].islower()


def _shown(path: Path, rootdir: Path) -> str:
    return path.relative_to(rootdir).as_posix() if path.is_relative_to(rootdir) else str(path)


def misplaced(module: object, path: Path, rootdir: Path) -> dict[str, str]:
    """What to say of each resource bound in a test module, where it becomes no fixture."""
    base = sys.modules.get(RESOURCE_MODULE)
    if base is None:
        return {}
    where = _shown(path, rootdir)
    conftest = _shown(path.parent / "conftest.py", rootdir)
    return {
        name: f"{where}: resource {name!r} is declared in a test module, where clockwork does "
        f"not look: move it to a conftest.py (e.g. {conftest}) to use it as a fixture"
        for name, value in vars(module).items()
        if isinstance(value, base.Resource) and not name.startswith("_")
    }


def key_prefix(directory: Path, rootdir: Path) -> str:
    """What the keys of a conftest's resources start with: ``""`` at (or above) the
    rootdir, else the conftest's directory relative to it and a ``/`` (``tests/api/``)."""
    if directory == rootdir or not directory.is_relative_to(rootdir):
        return ""
    return directory.relative_to(rootdir).as_posix() + "/"


class Declarations:
    """The resources declared in conftest files, and where each is visible.

    Args:
        provide: Called by a resource fixture with the resource, the fixture name and
            (for a narrower scope) its scope's node; returns the fixture value.
        rootdir: pytest's rootdir (the keys of deeper conftests' resources say where).
    """

    def __init__(self, provide: Provider, rootdir: Path) -> None:
        self._provide = provide
        self.rootdir = rootdir
        self._pending: dict[Path, dict[str, Resource]] = {}
        self.by_directory: dict[Path, dict[str, Resource]] = {}
        """Every conftest directory that declares resources, with its bindings."""
        self._visible: dict[str, list[tuple[pytest.Collector, Resource]]] = {}
        self._problems: dict[Path, list[str]] = {}
        self._notices: dict[Path, list[str]] = {}

    def __bool__(self) -> bool:
        return bool(self.by_directory)

    @property
    def resources(self) -> list[Resource]:
        """Every declared resource (each once)."""
        seen: dict[int, Resource] = {}
        for bindings in self.by_directory.values():
            for resource in bindings.values():
                seen.setdefault(id(resource), resource)
        return list(seen.values())

    def scan(self, module: object, directory: Path) -> dict[str, Resource]:
        """Find the module-level resources of a conftest module.

        A resource bound to the name of one of pytest's own fixtures, a resource class
        bound where an instance was meant, or a resource that cannot load what it refers
        to (a Compose file with an error) is a problem reported when the conftest's
        directory is collected (:meth:`register_above`, :meth:`problems`); what loading
        warns about is reported then too (:meth:`notices`).
        """
        base = sys.modules.get(RESOURCE_MODULE)
        if base is None:
            return {}
        from pytest_clockwork.graph import bind

        found = {
            name: value
            for name, value in vars(module).items()
            if isinstance(value, base.Resource) and not name.startswith("_")
        }
        where = _shown(directory / "conftest.py", self.rootdir)
        for name, value in vars(module).items():
            if name in BUILT_IN_FIXTURES and name in found:
                self._problems.setdefault(directory, []).append(
                    f"{where}: resource {name!r} has the name of pytest's own fixture "
                    f"{name!r}, so tests could never get it: bind it to another name"
                )
                del found[name]
            elif _a_class_for_an_instance(name, value, base.Resource):
                self._problems.setdefault(directory, []).append(
                    f"{where}: {name!r} is bound to the class {value.__name__}, not to a "
                    f"resource: write {name} = {value.__name__}(...)"
                )
        bound = bind(found, key_prefix(directory, self.rootdir))
        failed: dict[int, str | None] = {}
        for name, value in list(bound.items()):
            if id(value) not in failed:
                failed[id(value)] = problem = self._load(value, directory)
                if problem is not None:
                    self._problems.setdefault(directory, []).append(f"{where}: {problem}")
            if failed[id(value)] is not None:
                del bound[name], found[name]
        from pytest_clockwork.scopes import connections_out_of_scope

        for problem in dict.fromkeys(connections_out_of_scope(bound.values())):
            self._problems.setdefault(directory, []).append(f"{where}: {problem}")
        if bound:
            self._pending[directory] = bound
            self.by_directory[directory] = bound
        return found

    def register_above(self, session: pytest.Session) -> None:
        """Register the rootdir conftest's resources (and those above it) on the session.

        Raises:
            pytest.UsageError: Such a conftest has a declaration problem.
        """
        rootpath = session.config.rootpath
        for directory in list(self._pending) + list(self._problems):
            if directory == rootpath or not directory.is_relative_to(rootpath):
                problems = self.problems(directory)
                if problems:
                    raise pytest.UsageError("clockwork: " + "\n".join(problems))
                if directory in self._pending:
                    self._register(session, directory)

    def register_directory(self, collector: pytest.Directory) -> None:
        """Register the resources of the conftest in ``collector``'s directory."""
        if collector.path in self._pending:
            self._register(collector, collector.path)

    def problems(self, directory: Path) -> list[str]:
        """The declaration problems of the conftest in ``directory`` (reported once)."""
        return self._problems.pop(directory, [])

    def notices(self, directory: Path) -> list[str]:
        """What loading the conftest's resources in ``directory`` warned about (once)."""
        return self._notices.pop(directory, [])

    def _load(self, resource: Resource, directory: Path) -> str | None:
        """Load what ``resource`` refers to; return why it cannot be, or ``None``."""
        import warnings

        from pytest_clockwork.errors import DeclarationError
        from pytest_clockwork.graph import load_all

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                load_all([resource], self.rootdir)
            except DeclarationError as exc:
                return str(exc)
        self._notices.setdefault(directory, []).extend(str(item.message) for item in caught)
        return None

    def _register(self, node: pytest.Collector, directory: Path) -> None:
        from pytest_clockwork.scopes import scope_of

        for name, resource in self._pending.pop(directory).items():
            scope = scope_of(resource)
            func = (
                self._fixture(name, resource) if scope == "session" else self._copy(name, resource)
            )
            pytest.register_fixture(name=name, func=func, node=node, scope=scope)
            self._visible.setdefault(name, []).append((node, resource))

    def _copy(self, name: str, resource: Resource) -> Callable[..., Any]:
        """The fixture of a resource of a narrower scope: the copy of its scope's node."""
        provide = self._provide

        def fixture(request: pytest.FixtureRequest) -> Resource:
            return provide(resource, name, request.node)

        return self._named(fixture, name, resource)

    def _fixture(self, name: str, resource: Resource) -> Callable[[], Any]:
        provide = self._provide

        def fixture() -> Resource:
            return provide(resource, name, None)

        return self._named(fixture, name, resource)

    @staticmethod
    def _named(fixture: Callable[..., Any], name: str, resource: Resource) -> Callable[..., Any]:

        fixture.__name__ = name
        fixture.__qualname__ = name
        from pytest_clockwork.scopes import scope_of

        scope = "" if scope_of(resource) == "session" else f", scope {scope_of(resource)}"
        fixture.__doc__ = f"clockwork resource {name!r} ({type(resource).__name__}{scope})"
        return fixture

    def resolve(self, item: pytest.Item, name: str) -> Resource | None:
        """The resource that fixture ``name`` gives ``item`` (the nearest conftest's)."""
        candidates = self._visible.get(name)
        if not candidates:
            return None
        chain = item.listchain()
        best: tuple[int, Resource] | None = None
        for node, resource in candidates:
            if node in chain:
                depth = chain.index(node)
                if best is None or depth > best[0]:
                    best = (depth, resource)
        return best[1] if best else None

    def used_by(self, item: pytest.Item) -> list[tuple[str, Resource]]:
        """The resource fixtures ``item`` uses, directly or through other fixtures."""
        names: Iterable[str] = getattr(item, "fixturenames", ())
        used = []
        for name in names:
            resource = self.resolve(item, name)
            if resource is not None:
                used.append((name, resource))
        return used
