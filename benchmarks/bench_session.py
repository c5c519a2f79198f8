"""Benchmark: a whole pytest session with clockwork versus the same work by hand.

    python benchmarks/bench_session.py [--runs 7] [--sizes 1,4,8]

1. Deploy N busybox httpd containers and GET each once: ``pytest --clockwork-apply``
   (a conftest declaring N DockerResources, N tests) against ``plain_docker.py``, which
   does the same work concurrently with the Docker SDK. Both are timed as whole
   processes (interpreter start, imports, work, cleanup). Prints the medians and
   their ratio. Target: at N = 4 the session takes at most 1.2x the plain script.
   For context it also times pytest doing the same work by hand (a session fixture
   with the Docker SDK): what pytest itself costs over a script.
2. The plugin's cost on a 300-test suite that declares no resources: ``pytest`` with
   and without ``-p no:clockwork``. Target: at most 2% more.
3. pytest-xdist: 8 tests sharing one container, ``-n 2`` against ``-n 0`` (the
   container is deployed once either way), with instant tests and with tests that
   wait 0.25 s on I/O each.

Needs Docker and the test image (``.ci/build-test-images``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ENVIRONMENT, IMAGE

HERE = Path(__file__).resolve().parent
BASE = [
    sys.executable,
    "-m",
    "pytest",
    "-q",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:anyio",
]
PYTEST = [*BASE, "-p", "no:xdist"]

TEST_GET = """
import httpx

def get(url):
    for _ in range(200):
        try:
            return httpx.get(url).text
        except httpx.TransportError:
            continue
    raise RuntimeError(f"{url} never answered")
"""


def _once(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENVIRONMENT)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 5):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def timed(commands: list[tuple[list[str], Path]], runs: int) -> list[list[float]]:
    """Wall-clock seconds of ``runs`` runs of each (command, folder), interleaved so that
    the machine's drift hits all alike, after one warm-up run of each."""
    for command, cwd in commands:
        _once(command, cwd)
    rounds = [[_once(command, cwd) for command, cwd in commands] for _ in range(runs)]
    return [list(times) for times in zip(*rounds, strict=True)]


def containers_project(root: Path, count: int) -> None:
    lines = ["from pytest_clockwork import DockerResource", ""]
    for index in range(count):
        lines.append(f'web{index} = DockerResource(image="{IMAGE}", ports=["80"])')
    (root / "conftest.py").write_text("\n".join(lines) + "\n")
    tests = [TEST_GET]
    for index in range(count):
        tests.append(
            f"def test_web{index}(web{index}):\n"
            f"    assert get(web{index}.url(80) + '/') == 'hello\\n'\n"
        )
    (root / "test_web.py").write_text("\n".join(tests))
    (root / "pytest.ini").write_text("[pytest]\n")


BY_HAND = """
from concurrent.futures import ThreadPoolExecutor

import docker
import pytest


@pytest.fixture(scope="session")
def webs():
    client = docker.from_env()
    pool = ThreadPoolExecutor(8)

    def start(index):
        container = client.containers.run(
            "{image}", detach=True, ports={{"80/tcp": ("127.0.0.1", None)}}
        )
        container.reload()
        while container.status != "running":
            container.reload()
        return container

    containers = list(pool.map(start, range({count})))
    yield [f"http://127.0.0.1:{{c.ports['80/tcp'][0]['HostPort']}}" for c in containers]
    list(pool.map(lambda container: container.remove(force=True), containers))
"""


def by_hand_project(root: Path, count: int) -> None:
    """The same session with the containers started by hand in a pytest fixture."""
    (root / "conftest.py").write_text(BY_HAND.format(image=IMAGE, count=count))
    tests = [TEST_GET]
    for index in range(count):
        tests.append(f"def test_web{index}(webs):\n    assert get(webs[{index}]) == 'hello\\n'\n")
    (root / "test_web.py").write_text("\n".join(tests))
    (root / "pytest.ini").write_text("[pytest]\n")


def plain_project(root: Path, count: int) -> None:
    for index in range(count):
        body = "\n".join(
            f"def test_{index}_{i}():\n    assert {i} + 1 == {i + 1}\n" for i in range(30)
        )
        (root / f"test_plain_{index}.py").write_text(body)
    (root / "pytest.ini").write_text("[pytest]\n")


def shared_project(root: Path, wait: float) -> None:
    (root / "conftest.py").write_text(
        "from pytest_clockwork import DockerResource\n"
        f'web = DockerResource(image="{IMAGE}", ports=["80"])\n'
    )
    tests = [TEST_GET, "import time"]
    for index in range(8):
        tests.append(
            f"def test_{index}(web):\n"
            f"    assert get(web.url(80) + '/') == 'hello\\n'\n"
            f"    time.sleep({wait})\n"
        )
    (root / "test_shared.py").write_text("\n".join(tests))
    (root / "pytest.ini").write_text("[pytest]\n")


def report(label: str, ours: list[float], theirs: list[float], target: float) -> None:
    mine, base = statistics.median(ours), statistics.median(theirs)
    ratio = mine / base
    verdict = "ok" if ratio <= target else "OVER TARGET"
    print(
        f"{label:<44} {mine:7.3f}s vs {base:7.3f}s  ratio {ratio:5.2f}  "
        f"(target <= {target:.2f}: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", default="1,4,8")
    args = parser.parse_args()
    print(f"medians of {args.runs} runs, each a whole process")
    for count in (int(size) for size in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as directory:
            root, by_hand = Path(directory) / "clockwork", Path(directory) / "by-hand"
            root.mkdir()
            by_hand.mkdir()
            containers_project(root, count)
            by_hand_project(by_hand, count)
            ours, floor, theirs = timed(
                [
                    ([*PYTEST, "--clockwork-apply"], root),
                    (PYTEST, by_hand),
                    ([sys.executable, str(HERE / "plain_docker.py"), str(count)], root),
                ],
                args.runs,
            )
            report(f"N={count}: pytest + SDK by hand vs plain SDK", floor, theirs, float("inf"))
            report(
                f"N={count}: pytest --clockwork-apply vs plain SDK",
                ours,
                theirs,
                1.2 if count == 4 else float("inf"),
            )
            report(f"N={count}: pytest --clockwork-apply vs by hand", ours, floor, float("inf"))
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        plain_project(root, 10)
        ours, theirs = timed(
            [(PYTEST, root), ([*PYTEST, "-p", "no:clockwork"], root)], args.runs * 3
        )
        report("300 tests, no resources: plugin vs no plugin", ours, theirs, 1.02)
    for wait in (0.0, 0.25):
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory)
            shared_project(root, wait)
            ours, theirs = timed(
                [
                    ([*BASE, "--clockwork-apply", "-n", "2"], root),
                    ([*BASE, "--clockwork-apply", "-n", "0"], root),
                ],
                args.runs,
            )
            report(
                f"8 tests, 1 shared container, {wait}s each: -n 2 vs -n 0",
                ours,
                theirs,
                float("inf"),
            )


if __name__ == "__main__":
    main()
