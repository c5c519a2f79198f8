"""Side by side: clockwork, testcontainers, pytest-docker-tools and a hand-written fixture.

    python benchmarks/compare.py [--runs 9] [--sizes 1,4] [--only clockwork ...]
                                 [--venvs .bench-venvs] [--no-overlap] [--quick]

Each runner runs in its own virtual environment holding only what its users install,
from PyPI (created once under ``--venvs`` and reused; delete a folder to refresh it):

- ``clockwork``: this project, ``pip install <repo>`` (not editable), re-installed with
  ``--no-deps --force-reinstall`` at every run so that the current source is measured;
- ``testcontainers``: ``testcontainers`` and ``pytest``;
- ``pytest-docker-tools``: ``pytest-docker-tools`` and ``pytest``;
- ``hand-written``: ``pytest`` and ``docker``, a session fixture using the Docker SDK.
  The plain script (the Docker SDK, no pytest: the reference every ratio is taken to)
  runs in this environment too.

The workload, for each N in ``--sizes``: start N busybox httpd containers with free host
ports, wait until each answers HTTP 200, GET each once (one test per container), remove
them. Every runner is written as its users would write it (see the templates
below); all of them GET with the standard library, so no runner pays for an
HTTP client that another does not. Each run is a whole process (interpreter start,
imports, work, clean-up), timed from its start until it exits; runs are interleaved
round-robin (a warm-up round discarded, so that bytecode caches exist); the table shows
medians, and each runner's ratio to the plain script timed in the same rounds.

The overlap scenario: a suite of U unit tests taking T seconds in all, then K tests that
need containers taking about D seconds to deploy (their command sleeps before it starts
httpd). Run as ``pytest --clockwork-apply`` and with the hand-written fixture, each also
timed on its parts (one unit test alone: the start-up S; the unit tests alone: S + T;
the container tests alone: S + D), which puts the whole suite between S + max(T, D)
(deployment fully overlapped with the unit tests) and S + T + D (one after the other).

Every container carries a label unique to this run of the benchmark. After each run the
benchmark checks that none is left; a runner that fails, leaves containers behind or
times out has its output printed, whatever it left is removed, and the benchmark stops
with exit status 1 instead of printing numbers.

Needs Docker, the test image (``.ci/build-test-images``) and PyPI (the first time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from common import ENVIRONMENT, IMAGE, absolute

REPO = Path(__file__).resolve().parent.parent
LABEL = "clockwork-bench"
TIMEOUT = 300.0
"""Seconds one run may take before it is killed and the benchmark fails."""

# The overlap scenario: UNITS tests sleeping UNIT_SECONDS each, then CONTAINERS tests each
# needing a container whose httpd starts DELAY seconds after the container does.
UNITS = 40
UNIT_SECONDS = 0.05
CONTAINERS = 4
DELAY = 2.0
DELAYED_COMMAND = ["sh", "-c", f"sleep {DELAY:g}; exec httpd -f -p 80 -h /www"]

# Variables of this process that would change what the children import or run.
DROPPED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")

TESTCONTAINERS_ENVIRONMENT = {
    # Ryuk (testcontainers' reaper container) cannot be pulled here: there is no registry.
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    # This benchmark may run inside a container (/.dockerenv): testcontainers would then
    # connect through the default gateway. Use the published ports on the loopback, as
    # it does on a developer's machine.
    "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
}


class BenchmarkFailure(Exception):
    """A runner failed, hung, or left containers behind: no numbers are printed."""


# --------------------------------------------------------------------------------------
# What each runner's users write.

GET = '''
import http.client
import time
import urllib.request


def get(url: str, timeout: float = 30.0) -> str:
    """The body of url's 200 answer, retrying while the server comes up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except (OSError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
