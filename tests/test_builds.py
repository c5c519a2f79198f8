"""Image builds without Docker: the ``build=`` declaration, its spec, the digest that
decides whether an image is built again, and the fingerprint a kept container is
compared by."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from pytest_clockwork import (
    AppleContainerResource,
    Build,
    DeclarationError,
    DockerResource,
    SpecContext,
)
from pytest_clockwork.notation import check_image
from pytest_clockwork.specs import ContainerSpec, spec_from_json

FROM = "FROM clockwork-test/busybox:latest\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A rootdir with ``api/``: a Dockerfile, a page, and a ``.dockerignore``d file."""
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text(FROM + "COPY . /www\n")
    (tmp_path / "api" / "index.html").write_text("hello\n")
    (tmp_path / "api" / "notes.txt").write_text("notes\n")
    (tmp_path / "api" / ".dockerignore").write_text("# local only\nnotes.txt\n*.log\n")
    return tmp_path


def spec_of(resource: DockerResource, root: Path, key: str = "api", **more: Any) -> ContainerSpec:
    spec = resource.spec(SpecContext(rootdir=root, key=key, **more))
    assert isinstance(spec, ContainerSpec)
    return spec


def digest(root: Path, **build: Any) -> str:
    build.setdefault("context", "api")
    spec = spec_of(DockerResource(build=Build(**build)), root)
    assert spec.build is not None
    return spec.build.digest


def test_a_directory_is_short_for_a_build_of_it() -> None:
    assert DockerResource(build="api").build == Build(context="api")
    assert Build(context="api") == Build(context="api", dockerfile="Dockerfile", args={})


def test_the_spec_has_the_build_normalised_and_a_tag_derived_from_its_content(
    root: Path,
) -> None:
    spec = spec_of(DockerResource(build="api", ports=["80"]), root)

    assert spec.build is not None
    assert spec.build.context == str(root / "api")
    assert spec.build.dockerfile == "Dockerfile"
    assert spec.build.dockerfile_path == str(root / "api" / "Dockerfile")
    assert (spec.build.target, dict(spec.build.args)) == (None, {})
    assert spec.build.digest.startswith("sha256:") and len(spec.build.digest) == 71
    assert spec.image == f"clockwork/api:{spec.build.digest[7:19]}"
    # Whatever the resource is called, the derived tag is one Docker takes.
    odd = spec_of(DockerResource(name="My_API.v2", build="api"), root)
    assert odd.image.startswith("clockwork/my-api-v2:")
    assert check_image(odd.image) == odd.image


def test_image_names_the_built_image(root: Path) -> None:
    spec = spec_of(DockerResource(image="myapi:dev", build="api"), root)
    assert spec.image == "myapi:dev"
    assert spec.build is not None


def test_build_options_are_kept_and_numbers_become_text(root: Path) -> None:
    (root / "api" / "Dockerfile.test").write_text(FROM.strip() + " AS base\nFROM base AS Test\n")
    build = Build(context="api", dockerfile="./Dockerfile.test", target="test", args={"N": 3})
    spec = spec_of(DockerResource(build=build), root)

    assert spec.build is not None
    assert spec.build.dockerfile == "Dockerfile.test"
    assert spec.build.target == "test"  # Docker's stage names are not case-sensitive
    assert dict(spec.build.args) == {"N": "3"}


def test_the_digest_follows_what_the_build_sees(root: Path) -> None:
    first = digest(root)
    assert digest(root) == first

    (root / "api" / "notes.txt").write_text("changed\n")  # .dockerignore'd
    (root / "api" / "debug.log").write_text("new\n")  # .dockerignore'd
    assert digest(root) == first

    (root / "api" / "index.html").write_text("hello again\n")
    second = digest(root)
    assert second != first

    (root / "api" / "index.html").chmod(0o600)  # COPY keeps modes
    third = digest(root)
    assert third != second

    (root / "api" / "static").mkdir()  # COPY . copies an empty directory too
    fourth = digest(root)
    assert fourth != third

    (root / "api" / "Dockerfile").write_text(FROM + "COPY . /srv\n")
    fifth = digest(root)
    assert fifth != fourth

    assert digest(root, args={"X": "1"}) != fifth
    assert digest(root, args={"X": "1"}) != digest(root, args={"X": "2"})
    (root / "api" / "Dockerfile").write_text(FROM.strip() + " AS base\nFROM base AS test\n")
    assert digest(root, target="test") != digest(root)

    (root / "api" / ".dockerignore").write_text("notes.txt\n")  # debug.log is sent now
    assert digest(root) != digest(root, target="test") != fifth


