"""Command-line options and ini keys, and how they combine with ``CW_*`` settings.

Each setting is looked up in this order, first found wins: the ``--clockwork-*``
option, the ``CW_*`` environment variable, the ``clockwork_*`` key in
``[tool.pytest.ini_options]``, the default. Registering the options imports nothing
heavy; :func:`resolve` (which reads the settings) runs only when clockwork has work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

KEEP_CHOICES = ("always", "on-failure", "never")
ENGINE_CHOICES = ("auto", "local", "pulumi")
SHARE_CHOICES = ("run", "worker")
LOCK_CHOICES = ("readonly", "update")


@dataclass(frozen=True)
class _Setting:
    name: str
    help: str
    default: Any
    kind: str = "string"  # string | bool
    choices: tuple[str, ...] = ()


SETTINGS = (
    _Setting("apply", "deploy what the selected tests need, then destroy it", False, "bool"),
    _Setting(
        "keep",
        "leave the deployment running: always (the default when given bare), on-failure, never",
        "never",
        choices=KEEP_CHOICES,
    ),
    _Setting("stack", "the stack to deploy to or attach to", "default"),
    _Setting(
        "engine",
        "auto (Pulumi when its CLI is installed, else local), local or pulumi",
        "auto",
        choices=ENGINE_CHOICES,
    ),
    _Setting("model", "the model that completes resources (CW_MODEL)", None),
    _Setting("base_url", "the OpenAI-compatible endpoint for completion (CW_BASE_URL)", None),
    _Setting(
        "lock",
        "clockwork.lock mode: readonly (the default when CI is set) or update",
        None,
        choices=LOCK_CHOICES,
    ),
    _Setting(
        "share",
        "with pytest-xdist: run (deploy once for all workers) or worker (a copy each)",
        "run",
        choices=SHARE_CHOICES,
    ),
    _Setting("ttl", "lifetime of kept resources, e.g. 2h; they are destroyed after it", None),
)

ACTIONS = (
    ("destroy", "destroy what the stack has running, and run no tests"),
    ("plan", "show what would be deployed, in which order; deploy nothing, run no tests"),
    ("refresh", "complete resources with the model again, even when clockwork.lock matches"),
    ("expired", "with --clockwork-destroy: destroy what has expired, in every stack"),
)


def _flag(name: str) -> str:
    return "--clockwork-" + name.replace("_", "-")


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


def add_options(parser: pytest.Parser) -> None:
    """Register the ``clockwork`` option group and the ``clockwork_*`` ini keys."""
    group = parser.getgroup("clockwork", "infrastructure as fixtures (pytest-clockwork)")
    settings = {setting.name: setting for setting in SETTINGS}
    actions = dict(ACTIONS)
    for name in HELP_ORDER:
        flag, dest = _flag(name), f"clockwork_{name}"
        if name in actions:
            group.addoption(flag, action="store_true", default=False, dest=dest, help=actions[name])
            continue
        setting = settings[name]
        if setting.kind == "bool":
            group.addoption(flag, action="store_true", default=None, dest=dest, help=setting.help)
        elif name == "keep":
            # No argparse choices: a bare --clockwork-keep followed by a path is rewritten
            # by normalise_keep() first, and the value is checked in resolve().
            group.addoption(
                flag,
                nargs="?",
                const="always",
                default=None,
                metavar="{" + ",".join(setting.choices) + "}",
                dest=dest,
                help=setting.help,
            )
        else:
            group.addoption(
                flag, default=None, dest=dest, choices=setting.choices or None, help=setting.help
            )
        if setting.kind == "bool":
            parser.addini(dest, f"{setting.help} (default: {setting.default})", type="bool")
        else:
            parser.addini(dest, f"{setting.help} (default: {setting.default})", type="string")


def normalise_keep(args: list[str]) -> None:
    """Rewrite a bare ``--clockwork-keep`` so that the next argument stays a path.

    ``pytest --clockwork-keep tests/`` must keep and run ``tests/``, not read ``tests/``
    as the keep mode. Changes ``args`` in place.
    """
    for index, arg in enumerate(args):
        if arg == "--":
            return
        if arg == _flag("keep") and (index + 1 == len(args) or args[index + 1] not in KEEP_CHOICES):
            args[index] = f"{arg}=always"


@dataclass(frozen=True)
class Options:
    """The resolved settings of one session."""

    apply: bool
    keep: str
    stack: str
    engine: str
    model: str | None
    base_url: str | None
    lock: str | None
    share: str
    ttl: str | None
    destroy: bool
    plan: bool
    refresh: bool
    expired: bool

    @property
    def acts(self) -> bool:
        """Whether this session deploys, plans or destroys (not only attaches)."""
        return self.apply or self.plan or self.destroy


def resolve(config: pytest.Config) -> Options:
    """Combine the command line, ``CW_*`` variables, ini keys and defaults."""
    from pytest_clockwork.settings import get_settings

    settings = get_settings()
    from_env = settings.model_fields_set
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        dest = f"clockwork_{setting.name}"
        value = config.getoption(dest, None)
        if value is None and setting.name in from_env:
            value = getattr(settings, setting.name)
        if value is None:
            value = config.getini(dest)
            if value == "":
                value = None
        if value is None:
            value = setting.default
        if setting.choices and value is not None and value not in setting.choices:
            raise pytest.UsageError(
                f"clockwork {setting.name} must be one of {', '.join(setting.choices)}, "
                f"not {value!r}"
            )
        values[setting.name] = value
    for name, _ in ACTIONS:
        values[name] = bool(config.getoption(f"clockwork_{name}", False))
    values["apply"] = bool(values["apply"])
    return Options(**values)
