"""The plain pieces of the Pulumi engine: durations, facts, specs rebuilt from the state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pytest_clockwork import (
    AppleContainerResource,
    BlankResource,
    DeploymentError,
    DockerResource,
    FileResource,
    GitRepoResource,
    Healthcheck,
    Resource,
    SpecContext,
)
from pytest_clockwork.engines.pulumi.args import Entry, Facts, go_duration, port_args
from pytest_clockwork.specs import CustomSpec, spec_from_json

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
