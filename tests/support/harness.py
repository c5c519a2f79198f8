"""Helpers the tests share: the test image, inner pytest processes, polling, state, and
the PATH a test of the engine choice makes for itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "clockwork-test/busybox:latest"
# The collection that loads the declarations need not load hypothesis' plugin (1 s).
QUICK = {"PYTEST_ADDOPTS": "-p no:hypothesispytest"}
CLOCKWORK = [sys.executable, "-m", "pytest_clockwork.reconcile.cli"]
FAKE_PULUMI_VERSION = "v3.999.0"


def fake_pulumi(directory: Path) -> Path:
    """An executable ``pulumi`` in ``directory`` that prints a version and exits 0."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "pulumi"
    script.write_text(f"#!/bin/sh\necho {FAKE_PULUMI_VERSION}\n")
    script.chmod(0o755)
    return script


def without_pulumi(monkeypatch: Any, directory: Path) -> None:
    """No Pulumi CLI can be found, whatever this machine has installed: PATH is an empty
    directory, and ``PULUMI_HOME`` and ``HOME`` (``~/.pulumi``) are empty ones too."""
    for name in ("bin", "pulumi-home", "home"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("PATH", str(directory / "bin"))
    monkeypatch.setenv("PULUMI_HOME", str(directory / "pulumi-home"))
    monkeypatch.setenv("HOME", str(directory / "home"))


def clockwork_objects(client: Any, rootdir: Path) -> dict[str, list[str]]:
    """Names of the containers and networks clockwork created for ``rootdir``."""
    from pytest_clockwork.state import root_id

    label = f"clockwork.root={root_id(rootdir)}"
    # One list call: the SDK's containers.list inspects each container after listing, and
    # fails when one is removed meanwhile (Podman then answers 500, not 404).
    listed = client.api.containers(all=True, filters={"label": label})
    return {
        "containers": sorted(str(c["Names"][0]).lstrip("/") for c in listed),
        "networks": sorted(n.name for n in client.networks.list(filters={"label": label})),
    }


def run_subprocess(
    pytester: Any, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start ``python -m pytest args`` in the pytester dir, in its own process group.

    Ctrl-C reaches it as it would a user's pytest, even when this suite itself runs in
    the background of a shell (which starts background jobs with SIGINT ignored).
    """
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            *args,
        ],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
        preexec_fn=_default_sigint,
    )


BLOCKING_TEST = """
import time
from pathlib import Path

def test_blocks(web):
    Path("test-started").write_text(web.container_name)
    time.sleep(60)
"""
"""A test module whose test uses ``web``, says so in ``test-started``, and waits."""


def start_blocked(
    pytester: Any,
    *args: str,
    test: str = BLOCKING_TEST,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> subprocess.Popen[str]:
    """Run ``test`` (:data:`BLOCKING_TEST`) in a pytest process (:func:`run_subprocess`)
    and return it once its test has started: there to be interrupted or killed."""
    pytester.makepyfile(test_x=test)
    process = run_subprocess(pytester, *args, env=env)
    eventually(lambda: (pytester.path / "test-started").exists(), timeout=timeout)
    return process


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def eventually(condition: Any, timeout: float = 15.0, message: str = "") -> Any:
    """Poll ``condition()`` with backoff until it returns something truthy."""
    from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential

    result = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_exponential(multiplier=0.05, max=0.5),
        retry=retry_if_result(lambda value: not value),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )(condition)
    assert result, message or f"condition not met within {timeout}s"
    return result


def read_state(rootdir: Path, stack: str = "default") -> dict[str, Any]:
    """The raw JSON of a stack's state file (empty when there is none)."""
    path = rootdir / ".clockwork" / "stacks" / f"{stack}.json"
    return json.loads(path.read_text()) if path.exists() else {}
