"""``clockwork update`` as a real process, over the real wire, onto a real kept stack.

The model is the local OpenAI-compatible test server (tests/support/fake_openai.py),
reached through pydantic-ai's OpenAI client with CW_BASE_URL and CW_API_KEY; ``--apply``
deploys with Docker (the local engine) and runs the assertion items.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork.state import StateStore
from tests.support.completion import clean_env
from tests.support.fake_openai import FakeOpenAI, serve
from tests.support.harness import CLOCKWORK, IMAGE, QUICK

CONFTEST = f'''\
"""A web server and a second container it is deployed next to."""
from pytest_clockwork import ContainerRunningAssert, DockerResource

IMAGE = "{IMAGE}"

web = DockerResource(
    image=IMAGE,
    ports=["80"],
    env_vars={{"MODE": "dev"}},  # the mode the app starts in
)

# only here to show it is left alone
other = DockerResource(
    image=IMAGE,
    assertions=[ContainerRunningAssert()],
)
'''

TEST = "def test_up(web, other):\n    pass\n"


def production(mode: str = "prod", replaces: int | None = None) -> dict[str, Any]:
    """The change set a model gives for "run web in production mode, and check it"."""
    return {
        "summary": "Run web in production mode, and check that it is.",
        "changes": [{"resource": "web", "field": "env_vars", "value": {"MODE": "prod"}}],
        "assertions": [
            {
                "resource": "web",
                "type": "CommandSucceedsAssert",
                "arguments": {"command": ["sh", "-c", f'test "$MODE" = {mode}'], "timeout": 2},
                "replaces": replaces,
            }
        ],
    }


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with serve(FakeOpenAI()) as server:
        yield server


def clockwork_update(
    project: Path, fake: FakeOpenAI, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``clockwork update args`` in a process of its own, asking the fake server."""
    environ = {
        **os.environ,
        **QUICK,
        "CW_BASE_URL": fake.url,
        "CW_API_KEY": "test-key",
        "CW_MODEL": "fake-model",
        **(env or {}),
    }
    return subprocess.run(
        [*CLOCKWORK, "update", *args, "--rootdir", str(project)],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def files(project: Path) -> dict[str, bytes]:
    """Every file of the project but clockwork's state and caches, with its content."""
    skipped = {".clockwork", "__pycache__", ".pytest_cache"}
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and not skipped & set(path.relative_to(project).parts)
    }


def container_ids(project: Path) -> dict[str, str]:
    state = StateStore(project, "default").read()
    return {
        key: str(record.outputs["container_id"])
        for key in ("web", "other")
        if (record := state.kept(key)) is not None
    }


def test_the_intent_goes_over_the_wire_and_the_diff_comes_back(
    pytester: pytest.Pytester, fake: FakeOpenAI
) -> None:
    (pytester.path / "conftest.py").write_text(CONFTEST)
    fake.script = [production()]

    done = clockwork_update(pytester.path, fake, "run web in production mode, and check it")

    assert done.returncode == 0, done.stderr
    assert '-    env_vars={"MODE": "dev"},  # the mode the app starts in' in done.stdout
    assert '+    env_vars={"MODE": "prod"},  # the mode the app starts in' in done.stdout
    assert (
        '+    assertions=[CommandSucceedsAssert(command=["sh", "-c", \'test "$MODE" = prod\'], '
        "timeout=2)],\n"
    ) in done.stdout
    assert "-from pytest_clockwork import ContainerRunningAssert, DockerResource\n" in done.stdout
    assert "+from pytest_clockwork import CommandSucceedsAssert, ContainerRunningAssert" in (
        done.stdout
    )
    assert "model fake-model" in done.stdout
    assert (pytester.path / "conftest.py").read_text() == CONFTEST
    (request,) = fake.requests
    assert fake.headers[0]["authorization"] == "Bearer test-key"
    assert request["model"] == "fake-model"
    assert "Intent: run web in production mode, and check it" in fake.prompts[0]


