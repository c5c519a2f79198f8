"""The plain pieces of the Pulumi engine: durations, facts, specs rebuilt from the state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pytest_clockwork import (
    AppleContainerResource,
    BlankResource,
    DeclarationError,
    DeploymentError,
    DockerResource,
    FileResource,
    GitRepoResource,
    Healthcheck,
    Resource,
    SpecContext,
)
from pytest_clockwork.engines.pulumi.args import Entry, Facts, go_duration, port_args
from pytest_clockwork.notation import PortMapping
from pytest_clockwork.specs import (
    ContainerFileSpec,
    ContainerSpec,
    CustomSpec,
    FileSpec,
    GitSpec,
    HealthcheckSpec,
    Spec,
    VolumeSpec,
    spec_from_json,
)

ROOT = Path("/srv/project")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "250ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (3.0, "3s"),
        (59.999, "59.999s"),
        (60, "1m0s"),
        (90, "1m30s"),
        (3600, "1h0m0s"),
        (3725.5, "1h2m5.5s"),
    ],
)
def test_durations_are_written_as_go_prints_them(seconds: float, text: str) -> None:
    # Docker reads healthcheck durations back in Go's format; writing them the same way
    # keeps Pulumi from seeing a difference that is not there.
    assert go_duration(seconds) == text


def test_facts_survive_the_round_trip_through_the_record() -> None:
    facts = Facts(
        session="s1",
        parent="app",
        depends_on=("db", "seed"),
        container_name="web-s1",
        host_ports={"80/tcp": 32001},
        networks={"clockwork": "clockwork-s0"},
        volumes=("cache",),
    )

    assert Facts.from_json(facts.to_json()) == facts


def test_an_entry_is_named_by_its_key_and_the_session_that_created_it() -> None:
    spec = FileResource(content="x").spec(SpecContext(rootdir=ROOT, key="app.seed.sql"))

    assert Entry(spec, Facts(session="ab12")).name == "app.seed.sql@ab12"


def test_pinned_ports_bind_every_address_and_unpinned_ones_loopback() -> None:
    spec = DockerResource(image="x", ports=["8080:80", "81", "0.0.0.0::82"]).spec(
        SpecContext(rootdir=ROOT, key="web")
    )
    facts = Facts(session="s", host_ports={"80/tcp": 8080, "81/tcp": 40001, "82/tcp": 40002})

    assert port_args(spec, facts) == [
        {"internal": 80, "external": 8080, "protocol": "tcp"},
        {"internal": 81, "external": 40001, "protocol": "tcp", "ip": "127.0.0.1"},
        {"internal": 82, "external": 40002, "protocol": "tcp", "ip": "0.0.0.0"},
    ]


class Queue(Resource):
    """A custom resource, rebuilt from its record to be declared again."""

    size: int = 1

    def to_pulumi(self, context: SpecContext) -> dict[str, Any]:
        return {"size": self.size}


BUILT_INS = [
    DockerResource(
        image="nginx:alpine",
        ports=["80", "8443:443/tcp"],
        volumes=["./www:/www:ro", "data:/data"],
        env_vars={"A": "1"},
        networks=["backend"],
        command="nginx -g 'daemon off;'",
        entrypoint=["/docker-entrypoint.sh"],
        labels={"team": "qa"},
        restart="always",
        healthcheck=Healthcheck(test=["curl", "-f", "localhost"], interval="2s"),
        user="101",
        working_dir="/www",
        init=True,
        privileged=True,
        start_timeout=12,
    ),
    DockerResource(image="busybox", must_run=False),
    DockerResource(image="busybox", must_complete=True),
    AppleContainerResource(image="nginx", ports=["80"]),
    FileResource(name="seed.sql", content="insert", directory="db", mode="600", overwrite=True),
    GitRepoResource(repo_url="https://example.com/r.git", branch="main", pull=True),
    BlankResource(name="app"),
    Queue(name="jobs", size=3),
]


@pytest.mark.parametrize("resource", BUILT_INS, ids=lambda r: type(r).__name__)
def test_a_spec_rebuilt_from_its_json_is_the_same_spec(resource: Resource) -> None:
    spec = resource.spec(SpecContext(rootdir=ROOT, key="thing"))

    rebuilt = spec_from_json(spec.to_json())

    assert type(rebuilt) is type(spec)
    assert rebuilt.to_json() == spec.to_json()
    assert rebuilt.fingerprint() == spec.fingerprint()
    if isinstance(spec, CustomSpec):
        assert isinstance(rebuilt, CustomSpec) and isinstance(rebuilt.resource, Queue)
        assert rebuilt.resource.size == 3
    else:
        assert rebuilt == spec


@given(
    env=st.dictionaries(st.text(min_size=1), st.text(), max_size=4),
    ports=st.lists(st.integers(1, 65535), unique=True, max_size=4),
    command=st.none() | st.lists(st.text(), max_size=3),
)
def test_any_container_spec_survives_its_json(
    env: dict[str, str], ports: list[int], command: list[str] | None
) -> None:
    try:
        resource = DockerResource(
            image="x", env_vars=env, ports=[str(port) for port in ports], command=command
        )
    except ValidationError:
        return  # refused where it is declared: it never becomes a spec
    spec = resource.spec(SpecContext(rootdir=ROOT, key="c"))
    rebuilt = spec_from_json(spec.to_json())

    assert rebuilt.to_json() == spec.to_json()
    assert rebuilt.fingerprint() == spec.fingerprint()
    if not spec.secret_env:  # type: ignore[attr-defined]
        assert rebuilt == spec
    else:  # the state has a digest of each secret value, never the value
        assert all(
            value.startswith("<secret sha256:")
            for value in (
                rebuilt.env[name]
                for name in spec.secret_env  # type: ignore[attr-defined]
            )
        )


def test_a_custom_resource_whose_class_is_gone_cannot_be_rebuilt() -> None:
    data = Queue(name="jobs").spec(SpecContext(rootdir=ROOT, key="jobs")).to_json()
    data["class"] = {"module": "no_such_module_here", "qualname": "Queue", "file": None}

    with pytest.raises(DeploymentError, match="cannot find its class Queue"):
        spec_from_json(data)


_TEXT = st.text(max_size=12)
_SECONDS = st.floats(0, 1e6, allow_nan=False) | st.integers(0, 1000)
_PATHS = st.builds(Path, _TEXT)
_HEALTHCHECKS = st.builds(
    HealthcheckSpec,
    test=st.builds(
        lambda form, first, rest: (form, first, *rest),
        st.sampled_from(["CMD", "CMD-SHELL"]),
        _TEXT.filter(str.strip),
        st.lists(_TEXT, max_size=2),
    ),
    interval=_SECONDS,
    timeout=_SECONDS,
    retries=st.integers(0, 10),
    start_period=_SECONDS,
)


@st.composite
def _container_specs(draw: st.DrawFn) -> ContainerSpec:
    env = draw(st.dictionaries(_TEXT, _TEXT, max_size=4))
    secret = st.lists(st.sampled_from(sorted(env)), unique=True) if env else st.just([])
    commands = st.none() | st.lists(_TEXT, max_size=3).map(tuple)
    return ContainerSpec(
        key=draw(_TEXT),
        name=draw(_TEXT),
        image=draw(_TEXT),
        command=draw(commands),
        entrypoint=draw(commands),
        env=env,
        ports=tuple(
            draw(
                st.lists(
                    st.builds(
                        PortMapping,
                        container_port=st.integers(1, 65535),
                        protocol=st.sampled_from(["tcp", "udp", "sctp"]),
                        host_port=st.none() | st.integers(1, 65535),
                        host_ip=st.none() | _TEXT,
                    ),
                    max_size=3,
                )
            )
        ),
        volumes=tuple(
            draw(st.lists(st.builds(VolumeSpec, _TEXT, _TEXT, st.booleans(), st.booleans())))
        ),
        networks=tuple(draw(st.lists(_TEXT, max_size=3))),
        labels=draw(st.dictionaries(_TEXT, _TEXT, max_size=3)),
        must_run=draw(st.booleans()),
        must_complete=draw(st.booleans()),
        restart=draw(st.none() | _TEXT),
        healthcheck=draw(st.none() | _HEALTHCHECKS),
        user=draw(st.none() | _TEXT),
        working_dir=draw(st.none() | _TEXT),
        init=draw(st.booleans()),
        privileged=draw(st.booleans()),
        start_timeout=draw(_SECONDS),
        wait_for_ports=draw(st.booleans()),
        runtime=draw(st.sampled_from(["docker", "apple"])),
        secret_env=tuple(draw(secret)),
        tmpfs=draw(st.dictionaries(_TEXT, _TEXT, max_size=2)),
        mem_limit=draw(st.none() | st.integers(1, 2**40)),
        cpus=draw(st.none() | st.floats(0.01, 64)),
        shm_size=draw(st.none() | st.integers(1, 2**40)),
        cap_add=tuple(draw(st.lists(_TEXT, max_size=2))),
        cap_drop=tuple(draw(st.lists(_TEXT, max_size=2))),
        extra_hosts=draw(st.dictionaries(_TEXT, _TEXT, max_size=2)),
        platform=draw(st.none() | _TEXT),
        pull=draw(st.sampled_from(["missing", "always", "never"])),
        files=tuple(
            draw(
                st.lists(
                    st.builds(
                        ContainerFileSpec, path=_TEXT, content=_TEXT, mode=st.integers(0, 0o7777)
                    ),
                    max_size=2,
                )
            )
        ),
    )


_SPECS = (
    _container_specs()
    | st.builds(
        FileSpec,
        key=_TEXT,
        path=_PATHS,
        content=_TEXT,
        digest=st.just("") | _TEXT,
        mode=st.integers(0, 0o7777),
        overwrite=st.booleans(),
    )
    | st.builds(
        GitSpec,
        key=_TEXT,
        repo_url=_TEXT,
        dest=_PATHS,
        branch=st.none() | _TEXT,
        pull=st.booleans(),
    )
)


@settings(max_examples=300, deadline=None)
@given(spec=_SPECS)
def test_any_built_in_spec_survives_its_json_in_the_state(spec: Spec) -> None:
    recorded = json.loads(json.dumps(spec.to_json()))  # as the state file holds it

    rebuilt = spec_from_json(recorded)

    assert type(rebuilt) is type(spec)
    assert rebuilt.to_json() == spec.to_json()
    assert rebuilt.fingerprint() == spec.fingerprint()
    if not isinstance(spec, ContainerSpec) or not spec.secret_env:
        assert rebuilt == spec  # a file's content is not recorded, and not compared
    if isinstance(spec, FileSpec):
        assert isinstance(rebuilt, FileSpec) and rebuilt.digest == spec.digest


def test_a_record_written_before_a_field_existed_gets_its_default() -> None:
    data = DockerResource(image="busybox", ports=["80"]).spec(SpecContext(ROOT, "c")).to_json()
    for newer in ("secret_env", "wait_for_ports", "privileged", "healthcheck"):
        del data[newer]

    rebuilt = spec_from_json(data)

    assert isinstance(rebuilt, ContainerSpec)
    assert (rebuilt.secret_env, rebuilt.wait_for_ports, rebuilt.privileged) == ((), True, False)
    assert rebuilt.ports == (PortMapping(80),) and rebuilt.healthcheck is None


@pytest.mark.parametrize("kind", [None, "abstract", "bucket", ["container"]])
def test_a_record_of_an_unknown_kind_is_a_value_error(kind: Any) -> None:
    with pytest.raises(ValueError, match="unknown spec kind .* for resource 'x'"):
        spec_from_json({"kind": kind, "key": "x"})


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"pull": "always"}, "pull='always': pulumi-docker never pulls an image"),
        ({"mem_limit": 100_000_000}, "mem_limit=100000000 bytes: pulumi-docker takes whole MiB"),
        ({"shm_size": "1.5m"}, "shm_size=1572864 bytes: pulumi-docker takes whole MiB"),
        ({"must_complete": True}, "must_complete=True (a one-shot, e.g. Compose's condition: "),
    ],
)
def test_what_pulumi_docker_cannot_do_is_refused_before_anything_is_deployed(
    fields: dict[str, Any], says: str
) -> None:
    from pytest_clockwork.engines.base import SessionInfo, Task
    from pytest_clockwork.engines.pulumi.entries import settle
    from pytest_clockwork.state import ResourceRecord

    resource = DockerResource(name="web", image="app:1", **fields)
    spec = resource.spec(SpecContext(rootdir=ROOT, key="web"))
    task = Task(spec, resource, ResourceRecord(key="web", session="s1", kind="container"))
    session = SessionInfo(id="s1", stack="default", rootdir=ROOT, root_id="r00t")

    with pytest.raises(DeclarationError) as info:
        settle([task], [], session, volume_exists=lambda name: True)

    message = str(info.value)
    assert message.startswith("resource 'web': the Pulumi engine cannot deploy it as declared")
    assert says in message and message.endswith("use --clockwork-engine local")
    assert info.value.resource == "web"
