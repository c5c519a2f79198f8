"""The Pulumi program, run under Pulumi's own unit-test mocks (no CLI, no engine).

For each built-in resource, composites, connections and custom resources: which Pulumi
resources are declared, with which inputs, parents and dependencies, and that the
exported outputs are the fixture values the local engine gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
import pytest

from pytest_clockwork import (
    AppleContainerResource,
    BlankResource,
    DockerResource,
    FileResource,
    GitRepoResource,
    Healthcheck,
    Resource,
    SpecContext,
)
from pytest_clockwork.engines.base import Task
from pytest_clockwork.engines.pulumi.args import Entry, Facts
from pytest_clockwork.engines.pulumi.entries import settle
from pytest_clockwork.engines.pulumi.program import Program
from pytest_clockwork.specs import Spec
from pytest_clockwork.state import ResourceRecord
from tests.support.pulumi_doubles import (
    CLONE,
    COMMAND,
    CONTAINER,
    DIRECTORY,
    FILE,
    GROUP,
    IMAGE,
    NETWORK,
    ROOT,
    SECRET_SIGNATURE,
    SESSION,
    VOLUME,
    PulumiMocks,
)


def spec_of(resource: Resource, key: str, rootdir: Path = ROOT) -> Any:
    return resource.spec(SpecContext(rootdir=rootdir, key=key))


def entry(spec: Spec, **facts: Any) -> Entry:
    return Entry(spec=spec, facts=Facts(session=facts.pop("session", "s1"), **facts))


@pytest.fixture
def mocks() -> PulumiMocks:
    return PulumiMocks()


def web_entry(**overrides: Any) -> Entry:
    resource = DockerResource(
        name="web",
        image="clockwork-test/busybox:latest",
        ports=["80", "8443:443", "127.0.0.1::53/udp"],
        env_vars={"MODE": "test", "A": "1"},
        volumes=["./www:/www:ro", "cache:/cache"],
        networks=["backend"],
        labels={"team": "qa"},
        command="httpd -f -p 80",
        entrypoint=["/bin/sh", "-c"],
        restart="on-failure",
        healthcheck=Healthcheck(test="wget -q -O- localhost", interval=1.5, start_period=90),
        user="nobody",
        working_dir="/www",
        init=True,
        privileged=True,
        start_timeout=30,
    )
    facts = {
        "container_name": "web-s1",
        "host_ports": {"80/tcp": 32001, "443/tcp": 8443, "53/udp": 32002},
        "networks": {"backend": "backend-s1"},
        "volumes": ("cache",),
        **overrides,
    }
    return entry(spec_of(resource, "web"), **facts)


def test_a_docker_container_is_an_image_and_a_container_with_every_setting(
    mocks: PulumiMocks,
) -> None:
    exports = mocks.declare([web_entry()])

    image = mocks.declared["web@s1-image"]
    assert image.type == IMAGE
    assert image.inputs == {"name": "clockwork-test/busybox:latest", "keepLocally": True}
    container = mocks.declared["web@s1"]
    assert container.type == CONTAINER
    inputs = container.inputs
    assert inputs["name"] == "web-s1"
    assert inputs["image"] == "clockwork-test/busybox:latest"
    assert inputs["envs"] == ["A=1", "MODE=test"]
    assert inputs["ports"] == [
        {"internal": 80, "external": 32001, "protocol": "tcp", "ip": "127.0.0.1"},
        {"internal": 443, "external": 8443, "protocol": "tcp"},
        {"internal": 53, "external": 32002, "protocol": "udp", "ip": "127.0.0.1"},
    ]
    assert inputs["volumes"] == [
        {"hostPath": str(ROOT / "www"), "containerPath": "/www", "readOnly": True},
        {"volumeName": "cache", "containerPath": "/cache", "readOnly": False},
    ]
    assert inputs["networksAdvanced"] == [{"name": "backend-s1", "aliases": ["web"]}]
    assert inputs["labels"] == [
        {"label": "clockwork.managed", "value": "true"},
        {"label": "clockwork.resource", "value": "web"},
        {"label": "clockwork.root", "value": "r00t"},
        {"label": "clockwork.session", "value": "s1"},
        {"label": "clockwork.stack", "value": "default"},
        {"label": "team", "value": "qa"},
    ]
    assert inputs["command"] == ["httpd", "-f", "-p", "80"]
    assert inputs["entrypoints"] == ["/bin/sh", "-c"]
    assert inputs["healthcheck"] == {
        "tests": ["CMD-SHELL", "wget -q -O- localhost"],
        "interval": "1.5s",
        "timeout": "3s",
        "retries": 3,
        "startPeriod": "1m30s",
    }
    assert (inputs["wait"], inputs["waitTimeout"]) == (True, 30)
    assert inputs["mustRun"] is True
    assert (inputs["restart"], inputs["user"], inputs["workingDir"]) == (
        "on-failure",
        "nobody",
        "/www",
    )
    assert (inputs["init"], inputs["privileged"]) == (True, True)
    # The network, the named volume and the bind-mount source are created first.
    assert mocks.declared["network:backend-s1"].inputs["name"] == "backend-s1"
    assert mocks.declared["volume:cache"].inputs["name"] == "cache"
    directory = mocks.declared["web@s1-dir-0"]
    assert (directory.type, directory.inputs["path"]) == (DIRECTORY, str(ROOT / "www"))
    assert mocks.depends_on("web@s1") == {
        "web@s1-image",
        "network:backend-s1",
        "volume:cache",
        "web@s1-dir-0",
    }
    assert exports == {
        "web@s1": {
            "container_id": "id-of-web@s1",
            "container_name": "web-s1",
            "host": "127.0.0.1",
            "ports": {"80/tcp": 32001, "443/tcp": 8443, "53/udp": 32002},
            "networks": {"backend": "backend-s1"},
            "runtime": "docker",
        }
    }


def test_a_plain_container_sets_only_what_it_was_given(mocks: PulumiMocks) -> None:
    spec = spec_of(DockerResource(image="busybox", must_run=False), "job")
    mocks.declare([entry(spec, container_name="job-s1")])

    inputs = mocks.declared["job@s1"].inputs
    assert inputs["mustRun"] is False
    for absent in ("command", "entrypoints", "restart", "user", "workingDir", "healthcheck"):
        assert absent not in inputs
    assert "wait" not in inputs
    assert mocks.names(NETWORK) == [] and mocks.names(VOLUME) == []


def test_outputs_use_the_docker_host_and_publish_no_ports_for_one_shot_containers(
    mocks: PulumiMocks,
) -> None:
    spec = spec_of(DockerResource(image="busybox", ports=["80"], must_run=False), "job")
    exports = mocks.declare(
        [entry(spec, container_name="job-s1", host_ports={"80/tcp": 32005})], host="10.0.0.5"
    )

    # As with the local engine: a container that need not run reports no ports.
    assert exports["job@s1"]["ports"] == {}
    assert exports["job@s1"]["host"] == "10.0.0.5"


def test_containers_on_one_network_share_a_single_network_resource(mocks: PulumiMocks) -> None:
    db = spec_of(DockerResource(image="postgres", name="db"), "db")
    api = spec_of(DockerResource(image="api", name="api"), "api")
    networks = {"clockwork": "clockwork-s1"}
    mocks.declare(
        [
            entry(db, container_name="db-s1", networks=networks),
            entry(api, container_name="api-s1", networks=networks, depends_on=("db",)),
        ]
    )

    assert mocks.names(NETWORK) == ["network:clockwork-s1"]
    network = mocks.declared["network:clockwork-s1"]
    # Shared by sessions: labelled with the stack, not with a session.
    assert {item["label"] for item in network.inputs["labels"]} == {
        "clockwork.managed",
        "clockwork.root",
        "clockwork.stack",
    }
    assert "network:clockwork-s1" in mocks.depends_on("db@s1")
    assert "network:clockwork-s1" in mocks.depends_on("api@s1")


def container_task(resource: DockerResource, key: str) -> Task:
    spec = spec_of(resource, key)
    record = ResourceRecord(key=key, session="s1", kind="container", spec=spec.to_json())
    return Task(spec, resource, record)


def test_a_users_own_network_is_joined_but_never_declared(mocks: PulumiMocks) -> None:
    asked: list[str] = []

    def external(name: str) -> bool:
        asked.append(name)
        return name == "users-net"

    web = DockerResource(name="web", image="busybox", networks=["users-net", "backend"])
    (settled,) = settle(
        [container_task(web, "web")],
        [],
        SESSION,
        volume_exists=lambda name: True,
        external_network=external,
    )

    assert asked == ["users-net", "backend"]
    facts = settled.facts
    assert facts.networks == {"users-net": "users-net", "backend": "backend-s1"}
    assert facts.external_networks == ("users-net",)
    assert facts.managed_networks == ("backend-s1",)
    assert Facts.from_json(facts.to_json()) == facts
    exports = mocks.declare([settled])
    # Only clockwork's own network is a Network resource (Pulumi would delete it after).
    assert mocks.names(NETWORK) == ["network:backend-s1"]
    assert mocks.depends_on("web@s1") == {"web@s1-image", "network:backend-s1"}
    assert mocks.declared["web@s1"].inputs["networksAdvanced"] == [
        {"name": "users-net", "aliases": ["web"]},
        {"name": "backend-s1", "aliases": ["web"]},
    ]
    assert exports["web@s1"]["networks"] == {"users-net": "users-net", "backend": "backend-s1"}


def test_the_implicit_network_and_a_gone_users_network_stay_clockworks(mocks: PulumiMocks) -> None:
    db = DockerResource(name="db", image="postgres")
    api = DockerResource(name="api", image="api", networks=["users-net"])
    kept = entry(
        spec_of(api, "api"),
        session="old",
        container_name="api-old",
        networks={"users-net": "users-net"},
        external_networks=("users-net",),
    )
    task = container_task(db, "db")
    task.links = ("api",)
    worker = container_task(DockerResource(name="worker", image="w", networks=["users-net"]), "w")

    # The user removed their network since the kept entry joined it; one called
    # "clockwork" exists, but connections never join it.
    new = settle(
        [task, worker],
        [kept],
        SESSION,
        volume_exists=lambda name: True,
        external_network=lambda name: name == "clockwork",
    )

    # Connected containers: clockwork's network of the session.
    assert new[0].facts.networks == {"clockwork": "clockwork-s1"}
    # A user's network is never adopted from another entry as if clockwork made it.
    assert new[1].facts.networks == {"users-net": "users-net-s1"}
    assert new[1].facts.external_networks == ()
    mocks.declare([kept, *new])
    assert sorted(mocks.names(NETWORK)) == ["network:clockwork-s1", "network:users-net-s1"]


def test_facts_of_old_records_have_no_external_networks() -> None:
    old = '{"session": "s0", "networks": {"backend": "backend-s0"}, "volumes": []}'

    facts = Facts.from_json(old)

    assert facts.external_networks == ()
    assert facts.managed_networks == ("backend-s0",)


def test_a_connection_becomes_depends_on(mocks: PulumiMocks) -> None:
    db = spec_of(DockerResource(image="postgres"), "db")
    seed = spec_of(FileResource(content="insert"), "seed")
    api = spec_of(DockerResource(image="api"), "api")
    mocks.declare(
        [
            entry(api, container_name="api-s1", depends_on=("db", "seed")),
            entry(db, container_name="db-s1"),
            entry(seed),
        ]
    )

    assert {"db@s1", "seed@s1"} <= mocks.depends_on("api@s1")
    assert mocks.depends_on("db@s1") == {"db@s1-image"}


def test_a_file_is_a_dynamic_resource_exporting_its_path(mocks: PulumiMocks) -> None:
    spec = spec_of(
        FileResource(name="notes.txt", content="hello", directory="scratch", mode="600"), "notes"
    )
    exports = mocks.declare([entry(spec)])

    file = mocks.declared["notes@s1"]
    assert file.type == FILE
    assert {
        name: file.inputs[name] for name in ("key", "path", "content", "mode", "overwrite")
    } == {
        "key": "notes",
        "path": str(ROOT / "scratch" / "notes.txt"),
        "content": "hello",
        "mode": 0o600,
        "overwrite": False,
    }
    assert exports == {"notes@s1": {"path": str(ROOT / "scratch" / "notes.txt")}}


def test_a_git_clone_is_a_dynamic_resource_exporting_its_path(mocks: PulumiMocks) -> None:
    spec = spec_of(
        GitRepoResource(repo_url="https://example.com/r.git", branch="main", dest="src/r"), "repo"
    )
    exports = mocks.declare([entry(spec)])

    clone = mocks.declared["repo@s1"]
    assert clone.type == CLONE
    assert {name: clone.inputs[name] for name in ("key", "repo_url", "dest", "branch")} == {
        "key": "repo",
        "repo_url": "https://example.com/r.git",
        "dest": str(ROOT / "src" / "r"),
        "branch": "main",
    }
    assert exports == {"repo@s1": {"path": str(ROOT / "src" / "r")}}


def test_an_apple_container_is_a_command_running_the_container_tool(mocks: PulumiMocks) -> None:
    spec = spec_of(
        AppleContainerResource(
            image="nginx", ports=["80"], env_vars={"A": "1"}, volumes=["./site:/site"]
        ),
        "web",
    )
    exports = mocks.declare(
        [entry(spec, container_name="web-s1", host_ports={"80/tcp": 32010})], host="10.0.0.5"
    )

    command = mocks.declared["web@s1"]
    assert command.type == COMMAND
    assert command.inputs["create"].startswith("container run --detach --name web-s1 --label ")
    assert (
        "--env A=1 --publish 32010:80/tcp --volume /srv/project/site:/site"
        in (command.inputs["create"])
    )
    assert command.inputs["create"].endswith(" nginx")
    assert command.inputs["delete"] == "container delete --force web-s1"
    assert mocks.names(IMAGE) == [] and mocks.names(CONTAINER) == []
    assert mocks.depends_on("web@s1") == {"web@s1-dir-0"}
    assert exports["web@s1"] == {
        "container_id": "web-s1",
        "container_name": "web-s1",
        "host": "127.0.0.1",
        "ports": {"80/tcp": 32010},
        "networks": {},
        "runtime": "apple",
    }


def test_a_group_is_a_component_parent_of_its_children(mocks: PulumiMocks) -> None:
    app = BlankResource(name="app").add(
        DockerResource(name="db", image="postgres"), FileResource(name="seed.sql", content="x")
    )
    group = spec_of(app, "app")
    db = spec_of(app.children["db"], "app.db")
    seed = spec_of(app.children["seed.sql"], "app.seed.sql")
    # Given children first, as a composite deploys after its children.
    exports = mocks.declare(
        [
            entry(db, parent="app", container_name="db-s1"),
            entry(seed, parent="app"),
            entry(group, depends_on=("app.db", "app.seed.sql")),
        ]
    )

    assert mocks.declared["app@s1"].type == GROUP
    for child in ("app.db@s1", "app.db@s1-image", "app.seed.sql@s1"):
        assert mocks.declared[child].parent_name == "app@s1"
    assert exports["app@s1"] == {}
    assert set(exports) == {"app@s1", "app.db@s1", "app.seed.sql@s1"}


def test_a_composite_connected_to_a_resource_depends_on_it(mocks: PulumiMocks) -> None:
    db = spec_of(DockerResource(image="postgres"), "db")
    app = BlankResource(name="app").add(DockerResource(name="api", image="api"))
    mocks.declare(
        [
            entry(db, container_name="db-s1"),
            entry(spec_of(app.children["api"], "app.api"), parent="app", depends_on=("db",)),
            entry(spec_of(app, "app"), depends_on=("app.api", "db")),
        ]
    )

    assert mocks.depends_on("app@s1") == {"db@s1"}
    assert "db@s1" in mocks.depends_on("app.api@s1")


def test_the_session_that_created_a_resource_names_and_labels_it(mocks: PulumiMocks) -> None:
    kept = web_entry(session="old", container_name="web-old")
    mocks.declare([kept])

    labels = {item["label"]: item["value"] for item in mocks.declared["web@old"].inputs["labels"]}
    assert labels["clockwork.session"] == "old"
    assert mocks.declared["web@old"].inputs["name"] == "web-old"


class Bucket(Resource):
    """A user's resource: a bucket made by a Pulumi resource of their choice."""

    region: str = "eu-west-1"

    def to_pulumi(self, context: SpecContext) -> dict[str, Any]:
        bucket = pulumi.CustomResource(
            "aws:s3/bucket:Bucket", f"{context.key}-bucket", {"region": self.region}
        )
        return {"bucket": bucket.id, "region": self.region, "key": context.key}