def test_an_unsafe_proposal_over_the_wire_is_sent_back_and_retried(
    pytester: pytest.Pytester, fake: FakeOpenAI
) -> None:
    (pytester.path / "conftest.py").write_text(CONFTEST)
    unsafe = {
        "summary": "Keep the mode in a file.",
        "new_resources": [
            {
                "name": "mode",
                "type": "FileResource",
                "fields": {"name": "mode", "directory": "/etc", "content": "prod\n"},
            }
        ],
        "assertions": [{"resource": "mode", "type": "FileExistsAssert"}],
    }
    fake.script = [unsafe, production()]

    done = clockwork_update(pytester.path, fake, "production mode", "--write")

    assert done.returncode == 0, done.stderr
    assert len(fake.requests) == 2
    assert "mode.directory = '/etc'" in fake.prompts[1]
    assert "outside the rootdir" in fake.prompts[1]
    assert "rejected proposal 1: mode.directory = '/etc'" in done.stdout
    text = (pytester.path / "conftest.py").read_text()
    assert 'env_vars={"MODE": "prod"},  # the mode the app starts in' in text
    assert "FileResource" not in text


@pytest.mark.docker
def test_apply_replaces_only_the_changed_container_and_runs_the_new_check(
    pytester: pytest.Pytester, fake: FakeOpenAI, leftovers: Any
) -> None:
    (pytester.path / "conftest.py").write_text(CONFTEST)
    pytester.makepyfile(test_up=TEST)
    kept = pytester.runpytest_subprocess("--clockwork-apply", "--clockwork-keep")
    assert kept.ret == 0
    before = container_ids(pytester.path)
    before_files = files(pytester.path)
    fake.script = [production()]

    done = clockwork_update(pytester.path, fake, "run web in production mode", "--apply")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "  replace web (its declaration changed)" in done.stdout
    assert "  reuse other" in done.stdout
    assert "  passed conftest.py::web.command_succeeds" in done.stdout
    assert "  passed conftest.py::other.container_running" in done.stdout
    assert "verified: 2 checks passed" in done.stdout
    after = container_ids(pytester.path)
    assert after["other"] == before["other"]
    assert after["web"] != before["web"]
    lock = json.loads((pytester.path / "clockwork.lock").read_text())
    assert lock["updates"][0]["intent"] == "run web in production mode"
    touched = {
        path for path, data in files(pytester.path).items() if before_files.get(path) != data
    }
    assert touched == {"conftest.py", "clockwork.lock"}

    fake.script = [production(mode="staging", replaces=1)]
    failed = clockwork_update(pytester.path, fake, "check web runs in staging", "--apply")

    assert failed.returncode == 1
    assert "  FAILED conftest.py::web.command_succeeds" in failed.stdout
    assert "verification failed: 1 of 2 checks failed" in failed.stdout
    assert container_ids(pytester.path)["web"] == after["web"]  # unchanged: reused

    subprocess.run(
        [*CLOCKWORK, "destroy", "--rootdir", str(pytester.path)], check=True, capture_output=True
    )
    assert leftovers()["containers"] == []


@pytest.mark.docker
def test_apply_removes_a_kept_resource_the_update_drops(
    pytester: pytest.Pytester, fake: FakeOpenAI, leftovers: Any, docker_client: Any
) -> None:
    (pytester.path / "conftest.py").write_text(CONFTEST)
    pytester.makepyfile(test_up=TEST)
    kept = pytester.runpytest_subprocess("--clockwork-apply", "--clockwork-keep")
    assert kept.ret == 0
    before = container_ids(pytester.path)
    fake.script = [{"summary": "Drop the other container.", "removals": ["other"]}]

    done = clockwork_update(pytester.path, fake, "we no longer need other", "--apply")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "  destroy other" in done.stdout
    assert "  reuse web" in done.stdout
    text = (pytester.path / "conftest.py").read_text()
    assert "other = DockerResource(" not in text
    assert "# only here to show it is left alone" not in text
    assert 'env_vars={"MODE": "dev"},  # the mode the app starts in' in text
    ids = {container.id for container in docker_client.containers.list(all=True)}
    assert before["other"] not in ids
    assert container_ids(pytester.path) == {"web": before["web"]}

    subprocess.run(
        [*CLOCKWORK, "destroy", "--rootdir", str(pytester.path)], check=True, capture_output=True
    )
    assert leftovers()["containers"] == []