'''

CLOCKWORK_CONFTEST = """
from pytest_clockwork import DockerResource

{resources}
"""

CLOCKWORK_RESOURCE = 'web{index} = DockerResource(image="{image}", ports=["80"]{extra})'

CLOCKWORK_TEST = """

def test_web{index}(web{index}):
    assert get(web{index}.url(80) + "/") == "hello\\n"
"""

HAND_WRITTEN_CONFTEST = """
from concurrent.futures import ThreadPoolExecutor, wait

import docker
import pytest

from helpers import get


@pytest.fixture(scope="session")
def webs():
    client = docker.from_env()
    containers = []

    def start(index):
        container = client.containers.run(
            "{image}",
            command={command!r},
            detach=True,
            ports={{"80/tcp": ("127.0.0.1", None)}},
            labels={labels!r},
        )
        containers.append(container)
        container.reload()
        url = f"http://127.0.0.1:{{container.ports['80/tcp'][0]['HostPort']}}/"
        get(url)
        return url

    with ThreadPoolExecutor(max_workers=8) as pool:
        try:
            started = [pool.submit(start, index) for index in range({count})]
            wait(started)
            yield [future.result() for future in started]
        finally:
            list(pool.map(lambda container: container.remove(force=True), containers))
"""

SHARED_TEST = """

def test_web{index}(webs):
    assert get(webs[{index}]) == "hello\\n"
"""

TESTCONTAINERS_CONFTEST = """
from contextlib import ExitStack

import pytest
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy


@pytest.fixture(scope="session")
def webs():
    with ExitStack() as stack:
        urls = []
        for _ in range({count}):
            web = stack.enter_context(
                DockerContainer("{image}")
                .with_exposed_ports(80)
                .with_kwargs(labels={labels!r})
                .waiting_for(HttpWaitStrategy(80).for_status_code(200).with_poll_interval(0.01))
            )
            urls.append(f"http://{{web.get_container_host_ip()}}:{{web.get_exposed_port(80)}}/")
        yield urls
"""

# pytest-docker-tools: `fetch` always pulls; `image` takes a local one ("already
# available"). `container` waits its own way: until the port is in LISTEN state inside
# the container (`cat /proc/net/tcp` by exec), checked once a second. Its own README
# connects to 127.0.0.1 and the published port (`get_addr` would use the container's
# address when the tests run inside a container).
DOCKER_TOOLS_CONFTEST = """
from pytest_docker_tools import container, image

busybox = image(name="{image}")

{containers}
"""

DOCKER_TOOLS_CONTAINER = (
    'web{index} = container(image="{{busybox.id}}", ports={{"80/tcp": None}}, '
    'labels={labels!r}, scope="session")'
)

DOCKER_TOOLS_TEST = """

def test_web{index}(web{index}):
    assert get(f"http://127.0.0.1:{{web{index}.ports['80/tcp'][0]}}/") == "hello\\n"
"""

PLAIN_SCRIPT = """
import sys
from concurrent.futures import ThreadPoolExecutor, wait

import docker

from helpers import get


def main():
    client = docker.from_env()
    containers = []

    def start(index):
        container = client.containers.run(
            "{image}",
            detach=True,
            ports={{"80/tcp": ("127.0.0.1", None)}},
            labels={labels!r},
        )
        containers.append(container)
        container.reload()
        url = f"http://127.0.0.1:{{container.ports['80/tcp'][0]['HostPort']}}/"
        get(url)
        return url

    with ThreadPoolExecutor(max_workers=8) as pool:
        try:
            started = [pool.submit(start, index) for index in range({count})]
            wait(started)
            for future in started:
                assert get(future.result()) == "hello\\n"
        finally:
            list(pool.map(lambda container: container.remove(force=True), containers))


if __name__ == "__main__":
    sys.exit(main())
"""

UNIT_TEST = """

def test_unit{index}():
    time.sleep({seconds})
"""


def _write(root: Path, files: dict[str, str]) -> None:
    """Write a project: ``files``, the GET helper, and a pytest.ini making it the rootdir."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "helpers.py").write_text(GET.lstrip())
    for name, text in files.items():
        (root / name).write_text(text.lstrip())


def _tests(template: str, count: int) -> str:
    return "from helpers import get\n" + "".join(
        template.format(index=index) for index in range(count)
    )


def clockwork_files(
    count: int, labels: dict[str, str], command: list[str] | None
) -> dict[str, str]:
    """A conftest declaring ``count`` DockerResources, and a test for each.

    Args:
        count: How many containers.
        labels: Labels for each container (the benchmark's own, to find leftovers).
        command: The containers' command; None for the image's own.

    Returns:
        File name → text.
    """
    extra = f", labels={labels!r}" + (f", command={command!r}" if command else "")
    resources = "\n".join(
        CLOCKWORK_RESOURCE.format(index=index, image=IMAGE, extra=extra) for index in range(count)
    )
    return {
        "conftest.py": CLOCKWORK_CONFTEST.format(resources=resources),
        "test_web.py": _tests(CLOCKWORK_TEST, count),
    }


def hand_written_files(
    count: int, labels: dict[str, str], command: list[str] | None
) -> dict[str, str]:
    """A session fixture starting all containers at once with the Docker SDK (threads).

    Args:
        count: How many containers.
        labels: Labels for each container.
        command: The containers' command; None for the image's own.

    Returns:
        File name → text.
    """
    conftest = HAND_WRITTEN_CONFTEST.format(
        image=IMAGE, command=command, labels=labels, count=count
    )
    return {"conftest.py": conftest, "test_web.py": _tests(SHARED_TEST, count)}


def testcontainers_files(count: int, labels: dict[str, str]) -> dict[str, str]:
    """A session fixture starting ``DockerContainer``s one after the other, as its docs do.

    Args:
        count: How many containers.
        labels: Labels for each container.

    Returns:
        File name → text.
    """
    conftest = TESTCONTAINERS_CONFTEST.format(image=IMAGE, labels=labels, count=count)
    return {"conftest.py": conftest, "test_web.py": _tests(SHARED_TEST, count)}


def docker_tools_files(count: int, labels: dict[str, str]) -> dict[str, str]:
    """A ``container(...)`` fixture per container, from pytest-docker-tools' factories.

    Args:
        count: How many containers.
        labels: Labels for each container.

    Returns:
        File name → text.
    """
    containers = "\n".join(
        DOCKER_TOOLS_CONTAINER.format(index=index, labels=labels) for index in range(count)
    )
    return {
        "conftest.py": DOCKER_TOOLS_CONFTEST.format(image=IMAGE, containers=containers),
        "test_web.py": _tests(DOCKER_TOOLS_TEST, count),
    }


def plain_files(count: int, labels: dict[str, str]) -> dict[str, str]:
    """The reference: the same work as a plain script with the Docker SDK, no pytest.

    ``plain_docker.py`` does this too, but GETs with httpx, which the hand-written
    environment does not hold (and which only clockwork's users get with it).

    Args:
        count: How many containers.
        labels: Labels for each container.

    Returns:
        File name → text.
    """
    return {
        "plain.py": PLAIN_SCRIPT.format(image=IMAGE, labels=labels, count=count),
    }


def unit_tests(count: int, seconds: float) -> str:
    """A test module of ``count`` tests that each sleep ``seconds``."""
    return "import time\n" + "".join(
        UNIT_TEST.format(index=index, seconds=seconds) for index in range(count)
    )


# --------------------------------------------------------------------------------------
# Virtual environments.


@dataclass(frozen=True)
class Venv:
    """A virtual environment for one runner, holding only what its users install.

    Attributes:
        name: Its folder under ``--venvs``.
        requirements: What ``pip install`` gets.
        versions: Distributions whose versions describe it.
    """

    name: str
    requirements: tuple[str, ...]
    versions: tuple[str, ...]

    def python(self, root: Path) -> Path:
        """Its interpreter, under ``root`` (``--venvs``)."""
        return root / self.name / "bin" / "python"


VENVS = {
    "clockwork": Venv("clockwork", (), ("pytest-clockwork", "pytest", "docker", "pydantic")),
    "testcontainers": Venv(
        "testcontainers", ("testcontainers", "pytest"), ("testcontainers", "pytest", "docker")
    ),
    "pytest-docker-tools": Venv(
        "pytest-docker-tools",
        ("pytest-docker-tools", "pytest"),
        ("pytest-docker-tools", "pytest", "docker"),
    ),
    "hand-written": Venv("hand-written", ("pytest", "docker"), ("pytest", "docker")),
}


def _pip(python: Path, *args: str) -> None:
    command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    done = subprocess.run(command, capture_output=True, text=True, env=child_environment())
    if done.returncode != 0:
        raise BenchmarkFailure(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def _project_source(into: Path) -> Path:
    """Copy what building this project needs, so that no build output lands in the repo.

    An in-tree build would leave ``build/`` behind, whose stale files a later build copies
    into the wheel; and other work may be changing ``src/`` meanwhile.
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(REPO / "src", into / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE", "setup.cfg", "MANIFEST.in"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, into / name)
    return into


def prepare(venv: Venv, root: Path) -> None:
    """Create ``venv`` under ``root`` unless a matching one is there; install clockwork anew.

    The requirements it was made with are kept in ``bench-requirements.txt``: when they
    (or, for clockwork, the project's dependencies) change, it is made again.

    Args:
        venv: Which environment.
        root: The ``--venvs`` folder.
    """
    folder = root / venv.name
    wanted = list(venv.requirements)
    if venv.name == "clockwork":
        project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
        wanted = ["pytest-clockwork (from the repository)", *project["dependencies"]]
    marker = folder / "bench-requirements.txt"
    fresh = not (marker.exists() and marker.read_text() == "\n".join(wanted))
    if fresh:
        print(f"  creating {folder} ...", flush=True)
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    with tempfile.TemporaryDirectory() as directory:
        if venv.name == "clockwork":
            source = str(_project_source(Path(directory)))
            if fresh:
                _pip(venv.python(root), source)
            else:
                _pip(venv.python(root), "--no-deps", "--force-reinstall", source)
        elif fresh:
            _pip(venv.python(root), *venv.requirements)
    marker.write_text("\n".join(wanted))


def versions(venv: Venv, root: Path) -> dict[str, str]:
    """The installed versions of ``venv.versions`` (and Python's, as ``python``)."""
    script = (
        "import importlib.metadata as m, json, platform; "
        f"names = {list(venv.versions)!r}; "
        "print(json.dumps({'python': platform.python_version(), "
        "**{name: m.version(name) for name in names}}))"
    )
    done = subprocess.run(
        [str(venv.python(root)), "-c", script], capture_output=True, text=True, check=True
    )
    found: dict[str, str] = json.loads(done.stdout)
    return found


# --------------------------------------------------------------------------------------
# Runs.


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every child: bytecode caching on, nothing of this process' venv."""
    environment = {key: value for key, value in ENVIRONMENT.items() if key not in DROPPED}
    return {**environment, **(extra or {})}


@dataclass(frozen=True)
class Job:
    """One command to time, again and again.

    Attributes:
        label: What it is called in the output.
        command: The command.
        cwd: Where it runs.
        environment: Its environment.
        expect: Text its output must contain (pytest's summary), or None.
    """

    label: str
    command: list[str]
    cwd: Path
    environment: dict[str, str] = field(default_factory=child_environment)
    expect: str | None = None


class Docker:
    """The containers this run of the benchmark made, by its label.

    Args:
        token: The value of the ``clockwork-bench`` label on every container of this run.
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self.labels = {LABEL: token}

    def leftovers(self) -> list[str]:
        """Names of this run's containers that still exist."""
        done = subprocess.run(
            [
                "docker",
                "ps",
                "-a",
                "--filter",
                f"label={LABEL}={self.token}",
                "--format",
                "{{.Names}}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.split()

    def remove_all(self) -> list[str]:
        """Remove this run's containers; return the names of those there were."""
        names = self.leftovers()
        if names:
            subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)
        return names


def run_once(job: Job, docker: Docker) -> float:
    """Run ``job`` once; its wall-clock seconds from start to exit.

    Output goes to a file, not a pipe, so that a process it leaves behind (clockwork's
    watchdog) holds nothing the benchmark waits on.

    Raises:
        BenchmarkFailure: It exited non-zero, its output lacks ``job.expect``, it ran for
            longer than ``TIMEOUT``, or it left containers behind.
    """
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            job.command,
            cwd=job.cwd,
            env=job.environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code: int | None = process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            code = None
            _stop(process)
        except BaseException:  # Ctrl-C: stop the run too, before its containers are removed
            _stop(process)
            raise
        elapsed = time.perf_counter() - started
        output.seek(0)
        text = output.read().decode(errors="replace").rstrip() or "(no output)"
    problems = []
    if code is None:
        problems.append(f"did not finish within {TIMEOUT:.0f}s")
    elif code != 0:
        problems.append(f"exited with status {code}")
    elif job.expect is not None and job.expect not in text:
        problems.append(f"printed no {job.expect!r}")
    left = docker.leftovers()
    if left:
        problems.append(f"left containers behind: {', '.join(left)}")
    if not problems:
        return elapsed
    raise BenchmarkFailure(
        f"{job.label} {'; '.join(problems)}\n$ cd {job.cwd} && {' '.join(job.command)}\n{text}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Interrupt a run that hangs (pytest then tears down), and kill it if it goes on."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def interleaved(jobs: Sequence[Job], runs: int, docker: Docker) -> dict[str, list[float]]:
    """Time each job ``runs`` times, round-robin, after one warm-up round that is dropped.

    Each round starts one job later than the one before, so that no job always follows
    the same other one.

    Returns:
        Job label → its times in seconds.
    """
    times: dict[str, list[float]] = {job.label: [] for job in jobs}
    for round_ in range(runs + 1):
        shift = round_ % len(jobs)
        for job in [*jobs[shift:], *jobs[:shift]]:
            elapsed = run_once(job, docker)
            if round_:
                times[job.label].append(elapsed)
        print(f"  round {round_}/{runs} done" + (" (warm-up)" if not round_ else ""), flush=True)
    return times


@dataclass(frozen=True)
class Runner:
    """A way to run the workload.

    Attributes:
        name: Its key (for ``--only``).
        title: Its row in the table.
        venv: The environment it runs in (a key of ``VENVS``).
        files: The project's files for N containers with the given labels.
        command: The command, after the environment's interpreter.
        environment: Extra environment variables.
    """

    name: str
    title: str
    venv: str
    files: Callable[[int, dict[str, str]], dict[str, str]]
    command: tuple[str, ...] = ("-m", "pytest", "-q")
    environment: dict[str, str] = field(default_factory=dict)

    def job(self, root: Path, count: int, venvs: Path, docker: Docker) -> Job:
        """Write its project for ``count`` containers under ``root``; the job running it."""
        folder = root / f"{self.name}-{count}"
        _write(folder, self.files(count, docker.labels))
        return Job(
            label=f"{self.name} N={count}",
            command=[str(VENVS[self.venv].python(venvs)), *self.command],
            cwd=folder,
            environment=child_environment(self.environment),
            expect=None if self.name == "plain" else f"{count} passed",
        )


RUNNERS = {
    runner.name: runner
    for runner in (
        Runner(
            "clockwork",
            "pytest-clockwork (`--clockwork-apply`)",
            "clockwork",
            lambda count, labels: clockwork_files(count, labels, None),
            ("-m", "pytest", "-q", "--clockwork-apply", "--clockwork-engine", "local"),
        ),
        Runner(
            "hand-written",
            "pytest + Docker SDK session fixture by hand, concurrent",
            "hand-written",
            lambda count, labels: hand_written_files(count, labels, None),
        ),
        Runner(
            "testcontainers",
            "testcontainers-python",
            "testcontainers",
            testcontainers_files,
            environment=TESTCONTAINERS_ENVIRONMENT,
        ),
        Runner(
            "pytest-docker-tools",
            "pytest-docker-tools",
            "pytest-docker-tools",
            docker_tools_files,
        ),
        Runner(
            "plain",
            "plain script, Docker SDK, no pytest",
            "hand-written",
            plain_files,
            ("plain.py",),
        ),
    )
}


# --------------------------------------------------------------------------------------
# Reports.


def machine(venvs: Path, names: Sequence[str], source: str) -> str:
    """One line describing the machine, each environment's versions and clockwork's source."""
    server = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    found = {name: versions(VENVS[name], venvs) for name in names}
    python = next(iter(found.values()))["python"] if found else platform.python_version()
    described = "; ".join(
        f"{name}: "
        + ", ".join(
            f"{dist} {version}" for dist, version in found[name].items() if dist != "python"
        )
        for name in names
    )
    return (
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Docker server {server}, "
        f"Python {python}; {described}; clockwork built from {source}"
    )


def revision() -> str:
    """The repository's commit, and whether the measured source differs from it."""
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    changed = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src", "pyproject.toml"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return (head or "an unknown commit") + (" with uncommitted changes to src/" if changed else "")


def table(selected: Sequence[str], sizes: Sequence[int], times: dict[str, list[float]]) -> str:
    """The markdown table: runner × N, median seconds and ratio to the plain script."""
    lines = [
        "| runner | " + " | ".join(f"N = {count}" for count in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in [*selected, "plain"]:
        cells = []
        for count in sizes:
            median = statistics.median(times[f"{name} N={count}"])
            plain = statistics.median(times[f"plain N={count}"])
            cells.append(f"{median:.3f} s ({median / plain:.2f}×)")
        lines.append(f"| {RUNNERS[name].title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def spread(times: dict[str, list[float]]) -> str:
    """Per job: median, fastest and slowest run."""
    return "\n".join(
        f"  {label:<28} median {statistics.median(values):6.3f}  "
        f"min {min(values):6.3f}  max {max(values):6.3f}  (n={len(values)})"
        for label, values in times.items()
    )


# --------------------------------------------------------------------------------------
# The overlap scenario.

OVERLAP_PARTS = ("one", "units", "web", "suite")


def overlap_jobs(name: str, root: Path, venvs: Path, docker: Docker) -> list[Job]:
    """The overlap suite for runner ``name`` (clockwork or hand-written), and its parts.

    Returns:
        Jobs labelled ``"<name> <part>"``: ``one`` (one unit test: start-up S, plus one
        unit's sleep), ``units`` (S + T), ``web`` (S + D), ``suite`` (all of it).
    """
    folder = root / f"overlap-{name}"
    if name == "clockwork":
        files = clockwork_files(CONTAINERS, docker.labels, DELAYED_COMMAND)
    else:
        files = hand_written_files(CONTAINERS, docker.labels, DELAYED_COMMAND)
    files["test_units.py"] = unit_tests(UNITS, UNIT_SECONDS)
    _write(folder, files)
    # pytest runs files in name order: test_units.py before test_web.py.
    runner = RUNNERS[name]
    base = [str(VENVS[runner.venv].python(venvs)), *runner.command]
    selections = {
        "one": (["test_units.py::test_unit0"], "1 passed"),
        "units": (["test_units.py"], f"{UNITS} passed"),
        "web": (["test_web.py"], f"{CONTAINERS} passed"),
        "suite": ([], f"{UNITS + CONTAINERS} passed"),
    }
    return [
        Job(f"{name} {part}", [*base, *arguments], folder, expect=expect)
        for part, (arguments, expect) in selections.items()
    ]


def overlap_report(names: Sequence[str], times: dict[str, list[float]]) -> str:
    """T, D, the suite's wall time, and where it falls between S + max(T, D) and S + T + D."""
    lines = [
        f"overlap: {UNITS} unit tests sleeping {UNIT_SECONDS:g} s each "
        f"(T = {UNITS * UNIT_SECONDS:g} s nominal), then {CONTAINERS} tests needing a "
        f"container whose httpd starts {DELAY:g} s after it does (D ≈ {DELAY:g} s + start)",
        "  S: start-up and exit (one unit test alone, less its sleep); T: the unit tests "
        "alone − S; D: the container tests alone − S (start, the delay, the GETs, removal)",
        "  overlapped = how much of min(T, D) the suite saved: 0% = S + T + D "
        "(serial), 100% = S + max(T, D)",
    ]
    for name in names:
        one, units, web, suite = (
            statistics.median(times[f"{name} {part}"]) for part in OVERLAP_PARTS
        )
        start = one - UNIT_SECONDS
        units_only, deploy = units - start, web - start
        serial, ideal = start + units_only + deploy, start + max(units_only, deploy)
        saved = (serial - suite) / min(units_only, deploy)
        lines.append(
            f"  {name:<13} S {start:5.2f}  T {units_only:5.2f}  D {deploy:5.2f}  "
            f"suite {suite:5.2f} s   S+max(T,D) {ideal:5.2f}   S+T+D {serial:5.2f}   "
            f"overlapped {saved:4.0%}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------


@contextmanager
def cleaning(docker: Docker) -> Iterator[None]:
    """Remove whatever this run's containers remain on the way out, however it ends."""
    try:
        yield
    finally:
        left = docker.remove_all()
        if left:
            print(f"removed containers left behind: {', '.join(left)}", file=sys.stderr)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9, help="timed runs per runner and N")
    parser.add_argument("--sizes", default="1,4", help="numbers of containers (default 1,4)")
    parser.add_argument(
        "--venvs",
        type=absolute,
        default=REPO / ".bench-venvs",
        help="where the venvs are kept",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[name for name in RUNNERS if name != "plain"],
        help="time only this runner (repeatable); the plain script is always timed",
    )
    parser.add_argument("--no-overlap", action="store_true", help="skip the overlap scenario")
    parser.add_argument("--quick", action="store_true", help="3 runs (overrides --runs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 3
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    args.sizes = [int(size) for size in args.sizes.split(",")]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the environments, time the runners, print the table and the overlap."""
    args = parse(argv)
    began = time.perf_counter()
    selected = [
        name for name in RUNNERS if name != "plain" and (not args.only or name in args.only)
    ]
    overlapping = (
        [] if args.no_overlap else [n for n in ("clockwork", "hand-written") if n in selected]
    )
    needed = sorted({RUNNERS[name].venv for name in [*selected, "plain"]})
    docker = Docker(uuid.uuid4().hex[:12])
    try:
        with cleaning(docker), tempfile.TemporaryDirectory(prefix="clockwork-compare-") as tmp:
            print(f"environments under {args.venvs}: {', '.join(needed)}", flush=True)
            args.venvs.mkdir(parents=True, exist_ok=True)
            for name in needed:
                prepare(VENVS[name], args.venvs)
            source = revision()
            prepared = time.perf_counter()
            root = Path(tmp)
            times: dict[str, list[float]] = {}
            for count in args.sizes:
                print(f"N = {count}: {args.runs} rounds of {', '.join([*selected, 'plain'])}")
                jobs = [
                    RUNNERS[name].job(root, count, args.venvs, docker)
                    for name in [*selected, "plain"]
                ]
                times.update(interleaved(jobs, args.runs, docker))
            overlap: dict[str, list[float]] = {}
            if overlapping:
                print(f"overlap: {args.runs} rounds of {', '.join(overlapping)} (4 parts each)")
                jobs = [
                    job
                    for name in overlapping
                    for job in overlap_jobs(name, root, args.venvs, docker)
                ]
                overlap = interleaved(jobs, args.runs, docker)
    except BenchmarkFailure as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    print()
    print(
        f"Medians of {args.runs} interleaved runs, each a whole process; ratio = runner / "
        "plain script in the same rounds (lower is better)."
    )
    if "testcontainers" in selected:
        print(
            "testcontainers runs with TESTCONTAINERS_RYUK_DISABLED=true (its Ryuk reaper image "
            "cannot be pulled here), TESTCONTAINERS_CONNECTION_MODE=docker_host and "
            "TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 (published ports on the loopback, as on a "
            "developer's machine, though this one may run inside a container)."
        )
    print()
    print(table(selected, args.sizes, times))
    print()
    print(spread(times))
    if overlapping:
        print()
        print(overlap_report(overlapping, overlap))
        print(spread(overlap))
    print()
    print(machine(args.venvs, needed, source))
    finished = time.perf_counter()
    print(
        f"benchmark took {finished - began:.0f} s "
        f"(environments {prepared - began:.0f} s, timing {finished - prepared:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
