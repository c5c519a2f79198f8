"""The Pulumi engine in pytest sessions: the usage error, and whole runs with a double.

Without the Pulumi CLI, ``--clockwork-engine pulumi`` must stop the run at once. The
other inner sessions run the real plugin, Deployment and PulumiEngine; only the
Automation API is replaced (``PulumiEngine.automation``) by ``FakePulumi``, which runs
the engine's program under Pulumi's mocks and writes files through the real dynamic
provider. No ``pulumi`` executable is involved: CLI discovery is told where one would
be, and nothing ever runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

import pytest_clockwork.engines
from pytest_clockwork import DockerResource, SpecContext
from pytest_clockwork.engines.base import SessionInfo, Task
from pytest_clockwork.engines.local.engine import LocalEngine
from pytest_clockwork.engines.pulumi.engine import PulumiEngine
from pytest_clockwork.engines.pulumi.entries import settle
from pytest_clockwork.engines.pulumi.program import Declarer
from pytest_clockwork.state import ResourceRecord, StateStore, root_id
from tests.support.harness import without_pulumi
from tests.support.pulumi_doubles import FakePulumi, PulumiMocks

CONFTEST = """
from pytest_clockwork import BlankResource, FileResource

notes = FileResource(name="notes.txt", content="hello", directory="scratch")
app = BlankResource(name="app").add(FileResource(name="config.ini", content="[x]")).connect(notes)
"""

TESTS = """
from pathlib import Path


def test_files(notes, app):
    assert notes.read_text() == "hello"
    assert dict(notes.outputs) == {"path": str(Path.cwd() / "scratch" / "notes.txt")}
    assert app.children["config.ini"].read_text() == "[x]"
