"""Engines deploy specs: ``local`` (Docker SDK and filesystem) and ``pulumi``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pytest_clockwork.engines.base import Engine, SessionInfo
from pytest_clockwork.errors import EngineUnavailableError
from pytest_clockwork.state import StateStore

PULUMI_INSTALL = (
    "install it (curl -fsSL https://get.pulumi.com | sh, or brew install pulumi) "
    "and make sure `pulumi` is on PATH, or use --clockwork-engine local"
)


def pulumi_cli() -> str | None:
    """The path of the Pulumi CLI: on PATH, or under ``PULUMI_HOME`` / ``~/.pulumi``."""
    found = shutil.which("pulumi")
    if found:
        return found
    for home in (os.environ.get("PULUMI_HOME"), str(Path.home() / ".pulumi")):
        if home:
            candidate = Path(home) / "bin" / "pulumi"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def choose_engine(requested: str) -> tuple[str, str]:
    """Pick the engine for ``auto``, ``local`` or ``pulumi``.

    Returns:
        The engine's name and why it was picked (shown in the report header).

    Raises:
        EngineUnavailableError: ``pulumi`` was asked for and its CLI is missing.
    """
    if requested == "local":
        return "local", "chosen with --clockwork-engine local"
    cli = pulumi_cli()
    if requested == "pulumi":
        if cli is None:
            raise EngineUnavailableError(
                f"--clockwork-engine pulumi needs the Pulumi CLI, which is not installed: "
                f"{PULUMI_INSTALL}"
            )
        return "pulumi", f"chosen with --clockwork-engine pulumi ({cli})"
    if cli is not None:
        return "pulumi", f"auto: Pulumi CLI found at {cli}"
    return "local", "auto: no Pulumi CLI found"


def create_engine(name: str, session: SessionInfo, store: StateStore) -> Engine:
    """An engine instance by name, importing only that engine."""
    if name == "pulumi":
        from pytest_clockwork.engines.pulumi.engine import PulumiEngine

        return PulumiEngine(session, store)
    from pytest_clockwork.engines.local.engine import LocalEngine

    return LocalEngine(session, store)
