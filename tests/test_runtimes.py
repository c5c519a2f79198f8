"""Container runtimes behind one interface: each says what it can see, and is believed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import pytest

from pytest_clockwork import AppleContainerResource
from pytest_clockwork.errors import DeploymentError
from pytest_clockwork.reconcile.drift import container_drift
from pytest_clockwork.reconcile.evaluate import Evaluator
from pytest_clockwork.runtimes import runtime_for, use_runtime
from pytest_clockwork.runtimes.base import ContainerRuntime, Observed
from pytest_clockwork.runtimes.dockerd import DockerRuntime
from pytest_clockwork.runtimes.ports import on_link
from pytest_clockwork.runtimes.readiness import STEADY, wait_until_ready
from pytest_clockwork.specs import ContainerSpec, SpecContext
from pytest_clockwork.state import ResourceRecord


class StatusOnly(ContainerRuntime):
    """A runtime shaped like Apple's: its ``inspect`` tells the status, nothing else."""

    name: ClassVar[str] = "apple"

    def __init__(self) -> None:
        self.status = "running"
        self.resumed: list[str] = []

    def start(
        self,
        spec: ContainerSpec,
        *,
        name: str,
        labels: Mapping[str, str],
        networks: Mapping[str, list[str]],
    ) -> str:
        return name

    def observe(self, container_id: str) -> Observed | None:
        return Observed(self.status, None, None, None, None, None)

    def resume(self, container_id: str) -> None:
        self.resumed.append(container_id)
        self.status = "running"

    def logs(self, container_id: str, tail: int | None = 100) -> str:
        return ""

    def execute(self, container_id: str, command: list[str]) -> tuple[int, str]:
        return 0, ""

    def remove(self, container_id: str) -> None:
        pass


@pytest.fixture
def status_only() -> Iterator[StatusOnly]:
    with use_runtime(StatusOnly()) as runtime:
        assert isinstance(runtime, StatusOnly)
        yield runtime


def apple_spec() -> ContainerSpec:
    resource = AppleContainerResource(
        image="web:1", env_vars={"MODE": "prod", "DB_PASSWORD": "pw"}, ports=["80"]
    )
    return resource.spec(SpecContext(rootdir=Path("/srv"), key="web"))


def test_a_healthy_container_is_not_drifted_by_what_its_runtime_cannot_see(
    status_only: StatusOnly,
) -> None:
    spec = apple_spec()
    record = ResourceRecord(
        key="web",
        session="s",
        kind="container",
        status="ready",
        kept=True,
        spec=spec.to_json(),
        fingerprint=spec.fingerprint(),
        outputs={"container_id": "web-s", "runtime": "apple", "ports": {"80/tcp": 8080}},
    )

    evaluation = Evaluator(assertions=False).evaluate(record, None)

    assert evaluation.drifts == []
    status_only.status = "exited"
    (stopped,) = Evaluator(assertions=False).evaluate(record, None).drifts
    assert stopped.what == "stopped" and stopped.fix == "start"


def test_drift_compares_only_what_is_seen() -> None:
    spec = apple_spec()
    unseen = Observed("running", None, None, None, None, None)
    assert container_drift(spec, unseen, {"80/tcp": 8080}) == []
    seen = Observed("running", "healthy", "web:2", {"MODE": "dev"}, {}, None)
    assert {drift.what for drift in container_drift(spec, seen, {})} == {"image", "env", "port"}


def test_ready_without_ports_it_cannot_see(status_only: StatusOnly) -> None:
    assert wait_until_ready(status_only, apple_spec(), "web-s") == {}


def test_runtimes_say_what_they_can_do() -> None:
    docker, apple = runtime_for("docker"), runtime_for("apple")
    assert docker.sees >= {"image", "env", "ports"} and docker.makes_networks
    assert apple.sees == {"status"} and not apple.makes_networks
    assert apple.command_line(
        apple_spec(), name="web-s", labels={}, host_ports={"80/tcp": 8080}, networks=[]
    )[:3] == ["container", "run", "--detach"]
    assert (
        docker.command_line(apple_spec(), name="x", labels={}, host_ports={}, networks=[]) is None
    )
    with pytest.raises(ValueError, match="no container runtime is called 'podmn'"):
        runtime_for("podmn")