def test_a_custom_resource_declares_what_its_to_pulumi_makes(mocks: PulumiMocks) -> None:
    db = spec_of(DockerResource(image="postgres"), "db")
    exports = mocks.declare(
        [
            entry(db, container_name="db-s1"),
            entry(spec_of(Bucket(region="us-east-1"), "data"), depends_on=("db",)),
        ]
    )

    bucket = mocks.declared["data-bucket"]
    assert bucket.type == "aws:s3/bucket:Bucket"
    assert bucket.inputs == {"region": "us-east-1"}
    # Its connection holds for what to_pulumi() creates.
    assert mocks.depends_on("data-bucket") == {"db@s1"}
    assert mocks.depends_on("db@s1") == {"db@s1-image"}
    assert exports["data@s1"] == {
        "bucket": "id-of-data-bucket",
        "region": "us-east-1",
        "key": "data",
    }


def test_the_program_exports_every_entry_under_its_name(mocks: PulumiMocks) -> None:
    spec = spec_of(FileResource(content="x"), "notes")
    program = Program((entry(spec),), SESSION, "127.0.0.1")

    def body() -> Any:
        program()
        return pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]

    assert mocks.run(body) == {"notes@s1": {"path": str(ROOT / "notes")}}


def test_docker_run_options_and_files_map_onto_the_container_and_its_image(
    mocks: PulumiMocks,
) -> None:
    resource = DockerResource(
        image="app:1",
        tmpfs=["/scratch", "/fast:size=64m,mode=1777"],
        mem_limit="1g",
        cpus=1.5,
        shm_size="128m",
        cap_add=["NET_ADMIN"],
        cap_drop=["chown"],
        extra_hosts={"host.docker.internal": "host-gateway", "db.test": "10.0.0.7"},
        platform="linux/arm64",
        files={"/etc/app.conf": "a=1\n", "/opt/run.sh": FileResource(content="x", mode="755")},
    )
    mocks.declare([entry(spec_of(resource, "web"), container_name="web-s1")])

    image = mocks.declared["web@s1-image"].inputs
    assert image == {"name": "app:1", "keepLocally": True, "platform": "linux/arm64"}
    inputs = mocks.declared["web@s1"].inputs
    assert inputs["tmpfs"] == {"/scratch": "", "/fast": "size=64m,mode=1777"}
    assert (inputs["memory"], inputs["shmSize"], inputs["cpus"]) == (1024, 128, "1.5")
    assert inputs["capabilities"] == {"adds": ["CAP_NET_ADMIN"], "drops": ["CAP_CHOWN"]}
    assert inputs["hosts"] == [
        {"host": "db.test", "ip": "10.0.0.7"},
        {"host": "host.docker.internal", "ip": "host-gateway"},
    ]
    assert inputs["platform"] == "linux/arm64"
    # The files' content is Pulumi's secret (it may hold one).
    assert SECRET_SIGNATURE in inputs["uploads"].values()
    assert inputs["uploads"]["value"] == [
        {"file": "/etc/app.conf", "content": "a=1\n", "permissions": "0644"},
        {"file": "/opt/run.sh", "content": "x", "permissions": "0755"},
    ]
    assert mocks.declared["web@s1"].ignore_changes == []


def test_pull_never_looks_the_image_up_instead_of_declaring_a_pull(mocks: PulumiMocks) -> None:
    resource = DockerResource(image="app:1", pull="never")
    mocks.declare([entry(spec_of(resource, "web"), container_name="web-s1")])

    # No RemoteImage (which would pull an absent image): a lookup, which fails without it.
    assert mocks.names(IMAGE) == []
    assert mocks.calls == [("docker:index/getRemoteImage:getRemoteImage", {"name": "app:1"})]
    assert mocks.declared["web@s1"].inputs["image"] == "app:1"


def test_files_of_a_container_rebuilt_from_the_state_are_left_as_pulumi_has_them(
    mocks: PulumiMocks,
) -> None:
    from pytest_clockwork.specs import spec_from_json

    spec = spec_of(DockerResource(image="app:1", files={"/etc/app.conf": "a=1\n"}), "web")
    rebuilt = spec_from_json(spec.to_json())  # digests, not content

    mocks.declare([entry(rebuilt, session="old", container_name="web-old")])

    assert mocks.declared["web@old"].ignore_changes == ["uploads"]
