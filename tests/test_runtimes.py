"""Container runtimes behind one interface: each says what it can see, and is believed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar

import pytest

from pytest_clockwork import AppleContainerResource
from pytest_clockwork.reconcile.drift import container_drift
from pytest_clockwork.reconcile.evaluate import Evaluator
from pytest_clockwork.runtimes import runtime_for, use_runtime
from pytest_clockwork.runtimes.base import ContainerRuntime, Observed
from pytest_clockwork.runtimes.readiness import wait_until_ready
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
