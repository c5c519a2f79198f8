"""The change set a model proposes for an intent, and the built-in types it may use.

A change set is data (JSON): field changes to declared resources, new resources of the
built-in types, resources to remove, and new or changed assertions. It is recorded in
``clockwork.lock`` as it was accepted. Nothing here imports pydantic-ai.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from pytest_clockwork.assertions.base import Assertion
    from pytest_clockwork.resources.base import Resource

ResourceType = Literal["DockerResource", "FileResource", "GitRepoResource", "BlankResource"]
AssertionType = Literal[
    "ContainerRunningAssert",
    "ContainerHealthyAssert",
    "HealthcheckAssert",
    "PortAccessibleAssert",
    "LogContainsAssert",
    "CommandSucceedsAssert",
    "FileExistsAssert",
    "FileContentMatchesAssert",
]
RESOURCE_TYPES: tuple[str, ...] = get_args(ResourceType)
ASSERTION_TYPES: tuple[str, ...] = get_args(AssertionType)


def resource_class(name: str) -> type[Resource]:
    """The built-in resource class called ``name``."""
    import pytest_clockwork

    cls: type[Resource] = getattr(pytest_clockwork, name)
    return cls


def assertion_class(name: str) -> type[Assertion]:
    """The built-in assertion class called ``name``."""
    import pytest_clockwork

    cls: type[Assertion] = getattr(pytest_clockwork, name)
    return cls


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldChange(_Part):
    """One field of a declared resource set to a new value."""

    resource: str = Field(description="The key of a declared resource, as shown.")
    field: str = Field(description="The field, as it is declared (image, env_vars, ports...).")
    value: Any = Field(
        description="The field's whole new value as JSON; for a mapping (env_vars) every "
        "entry, the unchanged ones too; null clears the field."
    )


class AssertionChange(_Part):
    """A check added to a resource, or one of its checks replaced."""

    resource: str = Field(description="The key of a declared or new resource.")
    type: AssertionType
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="The assertion's arguments, as JSON."
    )
    replaces: int | None = Field(
        default=None,
        description="The number of the resource's assertion this one replaces (as shown); "
        "null adds it.",
    )


class NewResource(_Part):
    """A resource of a built-in type, declared at module level in a conftest.py."""

    name: str = Field(description="The module-level name it is bound to: its fixture name.")
    type: ResourceType
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="Its fields as JSON; every value it needs (nothing is completed later). "
        "Put its checks in `assertions` of the change set, not here.",
    )
    connect: list[str] = Field(
        default_factory=list,
        description="Keys of resources it connects to (deployed before it, on a shared "
        "network), declared in the same conftest.py.",
    )
    conftest: str | None = Field(
        default=None,
        description="The conftest.py it is declared in, relative to the project "
        "(default: that of the first resource it connects to, else the top one).",
    )


class ChangeSet(_Part):
    """What to change for an intent: the smallest set of changes that carries it out."""

    summary: str = Field(description="One sentence: what the change does.")
    changes: list[FieldChange] = Field(default_factory=list)
    new_resources: list[NewResource] = Field(default_factory=list)
    removals: list[str] = Field(
        default_factory=list, description="Keys of declared resources to remove."
    )
    assertions: list[AssertionChange] = Field(
        default_factory=list,
        description="Checks that show the intent holds once deployed (at least one, unless "
        "the change only removes resources).",
    )

    def is_empty(self) -> bool:
        """Whether it changes nothing."""
        return not (self.changes or self.new_resources or self.removals or self.assertions)
