"""The suite is hermetic: what a test finds on the machine does not decide its outcome.

Every test pins the engine it means (tests/conftest.py sets ``CW_ENGINE=local``; the tests
of ``auto`` and ``pulumi`` make their own PATH), so a ``pulumi`` executable on PATH, which
``auto`` would pick, changes no outcome. Shared helpers live in tests/support/: no test
module imports another.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.harness import ROOT, fake_pulumi

SUBSET = ("tests/test_plugin_basics.py", "tests/test_options.py", "tests/test_docker_local.py")
"""Inner sessions with files and options, and with containers (hence ``docker``)."""

_SUMMARY = re.compile(r"^=*\s*(?P<counts>\d+ \w+.*) in [\d.]+s\b")


def outcomes(output: str) -> dict[str, int]:
    """The counts of pytest's final summary line (``3 passed, 1 skipped in 2.1s``),
    warnings left out: they are not outcomes."""
    found = [match for line in output.splitlines() if (match := _SUMMARY.match(line))]
    assert found, f"no summary line in the output:\n{output[-3000:]}"
    counts: dict[str, int] = {}
    for part in found[-1]["counts"].split(", "):
        number, word = part.split()[:2]
        word = {"error": "errors", "warning": "warnings"}.get(word, word)
        counts[word] = int(number)
    counts.pop("warnings", None)
    return counts


def not_passed(output: str) -> list[str]:
    """The ids of the tests the short summary lists as failed or in error."""
    return sorted(
        line.split(" - ")[0].split(" ", 1)[1]
        for line in output.splitlines()
        if line.startswith(("FAILED ", "ERROR "))
    )


def start_subset(basetemp: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``pytest SUBSET -q`` from the project's root, in its own temporary dir."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            *SUBSET,
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",  # its plugin takes a second to load; nothing here uses it
            "-q",
            f"--basetemp={basetemp}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.docker
def test_a_pulumi_on_path_changes_no_outcome(tmp_path: Path) -> None:
    # The inner suite pins engines itself: CW_ENGINE set for this test must not leak in.
    normal = {name: value for name, value in os.environ.items() if name != "CW_ENGINE"}
    cli = fake_pulumi(tmp_path / "bin")
    (tmp_path / "pulumi-home").mkdir()
    with_pulumi = {
        **normal,
        "PATH": f"{cli.parent}{os.pathsep}{normal.get('PATH', os.defpath)}",
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
    }
    # The fake is real enough to matter: a session that pins nothing picks Pulumi.
    project = tmp_path / "unpinned"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "conftest.py").write_text(
        'from pytest_clockwork import FileResource\nnotes = FileResource(content="x")\n'
    )
    (project / "test_x.py").write_text("def test_x():\n    pass\n")
    unpinned = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"],
        cwd=project,
        env=with_pulumi,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"clockwork: engine pulumi (auto: Pulumi CLI found at {cli})" in unpinned.stdout, (
        unpinned.stdout + unpinned.stderr
    )

    # Both at once: their tests mostly wait (on containers, on timeouts), so this halves
    # the time; each has its own basetemp, and clockwork keeps apart what they deploy.
    started = {
        "as this machine is": start_subset(tmp_path / "normal", normal),
        "with a fake pulumi on PATH": start_subset(tmp_path / "pulumi", with_pulumi),
    }
    try:
        outputs = {name: process.communicate(timeout=150)[0] for name, process in started.items()}
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    report = "\n\n".join(
        f"--- {name}:\n{textwrap.indent(output[-3000:], '  ')}" for name, output in outputs.items()
    )
    first, second = outputs.values()
    assert outcomes(first) == outcomes(second), report
    assert not_passed(first) == not_passed(second), report
    assert outcomes(first).get("passed", 0) > 0, report


def test_no_test_module_imports_another() -> None:
    tests = Path(__file__).parent
    modules = {path.stem for path in tests.glob("test_*.py")}
    found = []
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            else:
                continue
            if any(part in modules for name in names for part in name.split(".")):
                found.append(f"{path.relative_to(tests)}:{node.lineno}: {ast.unparse(node)}")
    assert found == [], "move what they share to tests/support/:\n" + "\n".join(found)
