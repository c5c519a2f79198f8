"""Deploying an update onto the kept stack, and running the assertion items.

The deployment is pytest's own: ``pytest --clockwork-apply --clockwork-keep=always
-m assertions`` in the rootdir, so the plan is the one apply always makes (kept resources
whose declaration is unchanged are reused, changed ones replaced, new ones created). Each
assertion item's result is read from the run's JUnit XML and printed. Kept resources an
update removed are destroyed first (they are no longer declared, so no run would).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

OUTPUT_TAIL = 30


@dataclass(frozen=True)
class CheckResult:
    """One assertion item's outcome.

    Attributes:
        name: The item's id (``conftest.py::api.command_succeeds``).
        passed: Whether it passed.
        message: Why it failed (first line), or ``""``.
    """

    name: str
    passed: bool
    message: str = ""


def destroy_removed(rootdir: Path, stack: str, keys: Sequence[str]) -> list[str]:
    """Destroy the kept records of ``keys``; return what could not be destroyed, in words."""
    from pytest_clockwork.engines.base import SessionInfo
    from pytest_clockwork.state import StateStore, root_id
    from pytest_clockwork.teardown import destroy_records

    store = StateStore(rootdir, stack)
    state = store.read()
    records = [record for key in keys if (record := state.kept(key)) is not None]
    if not records:
        return []
    session = SessionInfo(
        id=f"cli-{os.getpid()}", stack=stack, rootdir=rootdir, root_id=root_id(rootdir)
    )
    outcome = destroy_records(store, session, records)
    return [f"{record_id}: {error}" for record_id, error in outcome.failures.items()]


def apply_and_check(
    rootdir: Path, stack: str, pytest_args: Sequence[str], out: Callable[[str], None]
) -> tuple[int, list[CheckResult]]:
    """Deploy onto the kept stack and run the assertion items.

    Returns:
        pytest's exit code and each check's result.
    """
    with tempfile.TemporaryDirectory(prefix="clockwork-update-") as scratch:
        report = Path(scratch, "report.xml")
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--clockwork-apply",
            "--clockwork-keep=always",
            "--clockwork-stack",
            stack,
            "-m",
            "assertions",
            "-p",
            "no:cacheprovider",
            "-q",
            "--rootdir",
            str(rootdir),
            f"--junitxml={report}",
            "-o",
            "junit_family=xunit1",  # the testcases name their file
            *pytest_args,
        ]
        done = subprocess.run(command, cwd=rootdir, capture_output=True, text=True, check=False)
        results = _results(report)
    if done.returncode not in (0, 1, 5) or (done.returncode == 1 and not results):
        tail = (done.stdout + done.stderr).strip().splitlines()[-OUTPUT_TAIL:]
        out("pytest's output:")
        for line in tail:
            out(f"  {line}")
    return done.returncode, results


def _results(report: Path) -> list[CheckResult]:
    try:
        tree = ElementTree.parse(report)
    except (OSError, ElementTree.ParseError):
        return []
    found = []
    for case in tree.iter("testcase"):
        where = case.get("file") or case.get("classname", "")
        name = f"{where}::{case.get('name', '')}" if where else case.get("name", "")
        problem = next(
            (child for child in case if child.tag in ("failure", "error")),
            None,
        )
        if case.find("skipped") is not None:
            continue
        message = ""
        if problem is not None:
            text = problem.get("message") or problem.text or ""
            message = text.strip().splitlines()[0] if text.strip() else problem.tag
        found.append(CheckResult(name, problem is None, message))
    return found
