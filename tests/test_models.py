"""The resource models: fields, validation errors, composition, connections, specs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pytest_clockwork import (
    AppleContainerResource,
    Assertion,
    BlankResource,
    DeclarationError,
    DockerResource,
    FileResource,
    GitRepoResource,
    Healthcheck,
    NotDeployedError,
    Resource,
)
from pytest_clockwork.specs import ContainerSpec, FileSpec, GitSpec, GroupSpec, SpecContext

ROOT = Path("/project")


def ctx(key: str) -> SpecContext:
    return SpecContext(rootdir=ROOT, key=key)


def test_validation_errors_name_field_and_value() -> None:
    with pytest.raises(ValidationError) as info:
        DockerResource(name="web", image="x", ports=["notaport"])
    text = str(info.value)
    assert "ports.0" in text and "'notaport'" in text

    with pytest.raises(ValidationError, match="mode") as info:
        FileResource(name="a", content="x", mode="999")
    assert "'999'" in str(info.value)

    with pytest.raises(ValidationError, match="name") as info:
        DockerResource(name="has space", image="x")
    assert "'has space'" in str(info.value)

    with pytest.raises(ValidationError, match="volumes.0"):
        DockerResource(name="w", image="x", volumes=["./a:relative"])

    with pytest.raises(ValidationError, match="unknown_field"):
        DockerResource(name="w", image="x", unknown_field=1)  # type: ignore[call-arg]

    with pytest.raises(ValidationError, match="publish the same 80/tcp"):
        DockerResource(name="w", image="x", ports=["80", "8080:80"])


def test_required_fields_or_a_description() -> None:
    with pytest.raises(ValidationError, match="needs image=..., or a description"):
        DockerResource(name="w")
    with pytest.raises(ValidationError, match="needs content=..., or a description"):
        FileResource(name="a")
    with pytest.raises(ValidationError, match="needs repo_url"):
        GitRepoResource(name="r")
    DockerResource(description="a web server")  # the AI will choose the image


def test_needs_completion_only_with_a_description() -> None:
    plain = DockerResource(name="w", image="busybox")
    assert not plain.needs_completion() and plain.missing_fields() == []
    described = DockerResource(description="api", image="api:dev", ports=["8000"])
    assert described.missing_fields() == ["env_vars"]
    assert described.needs_completion()
    seed = FileResource(description="SQL that creates 3 users", directory="scratch")
    assert seed.missing_fields() == ["name", "content", "mode"]
    group = BlankResource(name="g").add(FileResource(name="f", description="notes"))
    assert group.missing_fields() == [] and group.needs_completion()


def test_container_spec_normalises_everything() -> None:
    web = DockerResource(
        name="web",
        image="nginx:alpine",
        ports=["80", "8443:443", "127.0.0.1::9000", "53/udp"],
        volumes=["./html:/usr/share/nginx/html:ro", "cache:/cache"],
        env_vars={"DEBUG": True, "WORKERS": 4},
        command="nginx -g 'daemon off;'",
        healthcheck=Healthcheck(test="wget -q -O- localhost", interval="2s", retries=5),
        labels={"team": "qa"},
    )
    spec = web.spec(ctx("web"))
    assert isinstance(spec, ContainerSpec)
    assert spec.name == "web" and spec.image == "nginx:alpine"
    assert [(p.container_port, p.protocol, p.host_port) for p in spec.ports] == [
        (80, "tcp", None),
        (443, "tcp", 8443),
        (9000, "tcp", None),
        (53, "udp", None),
    ]
    assert spec.volumes[0].source == "/project/html" and spec.volumes[0].read_only
    assert spec.volumes[1].source == "cache" and not spec.volumes[1].is_bind
    assert spec.env == {"DEBUG": "true", "WORKERS": "4"}
    assert spec.command == ("nginx", "-g", "daemon off;")
    assert spec.healthcheck is not None
    assert spec.healthcheck.test == ("CMD-SHELL", "wget -q -O- localhost")
    assert spec.healthcheck.interval == 2.0 and spec.healthcheck.retries == 5
    assert spec.fingerprint() == web.spec(ctx("web")).fingerprint()
    changed = web.model_copy(update={"env_vars": {"DEBUG": "false"}})
    assert changed.spec(ctx("web")).fingerprint() != spec.fingerprint()


def test_container_name_defaults_to_the_key() -> None:
    spec = DockerResource(image="x").spec(ctx("api"))
    assert isinstance(spec, ContainerSpec) and spec.name == "api"
    apple = AppleContainerResource(image="x").spec(ctx("mac"))
    assert isinstance(apple, ContainerSpec) and apple.runtime == "apple"


def test_file_spec_paths_are_relative_to_rootdir() -> None:
    spec = FileResource(name="n.txt", content="hi", directory="scratch", mode="600").spec(ctx("n"))
    assert isinstance(spec, FileSpec)
    assert spec.path == ROOT / "scratch" / "n.txt" and spec.mode == 0o600
    by_path = FileResource(content="x", path="out/a.txt", directory="ignored").spec(ctx("a"))
    assert isinstance(by_path, FileSpec) and by_path.path == ROOT / "out" / "a.txt"
    default = FileResource(content="x").spec(ctx("notes"))
    assert isinstance(default, FileSpec)
    assert default.path == ROOT / "notes" and default.mode == 0o644
    assert FileResource(content="x", mode="755").mode == "0755"


def test_git_spec() -> None:
    spec = GitRepoResource(repo_url="../upstream.git", branch="main").spec(ctx("repo"))
    assert isinstance(spec, GitSpec)
    assert spec.repo_url == "/upstream.git" and spec.dest == ROOT / "repo"
    remote = GitRepoResource(repo_url="https://example.com/x.git", dest="vendor/x")
    remote_spec = remote.spec(ctx("x"))
    assert isinstance(remote_spec, GitSpec)
    assert remote_spec.repo_url == "https://example.com/x.git"
    assert remote_spec.dest == ROOT / "vendor" / "x"


def test_composition() -> None:
    db = DockerResource(name="db", image="postgres")
    cache = DockerResource(name="cache", image="redis")
    app = BlankResource(name="app")
    assert app.add(db, cache) is app
    assert list(app.children) == ["db", "cache"]
    assert app.children["db"] is db and db.parent is app
    assert db.key == "app.db"
    with pytest.raises(TypeError):
        app.children["x"] = db  # type: ignore[index]
    with pytest.raises(DeclarationError, match="already has a child named 'db'"):
        app.add(DockerResource(name="db", image="other"))
    with pytest.raises(DeclarationError, match="needs a name"):
        app.add(FileResource(content="x"))
    with pytest.raises(DeclarationError, match="already a child of"):
        BlankResource(name="other").add(db)
    assert isinstance(app.spec(ctx("app")), GroupSpec)
    assert [r.key for r in app.walk()] == ["app", "app.db", "app.cache"]


def test_connections() -> None:
    db = DockerResource(name="db", image="postgres")
    api = DockerResource(name="api", image="api")
    assert api.connect(db) is api
    api.connect(db)
    assert api.connections == (db,)
    with pytest.raises(DeclarationError, match="cannot connect to itself"):
        api.connect(api)
    assert db.context() == {"name": "db", "image": "postgres", "type": "DockerResource"}


def test_declarations_are_not_deployed_resources() -> None:
    web = DockerResource(image="x", ports=["80"])
    web._key = "web"
    with pytest.raises(NotDeployedError, match="use the fixture 'web'"):
        web.url(80)
    deployed = web.deployed_copy(
        {
            "container_id": "c1",
            "container_name": "web-1",
            "host": "127.0.0.1",
            "ports": {"80/tcp": 32000},
        },
        key="web",
    )
    assert deployed.url(80) == "http://127.0.0.1:32000"
    assert deployed.host_port("80/tcp") == 32000
    with pytest.raises(KeyError, match="does not publish port 81/tcp"):
        deployed.host_port(81)


def test_users_subclass_resource_and_assertion() -> None:
    class Bucket(Resource):
        region: str = "eu"

    class Always(Assertion):
        def check(self, resource: Resource) -> None:
            assert resource.name == "b"

    bucket = Bucket(name="b", assertions=[Always()])
    spec = bucket.spec(ctx("b"))
    assert spec.kind == "custom" and spec.to_json()["settings"]["region"] == "eu"
    assert bucket.assertions[0].label == "always"
    with pytest.raises(NotImplementedError, match="implement create"):
        bucket.create(ctx("b"))
