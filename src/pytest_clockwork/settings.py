"""Every setting clockwork reads, and how each is checked: one table for all of them.

A setting comes from a ``--clockwork-*`` option, a ``CW_*`` environment variable or a
``clockwork_*`` ini key (see :mod:`pytest_clockwork.options` for the order); some only
from the environment (the API key). Each is parsed by the same function wherever it
comes from, and a bad value is an error that names where it came from and what is
accepted. Only the standard library is imported here: the plugin checks every setting
when pytest starts, also in suites that declare no resources.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlparse

DEFAULT_MODEL = "meta-llama/llama-4-scout:free"
DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
LOCAL_PASSPHRASE = "clockwork"
ENV_PREFIX = "CW_"

_STACK_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class SettingError(ValueError):
    """A setting has a value clockwork cannot use.

    Args:
        where: Where it came from: ``--clockwork-ttl=2x``, ``CW_TTL=2x``...
        reason: What is wrong and what is accepted.
    """

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def parse_bool(text: str) -> bool:
    """``true``/``false`` (also ``1``/``0``, ``yes``/``no``, ``on``/``off``)."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("expected true or false (or 1/0, yes/no, on/off)")


def check_stack(text: str) -> str:
    """A stack name: parts of letters, digits, ``.``, ``_`` and ``-``, joined by ``/``.

    ``feature/login`` (a branch name) is a stack name; ``../x``, ``/abs`` and ``a//b``
    are not: a stack name never leaves clockwork's state directory.
    """
    parts = text.split("/")
    if len(text) > 100 or not all(_STACK_PART.fullmatch(part) for part in parts):
        raise ValueError(
            f"invalid stack name {text!r}: use letters, digits, '.', '_' and '-', with '/' "
            "between parts (e.g. 'ci' or 'feature/login'), at most 100 characters"
        )
    return text


def _url(text: str) -> str:
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError("expected an http:// or https:// URL")
    return text


def _host(text: str) -> str:
    host = text.strip()
    bracketed = host.startswith("[") and host.endswith("]") and len(host) > 2
    if (
        not host
        or "://" in host
        or any(char in host for char in "/@ \t")
        or (":" in host and not bracketed)
    ):
        raise ValueError(
            "expected a host name or IP address, without scheme or port (e.g. 'docker' or "
            "'10.0.0.5'; an IPv6 address in brackets: '[fd00::5]')"
        )
    return host


def _text(text: str) -> str:
    if not text.strip():
        raise ValueError("expected a value, got an empty one")
    return text


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.strip().isdigit() or not low <= int(text) <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return int(text)

    return parse


def _duration(text: str) -> float:
    from pytest_clockwork.notation import parse_duration

    return parse_duration(text)


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return text

    parse.choices = choices  # type: ignore[attr-defined]
    return parse


class Setting(NamedTuple):
    """One setting.

    Attributes:
        name: Its name: ``ttl`` is ``--clockwork-ttl``, ``CW_TTL``, ``clockwork_ttl``.
        help: What it does.
        parse: Turns the text into the value; raises ``ValueError`` with what is accepted.
        default: Its value when nothing sets it.
        option: It has a command-line option and an ini key (else: environment only).
        also: Other environment variables that set it (after ``CW_<NAME>``).
        secret: Its value is never shown.
    """

    name: str
    help: str
    parse: Callable[[str], Any]
    default: Any = None
    option: bool = True
    also: tuple[str, ...] = ()
    secret: bool = False

    @property
    def variables(self) -> tuple[str, ...]:
        """The environment variables that set it, the first found wins."""
        return (ENV_PREFIX + self.name.upper(), *self.also)

    @property
    def choices(self) -> tuple[str, ...]:
        """The accepted values, when they are a fixed list."""
        return tuple(getattr(self.parse, "choices", ()))

    def read(self, text: str, source: str, *, place: str = "") -> Any:
        """Parse ``text``, which came from ``source`` (an option, variable or ini key).

        Args:
            text: The value as given.
            source: ``--clockwork-ttl``, ``CW_TTL`` or ``clockwork_ttl``.
            place: Where ``source`` is, e.g. `` in pytest.ini``.

        Raises:
            SettingError: Naming the source and value (hidden when secret) and the reason.
        """
        try:
            return self.parse(text)
        except ValueError as exc:
            shown = "<hidden>" if self.secret else text
            raise SettingError(f"{source}={shown}{place}", str(exc)) from None


