"""The ``clockwork`` command: ``status``, ``destroy``, and ``watch`` as a real process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork.reconcile.cli import main
from pytest_clockwork.state import StateStore
from tests.support.harness import CLOCKWORK, QUICK, eventually
from tests.support.webhook import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; killed if the test left them running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


WEB = """
web = DockerResource(
    image=IMAGE, ports=["80"], on_drift="auto_correct",
    assertions=[HealthcheckAssert(port=80, timeout=2)],
)
"""


def clockwork(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    """Run ``clockwork args`` in this process; its exit code and printed lines."""
    capsys.readouterr()  # what inner pytest runs printed
    code = main(list(args))
    return code, capsys.readouterr().out.splitlines()


def container_of(pytester: pytest.Pytester, key: str) -> str:
    state = StateStore(pytester.path, "default").read()
    (record,) = [r for r in state.records.values() if r.key == key]
    return str(record.outputs["container_id"])


@pytest.mark.docker
def test_status_shows_stacks_resources_health_and_expiry(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    docker_client: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    declare(WEB + 'notes = FileResource(name="notes.txt", content="hi")\n')
    pytester.makepyfile(test_x="def test_x(web, notes):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep", "--clockwork-ttl", "1h")
    declare('scratch = FileResource(name="scratch.txt", content="x")\n')
    pytester.makepyfile(test_x="def test_x(scratch):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep", "--clockwork-stack", "other")
    declare(WEB + 'notes = FileResource(name="notes.txt", content="hi")\n')
    root = str(pytester.path)

    code, lines = clockwork(capsys, "status", "--rootdir", root)
    assert code == 0
    pytest.LineMatcher(lines).fnmatch_lines(
        [
            f"clockwork status of {root}",
            "declarations: 2 resources declared",
            "stack 'default': 2 resources",
            "  RESOURCE  KIND       OWNER  HEALTH  ON DRIFT      EXPIRES * WHERE",
            f"  notes     file       kept   ok      alert         in 59m*s (20*)  {root}/notes.txt",
            "  web       container  kept   ok      auto_correct  in 59m*s (20*)  "
            "127.0.0.1:* → 80/tcp",
            "stack 'other': 1 resource",
            "  scratch   file  kept   ok      ?         never    */scratch.txt",
            "      - it is no longer declared in any conftest (`clockwork destroy` removes it)",
        ]
    )

    docker_client.containers.get(container_of(pytester, "web")).remove(force=True)
    code, lines = clockwork(capsys, "status", "--rootdir", root, "--stack", "default")
    assert code == 1  # something drifted
    pytest.LineMatcher(lines).fnmatch_lines(
        [
            "  web * container  kept   drifted  auto_correct *",
            "      - the container no longer exists",
        ]
    )
    assert not any("other" in line for line in lines)
    # Destroyed, so that the watchdog waiting for their expiry ends too.
    assert clockwork(capsys, "destroy", "--rootdir", root)[0] == 0


def test_status_of_a_kept_custom_resource(
    pytester: pytest.Pytester, declare: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    declare(
        """
        class Thing(Resource):
            def create(self, context):
                return {"made": "yes"}

            def delete(self, outputs):
                pass

        thing = Thing()
        """
    )
    pytester.makepyfile(test_x="def test_x(thing):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)

    code, lines = clockwork(capsys, "status", "--rootdir", str(pytester.path))

    assert code == 0, lines
    pytest.LineMatcher(lines).fnmatch_lines(
        ["  thing  * custom  kept   ok  * alert * never * made=yes"]
    )
    assert clockwork(capsys, "destroy", "--rootdir", str(pytester.path))[0] == 0


def test_status_works_from_the_state_alone(
    pytester: pytest.Pytester, declare: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    conftest = declare('notes = FileResource(name="notes.txt", content="hi")\n')
    pytester.makepyfile(test_x="def test_x(notes):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep")
    conftest.write_text("import nonexistent_module_for_clockwork\n")
    (pytester.path / "notes.txt").write_text("changed")
    # The installed console script, as a user runs it.
    script = Path(sys.executable).with_name("clockwork")
    done = subprocess.run(
        [str(script), "status", "--rootdir", str(pytester.path)],
        capture_output=True,
        text=True,
        env={**os.environ, **QUICK},
        check=False,
    )
    assert done.returncode == 1, done.stderr
    pytest.LineMatcher(done.stdout.splitlines()).fnmatch_lines(
        [
            "declarations: not loaded, so this is the recorded state only: cannot load the "
            "declarations under *: a conftest could not be imported. * (-v shows more)",
            "stack 'default': 1 resource",
            "  notes     file  kept   drifted  ?         never    */notes.txt",
            "      - */notes.txt was changed (now 7 bytes)",
        ]
    )


@pytest.mark.docker
def test_destroy(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    declare(WEB + 'notes = FileResource(name="notes.txt", content="hi")\n')
    pytester.makepyfile(test_x="def test_x(web, notes):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep")
    assert len(leftovers()["containers"]) == 1
    root = str(pytester.path)

    code, lines = clockwork(capsys, "destroy", "--rootdir", root)
    assert code == 0
    assert sorted(lines[0].split(": ")[1].split(", ")) == ["notes", "web"]
    assert lines[0].startswith("destroyed in stack 'default': ")
    assert leftovers()["containers"] == [] and not (pytester.path / "notes.txt").exists()
    assert StateStore(pytester.path, "default").read().records == {}

    assert clockwork(capsys, "destroy", "--rootdir", root) == (
        0,
        ["stack 'default' had nothing to destroy"],
    )
    assert clockwork(capsys, "destroy", "--rootdir", root, "--expired") == (
        0,
        ["nothing had expired"],
    )


@pytest.mark.docker
def test_watch_recreates_within_an_interval_and_stops_on_sigterm(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    docker_client: Any,
    receiver: Receiver,
    processes: list[subprocess.Popen[bytes]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    declare(WEB)
    pytester.makepyfile(test_x="def test_x(web):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep")
    root, interval = str(pytester.path), 2.0
    command = [*CLOCKWORK, "watch", "--rootdir", root, "--interval", str(interval)]
    log = pytester.path / "watch.log"
    with open(log, "wb") as output:
        watch = subprocess.Popen(
            [*command, "--webhook", receiver.url],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **QUICK},
        )
    processes.append(watch)
    eventually(lambda: "loaded the declarations: 1 resource" in log.read_text(), timeout=20)

    # One reconciler per stack.
    assert main(["watch", "--rootdir", root, "--once"]) == 1
    assert "another clockwork watch is already watching stack 'default'" in capsys.readouterr().err

    old = container_of(pytester, "web")
    docker_client.containers.get(old).remove(force=True)
    killed = time.time()

    def recreated() -> bool:
        new = container_of(pytester, "web")
        return new != old and docker_client.containers.get(new).status == "running"

    try:
        eventually(recreated, timeout=30)
    except AssertionError:
        raise AssertionError(f"not recreated; the log:\n{log.read_text()}") from None
    (correcting,) = [line for line in log.read_text().splitlines() if "; correcting (" in line]
    # Seen gone, being removed, or failing its healthcheck: it depends on the moment.
    assert re.search(r"default/web: .+; correcting \(recreate\)$", correcting)
    started = datetime.strptime(correcting[:19], "%Y-%m-%d %H:%M:%S").timestamp()
    assert started < killed + interval + 1  # the next step did it (the log has whole seconds)
    eventually(lambda: receiver.bodies, timeout=5)
    assert receiver.bodies[0]["action"].startswith("corrected: recreated container web-")

    watch.send_signal(signal.SIGTERM)
    assert watch.wait(timeout=20) == 0
    text = log.read_text()
    assert "SIGTERM: stopping after the current step" in text
    assert text.rstrip().endswith("stopped watching stack 'default'")
    assert "Traceback" not in text
