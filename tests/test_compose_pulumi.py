"""A Compose project under the Pulumi engine (Pulumi's mocks): its services are containers
like any other, on the project's network, reachable by their service names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_clockwork import ComposeResource, DeclarationError, SpecContext
from pytest_clockwork.engines.base import SessionInfo, Task
from pytest_clockwork.engines.pulumi.entries import settle
from pytest_clockwork.graph import ResourceGraph
from pytest_clockwork.state import ResourceRecord
from tests.support.pulumi_doubles import CONTAINER, GROUP, NETWORK, PulumiMocks

SESSION = SessionInfo(id="s1", stack="default", rootdir=Path("/r"), root_id="r00t")


def tasks_of(tmp_path: Path, text: str) -> list[Task]:
    """The tasks of ``app = ComposeResource(file="compose.yaml")``, in deploy order."""
    (tmp_path / "compose.yaml").write_text(text)
    app = ComposeResource(file="compose.yaml")
    app._key = "app"
    app.load(tmp_path)
    graph = ResourceGraph.build([app])
    tasks = []
    for level in graph.levels():
        for key in level:
            resource = graph.nodes[key]
            spec = resource.spec(SpecContext(rootdir=tmp_path, key=key))
            record = ResourceRecord(key=key, session="s1", kind=spec.kind)
            tasks.append(Task(spec, resource, record, depends_on=tuple(sorted(graph.deps[key]))))
    return tasks


def test_services_are_containers_on_the_project_network_by_their_names(tmp_path: Path) -> None:
    tasks = tasks_of(
        tmp_path,
        "services:\n"
        "  web:\n    image: web:1\n    ports: ['80']\n    depends_on: [db]\n"
        "  db:\n    image: db:1\n",
    )
    entries = settle(
        tasks, [], SESSION, volume_exists=lambda name: True, external_network=lambda name: False
    )
    mocks = PulumiMocks()

    mocks.declare(entries)

    assert mocks.names(NETWORK) == ["network:app-default-s1"]
    web = mocks.declared["app.web@s1"]
    assert web.type == CONTAINER
    assert web.inputs["name"] == "app.web-s1"
    assert web.inputs["networksAdvanced"] == [
        {"name": "app-default-s1", "aliases": ["app.web", "web"]}
    ]
    assert "app.db@s1" in mocks.depends_on("app.web@s1")
    assert mocks.declared["app@s1"].type == GROUP
    assert mocks.declared["app.db@s1"].parent_name == "app@s1"


def test_a_one_shot_service_is_refused_naming_the_local_engine(tmp_path: Path) -> None:
    tasks = tasks_of(
        tmp_path,
        "services:\n"
        "  web:\n    image: web:1\n"
        "    depends_on: {seed: {condition: service_completed_successfully}}\n"
        "  seed:\n    image: seed:1\n",
    )

    with pytest.raises(DeclarationError) as caught:
        settle(tasks, [], SESSION, volume_exists=lambda name: True)

    assert str(caught.value).startswith(
        "resource 'app.seed': the Pulumi engine cannot deploy it as declared: must_complete"
    )
    assert str(caught.value).endswith("use --clockwork-engine local")
