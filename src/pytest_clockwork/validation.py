"""Checks shared by the declaration models: what a misspelt or mis-shaped argument gets.

pydantic's own messages for these ("Extra inputs are not permitted", or a model iterated
as if it were a list) say what is wrong but not what was meant; these say both.
"""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

ELSEWHERE = {
    "reset": "only containers (reset=[commands]) and a FileResource (reset=True) can be "
    "reset before each test; scope='function' gives each test a new one instead",
}
"""What to say of a field that other resource types have, given to one that has not."""


def check_arguments(model: type[BaseModel], data: Any) -> Any:
    """Refuse unknown fields (naming the closest known one) and a single value given
    where a field takes a list. Use as a ``model_validator(mode="before")``.

    Raises:
        ValueError: Naming the argument, and what to write instead.
    """
    if not isinstance(data, dict):
        return data
    # A field is declared by its alias when it has one (``restart``), else by its name.
    shown = {info.alias or name: info for name, info in model.model_fields.items()}
    fields = {**model.model_fields, **shown}
    for name, value in data.items():
        if name not in fields:
            close = [field for field in shown if str(name) in field or field in str(name)]
            close = close or difflib.get_close_matches(str(name), list(shown), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}=...?" if close else "it takes no such argument"
            hint = ELSEWHERE.get(str(name), hint)
            raise ValueError(
                f"{model.__name__} has no field {name!r}: {hint} (its fields: "
                f"{', '.join(sorted(shown))})"
            )
        if _takes_a_list(fields[name].annotation) and not isinstance(value, list | tuple | None):
            raise ValueError(f"{name} takes a list: write {name}=[{_shown(value)}]")
    return data


def _takes_a_list(annotation: Any) -> bool:
    """Whether the field takes only lists (or ``None``): ``list[Port] | None`` does,
    ``str | list[str]`` does not."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        return all(_takes_a_list(member) for member in members)
    return get_origin(annotation) is list


def _shown(value: Any) -> str:
    if isinstance(value, BaseModel):
        return f"{type(value).__name__}(...)"
    text = repr(value)
    return text if len(text) <= 40 else "..."
