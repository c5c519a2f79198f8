"""Benchmark: many large file resources, against writing the same files by hand.

    python benchmarks/bench_files.py [--runs 5] [--files 100] [--size 200000]

``pytest --clockwork-apply`` with a conftest declaring ``--files`` FileResources of
``--size`` bytes each (one test uses them all) against a plain Python script that
writes and removes the same files. Both are timed as whole processes, interleaved;
prints the medians, their ratio, and the size of the stack's state file while the
files are deployed (it holds digests, not contents, so it does not grow with them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]

PLAIN = """
import sys
from pathlib import Path
count, size = int(sys.argv[1]), int(sys.argv[2])
root = Path("plain")
root.mkdir()
for index in range(count):
    (root / f"f{index}.txt").write_text(chr(97 + index % 26) * size)
for index in range(count):
    (root / f"f{index}.txt").unlink()
root.rmdir()
"""


def project(directory: Path, count: int, size: int) -> None:
    lines = ["from pytest_clockwork import FileResource", ""]
    names = []
    for index in range(count):
        names.append(f"f{index}")
        content = repr(chr(97 + index % 26) * size)
        lines.append(f'f{index} = FileResource(content={content}, directory="out")')
    (directory / "conftest.py").write_text("\n".join(lines) + "\n")
    state = directory / ".clockwork" / "stacks" / "default.json"
    (directory / "test_files.py").write_text(
        "from pathlib import Path\n\n"
        f"def test_all({', '.join(names)}):\n"
        f"    print('STATE', Path({str(state)!r}).stat().st_size)\n"
    )
    (directory / "plain.py").write_text(PLAIN)
    (directory / "pytest.ini").write_text("[pytest]\n")


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--size", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # users have bytecode caching on
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        project(directory, args.files, args.size)
        clockwork, plain, state_size = [], [], 0
        for _ in range(args.runs):
            seconds, output = timed([*PYTEST, "-s", "--clockwork-apply"], directory)
            clockwork.append(seconds)
            state_size = int(output.split("STATE ")[1].split()[0])
            plain.append(
                timed([sys.executable, "plain.py", str(args.files), str(args.size)], directory)[0]
            )
    ours, theirs = statistics.median(clockwork), statistics.median(plain)
    print(f"{args.files} files of {args.size} bytes, {args.runs} interleaved runs each")
    print(f"  pytest --clockwork-apply: median {ours:.2f}s")
    print(f"  plain Python script:      median {theirs:.2f}s")
    print(f"  ratio {ours / theirs:.1f}; the state file held {state_size} bytes while deployed")


if __name__ == "__main__":
    main()
