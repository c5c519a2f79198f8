"""The examples run as a new user runs them (from a copy, so the tree stays clean)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork.state import root_id
from tests.support.harness import ROOT, clockwork_objects


def _run_example(name: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    copy = tmp_path / name
    shutil.copytree(ROOT / "examples" / name, copy)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(copy), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_quickstart(tmp_path: Path) -> None:
    done = _run_example("quickstart", tmp_path, "--clockwork-apply")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout
    assert not (tmp_path / "quickstart" / "build").exists()


def test_quickstart_without_apply_says_how(tmp_path: Path) -> None:
    done = _run_example("quickstart", tmp_path)
    assert done.returncode == 1
    assert "is not deployed in stack 'default': run pytest with --clockwork-apply" in done.stdout


@pytest.mark.docker
def test_docker_web(tmp_path: Path, docker_client: Any) -> None:
    done = _run_example("docker-web", tmp_path, "--clockwork-apply")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout
    assert clockwork_objects(docker_client, tmp_path / "docker-web") == {
        "containers": [],
        "networks": [],
    }
    assert not (tmp_path / "docker-web" / "build").exists()


@pytest.mark.docker
def test_compose_app(tmp_path: Path, docker_client: Any) -> None:
    done = _run_example("compose-app", tmp_path, "--clockwork-apply")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    assert clockwork_objects(docker_client, tmp_path / "compose-app") == {
        "containers": [],
        "networks": [],
    }
    assert not [v for v in docker_client.volumes.list() if v.name == "app-data"]
    # what stays is web's built image, as a cache (clockwork destroy --images removes it)
    label = f"clockwork.root={root_id(tmp_path / 'compose-app')}"
    for image in docker_client.images.list(filters={"label": label}):
        docker_client.images.remove(image.id, force=True)


@pytest.mark.parametrize("name", ["quickstart", "docker-web", "compose-app"])
def test_plan(tmp_path: Path, name: str) -> None:
    done = _run_example(name, tmp_path, "--clockwork-plan")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clockwork plan for stack 'default'" in done.stdout