SETTINGS: tuple[Setting, ...] = (
    Setting("apply", "deploy what the selected tests need, then destroy it", parse_bool, False),
    Setting(
        "keep",
        "leave the deployment running: always (the default when given bare), on-failure, never",
        _choice("always", "on-failure", "never"),
        "never",
    ),
    Setting("stack", "the stack to deploy to or attach to", check_stack, "default"),
    Setting(
        "engine",
        "auto (Pulumi when its CLI is installed, else local), local or pulumi",
        _choice("auto", "local", "pulumi"),
        "auto",
    ),
    Setting("model", "the model that completes resources", _text, DEFAULT_MODEL),
    Setting("base_url", "the OpenAI-compatible endpoint for completion", _url, DEFAULT_BASE_URL),
    Setting(
        "lock",
        "clockwork.lock mode: readonly (the default when CI is set) or update",
        _choice("readonly", "update"),
    ),
    Setting(
        "share",
        "with pytest-xdist: run (deploy once for all workers) or worker (a copy each)",
        _choice("run", "worker"),
        "run",
    ),
    Setting("ttl", "lifetime of kept resources, e.g. 2h; they are destroyed after it", _duration),
    Setting("api_key", "key for the completion endpoint", _text, option=False, secret=True),
    Setting(
        "completion_max_retries",
        "rejected proposals sent back to the model before giving up",
        _whole_number(0, 20),
        3,
        option=False,
    ),
    Setting(
        "completion_concurrency",
        "resources completed at the same time",
        _whole_number(1, 64),
        4,
        option=False,
    ),
    Setting(
        "pulumi_config_passphrase",
        "passphrase of Pulumi's secrets provider",
        _text,
        option=False,
        also=("PULUMI_CONFIG_PASSPHRASE",),
        secret=True,
    ),
    Setting(
        "pulumi_backend_url",
        "Pulumi state backend",
        _text,
        option=False,
        also=("PULUMI_BACKEND_URL",),
    ),
    Setting("alert_webhook", "URL that drift and failure alerts are POSTed to", _url, option=False),
    Setting(
        "docker_host_override",
        "the address tests reach containers' published ports at (default: the engine's host)",
        _host,
        option=False,
    ),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}
_SECRET = frozenset(setting.name for setting in SETTINGS if setting.secret)


class ClockworkSettings(NamedTuple):
    """Every setting's value from the environment (``CW_*``), or its default.

    The ``--clockwork-*`` options and ``clockwork_*`` ini keys win over the plugin's
    settings (see :mod:`pytest_clockwork.options`). Build it with :meth:`from_environ`.

    Attributes:
        api_key: Key for the OpenAI-compatible completion endpoint.
        model: The model that completes resources.
        base_url: The OpenAI-compatible endpoint (OpenRouter, Ollama, LM Studio...).
        apply, keep, stack, engine, lock, share, ttl: The plugin's settings, as the
            ``--clockwork-*`` options of the same names (which win over these).
        completion_max_retries: Rejected proposals sent back before giving up.
        completion_concurrency: Resources completed at the same time.
        pulumi_config_passphrase: Passphrase of Pulumi's secrets provider (also read
            from ``PULUMI_CONFIG_PASSPHRASE``).
        pulumi_backend_url: Pulumi state backend (also ``PULUMI_BACKEND_URL``).
        alert_webhook: URL that drift and failure alerts are POSTed to.
        docker_host_override: The address tests reach containers' published ports at,
            when it is not the engine's host (see :mod:`pytest_clockwork.runtimes.endpoint`).
        given: The names of the settings the environment set.
    """

    api_key: str | None = None
    model: str = DEFAULT_MODEL
    base_url: str = DEFAULT_BASE_URL
    apply: bool = False
    keep: str = "never"
    stack: str = "default"
    engine: str = "auto"
    lock: str | None = None
    share: str = "run"
    ttl: float | None = None
    completion_max_retries: int = 3
    completion_concurrency: int = 4
    pulumi_config_passphrase: str | None = None
    pulumi_backend_url: str | None = None
    alert_webhook: str | None = None
    docker_host_override: str | None = None
    given: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        shown = (
            f"{name}={'***' if name in _SECRET and value is not None else repr(value)}"
            for name, value in zip(self._fields, self, strict=True)
        )
        return f"ClockworkSettings({', '.join(shown)})"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ClockworkSettings:
        """Read every setting from ``environ`` (``os.environ`` by default).

        An empty variable counts as not set.

        Raises:
            SettingError: A variable has a value clockwork cannot use.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            for variable in setting.variables:
                text = environ.get(variable, "")
                if text.strip():
                    values[setting.name] = setting.read(text, variable)
                    break
        return cls(**values, given=frozenset(values))


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """``CW_*`` variables that are not settings (a typo, most likely)."""
    known = {variable for setting in SETTINGS for variable in setting.variables}
    return sorted(name for name in environ if name.startswith(ENV_PREFIX) and name not in known)


@lru_cache(maxsize=1)
def get_settings() -> ClockworkSettings:
    """The settings, read from the environment on first use and cached.

    The plugin clears the cache when a pytest session starts, so each session reads
    the environment once.

    Raises:
        SettingError: A variable has a value clockwork cannot use.
    """
    return ClockworkSettings.from_environ()
