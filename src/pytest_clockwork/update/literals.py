"""Python source for the values an update writes: literals and calls, black-like.

A value goes on one line when it fits in :data:`LINE_LENGTH`; otherwise a list, mapping
or call is exploded one item per line with a trailing comma, and a long text with line
breaks becomes a parenthesized concatenation of its lines. Strings use the quote the file
mostly uses. A secret (``SecretStr``) is never written out: :class:`Unwritable` says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, SecretStr

LINE_LENGTH = 100
INDENT = "    "


class Unwritable(ValueError):
    """A value that cannot be written as source (a secret, an object of another kind)."""


def string(text: str, quote: str = '"') -> str:
    """``text`` as a string literal in the ``quote`` the file prefers."""
    if quote == "'" and "'" not in text:
        return repr(text)
    if quote == '"' and '"' in text and "'" not in text and "\\" not in text:
        return repr(text)  # single quotes spare the escapes, as black does
    return json.dumps(text, ensure_ascii=False)


def literal(value: Any, *, quote: str = '"', indent: str = "", column: int = 0) -> str:
    """``value`` as Python source.

    Args:
        value: JSON-like data (text, numbers, booleans, ``None``, lists, mappings), paths,
            and :class:`Call`.
        quote: The preferred string quote.
        indent: The indentation of the line the value starts on (exploded items get one
            level more).
        column: Where the value starts on its line (to decide whether it fits).

    Raises:
        Unwritable: The value holds a secret or an object that has no literal.
    """
    flat = _flat(value, quote)
    if column + len(flat) <= LINE_LENGTH or not _explodable(value):
        return flat
    inner = indent + INDENT
    if isinstance(value, Call):
        lines = [
            f"{inner}{key}="
            + literal(item, quote=quote, indent=inner, column=len(inner) + len(key) + 1)
            + ",\n"
            for key, item in value.arguments
        ]
        return f"{value.name}(\n" + "".join(lines) + indent + ")"
    if isinstance(value, str):
        lines = value.splitlines(keepends=True)
        return "(\n" + "".join(f"{inner}{string(line, quote)}\n" for line in lines) + indent + ")"
    if isinstance(value, Mapping):
        items = [
            f"{string(str(key), quote)}: "
            + literal(item, quote=quote, indent=inner, column=len(inner) + len(str(key)) + 4)
            for key, item in value.items()
        ]
        return "{\n" + "".join(f"{inner}{item},\n" for item in items) + indent + "}"
    items = [literal(item, quote=quote, indent=inner, column=len(inner)) for item in value]
    return "[\n" + "".join(f"{inner}{item},\n" for item in items) + indent + "]"


@dataclass(frozen=True)
class Call:
    """A call written as source: ``name(keyword=value, ...)`` (a resource, an assertion).

    Attributes:
        name: What is called (``DockerResource``, ``cw.HealthcheckAssert``).
        arguments: The keyword arguments, in order, with their values.
    """

    name: str
    arguments: tuple[tuple[str, Any], ...] = ()


def _flat(value: Any, quote: str) -> str:
    if isinstance(value, Call):
        arguments = ", ".join(f"{key}={_flat(item, quote)}" for key, item in value.arguments)
        return f"{value.name}({arguments})"
    if isinstance(value, SecretStr):
        raise Unwritable("a secret value is never written out")
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return string(value, quote)
    if isinstance(value, PurePath):
        return string(str(value), quote)
    if isinstance(value, Mapping):
        items = ", ".join(f"{_flat(str(k), quote)}: {_flat(v, quote)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flat(item, quote) for item in value) + "]"
    if isinstance(value, BaseModel):
        raise Unwritable(f"a {type(value).__name__} is written by hand")
    raise Unwritable(f"{type(value).__name__} {value!r} has no literal")


def _explodable(value: Any) -> bool:
    if isinstance(value, Call):
        return bool(value.arguments)
    if isinstance(value, str):
        return "\n" in value.rstrip("\n")
    return isinstance(value, Mapping | list | tuple) and bool(value)
