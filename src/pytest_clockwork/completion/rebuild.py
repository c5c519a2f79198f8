"""The completed resource: the declaration plus completed values, validated by its class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pytest_clockwork.resources.base import Resource

R = TypeVar("R", bound=Resource)


def rebuild(resource: R, values: Mapping[str, Any]) -> R:
    """``resource`` with ``values`` filled in, built by the resource class itself.

    Only fields that are still left to complete can be filled: the user's values are
    never replaced. The data goes through the class's ``model_validate``, so every
    field and model validator runs; the graph's private attributes (children,
    connections, parent, key) are carried over so the result takes the declaration's
    place in the graph.

    Args:
        resource: The declaration.
        values: Completed values of fields in ``resource.missing_fields()``.

    Raises:
        ValueError: ``values`` names a field that is not left to complete.
        pydantic.ValidationError: The class rejects the completed data.
    """
    open_fields = set(resource.missing_fields())
    extra = sorted(set(values) - open_fields)
    if extra:
        raise ValueError(
            f"{', '.join(extra)} cannot be completed for resource {resource.key!r}: only "
            f"the fields left empty with a description can ({', '.join(sorted(open_fields))})"
        )
    data = {name: getattr(resource, name) for name in resource.model_fields_set}
    data.update(values)
    rebuilt = type(resource).model_validate(data)
    rebuilt._children = dict(resource._children)
    rebuilt._connections = list(resource._connections)
    rebuilt._parent = resource._parent
    rebuilt._key = resource._key
    return rebuilt
