"""The structured output a model fills: only the fields the user left to complete.

The output model is built from the resource class's own field definitions (their
types and validators, without ``None``), so the schema the model sees asks exactly for
the missing fields and nothing the user gave. Keys outside it are kept aside (not
dropped) so that an attempt to set one is rejected with a reason, not ignored.
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from pytest_clockwork.resources.base import Resource

_ATTRIBUTE = re.compile(r"^(\s+)(\w+)(?: \([^)]*\))?: (.*)$")
_ROLE = re.compile(r":\w+:`~?([^`]*)`")


def output_model(resource_type: type[Resource], fields: Sequence[str]) -> type[BaseModel]:
    """A model with one required field per name in ``fields``.

    Args:
        resource_type: The resource class, whose field definitions are used.
        fields: The fields to complete.
    """
    docs = field_docs(resource_type)
    definitions: dict[str, Any] = {}
    for name in fields:
        info = resource_type.model_fields[name]
        annotation = _without_none(info.annotation)
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        definitions[name] = (annotation, Field(description=docs.get(name)))
    return create_model(
        f"{resource_type.__name__}Completion",
        __config__=ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False}),
        **definitions,
    )


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
        return Union[tuple(members)]  # noqa: UP007 - built at runtime from a tuple
    return annotation


@cache
def field_docs(resource_type: type[Resource]) -> dict[str, str]:
    """Each field's description, from the ``Attributes:`` sections of the class docstrings.

    The nearest class in the MRO that documents a field wins.
    """
    docs: dict[str, str] = {}
    for cls in reversed(resource_type.__mro__):
        docs.update(_attributes(cls.__doc__ or ""))
    return docs


def _attributes(docstring: str) -> dict[str, str]:
    found: dict[str, str] = {}
    inside = False
    indent: int | None = None
    current: str | None = None
    for line in docstring.splitlines():
        if line.strip() == "Attributes:":
            inside, indent, current = True, None, None
            continue
        if not inside:
            continue
        if not line.strip():
            current = None
            continue
        match = _ATTRIBUTE.match(line)
        width = len(line) - len(line.lstrip())
        if match and (indent is None or width == indent):
            indent = width
            current = match.group(2)
            found[current] = _plain(match.group(3))
        elif current is not None and indent is not None and width > indent:
            found[current] += " " + _plain(line)
        else:
            inside = False
    return found


def _plain(text: str) -> str:
    """Docstring markup as plain text: ``:meth:`x` `` → ``x``, double backquotes dropped."""
    return _ROLE.sub(r"\1", text.strip()).replace("``", "")
