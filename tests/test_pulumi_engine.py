"""The Pulumi engine's decisions, with a double of the Automation API that acts like a stack.

``FakePulumi`` (tests/support/pulumi_doubles.py) stands in for ``pulumi.automation``: each
``up`` runs the engine's program under Pulumi's unit-test mocks, then does what Pulumi
would with it: creates what is new, deletes what the program left out, replaces what
changed. File, directory and clone resources are really made by their dynamic providers,
so what a test sees on disk is what the program asked for.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from pytest_clockwork import (
    BlankResource,
    DeploymentError,
    DockerResource,
    FileResource,
    GitRepoResource,
)
from pytest_clockwork.engines.base import Task
from pytest_clockwork.engines.pulumi.args import Facts
from pytest_clockwork.engines.pulumi.entries import FACTS, facts_of
from pytest_clockwork.plan import Planner
from pytest_clockwork.state import ResourceRecord
from tests.support.completion import catalog
from tests.support.pulumi_doubles import FakePulumi, FakeStack
from tests.support.pulumi_engine import deploy, engine_for, keep, plan, records

SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
"""How Pulumi marks a secret value in the inputs it is sent."""


# -- fixtures (what Deployment does around the engine: tests/support/pulumi_engine.py) ------


@pytest.fixture
def fake() -> FakePulumi:
    return FakePulumi()


@pytest.fixture
def rootdir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "project"


# -- deploy --------------------------------------------------------------------------------


def test_deploy_fills_outputs_and_checks_readiness_in_level_order(
    rootdir: Path, fake: FakePulumi
) -> None:
    engine = engine_for(rootdir, fake)
    seed = FileResource(name="seed.sql", content="insert 1")
    notes = FileResource(name="notes.txt", content="read me").connect(seed)
    levels = plan(engine, notes)
    checked: list[str] = []

    failures = engine.deploy(levels, lambda task: checked.append(task.key))

    assert failures == {}
    assert checked == ["seed.sql", "notes.txt"]
    assert levels[1][0].outputs == {"path": str(rootdir / "notes.txt")}
    assert (rootdir / "notes.txt").read_text() == "read me"
    assert levels[1][0].record.seconds is not None
    assert fake.calls == ["up"]
    assert fake.entries() == ["seed.sql@s1", "notes.txt@s1"]


def test_what_the_stack_will_hold_is_noted_before_up(rootdir: Path, fake: FakePulumi) -> None:
    engine = engine_for(rootdir, fake)
    seen: dict[str, ResourceRecord] = {}
    fake.before_up = lambda stack: seen.update(records(engine))
    web = DockerResource(name="web", image="busybox", ports=["80", "8080:81"])
    levels = plan(engine, web)

    engine.deploy(levels, lambda task: None)

    # Another process can rebuild the same program from the state alone.
    noted = seen["web"].created
    facts = Facts.from_json(noted[FACTS][0])
    assert facts.container_name == "web-s1" == noted["containers"][0]
    assert facts.host_ports["81/tcp"] == 8080
    assert 1024 <= facts.host_ports["80/tcp"] <= 65535
    assert noted["pulumi-stacks"] == ["project/default"]
    # The outputs carry the ports chosen before up.
    assert levels[0][0].outputs["ports"] == dict(facts.host_ports)


def test_secrets_stay_out_of_the_state_and_a_rebuilt_container_is_left_as_it_is(
    rootdir: Path, fake: FakePulumi
) -> None:
    first = engine_for(rootdir, fake, session="old")
    web = DockerResource(name="web", image="busybox", env_vars={"DB_PASSWORD": "s3cr3t"})
    assert deploy(first, web) == {}
    keep(first, "web")
    created = fake.stack.held["web@old"]
    envs = created.inputs["envs"]  # Pulumi has the value, as a secret ...
    assert envs["value"] == ["DB_PASSWORD=s3cr3t"] and SECRET_SIGNATURE in envs.values()
    assert "s3cr3t" not in first.store.path.read_text()  # ... clockwork's state does not

    later = engine_for(rootdir, fake, session="new")
    assert deploy(later, FileResource(name="other.txt", content="o")) == {}

    # The kept container was declared again from the state (a digest for its secret) and
    # Pulumi was told to keep its environment as it has it: nothing was replaced.
    assert "web@old" in fake.stack.changes[-1]["same"]
    assert fake.stack.held["web@old"].outs == created.outs


def test_files_stay_out_of_the_state_and_a_rebuilt_container_keeps_them(
    rootdir: Path, fake: FakePulumi
) -> None:
    first = engine_for(rootdir, fake, session="old")
    web = DockerResource(name="web", image="busybox", files={"/etc/app.conf": "token=abc123"})
    assert deploy(first, web) == {}
    keep(first, "web")
    created = fake.stack.held["web@old"]
    uploads = created.inputs["uploads"]  # Pulumi has the content, as a secret ...
    assert uploads["value"][0]["content"] == "token=abc123"
    assert SECRET_SIGNATURE in uploads.values()
    assert "abc123" not in first.store.path.read_text()  # ... clockwork's state does not

    later = engine_for(rootdir, fake, session="new")
    assert deploy(later, FileResource(name="other.txt", content="o")) == {}

    # Declared again from its record (digests only), with Pulumi keeping its uploads.
    assert "web@old" in fake.stack.changes[-1]["same"]
    assert fake.stack.held["web@old"].outs == created.outs


def test_an_option_pulumi_docker_cannot_do_fails_before_up(rootdir: Path, fake: FakePulumi) -> None:
    engine = engine_for(rootdir, fake)

    failures = deploy(engine, DockerResource(name="web", image="busybox", pull="always"))

    assert "up" not in fake.calls and not fake.stacks  # no stack was even selected
    message = str(failures["web"])
    assert "pull='always'" in message and "use --clockwork-engine local" in message


def test_the_program_holds_the_stacks_live_records_and_the_new_tasks(
    rootdir: Path, fake: FakePulumi
) -> None:
    first = engine_for(rootdir, fake, session="old")
    deploy(
        first, FileResource(name="kept.txt", content="k"), FileResource(name="gone", content="g")
    )
    keep(first, "kept.txt")
    with first.store.transaction() as state:  # a record that never reached Pulumi
        state.put(ResourceRecord(key="never", session="dead", kind="file", engine="pulumi"))
    engine = engine_for(rootdir, fake, session="new")
    deploy(engine, FileResource(name="early", content="e"))
    # A failed deploy of this session: left out of later programs.
    (rootdir / "taken").write_text("the user's")
    assert "taken" in deploy(engine, FileResource(name="taken", content="t"))

    deploy(engine, FileResource(name="late", content="l"))

    assert set(fake.entries()) == {"kept.txt@old", "gone@old", "early@new", "late@new"}
    # Nothing that existed was replaced by being declared again from its record.
    assert all(not change["replace"] for change in fake.stack.changes)
    assert (rootdir / "taken").read_text() == "the user's"


def test_a_failed_up_fails_every_task_with_pulumis_output(rootdir: Path, fake: FakePulumi) -> None:
    engine = engine_for(rootdir, fake)
    lines: list[str] = []
    engine.output = lines.append
    (rootdir / "b.txt").parent.mkdir(parents=True)
    (rootdir / "b.txt").write_text("the user's")
    levels = plan(
        engine, FileResource(name="a.txt", content="a"), FileResource(name="b.txt", content="b")
    )

    failures = engine.deploy(levels, lambda task: None)

    assert set(failures) == {"a.txt", "b.txt"}
    error = failures["a.txt"]
    assert isinstance(error, DeploymentError) and error.resource == "a.txt"
    message = str(error)
    assert message.startswith(
        "resource 'a.txt' was not deployed: pulumi up of stack project/default failed: "
        "error: resource 'b.txt'"
    )
    assert "\n(one Pulumi update was deploying a.txt, b.txt)\n" in message
    assert "already exists and clockwork did not create it" in error.logs
    assert "--- last lines of Pulumi's output ---" in message
    assert all(record.status == "failed" for record in records(engine).values())
    assert any(line.startswith("pulumi: Updating") for line in lines)


def test_a_resource_that_is_not_ready_fails_with_what_depends_on_it(
    rootdir: Path, fake: FakePulumi
) -> None:
    engine = engine_for(rootdir, fake)
    db = FileResource(name="db", content="d")
    api = FileResource(name="api", content="a").connect(db)
    other = FileResource(name="other", content="o")
    levels = plan(engine, api, other)

    def ready(task: Task) -> None:
        if task.key == "db":
            raise DeploymentError("resource 'db' did not become ready", resource="db")

    failures = engine.deploy(levels, ready)

    assert set(failures) == {"db", "api"}
    assert "because 'db', which it needs, failed" in str(failures["api"])
    (other_task,) = [task for level in levels for task in level if task.key == "other"]
    assert other_task.outputs == {"path": str(rootdir / "other")}


def test_a_users_backend_without_a_passphrase_fails_the_tasks_not_the_session(
    rootdir: Path, fake: FakePulumi
) -> None:
    engine = engine_for(rootdir, fake, backend="s3://bucket")
    levels = plan(engine, FileResource(name="a", content="a"))

    failures = engine.deploy(levels, lambda task: None)

    assert isinstance(failures["a"], DeploymentError)
    assert "needs a passphrase" in str(failures["a"])
    assert fake.calls == []
    assert engine.destroy_all([[records(engine)["a"]]]) == {}  # never handed to Pulumi


# -- destroy ---------------------------------------------------------------------------------


def test_destroying_some_records_is_an_up_without_them(rootdir: Path, fake: FakePulumi) -> None:
    old = engine_for(rootdir, fake, session="old")
    deploy(old, FileResource(name="kept.txt", content="k"))
    keep(old, "kept.txt")
    engine = engine_for(rootdir, fake, session="new")
    deploy(engine, FileResource(name="mine.txt", content="m", directory="sub/dir"))
    assert (rootdir / "sub" / "dir" / "mine.txt").exists()

    mine = records(engine)["mine.txt"]
    assert engine.destroy_all([[mine]]) == {}

    assert fake.calls == ["up", "up", "up"]
    assert fake.entries() == ["kept.txt@old"]
    assert fake.stack.changes[-1]["delete"] == ["mine.txt@new"]
    assert fake.stack.changes[-1]["same"] == ["kept.txt@old"]
    assert not (rootdir / "sub").exists()
    assert (rootdir / "kept.txt").read_text() == "k"


def test_a_clone_is_really_cloned_and_destroying_it_removes_it_and_its_dirs(
    rootdir: Path, fake: FakePulumi, tmp_path: Path
) -> None:
    upstream = tmp_path / "upstream"
    subprocess.run(["git", "init", "-q", "-b", "main", str(upstream)], check=True)
    (upstream / "README").write_text("upstream\n")
    git = ["git", "-C", str(upstream), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    engine = engine_for(rootdir, fake)

    failures = deploy(
        engine, GitRepoResource(name="repo", repo_url=str(upstream), dest="work/clone")
    )

    assert failures == {}
    assert (rootdir / "work" / "clone" / "README").read_text() == "upstream\n"
    (record,) = records(engine).values()
    assert record.outputs == {"path": str(rootdir / "work" / "clone")}
    assert engine.alive(record)

    assert engine.destroy_all([[record]]) == {}
    assert not (rootdir / "work").exists()
    assert (upstream / "README").exists()


def test_destroying_the_last_records_destroys_and_removes_the_stack(
    rootdir: Path, fake: FakePulumi
) -> None:
    engine = engine_for(rootdir, fake)
    deploy(engine, BlankResource(name="app").add(FileResource(name="a", content="a")))
    work_dir = engine.config.work_dir
    assert work_dir.is_dir()

    failures = engine.destroy_all([[r] for r in records(engine).values()])

    assert failures == {}
    assert fake.calls == ["up", "destroy", "remove_stack"]
    assert fake.stacks == {}
    assert not (rootdir / "a").exists()
    assert not work_dir.exists()


def test_a_failed_destroy_keeps_the_records_with_the_reason(
    rootdir: Path, fake: FakePulumi
) -> None:
    engine = engine_for(rootdir, fake)
    deploy(engine, FileResource(name="a", content="a"), FileResource(name="b", content="b"))

    def broken(stack: FakeStack) -> None:
        raise auto.ConcurrentUpdateError(auto.CommandResult("", "locked", 255))

    fake.before_up = broken

    failures = engine.destroy_all([[records(engine)["a"]]])

    (failure,) = failures.values()
    assert "resource 'a' could not be destroyed: pulumi up of stack project/default failed" in (
        str(failure)
    )
    assert "its own --clockwork-stack" in str(failure)


# -- plan, alive -----------------------------------------------------------------------------


def test_preview_summarises_the_changes_and_counts_kept_resources_as_unchanged(
    rootdir: Path, fake: FakePulumi
) -> None:
    old = engine_for(rootdir, fake, session="old")
    deploy(old, FileResource(name="kept", content="k"))
    keep(old, "kept")
    engine = engine_for(rootdir, fake, session="new")
    declared = catalog(
        rootdir,
        {"kept": FileResource(name="kept", content="k"), "n": FileResource(name="n", content="n")},
    )
    decided = Planner(declared, engine.store, engine.session, "pulumi").plan(["kept", "n"])
    assert [step.action for step in decided] == ["reuse", "create"]

    summary = engine.preview(decided)

    assert summary == "1 to create, 1 unchanged"
    assert fake.calls == ["up", "preview"]
    assert not (rootdir / "n").exists()
    assert all(facts_of(r) is None or r.session == "old" for r in records(engine).values())


def test_alive_means_the_file_is_still_there(rootdir: Path, fake: FakePulumi) -> None:
    engine = engine_for(rootdir, fake)
    deploy(engine, FileResource(name="a", content="a"))
    record = records(engine)["a"]

    assert engine.alive(record)
    (rootdir / "a").unlink()
    assert not engine.alive(record)


@pytest.mark.docker
def test_alive_asks_docker_whether_the_container_runs(
    rootdir: Path, fake: FakePulumi, docker_client: Any
) -> None:
    engine = engine_for(rootdir, fake)
    container = docker_client.containers.run(
        "clockwork-test/busybox:latest", detach=True, init=True
    )
    record = ResourceRecord(
        key="web",
        session="s1",
        kind="container",
        engine="pulumi",
        outputs={"container_id": container.id, "runtime": "docker"},
    )
    try:
        assert engine.alive(record)
        container.remove(force=True)
        assert not engine.alive(record)
    finally:
        with contextlib.suppress(Exception):  # gone already, unless an assertion failed
            container.remove(force=True)
