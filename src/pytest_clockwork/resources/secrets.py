"""Secret values: which ones are secret, how they are shown, and references to them.

A value is secret when the user gives it as pydantic's ``SecretStr``, or when it is an
environment variable whose name says so (``POSTGRES_PASSWORD``, ``API_TOKEN``,
``SECRET_KEY``...) or a URL with a password in it. A secret is kept as ``SecretStr`` in
the resource (so its repr and dumps show ``**********``), never shown to a model, never
written to ``clockwork.lock`` or the stack's state (a digest stands in for it there).

Another resource, or a model completing one, uses a secret by *reference*:
``${secret:db.env_vars.POSTGRES_PASSWORD}`` is replaced by the value of ``db``'s
``POSTGRES_PASSWORD`` when the resource is deployed, e.g.
``DATABASE_URL="postgresql://app:${secret:db.env_vars.POSTGRES_PASSWORD}@db:5432/app"``.
What a reference names is ``<resource key>.<field>[.<name>]``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

REFERENCE = re.compile(r"\$\{secret:([^{}\s]+)\}")
"""``${secret:<key>.<field>[.<name>]}``."""
MASK = "**********"
"""How pydantic shows a ``SecretStr``; never a value worth sending anywhere."""

_WHOLE_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "TOKENS"}
    | {"KEY", "APIKEY", "CREDENTIAL", "CREDENTIALS", "PRIVATE", "COOKIE", "SALT", "DSN"}
)
_PARTS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "PRIVATEKEY")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def secret_name(name: str) -> bool:
    """Whether an environment variable's name says its value is secret."""
    words = {word.upper() for word in re.split(r"[^A-Za-z0-9]+", _CAMEL.sub("_", name)) if word}
    joined = re.sub(r"[^A-Z0-9]", "", name.upper())
    return bool(words & _WHOLE_WORDS) or any(part in joined for part in _PARTS)


def has_password(value: str) -> bool:
    """Whether ``value`` is a URL with a password in it (not only a reference to one)."""
    try:
        password = urlsplit(value).password
    except ValueError:
        return False
    return bool(password) and not REFERENCE.fullmatch(password or "")


def conceal_env(env: Mapping[str, str | SecretStr]) -> dict[str, str | SecretStr]:
    """``env`` with the values that look secret (by name, or a URL's password) as secrets."""
    return {
        name: SecretStr(value)
        if isinstance(value, str) and (secret_name(name) or has_password(value))
        else value
        for name, value in env.items()
    }


def shown(value: Any, where: str) -> Any:
    """``value`` as others may see it: each secret in it replaced by a reference to it.

    Args:
        value: A field's value (text, secret, list, mapping...).
        where: What a reference to it names: ``db.env_vars`` for the field ``env_vars`` of
            ``db``; items of a mapping add their name, of a list their index.
    """
    if isinstance(value, SecretStr):
        return "${secret:" + where + "}"
    if isinstance(value, Mapping):
        return {name: shown(item, f"{where}.{name}") for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [shown(item, f"{where}.{index}") for index, item in enumerate(value)]
    return value


def revealed(value: Any) -> Any:
    """``value`` with every secret in it as its plain text (for a model's own proposals)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Mapping):
        return {name: revealed(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [revealed(item) for item in value]
    return value


def references(value: Any) -> set[str]:
    """The references in ``value`` (any JSON-like data), as ``${secret:...}`` texts."""
    if isinstance(value, str):
        return {match.group(0) for match in REFERENCE.finditer(value)}
    if isinstance(value, Mapping):
        return set().union(*(references(item) for item in value.values()), set())
    if isinstance(value, list | tuple):
        return set().union(*(references(item) for item in value), set())
    return set()


Lookup = Callable[[str], str]
"""Gives the plain value a reference names (``db.env_vars.X`` → ``s3cr3t``)."""


def expand(text: str, lookup: Lookup | None, where: str) -> tuple[str, bool]:
    """``text`` with its references replaced by the values they name.

    Args:
        text: The value as declared.
        lookup: Resolves one reference's name; ``None`` when nothing can be resolved.
        where: What holds ``text``, for errors (``resource 'api': env_vars['URL']``).

    Returns:
        The expanded text, and whether it contained a reference (so it holds a secret).

    Raises:
        ValueError: A reference cannot be resolved; the message says which and why.
    """
    found = REFERENCE.findall(text)
    if not found:
        return text, False
    if lookup is None:
        raise ValueError(f"{where}: {text!r} has secret references, which cannot be resolved here")
    return REFERENCE.sub(lambda match: lookup(match.group(1)), text), True


def lookup_in(resource: Any, path: str, reference: str) -> str:
    """The plain text at ``path`` (``env_vars.NAME``, ``content``) of ``resource``.

    Raises:
        ValueError: Nothing, or no text, is there.
    """
    field, _, name = path.partition(".")
    value = getattr(resource, field, None) if field in type(resource).model_fields else None
    if name and isinstance(value, Mapping):
        value = value.get(name)
    elif name:
        value = None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if not isinstance(value, str):
        raise ValueError(
            f"{reference} names no text: {type(resource).__name__} has no {path!r}; refer to "
            "a field with a value, e.g. ${secret:db.env_vars.POSTGRES_PASSWORD}"
        )
    return value


def digest(name: str, value: str) -> str:
    """What the state records instead of a secret environment value."""
    text = hashlib.sha256(f"clockwork-secret:{name}={value}".encode()).hexdigest()
    return f"<secret sha256:{text[:32]}>"


def is_digest(value: str) -> bool:
    """Whether ``value`` is what :func:`digest` gives (a value read back from the state)."""
    return value.startswith("<secret sha256:") and value.endswith(">")
