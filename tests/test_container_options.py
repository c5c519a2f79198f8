"""Container options and actions without Docker: the declared notations, the one normalised
spec, what the state records of it, drift, and actions through a runtime's interface."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr, ValidationError

from pytest_clockwork import (
    AppleContainerResource,
    DeploymentError,
    DockerResource,
    ExecResult,
    FileResource,
    NotDeployedError,
)
from pytest_clockwork.reconcile.drift import container_drift, declaration_drift
from pytest_clockwork.runtimes import use_runtime
from pytest_clockwork.runtimes.base import Action, ContainerRuntime, Observed
from pytest_clockwork.specs import ContainerFileSpec, ContainerSpec, SpecContext, spec_from_json

ROOT = Path("/project")
MIB = 1024 * 1024

WITH_EVERYTHING: dict[str, Any] = {
    "tmpfs": ["/scratch", "/fast:size=64m,mode=1777,noexec"],
    "mem_limit": "1.5g",
    "cpus": "0.5",
    "shm_size": 64 * MIB,
    "cap_add": ["net_admin", "CAP_SYS_PTRACE"],
    "cap_drop": ["ALL"],
    "extra_hosts": ["host.docker.internal:host-gateway", "db.test=10.0.0.7"],
    "platform": "linux/arm64/v8",
    "pull": "never",
    "files": {
        "/etc/app.conf": "a=1\n",
        "/opt/app/run.sh": FileResource(content="#!/bin/sh\n", mode="755"),
        "/etc/secret.txt": SecretStr("s3cr3t"),
    },
}


def spec_of(resource: DockerResource, key: str = "web") -> ContainerSpec:
    return resource.spec(SpecContext(rootdir=ROOT, key=key))


def test_options_are_normalised_once_into_the_spec() -> None:
    spec = spec_of(DockerResource(image="app:1", **WITH_EVERYTHING))

    assert spec.tmpfs == {"/scratch": "", "/fast": "size=64m,mode=1777,noexec"}
    assert (spec.mem_limit, spec.cpus, spec.shm_size) == (1536 * MIB, 0.5, 64 * MIB)
    assert spec.cap_add == ("CAP_NET_ADMIN", "CAP_SYS_PTRACE") and spec.cap_drop == ("ALL",)
    assert spec.extra_hosts == {"host.docker.internal": "host-gateway", "db.test": "10.0.0.7"}
    assert (spec.platform, spec.pull) == ("linux/arm64/v8", "never")
    assert spec.files == (
        ContainerFileSpec("/etc/app.conf", "a=1\n", mode=0o644),
        ContainerFileSpec("/opt/app/run.sh", "#!/bin/sh\n", mode=0o755),
        ContainerFileSpec("/etc/secret.txt", "s3cr3t", mode=0o644),
    )
    assert [item.content for item in spec.files] == ["a=1\n", "#!/bin/sh\n", "s3cr3t"]


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("256m", 256 * MIB),
        ("256M", 256 * MIB),
        ("256mb", 256 * MIB),
        ("256MiB", 256 * MIB),
        ("1g", 1024 * MIB),
        ("1.5g", 1536 * MIB),
        ("64 m", 64 * MIB),
        ("7000000", 7000000),
        ("8192k", 8 * MIB),
        (10 * MIB, 10 * MIB),
    ],
)
def test_sizes_are_read_as_docker_reads_them(text: str | int, size: int) -> None:
    assert DockerResource(image="x", mem_limit=text, shm_size=text).mem_limit == size
    assert spec_of(DockerResource(image="x", shm_size=text)).shm_size == size


def test_files_take_secret_references_and_the_state_never_holds_their_content() -> None:
    resource = DockerResource(image="x", files={"/run/pw": "pw=${secret:db.env_vars.PW}"})
    context = SpecContext(rootdir=ROOT, key="web", secret=lambda name: f"<{name}>")

    spec = resource.spec(context)

    assert spec.files[0].content == "pw=<db.env_vars.PW>"
    recorded = json.dumps(spec.to_json())
    assert "<db.env_vars.PW>" not in recorded and spec.files[0].digest in recorded


def test_a_spec_with_options_survives_the_state_with_its_fingerprint() -> None:
    spec = spec_of(DockerResource(image="app:1", **WITH_EVERYTHING))

    rebuilt = spec_from_json(json.loads(json.dumps(spec.to_json())))

    assert rebuilt == spec and rebuilt.fingerprint() == spec.fingerprint()
    assert isinstance(rebuilt, ContainerSpec)
    assert [item.content for item in rebuilt.files] == ["", "", ""]  # digests only
    assert "s3cr3t" not in json.dumps(spec.to_json())


def test_a_container_without_options_keeps_the_fingerprint_recorded_before_them() -> None:
    spec = spec_of(DockerResource(image="app:1", ports=["80"]))

    data = spec.to_json()

    assert not set(ContainerSpec.OPTIONS) & set(data)  # as records written before them
    assert spec_from_json(data).fingerprint() == spec.fingerprint()
    changed = spec_of(DockerResource(image="app:1", ports=["80"], mem_limit="1g"))
    assert changed.fingerprint() != spec.fingerprint()


def test_the_reconciler_sees_no_drift_in_options_no_runtime_reports() -> None:
    spec = spec_of(DockerResource(image="app:1", ports=["80"], **WITH_EVERYTHING))
    # All Docker's runtime reports of a container (its `sees`): none of the options.
    seen = Observed("running", "none", "app:1", {}, {"80/tcp": 32001}, None)

    assert container_drift(spec, seen, {"80/tcp": 32001}) == []
    recorded = json.loads(json.dumps(spec.to_json()))
    assert declaration_drift(spec.to_json(), recorded) == []
    edited = spec_of(DockerResource(image="app:1", ports=["80"], **{**WITH_EVERYTHING, "cpus": 2}))
    (drift,) = declaration_drift(edited.to_json(), recorded)
    assert "cpus (0.5 → 2.0)" in drift.message


def test_restart_is_the_policy_where_declared_and_the_action_on_the_value() -> None:
    web = DockerResource(name="web", image="x", restart="always", description="d")

    assert web.restart_policy == "always"
    assert spec_of(web).restart == "always"
    assert callable(web.restart)
    assert web.context()["restart"] == "always"  # what a model is shown, as declared
    with pytest.raises(ValidationError, match="did you mean restart="):
        DockerResource(image="x", restar="always")  # type: ignore[call-arg]


def test_a_completed_container_keeps_its_policy_and_options() -> None:
    from pytest_clockwork.completion.rebuild import rebuild

    declared = DockerResource(name="web", description="a web server", restart="always", cpus=1)

    completed = rebuild(declared, {"image": "nginx:alpine"})

    assert (completed.restart_policy, completed.cpus, completed.image) == (
        "always",
        1.0,
        "nginx:alpine",
    )


def test_apple_containers_take_none_of_dockers_options() -> None:
    with pytest.raises(ValidationError, match="AppleContainerResource has no field 'tmpfs'"):
        AppleContainerResource(image="x", tmpfs=["/scratch"])  # type: ignore[call-arg]


def test_an_action_on_the_declaration_says_to_use_the_fixture() -> None:
    web = DockerResource(name="web", image="x")

    for act in (web.stop, web.start, web.restart, web.pause, web.unpause):
        with pytest.raises(NotDeployedError, match="declaration, not a deployed resource"):
            act()
    with pytest.raises(NotDeployedError, match="use the fixture 'web'"):
        web.exec("true")


class Recorder(ContainerRuntime):
    """A runtime that records what it is asked, and moves host ports on each restart."""

    name: ClassVar[str] = "docker"
    sees: ClassVar[frozenset[str]] = frozenset({"status", "ports"})
    actions: ClassVar[frozenset[Action]] = frozenset({"stop", "start", "restart"})

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.port = 32001
        self.status = "running"

    def start(
        self,
        spec: ContainerSpec,
        *,
        name: str,
        labels: Mapping[str, str],
        networks: Mapping[str, list[str]],
    ) -> str:
        raise AssertionError("not deployed here")

    def observe(self, container_id: str) -> Observed | None:
        return Observed(self.status, "none", None, None, {"80/tcp": self.port}, None)

    def listens(self, seen: Observed, port: int, host_port: int) -> str | None:
        return None

    def resume(self, container_id: str) -> None:
        raise AssertionError("not asked")

    def logs(self, container_id: str, tail: int | None = 100) -> str:
        return ""

    def execute(
        self,
        container_id: str,
        command: list[str],
        *,
        user: str | None = None,
        workdir: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> tuple[int, str]:
        self.calls.append(("exec", (container_id, command, user, workdir, env)))
        return 7, "out and err"

    def control(self, container_id: str, action: Action, *, timeout: float = 10) -> None:
        if action not in self.actions:
            super().control(container_id, action, timeout=timeout)
        self.calls.append((action, timeout))
        if action == "restart":
            self.port += 1

    def remove(self, container_id: str) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with use_runtime(Recorder()) as runtime:
        assert isinstance(runtime, Recorder)
        yield runtime


def deployed(recorded: list[dict[str, Any]]) -> DockerResource:
    declaration = DockerResource(name="web", image="x", ports=["80"])
    outputs = {
        "container_id": "c0ffee",
        "container_name": "web-s1",
        "host": "127.0.0.1",
        "ports": {"80/tcp": 32001},
        "runtime": "docker",
    }
    return declaration.deployed_copy(
        outputs, key="web", spec=spec_of(declaration), on_outputs=recorded.append
    )


def test_actions_go_through_the_runtime_the_outputs_name(recorder: Recorder) -> None:
    recorded: list[dict[str, Any]] = []
    web = deployed(recorded)

    assert web.exec("echo hi >&2", user="app", workdir="/srv", env={"A": "1"}) == ExecResult(
        7, "out and err"
    )
    assert web.exec(["ls", "-l"]).exit_code == 7
    web.stop(timeout=2.5)
    web.start()

    assert recorder.calls == [
        ("exec", ("c0ffee", ["sh", "-c", "echo hi >&2"], "app", "/srv", {"A": "1"})),
        ("exec", ("c0ffee", ["ls", "-l"], None, None, None)),
        ("stop", 2.5),
        ("start", 10.0),
    ]
    assert web.url(80) == "http://127.0.0.1:32001" and recorded == [
        {**web.outputs, "ports": {"80/tcp": 32001}}
    ]


def test_a_restart_takes_the_new_host_port_and_passes_it_on(recorder: Recorder) -> None:
    recorded: list[dict[str, Any]] = []
    web = deployed(recorded)

    web.restart()

    assert web.host_port(80) == 32002 and web.url(80) == "http://127.0.0.1:32002"
    assert recorded[-1]["ports"] == {"80/tcp": 32002}
    assert recorded[-1]["container_id"] == "c0ffee"


def test_what_a_runtime_cannot_do_is_an_error_naming_the_resource(recorder: Recorder) -> None:
    web = deployed([])

    with pytest.raises(DeploymentError) as info:
        web.pause()

    assert str(info.value) == (
        "resource 'web': the docker runtime cannot pause a container (it can: restart, start, stop)"
    )
    assert info.value.resource == "web"
