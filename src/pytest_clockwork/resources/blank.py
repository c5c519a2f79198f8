"""BlankResource: a composite that groups children and has no footprint of its own."""

from __future__ import annotations

from pytest_clockwork.resources.base import Resource
from pytest_clockwork.specs import GroupSpec, SpecContext


class BlankResource(Resource):
    """A group of resources deployed and destroyed together.

    Example:
        ``app = BlankResource(name="app").add(DockerResource(name="db", ...),
        FileResource(name="seed.sql", ...))``; in a test, ``app.children["db"]``.
    """

    def spec(self, context: SpecContext) -> GroupSpec:
        """A group: nothing is deployed for the composite itself."""
        return GroupSpec(key=context.key)
