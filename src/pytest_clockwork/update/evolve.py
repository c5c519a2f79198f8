"""A change set applied to the declarations in memory, every value checked on the way.

Each changed or new resource is rebuilt by its own class (``model_validate``: every
field and model validator runs), and the values the model proposed go through the
completion's safety :func:`~pytest_clockwork.completion.policy.review` (paths inside the
rootdir, no privileged containers, no host ports below 1024). What fails is a
:class:`~pytest_clockwork.completion.policy.Rejection`, sent back to the model with its
reason. Nothing here imports pydantic-ai or touches a file.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from pytest_clockwork.assertions.base import Assertion
from pytest_clockwork.completion.policy import Rejection, review
from pytest_clockwork.completion.request import NEVER_COMPLETED
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.resources.secrets import references, shown

from .changes import AssertionChange, ChangeSet, FieldChange, NewResource
from .changes import assertion_class as assertion_type
from .changes import resource_class as resource_type

FIXED_FIELDS = frozenset({"name", "assertions", "description"})
"""Fields a field change may not set: the key, the checks (``assertions`` of the change
set says them), and the description completion is based on."""


@dataclass
class Evolution:
    """The declarations after a change set.

    Attributes:
        roots: The module-level resources by key, changed ones rebuilt, new ones added,
            removed ones gone.
        changed: The keys of existing resources that differ.
        created: The keys of new resources.
        removed: The keys of removed resources.
        rejections: Why the change set cannot be used (empty: it can).
    """

    roots: dict[str, Resource] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def evolve(roots: Mapping[str, Resource], changes: ChangeSet, *, rootdir: Path) -> Evolution:
    """``roots`` with ``changes`` applied, or the reasons they cannot be.

    Args:
        roots: The declared module-level resources by key (as the conftests bind them).
        changes: The proposed change set.
        rootdir: pytest's rootdir (the safety policy keeps paths inside it).
    """
    result = Evolution()
    found = result.rejections
    if changes.is_empty():
        found.append(Rejection("changes", [], "the change set is empty; carry out the intent"))
        return result
    fields: dict[str, dict[str, Any]] = {}
    for change in changes.changes:
        problem = _field_problem(change, roots)
        if problem:
            found.append(Rejection(f"{change.resource}.{change.field}", change.value, problem))
        else:
            fields.setdefault(change.resource, {})[_field_name(roots[change.resource], change)] = (
                change.value
            )
    for key in changes.removals:
        if key not in roots:
            found.append(Rejection("removals", key, f"{key!r} is not declared; {_declared(roots)}"))
        elif any(key == nr.name for nr in changes.new_resources) or key in fields:
            found.append(Rejection("removals", key, f"{key!r} is also changed or created"))
    new_names = [nr.name for nr in changes.new_resources]
    for new in changes.new_resources:
        found.extend(_name_problems(new, roots, new_names))
    checks = _checks(changes.assertions, roots, changes.new_resources, found)
    if found:
        return result

    built: dict[str, Resource] = {}
    shown_references = set().union(*(references(r.context()) for r in roots.values()), set())
    for key, values in fields.items():
        resource = roots[key]
        data = {name: getattr(resource, name) for name in resource.model_fields_set}
        data.update(
            {
                name: kept_secrets(getattr(resource, name), value, f"{key}.{name}")
                for name, value in values.items()
            }
        )
        candidate = _build(type(resource), data, key, values, found)
        if candidate is not None:
            found.extend(review(candidate, values, rootdir=rootdir, references=shown_references))
            _carry_over(resource, candidate)
            built[key] = candidate
    for new in changes.new_resources:
        cls = resource_type(new.type)
        candidate = _build(cls, dict(new.fields), new.name, new.fields, found)
        if candidate is not None:
            found.extend(
                Rejection(f"{new.name}.{r.field}", r.value, r.reason)
                for r in review(candidate, new.fields, rootdir=rootdir)
            )
            candidate._key = new.name
            built[new.name] = candidate
    for key, assertions in checks.items():
        base = built.get(key) or roots.get(key)
        if base is None:  # a new resource that could not be built: said already
            continue
        current = list(base.assertions)
        for number, assertion in assertions:
            if number is None:
                current.append(assertion)
            else:
                current[number - 1] = assertion
        data = {name: getattr(base, name) for name in base.model_fields_set}
        data["assertions"] = current
        candidate = _build(type(base), data, key, {"assertions": "..."}, found)
        if candidate is not None:
            _carry_over(base, candidate)
            built[key] = candidate
    if found:
        return result

    removed = set(changes.removals)
    for key in changes.removals:
        users = [
            k
            for k, r in roots.items()
            if k not in removed and any(c is roots[key] for c in r.connections)
        ]
        if users:
            found.append(Rejection("removals", key, f"{', '.join(users)} connect to {key!r}"))
    if found:
        return result
    result.roots = {key: built.get(key, r) for key, r in roots.items() if key not in removed}
    for new in changes.new_resources:
        result.roots[new.name] = built[new.name]
    _relink(result.roots, roots)
    for new in changes.new_resources:
        result.roots[new.name].connect(*(result.roots[k] for k in new.connect))
    result.changed = [key for key in roots if key in built and key not in new_names]
    result.created = new_names
    result.removed = [key for key in roots if key in removed]
    for key in [*result.changed, *result.created]:
        if not result.roots[key].assertions:
            found.append(
                Rejection(
                    "assertions",
                    [],
                    f"{key!r} is changed or new but has no assertion: add one that checks "
                    "the intent holds for it",
                )
            )
    return result


def kept_secrets(original: Any, proposed: Any, where: str) -> Any:
    """``proposed`` with each secret that it gives back as the reference it was shown
    (``${secret:web.env_vars.TOKEN}`` for ``web``'s ``TOKEN``) put back as itself."""
    if isinstance(original, SecretStr):
        return original if proposed == shown(original, where) else proposed
    if isinstance(original, Mapping) and isinstance(proposed, Mapping):
        return {
            name: kept_secrets(original[name], value, f"{where}.{name}")
            if name in original
            else value
            for name, value in proposed.items()
        }
    return proposed


def _field_problem(change: FieldChange, roots: Mapping[str, Resource]) -> str | None:
    resource = roots.get(change.resource)
    if resource is None:
        return f"{change.resource!r} is not a declared resource; {_declared(roots)}"
    cls = type(resource)
    name = _field_name(resource, change)
    if name not in cls.model_fields:
        known = ", ".join(n for n in cls.model_fields if n not in FIXED_FIELDS)
        return f"{cls.__name__} has no field {change.field!r}; its fields: {known}"
    if name in NEVER_COMPLETED:
        return "clockwork never lets a model set this; only the developer may"
    if name in FIXED_FIELDS:
        return (
            "put checks in the change set's `assertions`"
            if name == "assertions"
            else f"{name} cannot be changed by an update"
        )
    return None


def _field_name(resource: Resource, change: FieldChange) -> str:
    """The field's name, also when the change gives its alias (``restart``)."""
    for name, info in type(resource).model_fields.items():
        if change.field in (name, info.alias):
            return name
    return change.field


def _name_problems(
    new: NewResource, roots: Mapping[str, Resource], new_names: list[str]
) -> Iterator[Rejection]:
    if not new.name.isidentifier() or keyword.iskeyword(new.name) or new.name.startswith("_"):
        yield Rejection("name", new.name, "a new resource's name must be a Python identifier")
    elif new.name in roots:
        yield Rejection("name", new.name, f"{new.name!r} is declared already; change its fields")
    elif new_names.count(new.name) > 1:
        yield Rejection("name", new.name, f"{new.name!r} is created twice")
    for key in new.connect:
        if key not in roots and key not in new_names:
            yield Rejection(f"{new.name}.connect", key, f"{key!r} is not declared")


def _checks(
    changes: list[AssertionChange],
    roots: Mapping[str, Resource],
    new: list[NewResource],
    found: list[Rejection],
) -> dict[str, list[tuple[int | None, Assertion]]]:
    """The assertions to add or replace, by resource, validated by their classes."""
    types = {nr.name: resource_type(nr.type) for nr in new}
    checks: dict[str, list[tuple[int | None, Assertion]]] = {}
    for change in changes:
        where = f"assertions[{change.resource}]"
        resource = roots.get(change.resource)
        if resource is None and change.resource not in types:
            found.append(Rejection(where, change.resource, f"not declared; {_declared(roots)}"))
            continue
        try:
            assertion = assertion_type(change.type).model_validate(change.arguments)
        except ValidationError as exc:
            found.extend(_rejections(exc, f"{where}.{change.type}", change.arguments))
            continue
        kind = type(resource) if resource is not None else types[change.resource]
        if assertion.resource_types and not issubclass(kind, assertion.resource_types):
            misfit = f"it checks {assertion.checks()}, not a {kind.__name__}"
            found.append(Rejection(where, change.type, misfit))
            continue
        count = len(resource.assertions) if resource is not None else 0
        if change.replaces is not None and not 1 <= change.replaces <= count:
            found.append(
                Rejection(
                    f"{where}.replaces",
                    change.replaces,
                    f"{change.resource!r} has {count} assertions (numbered from 1)",
                )
            )
            continue
        checks.setdefault(change.resource, []).append((change.replaces, assertion))
    return checks


def _build(
    cls: type[Resource],
    data: dict[str, Any],
    key: str,
    proposed: Mapping[str, Any],
    found: list[Rejection],
) -> Resource | None:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        found.extend(_rejections(exc, key, proposed))
        return None


def _rejections(exc: ValidationError, key: str, proposed: Mapping[str, Any]) -> list[Rejection]:
    found = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        name = location[0] if location else ""
        value = proposed.get(name, error.get("input"))
        field = f"{key}.{'.'.join(location)}" if location else key
        found.append(Rejection(field, value, str(error.get("msg", "invalid"))))
    return found


def _carry_over(old: Resource, new: Resource) -> None:
    new._children = dict(old._children)
    new._connections = list(old._connections)
    new._parent = old._parent
    new._key = old._key
    for child in new._children.values():
        child._parent = new


def _relink(roots: dict[str, Resource], before: Mapping[str, Resource]) -> None:
    """Point connections at the rebuilt resources (and drop those to removed ones)."""
    by_identity = {id(before[key]): key for key in before}
    for resource in roots.values():
        linked = []
        for other in resource._connections:
            key = by_identity.get(id(other))
            if key is None:
                linked.append(other)
            elif key in roots:
                linked.append(roots[key])
        resource._connections = linked


def _declared(roots: Mapping[str, Resource]) -> str:
    return "declared: " + (", ".join(sorted(roots)) or "none")
