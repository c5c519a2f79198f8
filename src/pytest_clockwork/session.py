"""The per-run plugin object: thin hooks that hand the work to :class:`Deployment`.

It imports only the standard library and pytest at load. The deployment (pydantic,
the engines, Docker) is created on first need, so a suite that declares no resources
pays for nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Generator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import pytest

from pytest_clockwork.collection import Declarations
from pytest_clockwork.distribution import Topology, new_run_id
from pytest_clockwork.terminal import Outlet

if TYPE_CHECKING:
    from pytest_clockwork.deployment import Deployment
    from pytest_clockwork.options import Options
    from pytest_clockwork.resources.base import Resource
    from pytest_clockwork.state import ResourceRecord
    from pytest_clockwork.teardown import Outcome

LOG_TAIL = 50


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; handled like Ctrl-C so that teardown runs."""


class ClockworkSession:
    """Hooks for one pytest run (one ``Config``).

    Args:
        config: The pytest config.
        options: Its clockwork options, resolved and checked.
    """

    def __init__(self, config: pytest.Config, options: Options) -> None:
        self.config = config
        self.options = options
        self.declarations = Declarations(self._provide, config.rootpath)
        self.misplaced: dict[Path, dict[str, str]] = {}
        """Resources declared in test modules, by module and name: what to say about them."""
        self._deployment: Deployment | None = None
        self._previous_sigterm: Any = None
        self.kept: list[ResourceRecord] = []
        self.outcome: Outcome | None = None
        self.destroyed_stack: Outcome | None = None
        self.error: str | None = None
        self.run_id = new_run_id()
        self.shared_records: list[ResourceRecord] = []
        self._topology: Topology | None = None
        self._needs: dict[str, set[str]] = {}
        """The keys of the resources the tests under a node use, by the node's id."""
        self.outlet = Outlet(self._write_now)
        """Where clockwork's lines to the terminal go, from any thread."""

    # -- lazily built state ------------------------------------------------------------

    @property
    def topology(self) -> Topology:
        """This process's part in an xdist run (or ``single``)."""
        if self._topology is None:
            self._topology = Topology.of(self.config, self.run_id, self.options.share)
        return self._topology

    @property
    def active(self) -> bool:
        """Whether clockwork has anything to do in this run."""
        acting = self.config.getoption("clockwork_destroy", False) or self.config.getoption(
            "clockwork_plan", False
        )
        if self.declarations or acting:
            return True
        # An xdist controller may never see the conftests that declare resources.
        return (
            Topology.of(self.config, self.run_id, "run").role == "controller" and self.options.apply
        )

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Give each xdist worker the run's id and the controller's pid."""
        node.workerinput["clockwork_run"] = self.run_id
        node.workerinput["clockwork_owner"] = os.getpid()

    @property
    def deployment(self) -> Deployment:
        """The session's deployment, created on first use."""
        if self._deployment is None:
            from pytest_clockwork.deployment import Deployment
            from pytest_clockwork.engines.base import SessionInfo
            from pytest_clockwork.state import root_id

            rootdir = self.config.rootpath
            topology = self.topology
            session = SessionInfo(
                id=topology.session_id,
                stack=self.options.stack,
                rootdir=rootdir,
                root_id=root_id(rootdir),
            )
            verbose = self.config.get_verbosity() > 0
            self._deployment = Deployment(
                rootdir=rootdir,
                options=self.options,
                session=session,
                owner_pid=topology.owner_pid,
                shared=topology.shared,
                worker=topology.worker,
                progress=self.outlet.line if verbose else None,
                status=self.outlet.line,
            )
            for resource in self.declarations.resources:
                self._deployment.declare(resource)
        return self._deployment

    @property
    def started(self) -> Deployment | None:
        """The deployment, when this run has made one (``None``: it had nothing to do)."""
        return self._deployment

    def _write_now(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(line)

    def _provide(self, resource: Resource, name: str, node: Any = None) -> Resource:
        self.deployment.declare(resource)
        if node is None:
            return self._provide_key(resource.key)
        from pytest_clockwork.errors import ClockworkError

        try:
            with self.outlet.waiting():
                return self.deployment.copies.provide(resource.key, node, self.needs)
        except ClockworkError as exc:
            message = str(exc)
        pytest.fail(message, pytrace=False)

    def needs(self, node: Any) -> set[str]:
        """The keys of the resources the tests under ``node`` (a test, class, module,
        package) use: a copy of that scope deploys those of its scope together."""
        if isinstance(node, pytest.Item):
            return {resource.key for _, resource in self.declarations.used_by(node)}
        if not self._needs:  # once: each item's resources, under every node above it
            for item in node.session.items:
                keys = {resource.key for _, resource in self.declarations.used_by(item)}
                for above in item.listchain()[:-1]:
                    self._needs.setdefault(above.nodeid, set()).update(keys)
        return self._needs.get(node.nodeid, set())

    # -- discovery ---------------------------------------------------------------------

    def pytest_plugin_registered(self, plugin: object, plugin_name: str) -> None:
        """Look for resources in each conftest as pytest loads it."""
        if plugin_name and plugin_name.endswith("conftest.py"):
            found = self.declarations.scan(plugin, Path(plugin_name).parent)
            if found and self._deployment is not None:
                for resource in found.values():
                    self._deployment.declare(resource)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Register the rootdir conftest's resources; install the SIGTERM handler."""
        self.declarations.register_above(session)
        if self.active:
            from pytest_clockwork.errors import ClockworkError

            try:
                deployment = self.deployment  # fails at once when the engine is unavailable
                topology = self.topology
                if self.options.apply and topology.role == "controller" and topology.share == "run":
                    deployment.lifecycle.start()  # workers deploy; this one owns and watches
            except ClockworkError as exc:
                raise pytest.UsageError(str(exc)) from None
        if self.active and threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        """Register a directory's conftest resources once pytest has collected it."""
        report = yield
        if isinstance(collector, pytest.Directory):
            problems = self.declarations.problems(collector.path)
            if problems and report.passed:
                report.outcome = "failed"
                report.longrepr = "clockwork: " + "\n".join(problems)
            for message in self.declarations.notices(collector.path):
                collector.warn(pytest.PytestCollectionWarning(message))
            self.declarations.register_directory(collector)
        elif isinstance(collector, pytest.Module) and report.passed:
            from pytest_clockwork.collection import misplaced

            found = misplaced(collector.obj, collector.path, self.config.rootpath)
            for message in found.values():
                collector.warn(pytest.PytestCollectionWarning(message))
            if found:
                self.misplaced[collector.path] = found
        return report

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        """A conftest.py with resources yields their assertions as test items."""
        if file_path.name != "conftest.py":
            return None
        bindings = self.declarations.by_directory.get(file_path.parent)
        if not bindings or not _has_assertions(bindings):
            return None
        from pytest_clockwork.items import ConftestAssertions

        collector = ConftestAssertions.from_parent(parent, path=file_path)
        collector.bindings = bindings
        collector.provide = self._provide_key
        return collector

    def _provide_key(self, key: str) -> Resource:
        from pytest_clockwork.errors import ClockworkError

        try:
            with self.outlet.waiting():
                return self.deployment.provide(key)
        except ClockworkError as exc:
            message = str(exc)
        pytest.fail(message, pytrace=False)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Note which resources the selected items need, and (with ``--clockwork-apply``)
        start deploying them while the first tests run."""
        if self.declarations or self.misplaced:
            self.config.pluginmanager.register(FailureDetails(self), FAILURE_DETAILS)
        if not self.declarations:
            return
        self.config.pluginmanager.register(BeforeEachTest(self), BEFORE_EACH_TEST)
        self.config.pluginmanager.register(LinesBetweenTests(self.outlet), LINES_BETWEEN_TESTS)
        needed = {
            resource.key
            for item in session.items
            for _, resource in self.declarations.used_by(item)
        }
        self.deployment.needed = needed
        if self.options.apply:
            from pytest_clockwork.errors import ClockworkError

            try:
                with self.outlet.waiting():
                    self.deployment.lifecycle.reap_dead()
            except ClockworkError as exc:  # the tests that need resources say it again
                self.error = str(exc)
            deploys = self.topology.role != "controller" and not self.config.option.collectonly
            if deploys:
                self.deployment.start_in_background()

    # -- actions -----------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool | None:
        """``--clockwork-destroy`` needs no collection: destroy from the state."""
        if not self.config.getoption("clockwork_destroy", False):
            return None
        from pytest_clockwork.errors import ClockworkError

        try:
            with self.outlet.waiting():
                if self.config.getoption("clockwork_expired", False):
                    self.destroyed_stack = self.deployment.lifecycle.destroy_expired()
                else:
                    self.destroyed_stack = self.deployment.lifecycle.destroy_stack()
        except ClockworkError as exc:
            self.error = str(exc)
        session.items = []
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """``--clockwork-plan`` and ``--clockwork-destroy`` run no tests."""
        if self.config.getoption("clockwork_destroy", False):
            return True
        if self.config.getoption("clockwork_plan", False):
            from pytest_clockwork.reporting import plan_lines

            for line in (
                plan_lines(self.deployment)
                if self.declarations
                else ["clockwork: nothing declared"]
            ):
                self.outlet.line(line)
            return True
        return None

    # -- reporting ---------------------------------------------------------------------

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        """One line: the engine (and why), the stack, how many resources are declared."""
        if not self.active:
            return []
        from pytest_clockwork.errors import EngineUnavailableError
        from pytest_clockwork.reporting import header_line

        try:
            return [header_line(self)]
        except EngineUnavailableError as exc:
            return [f"clockwork: engine unavailable: {exc}"]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """A section listing what was deployed, kept and destroyed."""
        self.outlet.flush()
        if self._deployment is None and self.error is None:
            return
        from pytest_clockwork.reporting import summary_lines

        lines = summary_lines(self)
        if lines:
            terminalreporter.write_sep("-", "clockwork")
            for line in lines:
                terminalreporter.write_line(line)

    # -- teardown ----------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Destroy what this session deployed (or keep it), whatever the outcome."""
        if self._deployment is not None and self.options.apply:
            failed = exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
            failed = failed or bool(session.testsfailed)
            with _signals_ignored(), self.outlet.waiting():
                self._finish(failed=failed)
            if self.outcome is not None and self.outcome.failures:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        acted = self.config.getoption("clockwork_destroy", False) or self.config.getoption(
            "clockwork_plan", False
        )
        if acted and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
            session.exitstatus = pytest.ExitCode.OK
        if self.error or (self.destroyed_stack and self.destroyed_stack.failures):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _finish(self, *, failed: bool) -> None:
        from pytest_clockwork.errors import ClockworkError

        deployment = self.deployment
        topology = self.topology
        deployment.stop()  # what is still deploying stops, and is recorded, first
        problems = deployment.copies.finish()  # copies being removed are gone, next
        if problems:
            self.error = "; ".join(problems)
        try:
            if topology.role == "controller":
                self.shared_records = deployment.lifecycle.run_records(self.run_id)
            if topology.tears_down:
                self.kept, self.outcome = deployment.lifecycle.teardown(failed=failed)
            elif topology.role == "controller":  # --clockwork-share=worker: crashed workers'
                self.outcome = deployment.lifecycle.reap_run(self.run_id)
        except ClockworkError as exc:
            self.error = str(exc)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Restore the SIGTERM handler."""
        for name in (FAILURE_DETAILS, BEFORE_EACH_TEST, LINES_BETWEEN_TESTS):
            plugin = config.pluginmanager.get_plugin(name)
            if plugin is not None:
                config.pluginmanager.unregister(plugin)
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None


class FailureDetails:
    """Adds clockwork's part to a failed test's report: the log tail of the containers it
    used, and where a resource declared in its own module belongs.

    Registered only when the run declares resources (or misplaces some), so a suite
    without any pays nothing per test.

    Args:
        session: The run's clockwork session.
    """

    def __init__(self, session: ClockworkSession) -> None:
        self.session = session

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Attach the log tail of the containers a failed test used; point a test that
        asks for a resource declared in its own module at the conftest it belongs in."""
        report = yield
        if not report.failed:
            return report
        session = self.session
        misplaced = session.misplaced.get(item.path, {})
        if call.when == "setup" and misplaced:
            for name in getattr(item, "fixturenames", ()):
                if name in misplaced and f"fixture '{name}' not found" in str(report.longrepr):
                    report.sections.append(("clockwork", misplaced[name]))
        if session.started is not None and session.started.deployed:
            from pytest_clockwork.reporting import container_logs

            for title, text in container_logs(session, item, tail=LOG_TAIL):
                report.sections.append((title, text))
        return report


class BeforeEachTest:
    """Runs the ``reset=`` of the resources the test being set up uses, before its
    fixtures.

    Registered only when the run declares resources.

    Args:
        session: The run's clockwork session.
    """

    def __init__(self, session: ClockworkSession) -> None:
        self.session = session

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Before the test's fixtures: reset what it uses (a failing reset fails its
        setup)."""
        session = self.session
        used = session.declarations.used_by(item)
        resettable = [(name, resource) for name, resource in used if resource.resets]
        if resettable:
            from pytest_clockwork.copies import reset_before

            with session.outlet.waiting():
                problem = reset_before(session.deployment, item, resettable)
            if problem is not None:
                pytest.fail(problem, pytrace=False)


class LinesBetweenTests:
    """Writes the lines clockwork's threads said while a test ran, once it has ended
    (and before the next starts): only the main thread writes while a test runs.

    Registered only when the run declares resources.

    Args:
        outlet: The run's outlet.
    """

    def __init__(self, outlet: Outlet) -> None:
        self.outlet = outlet

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self) -> None:
        """Before pytest names the next test."""
        self.outlet.flush()

    def pytest_runtest_logfinish(self) -> None:
        """After a test's outcome is shown."""
        self.outlet.flush()


def _has_assertions(bindings: Any) -> bool:
    from pytest_clockwork.items import reachable

    return any(resource.assertions for _, resource in reachable(bindings))


FAILURE_DETAILS = "clockwork-failure-details"
BEFORE_EACH_TEST = "clockwork-before-each-test"
LINES_BETWEEN_TESTS = "clockwork-lines-between-tests"


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"terminated by signal {signum} (SIGTERM); tearing down")


class _signals_ignored:
    """Ignore Ctrl-C and SIGTERM while tearing down (the watchdog covers SIGKILL)."""

    def __enter__(self) -> None:
        self._saved: list[tuple[int, Any]] = []
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._saved.append((signum, signal.signal(signum, signal.SIG_IGN)))

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._saved:
            signal.signal(signum, handler)
