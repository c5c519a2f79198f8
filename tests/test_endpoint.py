"""Finding the engine as the docker CLI does: DOCKER_HOST, the context, the sockets."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pytest_clockwork.errors import EngineUnavailableError
from pytest_clockwork.runtimes.endpoint import Endpoint, candidates, connect


def docker_config(root: Path, current: str | None, contexts: dict[str, str]) -> dict[str, str]:
    """A Docker CLI configuration directory as `docker context create/use` leaves it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps({"currentContext": current} if current else {}))
    for name, host in contexts.items():
        meta = root / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
        meta.mkdir(parents=True)
        (meta / "meta.json").write_text(
            json.dumps({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host}}})
        )
    return {"DOCKER_CONFIG": str(root)}


@pytest.fixture
def no_engine_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "XDG_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return config


def test_docker_host_is_the_only_endpoint_tried(no_engine_settings: Path) -> None:
    found = candidates({"DOCKER_HOST": "tcp://docker:2375"})
    assert found == [Endpoint("tcp://docker:2375", "DOCKER_HOST")]


def test_the_current_context_comes_next(
    no_engine_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker_config(no_engine_settings, "colima", {"colima": "unix:///home/me/.colima/docker.sock"})
    assert candidates({}) == [
        Endpoint("unix:///home/me/.colima/docker.sock", "docker context colima")
    ]


def test_docker_context_wins_over_the_configured_one(no_engine_settings: Path) -> None:
    docker_config(
        no_engine_settings,
        "colima",
        {"colima": "unix:///c.sock", "remote": "ssh://me@build-box"},
    )
    (endpoint,) = candidates({"DOCKER_CONTEXT": "remote"})
    assert endpoint.url == "ssh://me@build-box" and endpoint.remote


def test_an_unknown_context_says_how_to_list_them(no_engine_settings: Path) -> None:
    docker_config(no_engine_settings, None, {})
    with pytest.raises(EngineUnavailableError, match="'nope'.*docker context ls"):
        candidates({"DOCKER_CONTEXT": "nope"})


def test_without_settings_the_default_socket_then_podman(no_engine_settings: Path) -> None:
    found = candidates({"XDG_RUNTIME_DIR": "/run/user/1000"})
    assert [endpoint.url for endpoint in found] == [
        "unix:///var/run/docker.sock",
        "unix:///run/user/1000/podman/podman.sock",
        "unix:///run/podman/podman.sock",
    ]


def test_where_published_ports_are_reached() -> None:
    assert Endpoint("unix:///var/run/docker.sock", "x").published_host({}) == "127.0.0.1"
    assert Endpoint("http://docker:2375", "x").published_host({}) == "docker"
    assert Endpoint("ssh://me@10.0.0.5", "x").published_host({}) == "10.0.0.5"
    assert not Endpoint("http://127.0.0.1:2375", "x").remote
    override = {"CW_DOCKER_HOST_OVERRIDE": "gateway.local"}
    assert Endpoint("http://docker:2375", "x").published_host(override) == "gateway.local"


def test_no_engine_lists_what_was_tried(no_engine_settings: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no.sock"
    with pytest.raises(EngineUnavailableError) as caught:
        connect({"DOCKER_HOST": f"unix://{missing}"})
    message = str(caught.value)
    assert f"unix://{missing} (DOCKER_HOST): no such socket" in message
    assert "point DOCKER_HOST at one" in message


@pytest.mark.docker
def test_connect_says_what_answered(no_engine_settings: Path) -> None:
    connection = connect({})
    assert connection.describe().startswith(("docker ", "podman "))
    assert connection.describe().endswith(f" at {connection.endpoint.url}")