def test_a_session_reads_the_context_once_however_often_specs_are_made(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pytest_clockwork.buildcontext as buildcontext

    reads: list[Path] = []
    compute = buildcontext._compute
    monkeypatch.setattr(
        buildcontext,
        "_compute",
        lambda context, *rest: reads.append(context) or compute(context, *rest),
    )
    resource = DockerResource(build="api")
    memo: dict[Any, Any] = {}
    first = spec_of(resource, root, memo=memo)
    (root / "api" / "index.html").write_text("changed during the session\n")
    assert spec_of(resource, root, memo=memo) == first
    assert spec_of(DockerResource(name="other", build="api"), root, memo=memo).build == first.build
    assert reads == [root / "api"]

    later = spec_of(resource, root, memo={})  # another session reads it again
    assert later.build != first.build
    assert len(reads) == 2


def test_the_fingerprint_changes_with_the_code_and_not_otherwise(root: Path) -> None:
    resource = DockerResource(build="api", ports=["80"])
    before = spec_of(resource, root)
    assert spec_from_json(before.to_json()) == before
    assert spec_from_json(before.to_json()).fingerprint() == before.fingerprint()

    (root / "api" / "notes.txt").write_text("ignored\n")
    assert spec_of(resource, root).fingerprint() == before.fingerprint()
    (root / "api" / "index.html").write_text("new code\n")
    assert spec_of(resource, root).fingerprint() != before.fingerprint()


def test_a_container_that_builds_nothing_keeps_its_fingerprint(root: Path) -> None:
    spec = spec_of(DockerResource(image="busybox:1", ports=["80"]), root)
    assert "build" not in spec.to_json()
    assert spec_from_json(spec.to_json()) == spec


def test_a_built_image_is_never_completed_by_a_model() -> None:
    resource = DockerResource(description="the API", build="api")
    assert "image" not in resource.missing_fields()
    assert resource.missing_fields() == ["ports", "env_vars"]


@pytest.mark.parametrize(
    ("build", "says"),
    [
        ({"context": ""}, "context=''"),
        ({"context": "api", "dockerfile": "../Dockerfile"}, "outside the context"),
        ({"context": "api", "dockerfile": "/srv/Dockerfile"}, "outside the context"),
        ({"context": "api", "dockerfile": ""}, "relative to the context"),
        ({"context": "api", "args": {"APP-VERSION": "1"}}, "ARG names"),
        ({"context": "api", "args": {"1X": "1"}}, "ARG names"),
        ({"context": "api", "args": {"TOKEN": SecretStr("s3cret")}}, "no place for a secret"),
        ({"context": "api", "target": "my stage"}, "name a stage"),
        ({"contxt": "api"}, "did you mean context="),
    ],
)
def test_a_bad_build_is_refused_when_declared(build: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says) as info:
        Build(**build)
    assert "s3cret" not in str(info.value)


def test_what_cannot_be_built_is_refused_when_declared() -> None:
    with pytest.raises(ValidationError, match="or build=... to build it from your Dockerfile"):
        DockerResource(ports=["80"])
    with pytest.raises(ValidationError, match="AppleContainerResource does not build images"):
        AppleContainerResource(build="api")
    with pytest.raises(ValidationError, match="a tag, not a digest"):
        DockerResource(image="myapi@sha256:" + "a" * 64, build="api")


@pytest.mark.parametrize(
    ("build", "says"),
    [
        (Build(context="nowhere"), "the build context {root}/nowhere does not exist"),
        (Build(context="api/index.html"), "is not a directory"),
        (Build(context="api", dockerfile="Dockerfile.test"), "no Dockerfile at {root}/api/"),
        (Build(context="api", dockerfile="outside"), "leads outside the context"),
        (Build(context="api", target="test"), "target='test' is no stage of"),
    ],
)
def test_a_build_that_does_not_fit_the_rootdir_is_an_error_naming_the_resource(
    root: Path, build: Build, says: str
) -> None:
    (root / "elsewhere").write_text(FROM)
    (root / "api" / "outside").symlink_to(root / "elsewhere")
    with pytest.raises(DeclarationError) as info:
        spec_of(DockerResource(build=build), root, key="web")
    assert str(info.value).startswith("resource 'web': build: ")
    assert says.format(root=root) in str(info.value)
    assert info.value.resource == "web"


def test_only_the_builds_a_session_needs_are_read(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        api = DockerResource(build="api", ports=["80"])  # no api/ here
        notes = FileResource(name="notes.txt", content="x")
        """
    )
    pytester.makepyfile(
        test_x="""
        def test_notes(notes):
            assert notes.read_text() == "x"

        def test_api(api):
            pass
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-k", "notes")
    result.assert_outcomes(passed=1, deselected=1)

    result = pytester.runpytest("--clockwork-apply", "-k", "api")
    result.assert_outcomes(errors=1, deselected=1)
    result.stdout.fnmatch_lines(["*resource 'api': build: the build context */api does not exist*"])
