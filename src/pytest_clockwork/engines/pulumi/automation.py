"""The thin layer over Pulumi's Automation API: which stack, where its state is, the calls.

Two parts: :func:`stack_config` makes every decision (project and stack names, the
backend, the passphrase, the environment, the directories) as plain data, and
:class:`PulumiStack` makes the few Automation API calls (``up``, ``preview``,
``destroy``), streaming Pulumi's output and keeping its tail for error messages. The
Automation API module is injected (``api=``), so both are tested without the CLI.
"""

from __future__ import annotations

import os
import re
import sys
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.errors import ClockworkError, EngineUnavailableError
from pytest_clockwork.settings import LOCAL_PASSPHRASE, ClockworkSettings
from pytest_clockwork.state import STATE_DIR

PULUMI_DIR = Path(STATE_DIR) / "pulumi"
"""Clockwork's Pulumi files, under the rootdir: ``state`` (the backend) and ``work``."""
OUTPUT_TAIL = 40


class PulumiError(ClockworkError):
    """A Pulumi operation failed.

    Args:
        message: What failed, with the last lines of Pulumi's output.
        tail: Those lines.
    """

    def __init__(self, message: str, *, tail: str = "") -> None:
        super().__init__(message)
        self.tail = tail


@dataclass(frozen=True)
class StackConfig:
    """Where and how one clockwork stack lives in Pulumi.

    Attributes:
        project: The Pulumi project (from the rootdir's name).
        stack: The Pulumi stack (the clockwork stack's name).
        backend_url: Where Pulumi keeps the stack's state.
        local_backend: Clockwork's own file backend (the directory), or None when the
            user configured a backend.
        work_dir: The workspace directory (``Pulumi.yaml``, ``Pulumi.<stack>.yaml``).
        pulumi_home: ``PULUMI_HOME`` for the CLI (plugins live there); None: its default.
        cli_root: The directory holding ``bin/pulumi`` when the CLI is not on PATH.
        env: Environment variables for the CLI (backend, passphrase, Python).
    """

    project: str
    stack: str
    backend_url: str
    local_backend: Path | None
    work_dir: Path
    pulumi_home: str | None
    cli_root: str | None
    env: Mapping[str, str]


