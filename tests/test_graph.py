"""The dependency graph: flattening, closure, levels, cycles (with a property test)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_clockwork import (
    BlankResource,
    DeclarationError,
    DependencyCycleError,
    DockerResource,
    FileResource,
)
from pytest_clockwork.graph import ResourceGraph, bind

FIX = (
    ". Remove one of the connect() calls along it (a composite deploys after its children, "
    "so a child cannot connect to it)"
)


def container(name: str) -> DockerResource:
    return DockerResource(name=name, image="busybox")


def test_levels_follow_connections() -> None:
    db, cache = container("db"), container("cache")
    api = container("api").connect(db, cache)
    web = container("web").connect(api)
    graph = ResourceGraph.build([web])
    assert graph.levels() == [["db", "cache"], ["api"], ["web"]]
    assert graph.destroy_levels() == [["web"], ["api"], ["db", "cache"]]


def test_composites_flatten_and_share_a_lifecycle() -> None:
    db = container("db")
    app = BlankResource(name="app").add(container("web"), FileResource(name="c", content="x"))
    app.connect(db)
    graph = ResourceGraph.build([app])
    assert graph.levels() == [["db"], ["app.web", "app.c"], ["app"]]
    # Needing one child deploys the whole composite and what it depends on.
    assert graph.closure(["app.web"]) == {"app", "app.web", "app.c", "db"}
    assert graph.levels(["app.c"]) == [["db"], ["app.web", "app.c"], ["app"]]


def test_only_what_is_needed() -> None:
    db = container("db")
    api = container("api").connect(db)
    notes = FileResource(name="notes", content="x")
    graph = ResourceGraph.build([api, notes])
    assert graph.levels(["notes"]) == [["notes"]]
    assert graph.levels(["api"]) == [["db"], ["api"]]


def test_cycle_names_the_resources() -> None:
    db = container("db")
    api = container("api").connect(db)
    db.connect(api)
    with pytest.raises(DependencyCycleError) as info:
        ResourceGraph.build([api]).levels()
    assert str(info.value) == "Dependency cycle detected: api → db → api" + FIX


def test_a_child_connected_to_its_own_parent_is_a_cycle() -> None:
    app = BlankResource(name="app")
    child = container("web")
    app.add(child)
    child.connect(app)
    with pytest.raises(DependencyCycleError, match="app"):
        ResourceGraph.build([app]).levels()


def test_two_resources_with_one_key_is_an_error() -> None:
    with pytest.raises(DeclarationError, match="two different resources are named 'web'"):
        ResourceGraph.build([container("web"), container("web")])


def test_binding_keys_resources_by_name() -> None:
    first = DockerResource(image="x")
    bound = bind({"api": first, "alias": first})
    assert first.key == "api" and set(bound) == {"api", "alias"}


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[DockerResource], list[tuple[int, int]]]:
    """Random DAGs: node i may depend only on nodes with a smaller index."""
    size = draw(st.integers(min_value=2, max_value=14))
    nodes = [container(f"n{i}") for i in range(size)]
    edges = []
    for i in range(1, size):
        for j in draw(st.sets(st.integers(min_value=0, max_value=i - 1), max_size=3)):
            nodes[i].connect(nodes[j])
            edges.append((i, j))
    return nodes, edges


@settings(max_examples=150, deadline=None)
@given(dags())
def test_every_edge_goes_from_an_earlier_level_to_a_later_one(
    dag: tuple[list[DockerResource], list[tuple[int, int]]],
) -> None:
    nodes, edges = dag
    levels = ResourceGraph.build(nodes).levels()
    level_of = {key: index for index, level in enumerate(levels) for key in level}
    assert sorted(level_of) == sorted(node.key for node in nodes)
    for dependent, dependency in edges:
        assert level_of[nodes[dependency].key] < level_of[nodes[dependent].key]
    # Every resource sits as early as its dependencies allow.
    for dependent in nodes:
        deps = [level_of[d.key] for d in dependent.connections]
        assert level_of[dependent.key] == (max(deps) + 1 if deps else 0)


@settings(max_examples=150, deadline=None)
@given(dags(), st.data())
def test_an_injected_back_edge_is_reported_as_a_cycle(
    dag: tuple[list[DockerResource], list[tuple[int, int]]], data: st.DataObject
) -> None:
    nodes, edges = dag
    if not edges:
        nodes[1].connect(nodes[0])
        edges.append((1, 0))
    # Pick a dependency path end to end and close it: dependency -> dependent.
    dependent, dependency = data.draw(st.sampled_from(edges))
    nodes[dependency].connect(nodes[dependent])
    with pytest.raises(DependencyCycleError) as info:
        ResourceGraph.build(nodes).levels()
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1] and len(cycle) >= 3
    assert {nodes[dependent].key, nodes[dependency].key} <= set(cycle)
    assert str(info.value) == "Dependency cycle detected: " + " → ".join(cycle) + FIX
    # Each step of the reported cycle is a real dependency.
    by_key = {node.key: node for node in nodes}
    for here, there in itertools.pairwise(cycle):
        assert there in {c.key for c in by_key[here].connections}
