"""The Pulumi engine on an engine other than the default socket, under Pulumi's mocks.

The program creates the Docker resources through an explicit pulumi-docker provider for
the engine that the lookup found (tcp, ssh, a context, Podman's socket), publishes free
ports on all interfaces of a remote engine's host, and refuses what cannot work there
before anything is deployed: as the local engine does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_clockwork import DockerResource, SpecContext
from pytest_clockwork.engines.base import Task
from pytest_clockwork.engines.pulumi.args import Entry, Facts
from pytest_clockwork.engines.pulumi.entries import settle
from pytest_clockwork.errors import DeploymentError
from pytest_clockwork.runtimes.endpoint import Endpoint
from pytest_clockwork.state import ResourceRecord
from tests.support.pulumi_doubles import (
    CONTAINER,
    IMAGE,
    NETWORK,
    PROVIDER,
    ROOT,
    SESSION,
    VOLUME,
    FakePulumi,
    PulumiMocks,
)
from tests.support.pulumi_engine import deploy, engine_for

TCP = Endpoint("tcp://10.213.0.2:2375", "DOCKER_HOST")


def web_entry(publish_address: str = "127.0.0.1", resource: DockerResource | None = None) -> Entry:
    resource = resource or DockerResource(
        image="busybox", ports=["80", "8443:443"], volumes=["cache:/cache"]
    )
    spec = resource.spec(SpecContext(rootdir=ROOT, key="web"))
    facts = Facts(
        session="s1",
        container_name="web-s1",
        host_ports={"80/tcp": 32001, "443/tcp": 8443},
        networks={"backend": "backend-s1"},
        volumes=("cache",),
        publish_address=publish_address,
    )
    return Entry(spec=spec, facts=facts)


@pytest.fixture
def mocks() -> PulumiMocks:
    return PulumiMocks()


@pytest.fixture
def no_engine_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CW_DOCKER_HOST_OVERRIDE", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


def provided_by(mocks: PulumiMocks, name: str) -> str:
    """The name of the provider resource ``name`` is created with ('' for the default)."""
    provider = mocks.declared[name].provider  # urn:pulumi:STACK::PROJECT::TYPE::NAME::ID
    return provider.split("::")[-2] if provider else ""


def test_a_remote_engine_gets_a_provider_of_its_own_and_ports_on_all_interfaces(
    mocks: PulumiMocks,
) -> None:
    exports = mocks.declare([web_entry("0.0.0.0")], host="10.213.0.2", engine=TCP)

    (provider,) = mocks.names(PROVIDER)
    assert mocks.declared[provider].inputs == {"host": "tcp://10.213.0.2:2375"}
    for name in ("web@s1", "web@s1-image", "network:backend-s1", "volume:cache"):
        assert provided_by(mocks, name) == provider, name
    assert {mocks.declared[name].type for name in mocks.declared} == {
        PROVIDER,
        CONTAINER,
        IMAGE,
        NETWORK,
        VOLUME,
    }
    assert mocks.declared["web@s1"].inputs["ports"] == [
        {"internal": 80, "external": 32001, "protocol": "tcp", "ip": "0.0.0.0"},
        {"internal": 443, "external": 8443, "protocol": "tcp"},  # pinned: as Docker does
    ]
    assert exports["web@s1"]["host"] == "10.213.0.2"


def test_an_engine_over_ssh_is_the_providers_host_and_never_prompts(mocks: PulumiMocks) -> None:
    over_ssh = Endpoint("ssh://me@build-box", "docker context box")
    mocks.declare([web_entry("0.0.0.0")], engine=over_ssh)

    (provider,) = mocks.names(PROVIDER)
    inputs = mocks.declared[provider].inputs
    assert inputs["host"] == "ssh://me@build-box"
    assert json.loads(inputs["sshOpts"]) == ["-o", "BatchMode=yes"]  # provider config: JSON


def test_tls_certificates_go_to_the_provider_as_their_directory(
    mocks: PulumiMocks, tmp_path: Path
) -> None:
    from docker.tls import TLSConfig

    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (certs / name).write_text("(a PEM file)")
    tls = TLSConfig(
        client_cert=(str(certs / "cert.pem"), str(certs / "key.pem")),
        ca_cert=str(certs / "ca.pem"),
        verify=True,
    )
    mocks.declare([web_entry("0.0.0.0")], engine=Endpoint("tcp://docker:2376", "DOCKER_HOST", tls))

    (provider,) = mocks.names(PROVIDER)
    assert mocks.declared[provider].inputs == {
        "host": "tcp://docker:2376",
        "certPath": str(certs),
    }


@pytest.mark.parametrize(
    "engine", [None, Endpoint("unix:///var/run/docker.sock", "the default socket")]
)
def test_the_default_socket_is_left_to_the_default_provider(
    mocks: PulumiMocks, engine: Endpoint | None
) -> None:
    mocks.declare([web_entry()], engine=engine)

    assert mocks.names(PROVIDER) == []
    assert all(not item.provider for item in mocks.declared.values())
    assert mocks.declared["web@s1"].inputs["ports"][0]["ip"] == "127.0.0.1"


def test_an_image_only_looked_up_is_looked_up_on_that_engine(mocks: PulumiMocks) -> None:
    resource = DockerResource(image="app:1", pull="never")
    mocks.declare([web_entry("0.0.0.0", resource)], engine=TCP)

    assert [token for token, _ in mocks.calls] == ["docker:index/getRemoteImage:getRemoteImage"]
    (provider,) = mocks.names(PROVIDER)
    assert mocks.call_providers[0].split("::")[-2] == provider


def container_task(resource: DockerResource) -> Task:
    spec = resource.spec(SpecContext(rootdir=ROOT, key="web"))
    return Task(spec, resource, ResourceRecord(key="web", session="s1", kind="container"))


def settled(resource: DockerResource) -> Facts:
    (entry,) = settle(
        [container_task(resource)],
        [],
        SESSION,
        volume_exists=lambda name: True,
        external_network=lambda name: False,
    )
    return entry.facts


def test_settling_publishes_where_the_engine_is(
    no_engine_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource = DockerResource(image="busybox", ports=["80"])
    assert settled(resource).publish_address == "127.0.0.1"
    monkeypatch.setenv("DOCKER_HOST", "ssh://cw-remote-engine")
    assert settled(resource).publish_address == "0.0.0.0"
    # Noted in the record: any later program declares the same ports.
    assert Facts.from_json(settled(resource).to_json()).publish_address == "0.0.0.0"
    # Records noted before remote engines were known publish on the loopback.
    assert Facts.from_json('{"session": "s0"}').publish_address == "127.0.0.1"


def test_a_bind_mount_on_a_remote_engine_is_refused_before_anything_is_deployed(
    no_engine_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://docker:2375")
    resource = DockerResource(image="busybox", volumes=["./www:/www"])

    with pytest.raises(DeploymentError) as caught:
        settled(resource)

    assert caught.value.resource == "web"
    assert str(caught.value).startswith(
        "resource 'web' cannot run on the Docker engine at tcp://docker:2375 (DOCKER_HOST), "
        f"which is on another host: volumes.0 would mount {ROOT / 'www'} from that host's "
        "filesystem"
    )


def test_the_engine_deploys_through_the_provider_of_the_engine_found(
    no_engine_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.213.0.2:2375")
    fake = FakePulumi()
    engine = engine_for(tmp_path / "project", fake)

    failures = deploy(engine, DockerResource(name="web", image="busybox", ports=["80"]))

    assert failures == {}
    stack = fake.stack
    assert stack.held["clockwork-docker"].inputs == {"host": "tcp://10.213.0.2:2375"}
    assert stack.held["web@s1"].inputs["ports"][0]["ip"] == "0.0.0.0"