class ExitsAtOnce(StatusOnly):
    """Still "running" when first looked at, exited (code 1) from then on."""

    def __init__(self) -> None:
        super().__init__()
        self.looks = 0

    def observe(self, container_id: str) -> Observed | None:
        self.looks += 1
        if self.looks == 1:
            return Observed("running", None, None, None, None, None)
        return Observed("exited", None, None, None, None, 1)


def test_a_container_that_exits_at_once_is_not_ready_though_first_seen_running() -> None:
    spec = ContainerSpec(key="job", image="busybox", command=("false",))
    with (
        use_runtime(ExitsAtOnce()) as runtime,
        pytest.raises(DeploymentError, match="exited with code 1 instead of running"),
    ):
        wait_until_ready(runtime, spec, "job-s")


def test_a_container_with_nothing_to_probe_is_ready_once_it_keeps_running(
    status_only: StatusOnly,
) -> None:
    spec = ContainerSpec(key="job", image="busybox", command=("sleep", "60"))
    started = time.monotonic()
    assert wait_until_ready(status_only, spec, "job-s") == {}
    assert time.monotonic() - started >= STEADY


@pytest.fixture
def proxy_port() -> Iterator[int]:
    """A published port whose proxy accepts every connection and holds it open, as
    Docker's userland proxy can for a while when nothing listens behind it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def free_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_docker_asks_the_container_itself_so_a_lenient_proxy_does_not_fool_it(
    proxy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    runtime = DockerRuntime()
    nothing_there = free_local_port()
    seen = Observed("running", "none", "web:1", {}, {"80/tcp": proxy_port}, None, "127.0.0.1")

    assert runtime.listens(seen, nothing_there, proxy_port) == (
        "refuses connections: nothing listens on it"
    )
    assert runtime.listens(seen, proxy_port, proxy_port) is None


def test_docker_asks_through_the_published_port_when_containers_are_out_of_reach(
    proxy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    runtime = DockerRuntime()
    beyond_a_gateway = "198.51.100.7"  # TEST-NET-2: reached (if at all) through a router,
    # where a firewall's refusal would say nothing about the container
    seen = Observed("running", "none", "web:1", {}, {"80/tcp": proxy_port}, None, beyond_a_gateway)

    assert runtime.listens(seen, 80, proxy_port) is None  # the proxy's answer, believed


def test_on_link_reads_the_routing_table(tmp_path: Path) -> None:
    routes = tmp_path / "route"
    routes.write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
    )
    assert on_link("172.17.0.2", routes)  # docker0's 172.17.0.0/16
    assert not on_link("10.1.2.3", routes)  # only the default route, through a gateway
    assert on_link("127.0.0.1", routes)
    assert not on_link("fd00::2", routes)
    assert not on_link("172.17.0.2", tmp_path / "no-such-table")


def test_docker_asks_a_remote_engines_containers_only_through_the_published_port(
    proxy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A remote engine's container may have an address on a network of this machine too
    # (both hosts have a 172.17.0.0/16 docker0): asking it would ask a container here.
    monkeypatch.setenv("DOCKER_HOST", "tcp://remote-engine.invalid:2375")
    monkeypatch.setenv("CW_DOCKER_HOST_OVERRIDE", "127.0.0.1")  # where its ports are reached
    runtime = DockerRuntime()
    nothing_here = free_local_port()
    seen = Observed("running", "none", "web:1", {}, {"80/tcp": proxy_port}, None, "127.0.0.1")

    # Not "refuses connections" from this machine's 127.0.0.1:nothing_here: the published
    # port at the override answers.
    assert runtime.listens(seen, nothing_here, proxy_port) is None
    assert runtime.published_host() == "127.0.0.1"