"""


def write(pytester: pytest.Pytester, conftest: str = CONFTEST, tests: str = TESTS) -> None:
    pytester.makeconftest(textwrap.dedent(conftest))
    pytester.makepyfile(test_files=textwrap.dedent(tests))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--clockwork-engine", "pulumi", "-p", "no:cacheprovider", *args)


def test_the_pulumi_engine_without_its_cli_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    without_pulumi(monkeypatch, tmp_path)
    write(pytester)

    result = run(pytester, "--clockwork-apply")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --clockwork-engine pulumi needs the Pulumi CLI, which is not installed: "
            "install it (curl -fsSL https://get.pulumi.com | sh, or brew install pulumi) and "
            "make sure `pulumi` is on PATH, or use --clockwork-engine local"
        ]
    )
    assert not (pytester.path / "scratch").exists()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakePulumi:
    """The Automation API double, and CLI discovery pointing at where a CLI would be."""
    fake = FakePulumi()
    monkeypatch.setattr(PulumiEngine, "automation", fake)
    monkeypatch.setattr(pytest_clockwork.engines, "pulumi_cli", lambda: "/opt/pulumi/bin/pulumi")
    return fake


def test_a_run_deploys_through_the_stack_and_destroys_it(
    pytester: pytest.Pytester, fake: FakePulumi
) -> None:
    write(pytester)

    result = run(pytester, "--clockwork-apply", "-v")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["clockwork: engine pulumi (chosen with --clockwork-engine pulumi (*))*"]
    )
    result.stdout.fnmatch_lines(["pulumi: Updating (default):"])  # streamed with -v
    assert fake.calls == ["up", "destroy", "remove_stack"]
    assert not (pytester.path / "scratch").exists()
    assert not (pytester.path / "config.ini").exists()
    state = StateStore(pytester.path, "default").read()
    assert state.records == {}


def test_a_kept_stack_is_reused_unchanged_then_destroyed(
    pytester: pytest.Pytester, fake: FakePulumi
) -> None:
    write(pytester)

    first = run(pytester, "--clockwork-apply", "--clockwork-keep")
    first.assert_outcomes(passed=1)
    assert fake.calls == ["up"]
    assert (pytester.path / "scratch" / "notes.txt").read_text() == "hello"

    # Another session adds a resource: the program keeps the kept ones as they were.
    pytester.makepyfile(test_more="def test_more(extra):\n    assert extra.read_text() == 'more'\n")
    pytester.makeconftest(
        textwrap.dedent(CONFTEST) + "extra = FileResource(name='extra.txt', content='more')\n"
    )
    second = run(pytester, "--clockwork-apply", "--clockwork-keep")
    second.assert_outcomes(passed=2)
    last = fake.stack.changes[-1]
    assert [name.split("@")[0] for name in last["create"]] == ["extra"]
    assert last["replace"] == [] and last["delete"] == []
    assert len(last["same"]) == 3

    destroyed = run(pytester, "--clockwork-destroy")

    assert destroyed.ret == pytest.ExitCode.OK
    assert fake.calls[-2:] == ["destroy", "remove_stack"]
    assert not (pytester.path / "scratch").exists()
    assert not (pytester.path / "extra.txt").exists()


def test_watch_corrects_a_kept_resource_of_a_pulumi_stack(
    pytester: pytest.Pytester, fake: FakePulumi
) -> None:
    from pytest_clockwork.reconcile.alerts import Alerter
    from pytest_clockwork.reconcile.loader import DeclarationSource
    from pytest_clockwork.reconcile.reconciler import Reconciler
    from pytest_clockwork.reconcile.safety import Safety, SafetyPolicy

    write(
        pytester,
        "from pytest_clockwork import FileResource\n"
        'notes = FileResource(name="notes.txt", content="hello", on_drift="auto_correct")\n',
        "def test_x(notes):\n    pass\n",
    )
    run(pytester, "--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    notes = pytester.path / "notes.txt"
    notes.unlink()  # drift: the kept file is gone
    watch = Reconciler(
        pytester.path,
        "default",
        declarations=DeclarationSource(pytester.path, "default", ["--clockwork-engine", "pulumi"]),
        alerter=Alerter(None),
        safety=Safety(SafetyPolicy()),
    )

    (handled,) = watch.step()

    assert handled.corrected is True, handled.action
    assert notes.read_text() == "hello"
    assert fake.calls[-3:] == ["destroy", "remove_stack", "up"]  # through the stack: out, in
    (record,) = StateStore(pytester.path, "default").read().records.values()
    assert record.kept and record.engine == "pulumi"
    run(pytester, "--clockwork-destroy")
    assert not notes.exists()


def test_a_failed_up_shows_pulumis_output_in_the_report(
    pytester: pytest.Pytester, fake: FakePulumi
) -> None:
    write(pytester)
    (pytester.path / "scratch").mkdir()
    (pytester.path / "scratch" / "notes.txt").write_text("the user's")

    result = run(pytester, "--clockwork-apply")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'notes' was not deployed: "
            "pulumi up of stack */default failed: error: resource 'notes'*",
            "(one Pulumi update was deploying notes, app.config.ini, app)",
            "--- last lines of Pulumi's output ---",
            "*already exists and clockwork did not create it*",
        ]
    )
    assert (pytester.path / "scratch" / "notes.txt").read_text() == "the user's"
    assert not (pytester.path / "config.ini").exists()
    assert StateStore(pytester.path, "default").read().records == {}


def test_plan_prints_pulumis_change_summary_and_deploys_nothing(
    pytester: pytest.Pytester, fake: FakePulumi
) -> None:
    write(pytester)

    result = run(pytester, "--clockwork-plan")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["pulumi preview:", "  3 to create"])
    assert fake.calls == ["preview", "remove_stack"]
    assert not (pytester.path / "scratch").exists()
    assert not (pytester.path / "config.ini").exists()
    # Pulumi's workspace is there, and ignored by git (as all of .clockwork).
    assert (pytester.path / ".clockwork" / "pulumi").is_dir()
    assert (pytester.path / ".clockwork" / ".gitignore").read_text().endswith("*\n")


# -- a container's outputs: the same shape from both engines -----------------------------


@pytest.mark.docker
def test_a_container_has_the_same_outputs_from_either_engine(
    tmp_path: Path, docker_client: Any
) -> None:
    resource = DockerResource(
        name="web", image="clockwork-test/busybox:latest", ports=["80"], networks=["cw"], init=True
    )
    info = SessionInfo(
        id=uuid.uuid4().hex[:8], stack="default", rootdir=tmp_path, root_id=root_id(tmp_path)
    )
    spec = resource.spec(SpecContext(rootdir=tmp_path, key="web"))
    record = ResourceRecord(key="web", session=info.id, kind="container", spec=spec.to_json())
    task = Task(spec, resource, record)
    local = LocalEngine(info, StateStore(tmp_path, "default"))
    try:
        from_local = local.create(task)
    finally:
        local.destroy(record)
        local.finish([record])
    (entry,) = settle([task], [], info, volume_exists=lambda name: True)
    exports = PulumiMocks().run(lambda: Declarer(info, "127.0.0.1").declare([entry]))
    from_pulumi = exports[entry.name]

    assert from_pulumi.keys() == from_local.keys()
    for key in ("container_name", "host", "networks", "runtime"):
        assert from_pulumi[key] == from_local[key]
    assert from_pulumi["ports"].keys() == from_local["ports"].keys() == {"80/tcp"}
    assert all(type(port) is int for port in [*from_pulumi["ports"].values()])
    assert isinstance(from_pulumi["container_id"], str)


# -- the example of a custom resource --------------------------------------------------------


def run_example(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``examples/pulumi-custom`` from a copy, as a new user would on a machine
    without the Pulumi CLI: its pytest.ini picks the engine (no ``CW_ENGINE``), and
    PATH, HOME and ``PULUMI_HOME`` hold no ``pulumi``."""
    copy = tmp_path / "pulumi-custom"
    shutil.copytree(Path(__file__).parents[1] / "examples" / "pulumi-custom", copy)
    nowhere = tmp_path / "no-pulumi"
    nowhere.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "CW_ENGINE"}
    env.update(PATH=str(nowhere), HOME=str(nowhere), PULUMI_HOME=str(nowhere))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(copy), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_the_custom_resource_example_plans_its_bucket(tmp_path: Path) -> None:
    done = run_example(tmp_path, "--clockwork-plan", "--clockwork-engine", "local")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "uploads (S3Bucket): create" in done.stdout
    assert not (tmp_path / "pulumi-custom" / "data").exists()


def test_the_custom_resource_example_asks_for_the_pulumi_cli(tmp_path: Path) -> None:
    done = run_example(tmp_path, "--clockwork-apply")

    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--clockwork-engine pulumi needs the Pulumi CLI" in done.stderr


def test_a_narrower_scope_asks_for_the_local_engine(
    pytester: pytest.Pytester, fake: FakePulumi
) -> None:
    write(
        pytester,
        'from pytest_clockwork import FileResource\n\nnotes = FileResource(content="x", '
        'scope="function")\n',
        "def test_notes(notes):\n    pass\n",
    )

    result = run(pytester, "--clockwork-apply")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*resource 'notes' has scope='function'*use --clockwork-engine local, or leave scope out"]
    )
    assert fake.calls == []
