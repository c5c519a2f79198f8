"""Command-line options and ini keys, and how they combine with ``CW_*`` settings.

Each setting is looked up in this order, first found wins: the ``--clockwork-*``
option, the ``CW_*`` environment variable, the ``clockwork_*`` key in the ini file,
the default. :func:`resolve` checks every one of them when pytest starts (a bad value
is a usage error naming it), importing only the standard library.
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import pytest

from pytest_clockwork.settings import (
    BY_NAME,
    SETTINGS,
    ClockworkSettings,
    SettingError,
    unknown_variables,
)

ACTIONS = (
    ("destroy", "destroy what the stack has running, and run no tests"),
    ("plan", "show what would be deployed, in which order; deploy nothing, run no tests"),
    ("refresh", "complete resources with the model again, even when clockwork.lock matches"),
    ("expired", "with --clockwork-destroy: destroy what has expired, in every stack"),
)
HELP_ORDER = (
    "apply",
    "keep",
    "destroy",
    "plan",
    "stack",
    "engine",
    "model",
    "base_url",
    "lock",
    "refresh",
    "share",
    "ttl",
    "expired",
)


def _flag(name: str) -> str:
    return "--clockwork-" + name.replace("_", "-")


def add_options(parser: pytest.Parser) -> None:
    """Register the ``clockwork`` option group and the ``clockwork_*`` ini keys."""
    group = parser.getgroup("clockwork", "infrastructure as fixtures (pytest-clockwork)")
    actions = dict(ACTIONS)
    for name in HELP_ORDER:
        flag, dest = _flag(name), f"clockwork_{name}"
        if name in actions:
            group.addoption(flag, action="store_true", default=False, dest=dest, help=actions[name])
            continue
        setting = BY_NAME[name]
        variable = setting.variables[0]
        if name == "apply":
            group.addoption(flag, action="store_true", default=None, dest=dest, help=setting.help)
        elif name == "keep":
            # A bare --clockwork-keep followed by a path is rewritten by normalise_keep().
            group.addoption(
                flag,
                nargs="?",
                const="always",
                default=None,
                metavar="{" + ",".join(setting.choices) + "}",
                dest=dest,
                help=f"{setting.help} ({variable})",
            )
        else:
            # Values are checked by resolve(), with the same words as CW_* and ini values.
            metavar = "{" + ",".join(setting.choices) + "}" if setting.choices else None
            group.addoption(
                flag, default=None, dest=dest, metavar=metavar, help=f"{setting.help} ({variable})"
            )
        parser.addini(dest, f"{setting.help} (default: {setting.default})", type="string")


def normalise_keep(args: list[str]) -> None:
    """Rewrite a bare ``--clockwork-keep`` so that the next argument stays a path.

    ``pytest --clockwork-keep tests/`` must keep and run ``tests/``, not read ``tests/``
    as the keep mode. Changes ``args`` in place.
    """
    choices = BY_NAME["keep"].choices
    for index, arg in enumerate(args):
        if arg == "--":
            return
        if arg == _flag("keep") and (index + 1 == len(args) or args[index + 1] not in choices):
            args[index] = f"{arg}=always"


class Options(NamedTuple):
    """The resolved settings of one session."""

    apply: bool
    keep: str
    stack: str
    engine: str
    model: str | None
    base_url: str | None
    lock: str | None
    share: str
    ttl: float | None
    destroy: bool
    plan: bool
    refresh: bool
    expired: bool

    @property
    def acts(self) -> bool:
        """Whether this session deploys, plans or destroys (not only attaches)."""
        return self.apply or self.plan or self.destroy


def resolve(config: pytest.Config) -> Options:
    """Combine and check the command line, ``CW_*`` variables, ini keys and defaults.

    Raises:
        pytest.UsageError: A value cannot be used; the message names the option,
            variable or ini key, and what is accepted.
    """
    try:
        settings = ClockworkSettings.from_environ()
        values = {name: _value(config, name, settings) for name in HELP_ORDER if name in BY_NAME}
    except SettingError as exc:
        raise pytest.UsageError(f"clockwork: {exc}") from None
    for name, _ in ACTIONS:
        values[name] = bool(config.getoption(f"clockwork_{name}", False))
    _check_actions(config, values)
    for variable in unknown_variables(os.environ):
        known = [v for setting in SETTINGS for v in setting.variables]
        from difflib import get_close_matches

        close = get_close_matches(variable, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        config.issue_config_time_warning(
            pytest.PytestConfigWarning(
                f"clockwork: {variable} is not a clockwork setting (CW_* variables are){hint}"
            ),
            stacklevel=2,
        )
    return Options(**values)


def _check_actions(config: pytest.Config, values: dict[str, Any]) -> None:
    """Refuse actions given together on the command line that cannot both happen."""
    if values["expired"] and not values["destroy"]:
        raise pytest.UsageError(
            "clockwork: --clockwork-expired chooses what --clockwork-destroy destroys: "
            "run pytest --clockwork-destroy --clockwork-expired"
        )
    given = [
        _flag(name)
        for name in ("destroy", "plan", "apply")
        if config.getoption(f"clockwork_{name}", None) is True
    ]
    if len(given) > 1:
        raise pytest.UsageError(
            f"clockwork: {' and '.join(given)} cannot run together (destroy removes what "
            "runs, plan only shows what apply would deploy): give one of them"
        )


def _value(config: pytest.Config, name: str, settings: ClockworkSettings) -> Any:
    """The setting's value, first found of option, variable, ini key; each one is checked,
    also when another one wins."""
    setting = BY_NAME[name]
    found: list[Any] = []
    given = config.getoption(f"clockwork_{name}", None)
    if given is not None:
        found.append(given if isinstance(given, bool) else setting.read(str(given), _flag(name)))
    if name in settings.given:
        found.append(getattr(settings, name))
    text = str(config.getini(f"clockwork_{name}") or "")
    if text.strip():
        place = f" in {config.inipath.name}" if config.inipath else ""
        found.append(setting.read(text, f"clockwork_{name}", place=place))
    if found:
        return found[0]
    return None if name in ("model", "base_url") else setting.default
