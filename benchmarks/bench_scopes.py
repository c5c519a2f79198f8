"""Per-test cost of a fresh container: clockwork's ``scope="function"`` next to a
testcontainers function-scoped fixture, and clockwork's ``reset=`` on one container.

    python benchmarks/bench_scopes.py [--runs 7] [--tests 2,12] [--venvs .bench-venvs]

Each runner is a project whose tests each GET a busybox httpd container:

- ``clockwork function``: ``DockerResource(..., ports=["80"], scope="function")``, run
  with ``pytest --clockwork-apply``: each test gets a container of its own, removed after it;
- ``testcontainers function``: a ``@pytest.fixture`` (function scope) entering a
  ``DockerContainer`` that waits for HTTP 200, as testcontainers' docs write it;
- ``clockwork reset``: one session-scoped container with ``reset=["rm -rf /tmp/state"]``:
  the command runs in it before each test;
- ``clockwork session``: one session-scoped container shared by all tests (the floor).

Every project runs with ``--tests`` test counts (2 and 12 by default); each run is a whole
process, runs are interleaved round-robin after a dropped warm-up round, as in
``compare.py`` (same virtual environments, same clean-up checks). The per-test cost is
the slope between the two counts: ``(median(12 tests) − median(2 tests)) / 10``, so
start-up, imports and the session's own work cancel out.

Needs Docker, the test image (``.ci/build-test-images``) and the environments that
``compare.py`` makes (``clockwork`` and ``testcontainers``; PyPI the first time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from common import IMAGE, absolute
from compare import (
    REPO,
    TESTCONTAINERS_ENVIRONMENT,
    VENVS,
    Docker,
    Job,
    _write,
    child_environment,
    cleaning,
    interleaved,
    prepare,
    revision,
)

CLOCKWORK_CONFTEST = """
from pytest_clockwork import DockerResource

web = DockerResource(image="{image}", ports=["80"], labels={labels!r}{extra})
"""

CLOCKWORK_TEST = """

def test_web{index}(web):
    assert get(web.url(80) + "/") == "hello\\n"
"""

TESTCONTAINERS_CONFTEST = """
import pytest
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy


@pytest.fixture
def web():
    container = (
        DockerContainer("{image}")
        .with_exposed_ports(80)
        .with_kwargs(labels={labels!r})
        .waiting_for(HttpWaitStrategy(80).for_status_code(200).with_poll_interval(0.01))
    )
    with container:
        yield f"http://{{container.get_container_host_ip()}}:{{container.get_exposed_port(80)}}/"
"""

TESTCONTAINERS_TEST = """

def test_web{index}(web):
    assert get(web) == "hello\\n"
"""

CLOCKWORK = ("-m", "pytest", "-q", "--clockwork-apply", "--clockwork-engine", "local")
RUNNERS = {
    "clockwork function": ("clockwork", ', scope="function"', CLOCKWORK),
    "testcontainers function": ("testcontainers", None, ("-m", "pytest", "-q")),
    "clockwork reset": ("clockwork", ', reset=["rm -rf /tmp/state"]', CLOCKWORK),
    "clockwork session": ("clockwork", "", CLOCKWORK),
}


def project(name: str, count: int, labels: dict[str, str]) -> dict[str, str]:
    """The files of runner ``name`` with ``count`` tests."""
    venv, extra, _ = RUNNERS[name]
    if venv == "testcontainers":
        conftest = TESTCONTAINERS_CONFTEST.format(image=IMAGE, labels=labels)
        test = TESTCONTAINERS_TEST
    else:
        conftest = CLOCKWORK_CONFTEST.format(image=IMAGE, labels=labels, extra=extra)
        test = CLOCKWORK_TEST
    tests = "from helpers import get\n" + "".join(test.format(index=i) for i in range(count))
    return {"conftest.py": conftest, "test_web.py": tests}


def jobs(root: Path, counts: Sequence[int], venvs: Path, docker: Docker) -> list[Job]:
    """One job per runner and test count."""
    made = []
    for name, (venv, _, command) in RUNNERS.items():
        for count in counts:
            folder = root / f"{name.replace(' ', '-')}-{count}"
            _write(folder, project(name, count, docker.labels))
            environment = TESTCONTAINERS_ENVIRONMENT if venv == "testcontainers" else {}
            made.append(
                Job(
                    label=f"{name} {count}",
                    command=[str(VENVS[venv].python(venvs)), *command],
                    cwd=folder,
                    environment=child_environment(environment),
                    expect=f"{count} passed",
                )
            )
    return made


def report(times: dict[str, list[float]], counts: Sequence[int]) -> str:
    """The per-test cost of each runner, and its whole runs' medians."""
    low, high = counts
    lines = [
        f"| runner | {low} tests | {high} tests | per test |",
        "|---|---|---|---|",
    ]
    for name in RUNNERS:
        few, many = (statistics.median(times[f"{name} {count}"]) for count in counts)
        slope = (many - few) / (high - low)
        lines.append(f"| {name} | {few:.3f} s | {many:.3f} s | {slope * 1000:.0f} ms |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the environments, time the runners interleaved, print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="timed runs per job")
    parser.add_argument("--tests", default="2,12", help="the two test counts (default 2,12)")
    parser.add_argument(
        "--venvs",
        type=absolute,
        default=REPO / ".bench-venvs",
        help="where the venvs are kept",
    )
    args = parser.parse_args(argv)
    counts = [int(count) for count in args.tests.split(",")]
    if len(counts) != 2 or counts[0] >= counts[1] or args.runs < 1:
        parser.error("--tests takes two increasing counts and --runs at least 1")
    began = time.perf_counter()
    docker = Docker(uuid.uuid4().hex[:12])
    with cleaning(docker), tempfile.TemporaryDirectory(prefix="clockwork-scopes-") as tmp:
        for name in ("clockwork", "testcontainers"):
            prepare(VENVS[name], args.venvs)
        times = interleaved(jobs(Path(tmp), counts, args.venvs, docker), args.runs, docker)
    print(f"clockwork built from {revision()}; {args.runs} runs per job, medians")
    print(report(times, counts))
    for label, values in times.items():
        print(
            f"  {label:<28} median {statistics.median(values):6.3f}  "
            f"min {min(values):6.3f}  max {max(values):6.3f}"
        )
    print(f"took {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
