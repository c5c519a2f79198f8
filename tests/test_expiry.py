"""Kept resources with a lifetime expire, even when nobody runs pytest again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import eventually


def _records(pytester: pytest.Pytester, stack: str = "default") -> list[dict[str, Any]]:
    path = pytester.path / ".clockwork" / "stacks" / f"{stack}.json"
    return list(json.loads(path.read_text())["records"].values()) if path.exists() else []


@pytest.mark.docker
def test_ttl_destroys_a_kept_container_with_nobody_running_pytest(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(test_x="def test_x(web):\n    pass\n")
    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep", "--clockwork-ttl", "2s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["kept web: 127.0.0.1:* → 80/tcp, expires 20*"])
    (record,) = _records(pytester)
    assert record["kept"] and record["expires_at"] > 0
    assert len(leftovers()["containers"]) == 1
    # Nobody runs pytest: the watchdog of the session that kept it destroys it.
    eventually(
        lambda: leftovers()["containers"] == [],
        timeout=15,
        message="the kept container did not expire",
    )
    eventually(lambda: _records(pytester) == [], timeout=5)
    assert (
        "destroyed expired resources of stack 'default': web"
        in (pytester.path / ".clockwork" / "watchdog.log").read_text()
    )


def test_max_duration_per_resource(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        short = FileResource(name="short.txt", content="x", max_duration="1s")
        long = FileResource(name="long.txt", content="y", max_duration="2h")
        forever = FileResource(name="forever.txt", content="z")
        """
    )
    pytester.makepyfile(test_x="def test_x(short, long, forever):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    lifetimes = {
        r["key"]: r["expires_at"] - r["deployed_at"] for r in _records(pytester) if r["expires_at"]
    }
    assert set(lifetimes) == {"short", "long"}
    assert lifetimes["short"] < 5 and lifetimes["long"] > 7000
    eventually(lambda: not (pytester.path / "short.txt").exists(), timeout=15)
    assert (pytester.path / "long.txt").exists() and (pytester.path / "forever.txt").exists()
    pytester.runpytest("--clockwork-destroy")
    assert not (pytester.path / "long.txt").exists()


def test_destroy_expired_in_every_stack(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare(
        'import os\nnotes = FileResource(name="n.txt", content="x", directory=os.environ["OUT"])\n'
    )
    pytester.makepyfile(test_x="def test_x(notes):\n    pass\n")
    for stack, ttl in (("a", "1s"), ("b", "1h")):
        monkeypatch.setenv("OUT", f"out-{stack}")
        pytester.runpytest(
            "--clockwork-apply",
            "--clockwork-keep",
            "--clockwork-ttl",
            ttl,
            "--clockwork-stack",
            stack,
        ).assert_outcomes(passed=1)
    # Stop the watchdogs, as if the machine had rebooted: only the command is left.
    for stack in ("a", "b"):
        state = json.loads((pytester.path / ".clockwork" / "stacks" / f"{stack}.json").read_text())
        assert state["sessions"] == {}
    for pid in subprocess.run(
        ["pgrep", "-f", "pytest_clockwork.watchdog"], capture_output=True, text=True
    ).stdout.split():
        if str(pytester.path).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(int(pid), signal.SIGKILL)
    eventually(
        lambda: all(r["expires_at"] < time.time() for r in _records(pytester, "a")), timeout=5
    )
    result = pytester.runpytest("--clockwork-destroy", "--clockwork-expired")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["expired, destroyed: notes"])
    assert _records(pytester, "a") == [] and len(_records(pytester, "b")) == 1
    assert not (pytester.path / "out-a").exists() and (pytester.path / "out-b").exists()
    pytester.runpytest("--clockwork-destroy", "--clockwork-stack", "b")
    assert not (pytester.path / "out-b").exists()
