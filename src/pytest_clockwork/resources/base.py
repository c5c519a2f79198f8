"""The :class:`Resource` base model: composition, connections, completion, the spec."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from pytest_clockwork.assertions.base import Assertion
from pytest_clockwork.errors import DeclarationError, NotDeployedError
from pytest_clockwork.resources.types import Seconds
from pytest_clockwork.scopes import Scope, check_scope
from pytest_clockwork.specs import CustomSpec, Spec, SpecContext

OutputsListener = Callable[[dict[str, Any]], None]
"""Told a deployed resource's new outputs (see :meth:`Resource.deployed_copy`)."""
AlertOn = Literal["drift", "failure"]
ALERT_KINDS: tuple[AlertOn, ...] = ("drift", "failure")
LIFECYCLE_FIELDS = ("max_duration", "on_drift", "stateful", "alert_on", "scope", "reset")
"""Fields about a resource's life after deployment, not about what is deployed."""


class Resource(BaseModel):
    """A piece of infrastructure that tests need.

    Bind an instance to a module-level name in a ``conftest.py`` and it becomes a
    fixture of that name, session-scoped unless ``scope`` says otherwise. Fields left
    ``None`` that the class lists in :attr:`completable` are completed by an AI model when
    the resource has a ``description`` (pinned in ``clockwork.lock``); without a
    description they take their plain defaults.

    Subclass it for your own resource types: build on a built-in (subclass
    :class:`~pytest_clockwork.DockerResource` with your defaults), or implement
    :meth:`create` / :meth:`delete` for the local engine and :meth:`to_pulumi` for the
    Pulumi engine.

    Attributes:
        name: The resource's own name (a container's name, a file's name). Defaults to
            the name it is bound to in the conftest.
        description: What it is for, in words; the AI completes from it.
        assertions: Checks of the deployed resource, collected as test items.
        max_duration: How long the resource may live when kept (``"2h"``); it is
            destroyed after that even if nobody runs pytest again.
        on_drift: What ``clockwork watch`` does when the deployed resource no longer
            matches this declaration: ``"alert"`` (the default) or ``"auto_correct"``.
        stateful: It holds data (a database): ``clockwork watch`` never destroys and
            recreates it without ``--allow-stateful``.
        alert_on: What ``clockwork watch`` sends alerts for: ``"drift"``, ``"failure"``.
        scope: The fixture's pytest scope, and how long one deployed copy lives:
            ``"session"`` (the default: deployed once), ``"package"``, ``"module"``,
            ``"class"`` or ``"function"`` (each test gets a copy of its own, removed after
            it). A composite's children take its scope. A resource may connect only to
            resources of its own scope or a wider one.
    """

    # Errors quote the offending value in their message; pydantic's own copy of the whole
    # input could show a secret from another field.
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, hide_input_in_errors=True, defer_build=True
    )

    completable: ClassVar[tuple[str, ...]] = ()
    """Fields an AI model may fill when they are left ``None`` and a description is given."""
    in_words: ClassVar[str | None] = None
    """How messages name resources of this very class, in the plural (``"containers"``)."""
    free_text: ClassVar[tuple[str, ...]] = ("description",)
    """Fields whose text may hold any character; the others are handed to engines (Docker,
    the filesystem), which refuse NUL."""

    name: str | None = None
    description: str | None = None
    assertions: list[Assertion] = Field(default_factory=list)
    max_duration: Seconds | None = None
    on_drift: Literal["alert", "auto_correct"] = "alert"
    stateful: bool = False
    alert_on: list[AlertOn] = Field(default_factory=lambda: list(ALERT_KINDS))
    scope: Scope = "session"

    _children: dict[str, Resource] = PrivateAttr(default_factory=dict)
    _connections: list[Resource] = PrivateAttr(default_factory=list)
    _parent: Resource | None = PrivateAttr(default=None)
    _outputs: dict[str, Any] | None = PrivateAttr(default=None)
    _key: str | None = PrivateAttr(default=None)
    _spec: Spec | None = PrivateAttr(default=None)
    _on_outputs: OutputsListener | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _check_arguments(cls, data: Any) -> Any:
        from pytest_clockwork.validation import check_arguments

        return check_arguments(cls, data)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        from pytest_clockwork.notation import check_name

        return None if value is None else check_name(value)

    @field_validator("scope", mode="before")
    @classmethod
    def _check_scope(cls, value: Any) -> Any:
        return check_scope(value)

    @model_validator(mode="after")
    def _check_strings(self) -> Self:
        from pytest_clockwork.notation import check_text

        for name in type(self).model_fields:
            for where, text in _strings(getattr(self, name), name):
                check_text(text, where)
                if "\0" in text and name not in self.free_text:
                    raise ValueError(
                        f"{where} contains a NUL character, which Docker and the filesystem "
                        "cannot take; remove it"
                    )
        return self

    # -- composition and connections ------------------------------------------------

    def add(self, *children: Resource) -> Self:
        """Make ``children`` part of this resource; they deploy and go with it.

        Returns:
            This resource, so declarations chain.

        Raises:
            DeclarationError: A child is not a resource, has no name, has the name of
                another child, or already belongs to another parent.
        """
        __tracebackhide__ = True  # the error is about the conftest's line, not this one
        for child in children:
            _check_resource(child, self, "add")
            if child.name is None:
                raise DeclarationError(
                    f"a child of {self._label()} needs a name: "
                    f"{type(self).__name__}(...).add({type(child).__name__}(name='...', ...))"
                )
            if child.name in self._children and self._children[child.name] is not child:
                raise DeclarationError(
                    f"{self._label()} already has a child named {child.name!r}: "
                    "give each child a distinct name"
                )
            if child._parent is not None and child._parent is not self:
                raise DeclarationError(
                    f"{child._label()} is already a child of {child._parent._label()}: "
                    "a resource has one parent; use connect() to depend on it instead"
                )
            if "scope" in child.model_fields_set and child.scope != self.scope:
                raise DeclarationError(
                    f"{child._label()} has scope={child.scope!r}, but a child takes the scope "
                    f"of its composite ({self._label()}, scope={self.scope!r}): leave scope out "
                    f"of the child and set it on the composite"
                )
            child._parent = self
            self._children[child.name] = child
        return self

    def connect(self, *others: Resource) -> Self:
        """Deploy this resource after ``others``; the AI sees their context.

        Returns:
            This resource, so declarations chain.

        Raises:
            DeclarationError: Another is not a resource, or is this one.
        """
        __tracebackhide__ = True  # the error is about the conftest's line, not this one
        for other in others:
            _check_resource(other, self, "connect")
            if other is self:
                raise DeclarationError(
                    f"{self._label()} cannot connect to itself: connect it to the resources "
                    "it needs, e.g. api.connect(db)"
                )
            if all(existing is not other for existing in self._connections):
                self._connections.append(other)
        return self

    @property
    def children(self) -> Mapping[str, Resource]:
        """The children added with :meth:`add`, by name (read-only)."""
        return MappingProxyType(self._children)

    @property
    def connections(self) -> tuple[Resource, ...]:
        """The resources this one was connected to with :meth:`connect`."""
        return tuple(self._connections)

    @property
    def parent(self) -> Resource | None:
        """The composite this resource was added to, if any."""
        return self._parent

    def walk(self) -> Iterator[Resource]:
        """This resource and all its descendants, parents before children."""
        yield self
        for child in self._children.values():
            yield from child.walk()

    # -- completion --------------------------------------------------------------------

    def missing_fields(self) -> list[str]:
        """The completable fields still ``None`` (empty without a description)."""
        if self.description is None:
            return []
        return [name for name in self.completable if getattr(self, name) is None]

    def needs_completion(self) -> bool:
        """Whether an AI model has fields to fill here or in a child."""
        return bool(self.missing_fields()) or any(
            child.needs_completion() for child in self._children.values()
        )

    def context(self) -> dict[str, Any]:
        """What a connected resource's completion is shown of this one.

        Secret values are shown as references to them (``${secret:db.env_vars.X}``),
        never as themselves.
        """
        from pytest_clockwork.resources.secrets import shown as without_secrets

        dumped = self.model_dump(
            exclude={"assertions", "description", *LIFECYCLE_FIELDS},
            exclude_none=True,
            exclude_defaults=True,
            by_alias=True,  # the names users declare with (``restart``)
        )
        shown = {
            name: without_secrets(value, f"{self.key}.{name}") for name, value in dumped.items()
        }
        if self.description:
            shown["description"] = self.description
        shown["type"] = type(self).__name__
        return shown

    # -- before each test --------------------------------------------------------------

    @property
    def resets(self) -> bool:
        """Whether this resource is brought back to a clean state before each test that
        uses it (``reset=`` on a container or a file)."""
        return False

    def reset_now(self) -> None:
        """Bring the deployed resource back to a clean state, as clockwork does before each
        test that uses it (nothing to do by default).

        Raises:
            ResetError: It could not be; the message says why.
        """
        return None

    # -- deployment --------------------------------------------------------------------

    @property
    def key(self) -> str:
        """The resource's key: its fixture name, or ``parent.child`` for a child."""
        if self._key is not None:
            return self._key
        if self._parent is not None and self.name is not None:
            return f"{self._parent.key}.{self.name}"
        if self.name is not None:
            return self.name
        raise DeclarationError(
            f"a {type(self).__name__} that is not bound to a name in a conftest needs name=..."
        )

    def load(self, rootdir: Path) -> None:
        """Read what the declaration refers to, once pytest's rootdir is known.

        Called when the conftest that binds it is scanned, before its fixture and the
        dependency graph are made, and again later (it must do its work once). A
        composite made from a file (:class:`~pytest_clockwork.ComposeResource`) adds its
        children here. Nothing to do by default.

        Raises:
            DeclarationError: What it refers to cannot be used; the message says why.
        """
        return None

    def sources(self) -> list[Path]:
        """The files :meth:`load` read (``clockwork watch`` reloads when one changes)."""
        return []

    def spec(self, context: SpecContext) -> Spec:
        """The normalised view that engines read.

        Built-in resources return their own spec. A subclass that is not built on one
        gets a :class:`~pytest_clockwork.specs.CustomSpec`, which engines deploy by
        calling :meth:`create` and :meth:`delete` (local) or :meth:`to_pulumi`.
        """
        return CustomSpec(
            key=context.key,
            resource=self,
            settings=self.model_dump(mode="json", exclude={"assertions", *LIFECYCLE_FIELDS}),
        )

    def create(self, context: SpecContext) -> dict[str, Any]:
        """Create a custom resource with the local engine; return its outputs.

        Override in your own resource types. The outputs are recorded in the stack's
        state and given back to :meth:`delete`.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no local deployment: implement create() and "
            "delete(), or build it on a built-in resource"
        )

    def delete(self, outputs: Mapping[str, Any]) -> None:
        """Remove what :meth:`create` made. Override with :meth:`create`."""

    def to_pulumi(self, context: SpecContext) -> dict[str, Any]:
        """Create Pulumi resources for a custom resource; return outputs to export.

        Called inside the Pulumi program. Values may be ``pulumi.Output``.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no Pulumi deployment: implement to_pulumi()"
        )

    def deployed_copy(
        self,
        outputs: Mapping[str, Any],
        *,
        key: str,
        spec: Spec | None = None,
        on_outputs: OutputsListener | None = None,
    ) -> Self:
        """A copy of this declaration that carries what deployment produced.

        Args:
            outputs: What deployment produced.
            key: The resource's key.
            spec: The spec it was deployed from (what actions on it wait for).
            on_outputs: Called with the whole new outputs when an action changes them
                (a restart moved a host port): whoever recorded them records them again.
        """
        value = self.model_copy(update=self._output_fields(outputs))
        value._outputs = dict(outputs)
        value._key = key
        value._children = dict(self._children)
        value._connections = list(self._connections)
        value._spec = spec
        value._on_outputs = on_outputs
        return value

    def _outputs_changed(self, changes: Mapping[str, Any]) -> None:
        """Take ``changes`` into the outputs of this deployed value, and pass the result
        on to whoever records them (see :meth:`deployed_copy`)."""
        outputs = {**self.outputs, **changes}
        self._outputs = outputs
        if self._on_outputs is not None:
            self._on_outputs(dict(outputs))

    def _output_fields(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """Fields that deployment settles (a file's absolute path)."""
        return {}

    @property
    def outputs(self) -> Mapping[str, Any]:
        """What deployment produced (container id, host ports, paths).

        Raises:
            NotDeployedError: This is the declaration, not the deployed resource.
        """
        if self._outputs is None:
            raise NotDeployedError(
                f"{self._label()} is a declaration, not a deployed resource: use the "
                f"fixture {self._fixture_hint()!r} in your test to get the deployed one",
                resource=self._key,
            )
        return MappingProxyType(self._outputs)

    @property
    def is_deployed(self) -> bool:
        """Whether this object is a deployed resource (a fixture value)."""
        return self._outputs is not None

    def _label(self) -> str:
        try:
            return f"resource {self.key!r}"
        except DeclarationError:
            return f"a {type(self).__name__}"

    def _fixture_hint(self) -> str:
        try:
            return self.key.split(".")[0].rsplit("/", 1)[-1]
        except DeclarationError:
            return "<name>"


def _check_resource(value: object, owner: Resource, method: str) -> None:
    """Refuse what is not a resource instance in ``add()`` / ``connect()``."""
    __tracebackhide__ = True
    if isinstance(value, Resource):
        return
    if isinstance(value, type) and issubclass(value, Resource):
        what = f"the class {value.__name__}, not an instance: write {value.__name__}(...)"
    else:
        what = f"{value!r}, not a resource: pass the resource itself (db, not 'db')"
    raise DeclarationError(f"{method}() of {owner._label()} was given {what}")


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every text in a field's value, with where it is (``env_vars['A']``)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, PurePath):
        yield where, str(value)
    elif isinstance(value, SecretStr):
        yield where, value.get_secret_value()
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(name, f"{where} key {name!r}")
            yield from _strings(item, f"{where}[{name!r}]")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _strings(getattr(value, name), f"{where}.{name}")
