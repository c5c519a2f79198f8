"""Image builds through the Pulumi engine: pulumi-docker's ``Image`` (built locally, never
pushed) and the container using it, under Pulumi's mocks and through the stack double."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork import Build, DockerResource, FileResource, SpecContext
from pytest_clockwork.engines.pulumi.args import Entry, Facts
from pytest_clockwork.specs import ContainerSpec
from tests.support.pulumi_doubles import CONTAINER, FakePulumi, PulumiMocks
from tests.support.pulumi_engine import deploy, engine_for, keep

BUILT_IMAGE = "docker:index/image:Image"
FROM = "FROM clockwork-test/busybox:latest\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text(FROM + "COPY . /www\n")
    (tmp_path / "api" / "Dockerfile.test").write_text(FROM.strip() + " AS test\nARG X\n")
    (tmp_path / "api" / "index.html").write_text("v1\n")
    return tmp_path


def spec_of(resource: DockerResource, root: Path, key: str = "api") -> ContainerSpec:
    spec = resource.spec(SpecContext(rootdir=root, key=key))
    assert isinstance(spec, ContainerSpec)
    return spec


def entry(spec: ContainerSpec) -> Entry:
    facts = Facts(session="s1", container_name=f"{spec.name}-s1", host_ports={"80/tcp": 32001})
    return Entry(spec=spec, facts=facts)


def test_a_built_image_is_a_pulumi_docker_image_the_container_runs(root: Path) -> None:
    build = Build(context="api", dockerfile="Dockerfile.test", target="test", args={"X": "1"})
    spec = spec_of(DockerResource(build=build, ports=["80"]), root)
    mocks = PulumiMocks()
    mocks.declare([entry(spec)])

    image = mocks.declared["api@s1-image"]
    assert image.type == BUILT_IMAGE
    assert image.inputs == {
        "imageName": spec.image,
        "build": {
            "context": str(root / "api"),
            "dockerfile": str(root / "api" / "Dockerfile.test"),
            "target": "test",
            "args": {"X": "1"},
        },
        "skipPush": True,
        "buildOnPreview": False,
    }
    container = mocks.declared["api@s1"]
    assert container.type == CONTAINER
    assert container.inputs["image"] == spec.image
    assert mocks.depends_on("api@s1") == {"api@s1-image"}


def test_a_plain_build_and_a_named_image(root: Path) -> None:
    spec = spec_of(DockerResource(image="myapi:dev", build="api", ports=["80"]), root)
    mocks = PulumiMocks()
    mocks.declare([entry(spec)])

    image = mocks.declared["api@s1-image"].inputs
    assert image["imageName"] == "myapi:dev"
    assert image["build"] == {
        "context": str(root / "api"),
        "dockerfile": str(root / "api" / "Dockerfile"),
    }
    assert mocks.declared["api@s1"].inputs["image"] == "myapi:dev"


def test_changed_code_gives_the_container_another_image(root: Path) -> None:
    resource = DockerResource(build="api", ports=["80"])
    before = spec_of(resource, root)
    (root / "api" / "index.html").write_text("v2\n")
    after = spec_of(resource, root)

    images: list[Any] = []
    for spec in (before, after):
        mocks = PulumiMocks()
        mocks.declare([entry(spec)])
        images.append(mocks.declared["api@s1"].inputs["image"])
    # Pulumi replaces a container whose image input changed.
    assert images[0] != images[1]
    assert images == [before.image, after.image]


def test_a_kept_built_container_is_declared_again_unchanged_from_the_state(root: Path) -> None:
    fake = FakePulumi()
    first = engine_for(root, fake, session="old")
    assert deploy(first, DockerResource(name="api", build="api", ports=["80"])) == {}
    keep(first, "api")
    held = fake.stack.held["api@old-image"]
    assert held.type == BUILT_IMAGE

    later = engine_for(root, fake, session="new")
    assert deploy(later, FileResource(name="other.txt", content="o")) == {}

    # The kept image and container were declared again from the recorded spec: same inputs.
    assert {"api@old-image", "api@old"} <= set(fake.stack.changes[-1]["same"])
