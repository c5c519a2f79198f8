"""What ``--clockwork-plan`` shows of each completion (``Deployment.notes``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_clockwork.resources.base import Resource

from .lockfile import LOCK_NAME


def plan_notes(
    given: Mapping[str, Any],
    completed: Resource,
    fields: Iterable[str],
    source: tuple[str, str],
) -> list[str]:
    """The plan lines of one completed resource.

    Args:
        given: The fields the user gave.
        completed: The completed resource.
        fields: The fields that were completed.
        source: ``("lock" | "model", model name)``.

    Returns:
        Which fields the user gave, which the model gave (and whether from the lock),
        and the completed values.
    """
    fields = list(fields)
    kind, model = source
    origin = (
        f"from {LOCK_NAME} (by model {model})"
        if kind == "lock"
        else f"now by model {model} (pinned in {LOCK_NAME})"
    )
    lines = []
    if given:
        lines.append("given by you: " + ", ".join(sorted(given)))
    lines.append(f"completed {origin}: " + ", ".join(fields))
    values = completed.model_dump(mode="json", include=set(fields))
    lines.extend(f"  {name} = {short(values[name])}" for name in fields)
    return lines


def short(value: Any, limit: int = 70) -> str:
    """``value`` as JSON on one line, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
