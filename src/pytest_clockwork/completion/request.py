"""What one completion sees, and the fingerprint that pins it in ``clockwork.lock``.

A completion sees the resource's description and given fields, the completed context
of the resources it is connected to, and, for composites, the seeds' two phases: a
composite is completed seeing its children's declarations, then each child seeing the
completed composite and its siblings' declarations. The fingerprint is a hash of all
of that, and of nothing else (not the model, not the machine's paths), so the lock
stays valid wherever the same declarations are checked out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python

from pytest_clockwork.errors import CompletionError
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.resources.container import ContainerResource
from pytest_clockwork.specs import default_name

NEVER_COMPLETED = frozenset({"privileged"})
"""Fields no model may ever set, whatever a resource class lists in ``completable``."""

Json = dict[str, Any]


def context_of(resource: Resource) -> Json:
    """What other completions are shown of ``resource``, as JSON.

    It is :meth:`Resource.context` (the fields that differ from their defaults, the
    description, the type), plus the host name a container is reached by from the
    containers connected to it.
    """
    shown: Json = to_jsonable_python(resource.context())
    if isinstance(resource, ContainerResource):
        shown["hostname"] = resource.name or default_name(resource.key)
    return shown


def given_fields(resource: Resource) -> Json:
    """The fields the user gave ``resource`` (those that differ from their defaults)."""
    shown = to_jsonable_python(resource.context())
    return {name: value for name, value in shown.items() if name not in ("description", "type")}


def canonical(data: Any) -> str:
    """``data`` as compact JSON with sorted keys: the text that is hashed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class CompletionRequest:
    """Everything one completion of one resource is based on.

    Attributes:
        key: The resource's key.
        kind: The resource's class name.
        description: What the user says the resource is for.
        fields: The fields to complete (completable and left ``None``).
        given: The fields the user gave; fixed.
        connections: The completed context of each connected resource, by key.
        parent: The completed context of the composite this resource belongs to.
        siblings: The declared context of the parent's other children, by name.
        children: The declared context of this resource's children, by name.
    """

    key: str
    kind: str
    description: str
    fields: tuple[str, ...]
    given: Json = field(default_factory=dict)
    connections: dict[str, Json] = field(default_factory=dict)
    parent: Json | None = None
    siblings: dict[str, Json] = field(default_factory=dict)
    children: dict[str, Json] = field(default_factory=dict)

    def seen(self) -> Json:
        """What the completion saw, as JSON (recorded in the lock to explain changes)."""
        seen: Json = {
            "type": self.kind,
            "description": self.description,
            "fields": list(self.fields),
            "given": self.given,
        }
        for name in ("connections", "parent", "siblings", "children"):
            value = getattr(self, name)
            if value:
                seen[name] = value
        return seen

    @property
    def references(self) -> set[str]:
        """The secret references this completion is shown (and may use)."""
        from pytest_clockwork.resources.secrets import references

        return references(self.seen())

    @property
    def fingerprint(self) -> str:
        """A hash of :meth:`seen`: equal exactly when the completion would see the same."""
        return fingerprint_of(self.seen())


def fingerprint_of(seen: Json) -> str:
    """The fingerprint of a request's :meth:`CompletionRequest.seen` view."""
    return "sha256:" + hashlib.sha256(canonical(seen).encode()).hexdigest()


def build_request(resource: Resource, completed: Mapping[str, Resource]) -> CompletionRequest:
    """The request that completes ``resource``.

    Args:
        resource: The declaration, with fields to complete.
        completed: The completed declarations of its parent and connections.

    Raises:
        CompletionError: The resource's class lets a model set a field that it never may.
    """
    key = resource.key
    forbidden = sorted(NEVER_COMPLETED.intersection(type(resource).completable))
    if forbidden:
        raise CompletionError(
            f"resource {key!r}: {type(resource).__name__} lists {', '.join(forbidden)} in "
            "completable, but clockwork never lets a model set it: remove it from "
            "completable (only you may set it, in the declaration)",
            resource=key,
        )
    parent = resource.parent
    return CompletionRequest(
        key=key,
        kind=type(resource).__name__,
        description=resource.description or "",
        fields=tuple(resource.missing_fields()),
        given=given_fields(resource),
        connections={
            other.key: context_of(completed.get(other.key, other)) for other in resource.connections
        },
        parent=(
            {"key": parent.key, **context_of(completed.get(parent.key, parent))}
            if parent is not None
            else None
        ),
        siblings=(
            {
                name: context_of(child)
                for name, child in parent.children.items()
                if child is not resource
            }
            if parent is not None
            else {}
        ),
        children={name: context_of(child) for name, child in resource.children.items()},
    )
