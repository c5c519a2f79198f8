"""Completing declarations before deployment (placeholder until the completer lands)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pytest_clockwork.errors import CompletionError
from pytest_clockwork.resources.base import Resource

if TYPE_CHECKING:
    from pytest_clockwork.deployment import Deployment


def complete_resources(deployment: Deployment, keys: Iterable[str]) -> dict[str, Resource]:
    """The completed declaration of each key.

    Args:
        deployment: The session's deployment (its graph, rootdir, options, and the
            ``notes`` where the plan shows what completion did).
        keys: The resources to complete.
    """
    result = {}
    for key in keys:
        resource = deployment.graph.nodes[key]
        if resource.missing_fields():
            raise CompletionError(
                f"resource {key!r} leaves {', '.join(resource.missing_fields())} to the AI",
                resource=key,
            )
        result[key] = resource
    return result
