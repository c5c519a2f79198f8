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


def add_options(parser: pytest.Parser) -> None:
    """Register the ``clockwork`` option group and the ``clockwork_*`` ini keys."""
    group = parser.getgroup("clockwork", "infrastructure as fixtures (pytest-clockwork)")
    for setting in SETTINGS:
        dest = f"clockwork_{setting.name}"
        if setting.kind == "bool":
            group.addoption(
                _flag(setting.name), action="store_true", default=None, dest=dest, help=setting.help
            )
        elif setting.name == "keep":
            group.addoption(
                _flag(setting.name),
                nargs="?",
                const="always",
                default=None,
                choices=setting.choices,
                dest=dest,
                help=setting.help,
            )
        else:
            group.addoption(
                _flag(setting.name),
                default=None,
                dest=dest,
                choices=setting.choices or None,
                help=setting.help,
            )
        parser.addini(
            dest,
            f"{setting.help} (default: {setting.default})",
            type="bool" if setting.kind == "bool" else "string",
            default=None,
        )
    for name, help_text in ACTIONS:
        group.addoption(
            _flag(name),
            action="store_true",
            default=False,
            dest=f"clockwork_{name}",
            help=help_text,
        )


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
