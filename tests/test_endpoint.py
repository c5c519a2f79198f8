"""Finding the engine as the docker CLI does: DOCKER_HOST, the context, the sockets."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork.errors import EngineUnavailableError
from pytest_clockwork.runtimes import endpoint
from pytest_clockwork.runtimes.endpoint import (
    ROOTFUL_PODMAN_SOCKET as ROOTFUL,
)
from pytest_clockwork.runtimes.endpoint import (
    Connection,
    Endpoint,
    candidates,
    connect,
    locate,
)
from pytest_clockwork.runtimes.sshdial import ssh_command


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


def test_an_address_without_a_scheme_is_tcp_as_for_the_docker_cli(no_engine_settings: Path) -> None:
    (found,) = candidates({"DOCKER_HOST": "docker:2375"})
    assert found == Endpoint("tcp://docker:2375", "DOCKER_HOST")
    assert found.remote and found.published_host({}) == "docker"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("/var/run/docker.sock", "a socket's path is written unix:///var/run/docker.sock"),
        ("tcp://docker:port", "Port could not be cast"),
        ("ftp://docker", "Invalid bind address protocol"),
        ("ssh://", "no host"),
    ],
)
def test_a_docker_host_that_is_no_address_says_what_to_write(
    no_engine_settings: Path, value: str, why: str
) -> None:
    with pytest.raises(EngineUnavailableError) as caught:
        candidates({"DOCKER_HOST": value})
    message = str(caught.value)
    assert message.startswith(f"DOCKER_HOST={value!r} is not the address of a container engine (")
    assert why in message
    assert message.endswith(
        "): use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]"
    )


def test_a_context_whose_host_is_no_address_is_named(no_engine_settings: Path) -> None:
    docker_config(no_engine_settings, "broken", {"broken": "ftp://box"})
    with pytest.raises(EngineUnavailableError, match="^docker context broken: host='ftp://box' "):
        candidates({})


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


def test_where_ports_are_published() -> None:
    local = Endpoint("unix:///var/run/docker.sock", "the default socket")
    remote = Endpoint("tcp://docker:2375", "DOCKER_HOST")
    assert local.bind_address({}) == "127.0.0.1"
    assert remote.bind_address({}) == "0.0.0.0"  # its loopback is out of reach from here
    # A local engine whose ports tests reach at another address (tests in a container).
    assert local.bind_address({"CW_DOCKER_HOST_OVERRIDE": "host.docker.internal"}) == "0.0.0.0"
    assert local.bind_address({"CW_DOCKER_HOST_OVERRIDE": "localhost"}) == "127.0.0.1"
    assert not Endpoint("tcp://localhost:2375", "DOCKER_HOST").remote
    assert not Endpoint("unix:///run/podman/podman.sock", "Podman's socket").remote


def test_the_report_says_how_the_engine_was_found_and_where_ports_are_reached() -> None:
    remote = Connection(None, Endpoint("tcp://docker:2375", "DOCKER_HOST"), "docker", "24.0.7")
    assert remote.report({}) == (
        "docker 24.0.7 at tcp://docker:2375 (DOCKER_HOST; ports reached at docker)"
    )
    local = Connection(None, Endpoint(ROOTFUL, "Podman's socket"), "podman", "4.3.1")
    assert local.report({}) == f"podman 4.3.1 at {ROOTFUL} (Podman's socket)"


def test_the_first_default_socket_that_exists_is_where_the_engine_is(
    no_engine_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(endpoint, "DEFAULT_SOCKET", f"unix://{tmp_path / 'no-docker.sock'}")
    rootless = tmp_path / "podman" / "podman.sock"
    rootless.parent.mkdir()
    rootless.touch()
    found = locate({"XDG_RUNTIME_DIR": str(tmp_path)})
    assert found == Endpoint(f"unix://{rootless}", "Podman's socket (rootless)")


def test_every_default_that_does_not_answer_is_listed_with_why(
    no_engine_settings: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-docker.sock"
    monkeypatch.setattr(endpoint, "DEFAULT_SOCKET", f"unix://{missing}")
    monkeypatch.setattr(endpoint, "ROOTFUL_PODMAN_SOCKET", f"unix://{tmp_path / 'no-podman'}")
    (tmp_path / "podman").mkdir()
    rootless = tmp_path / "podman" / "podman.sock"
    with not_http(rootless), pytest.raises(EngineUnavailableError) as caught:
        connect({"XDG_RUNTIME_DIR": str(tmp_path)})
    message = str(caught.value)
    tried = message.split("tried ", 1)[1].split("; ")
    assert tried[0] == f"unix://{missing} (the default socket): no such socket"
    assert tried[1].startswith(
        f"unix://{tmp_path}/podman/podman.sock (Podman's socket (rootless)): "
    )
    assert tried[2].startswith(f"unix://{tmp_path}/no-podman (Podman's socket): no such socket")
    assert "Start Docker or Podman" in message


@contextlib.contextmanager
def not_http(path: Path) -> Iterator[None]:
    """A Unix socket that accepts connections and closes them (no engine behind it)."""
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        stop = threading.Event()

        def serve() -> None:
            server.settimeout(0.1)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    server.accept()[0].close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def test_a_context_over_ssh_is_reached_through_the_ssh_client(no_engine_settings: Path) -> None:
    docker_config(no_engine_settings, "box", {"box": "ssh://me@build-box:2222"})
    (found,) = candidates({})
    assert ssh_command(found.url) == [
        "ssh", "-T", "-o", "BatchMode=yes", "-l", "me", "-p", "2222",
        "--", "build-box", "docker", "system", "dial-stdio",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "url", ["ssh://box/var/run/docker.sock", "ssh://me:secret@box", "ssh://", "tcp://box"]
)
def test_an_ssh_address_is_user_host_and_port_only(url: str) -> None:
    with pytest.raises(ValueError, match="ssh://"):
        ssh_command(url)


def test_a_bad_ssh_address_says_what_to_write(no_engine_settings: Path) -> None:
    with pytest.raises(
        EngineUnavailableError,
        match=r"DOCKER_HOST='ssh://box/path' .*no path allowed.*ssh://\[USER@\]HOST\[:PORT\]",
    ):
        connect({"DOCKER_HOST": "ssh://box/path"})


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs the ssh client")
def test_ssh_failing_says_why(no_engine_settings: Path) -> None:
    with pytest.raises(EngineUnavailableError) as caught:
        connect({"DOCKER_HOST": "ssh://nobody@no-such-host.invalid"})
    message = str(caught.value)
    assert "ssh://nobody@no-such-host.invalid (DOCKER_HOST)" in message
    assert "exited with status 255" in message
    assert "no-such-host.invalid" in message.split("exited with status 255", 1)[1]


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs the ssh client")
def test_ports_of_an_engine_over_ssh_are_reached_at_the_host_ssh_connects_to() -> None:
    assert Endpoint("ssh://me@10.0.0.5:2222", "x").published_host({}) == "10.0.0.5"


# -- the report header ----------------------------------------------------------------------

DOCKER_WEB = 'web = DockerResource(image=IMAGE, ports=["80"])\n'


@pytest.mark.docker
def test_the_header_says_what_answered_and_where(pytester: pytest.Pytester, declare: Any) -> None:
    declare(DOCKER_WEB)
    pytester.makepyfile(test_x="def test_x(web):\n    pass\n")
    result = pytester.runpytest("--collect-only")
    result.stdout.re_match_lines(
        [
            r"clockwork: engine local .*, 1 resource declared; "
            r"containers: (docker|podman) \d+\.\S+ at (unix|tcp|ssh)://\S+ \(.+\)$"
        ]
    )


def test_without_an_engine_the_header_lists_what_was_tried(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = pytester.path / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    declare(DOCKER_WEB)
    pytester.makepyfile(test_x="def test_x(web):\n    pass\n")
    result = pytester.runpytest("--collect-only")
    result.stdout.fnmatch_lines(
        [
            "clockwork: engine local *, 1 resource declared; containers: no container engine "
            f"answers; tried unix://{socket_path} (DOCKER_HOST): no such socket. Start Docker*"
        ]
    )


def test_a_suite_without_containers_never_asks_for_an_engine(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://an-engine-nobody-may-ask.invalid:2375")
    declare('notes = FileResource(name="notes.txt", content="x")\n')
    pytester.makeconftest(
        (pytester.path / "conftest.py").read_text() + "\nimport sys\n\n"
        "def pytest_terminal_summary(terminalreporter):\n"
        "    terminalreporter.write_line(f'docker imported: {\"docker\" in sys.modules}')\n"
    )
    pytester.makepyfile(test_x="def test_x(notes):\n    assert notes.read_text() == 'x'\n")
    result = pytester.runpytest_subprocess("--clockwork-apply", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["clockwork: engine local *, 1 resource declared", "*"])
    assert "containers:" not in result.stdout.str()
    result.stdout.fnmatch_lines(["docker imported: False"])
