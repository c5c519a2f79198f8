"""Assertions as test items: one per assertion per resource, under the declaring conftest.

Each item is a :class:`pytest.Function` that asks for the resource's fixture, so pytest
treats it like any test (``-k``, ``-m``, ``--lf``, ``--setup-show``, JUnit XML, xdist).
They carry the markers ``assertions`` and ``clockwork``; ``pytest -m assertions`` is the
evaluate command.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_clockwork.collection import key_prefix

if TYPE_CHECKING:
    from pytest_clockwork.assertions.base import Assertion
    from pytest_clockwork.resources.base import Resource

Provider = Callable[[str], "Resource"]


def item_names(resource: Resource, prefix: str = "") -> list[tuple[str, Assertion]]:
    """``<resource>.<assertion>`` names, numbered when one resource has several of a kind.

    Args:
        resource: The resource.
        prefix: What its key starts with and the item's name need not repeat: the
            directory of the conftest the item is collected under (``tests/api/``).
    """
    seen: dict[str, int] = {}
    names = []
    for assertion in resource.assertions:
        label = assertion.label
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label}_{seen[label]}"
        name = re.sub(r"\[|\]|::", "_", f"{resource.key.removeprefix(prefix)}.{label}")
        names.append((name, assertion))
    return names


def reachable(bindings: Mapping[str, Resource]) -> Iterator[tuple[str, Resource]]:
    """Each resource reachable from a conftest's bindings, with the fixture that reaches it.

    A resource bound under its own name is reached through that fixture; children and
    connected resources through the binding they hang from.
    """
    seen: set[int] = set()
    for fixture, resource in bindings.items():
        if resource.key.rsplit("/", 1)[-1] == fixture and id(resource) not in seen:
            seen.add(id(resource))
            yield fixture, resource
    for fixture, resource in bindings.items():
        visited: set[int] = set()
        pending = [resource]
        while pending:
            current = pending.pop(0)
            if id(current) in visited:
                continue
            visited.add(id(current))
            if id(current) not in seen:
                seen.add(id(current))
                yield fixture, current
            pending.extend(current.children.values())
            pending.extend(current.connections)


class AssertionItem(pytest.Function):
    """One assertion of one resource, run as a test."""

    resource_key: str
    assertion: Assertion

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the item comes from: the conftest, and what it checks."""
        return self.path, None, f"{self.name}: {type(self.assertion).__name__}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        """The assertion's own message, without a traceback into clockwork."""
        if isinstance(excinfo.value, AssertionError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ConftestAssertions(pytest.File):
    """The assertion items of one conftest.py.

    Args:
        bindings: The conftest's resources by fixture name.
        provide: Gives the deployed (or attached) resource of a key.
    """

    bindings: Mapping[str, Resource]
    provide: Provider

    def collect(self) -> Iterator[AssertionItem]:
        """One item per assertion; a misfit (a file check on a container) is an error."""
        prefix = key_prefix(self.path.parent, self.config.rootpath)
        for fixture, resource in reachable(self.bindings):
            for name, assertion in item_names(resource, prefix):
                problem = assertion.misfit(resource)
                if problem:
                    raise self.CollectError(
                        f"{type(assertion).__name__} does not fit resource {resource.key!r} "
                        f"(a {type(resource).__name__}): {problem}; remove it or use another "
                        "assertion"
                    )
                item = AssertionItem.from_parent(
                    self, name=name, callobj=self._runner(fixture, resource.key, assertion)
                )
                item.resource_key = resource.key
                item.assertion = assertion
                item.add_marker(pytest.mark.assertions)
                item.add_marker(pytest.mark.clockwork)
                yield item

    def _runner(self, fixture: str, key: str, assertion: Assertion) -> Callable[..., None]:
        provide = self.provide

        def run(**fixtures: Any) -> None:
            # A resource of a narrower scope is checked in the item's own copy of it.
            found = _within(fixtures.get(fixture), key)
            assertion.verify(found if found is not None else provide(key))

        run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(fixture, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        )
        run.__name__ = f"{key}.{assertion.label}"
        return run


def _within(value: Any, key: str) -> Resource | None:
    """The deployed resource ``key`` of a copy of a narrower scope, reached from a fixture
    value (itself, a child or a connection); ``None`` for a session-scoped one."""
    from pytest_clockwork.resources.base import Resource
    from pytest_clockwork.scopes import SESSION, scope_of

    pending = [value]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if not isinstance(current, Resource) or id(current) in seen:
            continue
        seen.add(id(current))
        if current.key == key:
            return current if scope_of(current) != SESSION and current.is_deployed else None
        pending.extend(current.children.values())
        pending.extend(current.connections)
    return None
