"""Scopes: how long one deployed copy of a resource lives, and which copies may connect.

A resource's ``scope`` is a pytest scope: ``session`` (the default: deployed once),
``package``, ``module``, ``class`` or ``function`` (a copy of its own for each test).
A composite's children take the composite's scope. A resource may connect to resources
of its own scope or wider ones (a function-scoped container to a session-scoped
database), never to narrower ones: a wider copy would outlive what it needs.

Only the standard library (and :mod:`.reachability`) is imported here; the resource
models import it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal, get_args

from pytest_clockwork.reachability import reachable

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource

Scope = Literal["session", "package", "module", "class", "function"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
"""The scopes, widest first."""
SESSION: Scope = "session"

_EACH: dict[str, str] = {
    "session": "once for the session",
    "package": "one per package",
    "module": "one per test module",
    "class": "one per test class",
    "function": "one per test",
}


def rank(scope: str) -> int:
    """How narrow ``scope`` is: 0 for ``session`` up to 4 for ``function``."""
    return SCOPES.index(scope)


def wider(scope: str, other: str) -> bool:
    """Whether ``scope`` lives longer than ``other`` (``session`` is wider than ``module``)."""
    return rank(scope) < rank(other)


def each(scope: str) -> str:
    """How many copies a scope makes, in words: ``one per test``."""
    return _EACH[scope]


def check_scope(value: object) -> Scope:
    """``value`` as a scope, or a ``ValueError`` that lists the scopes (and the likely one).

    Raises:
        ValueError: It is no pytest scope.
    """
    if isinstance(value, str) and value in SCOPES:
        return value
    likely = {"test": "function", "each": "function", "file": "module", "run": "session"}
    text = str(value).lower() if isinstance(value, str) else ""
    guess = likely.get(text) or next(iter(difflib.get_close_matches(text, SCOPES, n=1)), None)
    hint = f"did you mean scope={guess!r}? " if guess else ""
    raise ValueError(
        f"scope={value!r} is not a pytest scope: {hint}give one of "
        + ", ".join(repr(scope) for scope in SCOPES)
        + " ('session', the default, deploys it once; 'function' gives each test its own)"
    )


def scope_of(resource: Resource) -> Scope:
    """The scope a resource lives in: its own, or for a child its outermost composite's."""
    while resource.parent is not None:
        resource = resource.parent
    return resource.scope


def connections_out_of_scope(resources: Iterable[Resource]) -> Iterator[str]:
    """Each connection from a resource to a narrower one, in words (naming both).

    Every resource reachable from ``resources`` (children, connections) is checked once.
    A child follows its ancestors' connections too, in its ancestors' scope.
    """
    for resource in reachable(resources):
        mine = scope_of(resource)
        for other in resource.connections:
            theirs = scope_of(other)
            if wider(mine, theirs):
                yield (
                    f"{resource._label()} (scope {mine!r}) is connected to {other._label()} "
                    f"(scope {theirs!r}), which is deployed {each(theirs)} and would be gone "
                    f"while {_name(resource)} still needs it: a resource may connect only to "
                    f"resources of its own scope or a wider one; give {_name(other)} "
                    f"scope={mine!r}{' (or wider)' if mine != SESSION else ''}, or "
                    f"{_name(resource)} scope={theirs!r}"
                )


def _name(resource: Resource) -> str:
    label = resource._label()
    return label.removeprefix("resource ")