def pulumi_name(text: str, fallback: str) -> str:
    """``text`` as a Pulumi project or stack name (letters, digits, ``-``, ``_``, ``.``)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return cleaned or fallback


def stack_config(
    session: SessionInfo,
    settings: ClockworkSettings,
    environ: Mapping[str, str],
    cli: str | None,
) -> StackConfig:
    """Decide the project, stack, backend, passphrase and environment for ``session``.

    Args:
        session: The deploying session (its rootdir and stack).
        settings: The ``CW_*`` settings (backend URL and passphrase).
        environ: The process environment.
        cli: Where the Pulumi CLI was found (on PATH, or under ``PULUMI_HOME``).

    Raises:
        EngineUnavailableError: A backend of the user's own and no passphrase.
    """
    rootdir = session.rootdir
    local_backend = None if settings.pulumi_backend_url else rootdir / PULUMI_DIR / "state"
    backend_url = settings.pulumi_backend_url or f"file://{local_backend}"
    env = {
        "PULUMI_BACKEND_URL": backend_url,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # The file provider runs in a process Pulumi starts: make it this interpreter,
        # which can import pytest_clockwork.
        "PULUMI_PYTHON_CMD": sys.executable,
    }
    passphrase = settings.pulumi_config_passphrase
    if passphrase is None and not environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        if local_backend is None:
            raise EngineUnavailableError(
                f"the Pulumi backend {backend_url} (PULUMI_BACKEND_URL) needs a passphrase for "
                "the stack's secrets: set CW_PULUMI_CONFIG_PASSPHRASE (or "
                "PULUMI_CONFIG_PASSPHRASE, or PULUMI_CONFIG_PASSPHRASE_FILE). Clockwork's "
                f"fixed passphrase is only used for its own local state in {PULUMI_DIR}."
            )
        passphrase = LOCAL_PASSPHRASE
    if passphrase is not None:
        env["PULUMI_CONFIG_PASSPHRASE"] = passphrase
    cli_root = None
    if cli is not None and str(Path(cli).parent) not in environ.get("PATH", "").split(os.pathsep):
        cli_root = str(Path(cli).parent.parent)  # <root>/bin/pulumi, e.g. ~/.pulumi
    stack = pulumi_name(session.stack, "default")
    return StackConfig(
        project=pulumi_name(rootdir.name, "clockwork"),
        stack=stack,
        backend_url=backend_url,
        local_backend=local_backend,
        work_dir=rootdir / PULUMI_DIR / "work" / stack,
        pulumi_home=environ.get("PULUMI_HOME") or None,
        cli_root=cli_root,
        env=env,
    )


Program = Callable[[], None]


class PulumiStack:
    """The Automation API calls on one stack.

    Args:
        config: Where the stack lives.
        output: Where each line of Pulumi's output goes as it comes.
        api: The Automation API (``pulumi.automation``, or a double in tests).
    """

    def __init__(
        self, config: StackConfig, *, output: Callable[[str], None], api: Any = None
    ) -> None:
        if api is None:
            from pulumi import automation as api
        self.config = config
        self.api = api
        self.output = output
        self.tail: deque[str] = deque(maxlen=OUTPUT_TAIL)

    @property
    def label(self) -> str:
        """``project/stack``, as Pulumi names it."""
        return f"{self.config.project}/{self.config.stack}"

    def _line(self, line: str) -> None:
        self.tail.append(line)
        if line.strip():
            self.output(f"pulumi: {line}")

    def _options(self, program: Program) -> Any:
        config, api = self.config, self.api
        if config.local_backend is not None:
            config.local_backend.mkdir(parents=True, exist_ok=True)
        config.work_dir.mkdir(parents=True, exist_ok=True)
        return api.LocalWorkspaceOptions(
            work_dir=str(config.work_dir),
            pulumi_home=config.pulumi_home,
            program=program,
            env_vars=dict(config.env),
            secrets_provider="passphrase",
            project_settings=api.ProjectSettings(
                name=config.project,
                runtime="python",
                backend=api.ProjectBackend(url=config.backend_url),
            ),
            pulumi_command=(
                api.PulumiCommand(root=config.cli_root) if config.cli_root is not None else None
            ),
        )

    def _open(self, program: Program, *, create: bool) -> Any:
        """The stack (created when ``create``); None when it does not exist."""
        options = self._options(program)
        names = {"stack_name": self.config.stack, "project_name": self.config.project}
        if create:
            return self.api.create_or_select_stack(**names, program=program, opts=options)
        try:
            return self.api.select_stack(**names, program=program, opts=options)
        except self.api.StackNotFoundError:
            return None

    def _run(self, what: str, call: Callable[[], Any]) -> Any:
        self.tail.clear()
        try:
            return call()
        except FileNotFoundError as exc:
            raise PulumiError(
                f"the Pulumi CLI could not be run ({exc}): install it (curl -fsSL "
                "https://get.pulumi.com | sh) or use --clockwork-engine local"
            ) from None
        except Exception as exc:
            raise self._failure(what, exc) from None

    def _failure(self, what: str, exc: Exception) -> PulumiError:
        tail = "\n".join(self.tail) or str(exc).strip()
        errors = [line.strip() for line in tail.splitlines() if "error:" in line]
        # Pulumi ends a failed run with a generic "error: update failed": prefer the cause.
        specific = [line for line in errors if not re.search(r"error: \w+ failed$", line)]
        reason = (specific or errors or [type(exc).__name__])[0].rstrip(".")
        hint = ""
        if isinstance(exc, self.api.ConcurrentUpdateError):
            hint = (
                " Another process is updating this Pulumi stack: sessions on one clockwork "
                "stack cannot deploy at the same time; give each job its own --clockwork-stack."
            )
        return PulumiError(
            f"pulumi {what} of stack {self.label} failed: {reason}.{hint}\n"
            f"--- last lines of Pulumi's output ---\n{tail}",
            tail=tail,
        )

    def up(self, program: Program) -> dict[str, Any]:
        """Run ``pulumi up`` with ``program``; return the stack outputs as plain values."""

        def call() -> dict[str, Any]:
            stack = self._open(program, create=True)
            result = stack.up(on_output=self._line, on_error=self._line, color="never")
            return {name: output.value for name, output in result.outputs.items()}

        outputs: dict[str, Any] = self._run("up", call)
        return outputs

    def preview(self, program: Program) -> dict[str, int]:
        """Run ``pulumi preview``; return its change summary (operation → count).

        A stack that did not exist is removed again afterwards: planning creates nothing.
        """

        def call() -> dict[str, int]:
            stack = self._open(program, create=False)
            created = stack is None
            if created:
                stack = self._open(program, create=True)
            try:
                result = stack.preview(on_output=self._line, on_error=self._line, color="never")
            finally:
                if created:
                    stack.workspace.remove_stack(self.config.stack)
            changes = (result.change_summary or {}).items()
            return {str(getattr(op, "value", op)): int(count) for op, count in changes}

        summary: dict[str, int] = self._run("preview", call)
        return summary

    def destroy(self) -> bool:
        """Run ``pulumi destroy`` and remove the stack; False when there was no stack."""

        def call() -> bool:
            stack = self._open(lambda: None, create=False)
            if stack is None:
                return False
            stack.destroy(on_output=self._line, on_error=self._line, color="never", remove=True)
            return True

        done: bool = self._run("destroy", call)
        return done


def describe_changes(summary: Mapping[str, int]) -> str:
    """A change summary in words: ``2 to create, 1 unchanged``."""
    words = {
        "create": "to create",
        "update": "to update",
        "replace": "to replace",
        "delete": "to delete",
        "same": "unchanged",
    }
    known = [op for op in words if summary.get(op)]
    others = sorted(op for op in summary if op not in words and summary[op])
    parts = [f"{summary[op]} {words.get(op, op)}" for op in known + others]
    return ", ".join(parts) or "no changes"


def environ() -> Mapping[str, str]:
    """The process environment (one place, so tests can pass their own)."""
    return os.environ
