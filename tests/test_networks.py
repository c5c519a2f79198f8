"""Declared networks on a real Docker engine: the user's own are joined, never removed.

A name in ``networks=[...]`` that Docker already has, and that clockwork did not make,
is joined as it is; any other name gets a network of the session (``<name>-<session>``)
that clockwork creates, records and removes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.state import StateStore, root_id
from pytest_clockwork.teardown import sweep_containers

pytestmark = pytest.mark.docker


@pytest.fixture
def users_network(docker_client: Any) -> Iterator[str]:
    """A network the user made (no clockwork labels), removed after the test."""
    network = docker_client.networks.create(f"users-net-{uuid.uuid4().hex[:8]}")
    try:
        yield str(network.name)
    finally:
        network.remove()


def exact(client: Any, name: str) -> list[Any]:
    """The networks called exactly ``name`` (Docker's filter also matches parts)."""
    return [network for network in client.networks.list(names=[name]) if network.name == name]


def test_an_existing_users_network_is_joined_as_it_is_and_left_alone(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, docker_client: Any, users_network: str
) -> None:
    declare(f"web = DockerResource(image=IMAGE, networks=[{users_network!r}])\n")
    pytester.makepyfile(
        test_net=f"""
        import docker

        def test_it(web):
            attrs = docker.from_env().containers.get(web.container_id).attrs
            assert list(attrs["NetworkSettings"]["Networks"]) == [{users_network!r}]
            assert web.outputs["networks"] == {{{users_network!r}: {users_network!r}}}
        """
    )

    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)

    # Recorded as joined, never as created: no teardown path has it to remove.
    (record,) = StateStore(pytester.path, "default").read().records.values()
    assert record.created.get("networks", []) == []
    assert leftovers()["networks"] == []
    destroyed = pytester.runpytest("--clockwork-destroy")
    assert destroyed.ret == pytest.ExitCode.OK
    assert leftovers() == {"containers": [], "networks": []}
    (network,) = exact(docker_client, users_network)
    network.reload()
    assert network.attrs["Containers"] == {}


def test_containers_on_a_users_network_reach_each_other_by_name(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, docker_client: Any, users_network: str
) -> None:
    declare(
        f"""
        a = DockerResource(image=IMAGE, networks=[{users_network!r}])
        b = DockerResource(
            image=IMAGE,
            networks=[{users_network!r}],
            assertions=[
                CommandSucceedsAssert(command="wget -q -O- http://a/", expect_output="hello")
            ],
        )
        """
    )
    pytester.makepyfile(
        test_net=f"""
        import docker

        def test_both_joined(a, b):
            network = docker.from_env().networks.get({users_network!r})
            joined = {{item["Name"] for item in network.attrs["Containers"].values()}}
            assert joined == {{a.container_name, b.container_name}}
        """
    )

    result = pytester.runpytest("--clockwork-apply", "-v")

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*b.command_succeeds PASSED*"])
    assert leftovers() == {"containers": [], "networks": []}
    assert exact(docker_client, users_network)


def test_a_missing_name_or_one_clockwork_made_gets_a_network_of_the_session(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, docker_client: Any
) -> None:
    tag = uuid.uuid4().hex[:8]
    fresh, ours = f"fresh-{tag}", f"ours-{tag}"
    # Named exactly as declared, but labelled as clockwork's: not the user's to join.
    made = docker_client.networks.create(ours, labels={"clockwork.managed": "true"})
    try:
        declare(f"web = DockerResource(image=IMAGE, networks=[{fresh!r}, {ours!r}])\n")
        pytester.makepyfile(
            test_net=f"""
            import docker

            def test_it(web):
                networks = web.outputs["networks"]
                session = web.container_name.rsplit("-", 1)[-1]
                assert networks == {{
                    {fresh!r}: {fresh!r} + "-" + session, {ours!r}: {ours!r} + "-" + session
                }}
                attrs = docker.from_env().containers.get(web.container_id).attrs
                assert set(attrs["NetworkSettings"]["Networks"]) == set(networks.values())
            """
        )

        pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)

        assert leftovers() == {"containers": [], "networks": []}
        assert exact(docker_client, fresh) == []
        assert exact(docker_client, ours)  # not created by the session: not removed
    finally:
        made.remove()


def test_sweeping_removes_only_networks_labelled_for_this_root_and_stack(
    tmp_path: Path, docker_client: Any
) -> None:
    session = SessionInfo(
        id=uuid.uuid4().hex[:8], stack="default", rootdir=tmp_path, root_id=root_id(tmp_path)
    )
    tag = uuid.uuid4().hex[:8]
    dead = SessionInfo(id="deadbeef", stack="default", rootdir=tmp_path, root_id=session.root_id)
    made = [
        docker_client.networks.create(f"plain-{tag}"),
        docker_client.networks.create(f"managed-{tag}", labels={"clockwork.managed": "true"}),
        docker_client.networks.create(
            f"elsewhere-{tag}", labels={**dead.labels(), "clockwork.root": "another"}
        ),
        docker_client.networks.create(f"left-{tag}", labels=dead.labels()),
    ]
    try:
        removed = sweep_containers(StateStore(tmp_path, "default"), session)
        assert removed == [f"left-{tag}"]
        for name in (f"plain-{tag}", f"managed-{tag}", f"elsewhere-{tag}"):
            assert exact(docker_client, name), name
    finally:
        for network in made:
            if exact(docker_client, str(network.name)):
                network.remove()
