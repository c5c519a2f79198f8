"""The declarations, loaded exactly as the plugin loads them: by pytest's own collection.

:func:`load` runs ``pytest --collect-only`` in this process with a small plugin that
takes the run's :class:`~pytest_clockwork.session.ClockworkSession` from
``config.stash`` once collection is done. Conftest discovery, bindings, completion from
``clockwork.lock`` and the specs are therefore the plugin's own. Nothing is deployed:
the run neither applies nor destroys.

A test module that cannot be imported does not matter (only conftests declare); a
conftest that cannot be imported makes the declarations unavailable, and the caller
falls back to the recorded state.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import sys
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_clockwork.errors import ClockworkError

if TYPE_CHECKING:
    from pytest_clockwork.deployment import Deployment
    from pytest_clockwork.resources.base import Resource
    from pytest_clockwork.specs import Spec

_OUTPUT_TAIL = 25
logger = logging.getLogger("pytest_clockwork.reconcile")
_KEPT_MODULES = ("pytest_clockwork", "_pytest", "pytest", "pluggy")


class DeclarationsUnavailable(ClockworkError):
    """The conftest declarations could not be loaded (the message has pytest's output)."""


@dataclass
class Declared:
    """The declarations of a rootdir, completed like the plugin completes them.

    Attributes:
        rootdir: pytest's rootdir.
        deployment: The collection run's deployment (``None``: nothing is declared).
        files: The files they were loaded from, with their modification times.
        skipped: Test modules that could not be collected (they declare nothing).
    """

    rootdir: Path
    deployment: Deployment | None
    files: dict[Path, float | None] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def keys(self) -> set[str]:
        """Every declared key (children included)."""
        return set(self.deployment.graph.nodes) if self.deployment is not None else set()

    def resource(self, key: str) -> Resource | None:
        """The completed declaration of ``key`` (``None`` when it is not declared).

        Raises:
            ClockworkError: It cannot be completed (``clockwork.lock`` has no entry).
        """
        if self.deployment is None or key not in self.deployment.graph.nodes:
            return None
        return self.deployment.complete([key])[key]

    def spec(self, key: str) -> Spec:
        """The spec that ``key``'s declaration deploys."""
        assert self.deployment is not None
        return self.deployment.spec_of(key)

    def links(self, key: str) -> tuple[str, ...]:
        """The containers ``key`` is connected with (they share a network)."""
        from pytest_clockwork.resources.container import ContainerResource

        if self.deployment is None:
            return ()
        nodes = self.deployment.graph.nodes
        resource = nodes[key]
        if not isinstance(resource, ContainerResource):
            return ()
        linked = {other.key for other in resource.connections}
        linked |= {
            name for name, node in nodes.items() if any(c is resource for c in node.connections)
        }
        return tuple(sorted(k for k in linked if isinstance(nodes.get(k), ContainerResource)))

    def stale(self) -> bool:
        """Whether a file they came from changed (or went) since they were loaded."""
        return any(_mtime(path) != seen for path, seen in self.files.items())


def load(rootdir: Path, stack: str, pytest_args: Sequence[str] = ()) -> Declared:
    """Collect (``pytest --collect-only``) in ``rootdir`` and take the declarations.

    Args:
        rootdir: pytest's rootdir, where the conftests and the state are.
        stack: The stack (``--clockwork-stack``).
        pytest_args: More pytest arguments (paths, ``-c``, ``-p``...).

    Raises:
        DeclarationsUnavailable: pytest could not load the conftests; the message
            ends with its output.
    """
    from pytest_clockwork.plugin import SESSION_KEY

    rootdir = rootdir.resolve()
    args = [
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--capture=sys",
        "--rootdir",
        str(rootdir),
        "--clockwork-stack",
        stack,
    ]
    if importlib.util.find_spec("xdist") and not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        args += ["-n", "0"]  # an addopts "-n 4" would collect in workers we cannot see
    collector = _Collector(SESSION_KEY)
    output = io.StringIO()
    modules, path = dict(sys.modules), list(sys.path)
    try:
        with (
            contextlib.chdir(rootdir),  # testpaths apply, as when pytest runs there
            contextlib.redirect_stdout(output),
            contextlib.redirect_stderr(output),
        ):
            code = pytest.main([*args, *pytest_args], plugins=[collector])
    finally:
        files = _forget_modules(modules, rootdir)
        sys.path[:] = path
    problem = collector.problem(code)
    if problem and "while loading conftest" in output.getvalue():
        problem = "a conftest could not be imported"
    if problem:
        tail = "\n".join(output.getvalue().strip().splitlines()[-_OUTPUT_TAIL:])
        raise DeclarationsUnavailable(
            f"cannot load the declarations under {rootdir}: {problem}. Fix that (run "
            f"`pytest --collect-only` there to see it), or pass pytest arguments after `--`."
            + (f"\n--- pytest's output ---\n{tail}" if tail else "")
        )
    for extra in (rootdir / "clockwork.lock", collector.inipath):
        if extra is not None:
            files[extra] = _mtime(extra)
    if collector.deployment is not None:  # files declarations were read from (Compose)
        for resource in collector.deployment.catalog.roots.values():
            for node in resource.walk():
                files.update((path, _mtime(path)) for path in node.sources())
    return Declared(rootdir, collector.deployment, files, collector.skipped)


class _Collector:
    """The plugin handed to the collection run: takes its clockwork session at the end."""

    def __init__(self, key: pytest.StashKey[Any]) -> None:
        self.key = key
        self.deployment: Deployment | None = None
        self.found = False
        self.error: str | None = None
        self.broken: list[str] = []
        self.skipped: list[str] = []
        self.inipath: Path | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        """Tell a directory that failed (its conftest) from a test module that failed."""
        report = yield
        if report.failed:
            where = report.nodeid or str(collector.path)
            if isinstance(collector, pytest.Directory):
                first = str(report.longrepr).strip().splitlines()[-1:] or [""]
                self.broken.append(f"{where}: {first[0]}")
            else:
                self.skipped.append(where)
        return report

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Take the declarations from the run's clockwork session."""
        self.inipath = session.config.inipath
        clockwork = session.config.stash.get(self.key, None)
        if clockwork is None:
            return
        self.found = True
        if not clockwork.declarations:
            return
        try:
            self.deployment = clockwork.deployment
        except ClockworkError as exc:
            self.error = str(exc)

    def problem(self, code: int | pytest.ExitCode) -> str | None:
        """Why the declarations are unusable, or ``None``."""
        if self.error:
            return self.error
        if self.broken:
            return "a conftest could not be loaded: " + "; ".join(self.broken)
        usable = (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
            pytest.ExitCode.INTERRUPTED,
        )
        if not self.found or code not in usable:
            return f"pytest stopped with exit code {int(code)}"
        return None


def _forget_modules(before: dict[str, Any], rootdir: Path) -> dict[Path, float | None]:
    """Undo the imports of the project's modules (conftests, test modules, helpers) that
    the collection made, so that the next load reads them again; return their files."""
    files: dict[Path, float | None] = {}
    outside = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    for name, module in list(sys.modules.items()):
        if before.get(name) is module or name.split(".")[0] in _KEPT_MODULES:
            continue
        location = getattr(module, "__file__", None)
        if not location:
            continue
        path = Path(location).resolve()
        if path.is_relative_to(rootdir) and not any(path.is_relative_to(p) for p in outside):
            files[path] = _mtime(path)
            if name in before:
                sys.modules[name] = before[name]
            else:
                del sys.modules[name]
    return files


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


Loader = Callable[[Path, str, Sequence[str]], Declared]


class DeclarationSource:
    """The current declarations: loaded once, again when a file they came from changes.

    Args:
        rootdir: pytest's rootdir.
        stack: The stack.
        pytest_args: More pytest arguments for the collection.
        loader: What loads them (:func:`load`; replaced in tests).

    Attributes:
        error: Why the last load failed, or ``None``.
    """

    def __init__(
        self,
        rootdir: Path,
        stack: str,
        pytest_args: Sequence[str] = (),
        *,
        loader: Loader = load,
    ) -> None:
        self.rootdir = rootdir
        self.stack = stack
        self.pytest_args = tuple(pytest_args)
        self.loader = loader
        self.declared: Declared | None = None
        self.error: str | None = None

    def current(self) -> Declared | None:
        """The declarations, reloaded when stale; ``None`` while they cannot be loaded."""
        if self.declared is not None and not self.declared.stale():
            return self.declared
        again = self.declared is not None
        try:
            self.declared = self.loader(self.rootdir, self.stack, self.pytest_args)
        except ClockworkError as exc:
            self.declared = None
            if str(exc) != self.error:
                logger.warning("%s\nuntil this is fixed, only the recorded state is checked", exc)
            self.error = str(exc)
            return None
        self.error = None
        count = len(self.declared.keys)
        logger.info(
            "%s the declarations: %d resource%s",
            "reloaded" if again else "loaded",
            count,
            "" if count == 1 else "s",
        )
        return self.declared
