"""Annotated field types shared by the resource models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

from pytest_clockwork.notation import (
    format_mode,
    parse_duration,
    parse_mode,
    parse_port,
    parse_volume,
)


def _port(text: str) -> str:
    parse_port(text)
    return text


def _volume(text: str) -> str:
    parse_volume(text)
    return text


def _mode(text: str | int) -> str:
    if isinstance(text, int):
        text = f"{text:o}"
    return format_mode(parse_mode(text))


def _scalar_to_str(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration)]
"""A duration in seconds; accepts numbers and ``"90s"``, ``"30m"``, ``"2h"``."""

Port = Annotated[str, BeforeValidator(_scalar_to_str), AfterValidator(_port)]
"""A port in Docker's notation: ``"80"``, ``"8080:80"``, ``"127.0.0.1:8080:80"``, ``"53/udp"``."""

Volume = Annotated[str, AfterValidator(_volume)]
"""A volume: ``"./data:/data"``, ``"/abs:/data:ro"`` or ``"volname:/data"``."""

FileMode = Annotated[str, BeforeValidator(_mode)]
"""A file mode as an octal string (``"644"``); stored as ``"0644"``."""

EnvValue = Annotated[str, BeforeValidator(_scalar_to_str)]
"""An environment value; numbers and booleans are written as strings."""
