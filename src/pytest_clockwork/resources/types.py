"""Annotated field types shared by the resource models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, SecretStr

from pytest_clockwork.notation import (
    check_env_name,
    check_image,
    check_name,
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


def _mode(text: object) -> str:
    if isinstance(text, int) and not isinstance(text, bool):
        raise ValueError(
            f"invalid file mode {text!r}: an int is ambiguous (Python reads 644 as decimal, "
            '0o644 as 420); give the octal digits as a string, e.g. mode="644"'
        )
    if not isinstance(text, str):
        raise ValueError(f"invalid file mode {text!r}: expected an octal string such as '644'")
    return format_mode(parse_mode(text))


def _grace(value: object) -> float:
    return parse_duration(value, allow_zero=True)  # type: ignore[arg-type]


def _network(text: str) -> str:
    return check_name(text, "network name")


def _scalar_to_str(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str | SecretStr):
        raise ValueError(
            f"{type(value).__name__} {value!r} is not text: give a string (numbers and "
            "booleans are written as text), or SecretStr('...') for a secret"
        )
    return value


def text_value(value: object) -> object:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"bytes that are not UTF-8 text ({exc.reason} at byte {exc.start}): give text"
            ) from None
    if not isinstance(value, str | SecretStr):
        raise ValueError(
            f"{type(value).__name__} {value!r} is not text: give a string, or "
            "SecretStr('...') for a secret"
        )
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration)]
"""A duration in seconds; accepts numbers and ``"90s"``, ``"30m"``, ``"2h"``."""

GraceSeconds = Annotated[float, BeforeValidator(_grace)]
"""A duration in seconds that may be zero."""

Image = Annotated[str, AfterValidator(check_image)]
"""An image reference: ``"postgres:16-alpine"``, ``"ghcr.io/org/app:1.2"``."""

NetworkName = Annotated[str, AfterValidator(_network)]
"""A Docker network's name."""

EnvName = Annotated[str, AfterValidator(check_env_name)]
"""An environment variable's name."""

Port = Annotated[str, BeforeValidator(_scalar_to_str), AfterValidator(_port)]
"""A port in Docker's notation: ``"80"``, ``"8080:80"``, ``"127.0.0.1:8080:80"``, ``"53/udp"``."""

Volume = Annotated[str, AfterValidator(_volume)]
"""A volume: ``"./data:/data"``, ``"/abs:/data:ro"`` or ``"volname:/data"``."""

FileMode = Annotated[str, BeforeValidator(_mode)]
"""A file mode as an octal string (``"644"``); stored as ``"0644"``."""

Text = Annotated[str | SecretStr, BeforeValidator(text_value)]
"""Text, or a ``SecretStr`` for a secret."""

EnvValue = Annotated[str | SecretStr, BeforeValidator(_scalar_to_str)]
"""An environment value; numbers and booleans are written as strings. A secret one is a
``SecretStr`` (given so, or by its name: see :mod:`pytest_clockwork.resources.secrets`)."""
