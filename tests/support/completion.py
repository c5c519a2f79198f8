"""Helpers for the completion tests: a catalog of declarations, scripted models, a clean env."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork.catalog import Catalog
from pytest_clockwork.graph import bind
from pytest_clockwork.options import Options
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.settings import get_settings

ENV = (
    "CI",
    "CW_API_KEY",
    "CW_BASE_URL",
    "CW_MODEL",
    "CW_LOCK",
    "CW_COMPLETION_MAX_RETRIES",
    "CW_COMPLETION_CONCURRENCY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CI, no key, no endpoint from the machine; settings read afresh."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def catalog(rootdir: Path, resources: dict[str, Resource], **options: Any) -> Catalog:
    """The catalog of ``resources`` (bound to their names), as a session would build it."""
    values: dict[str, Any] = {
        "apply": True,
        "keep": "never",
        "stack": "default",
        "engine": "local",
        "model": None,
        "base_url": None,
        "lock": None,
        "share": "run",
        "ttl": None,
        "destroy": False,
        "plan": False,
        "refresh": False,
        "expired": False,
    }
    values.update(options)
    result = Catalog(rootdir, Options(**values))
    for resource in bind(resources).values():
        result.declare(resource)
    return result


@dataclass
class Call:
    """One request a scripted model received."""

    prompt: str
    fields: list[str]
    feedback: str


@dataclass
class Scripted:
    """A FunctionModel that answers each request with a function of what it asks for.

    Attributes:
        answer: Called with the requested fields, the prompt and the call number
            (from 1, per resource) and returns the tool arguments.
        calls: What each request asked, in order.
        gate_at: When set, each request waits until this many are in flight at once
            (proving they run concurrently); ``most_in_flight`` shows the bound.
    """

    answer: Callable[[list[str], str, int], dict[str, Any]]
    calls: list[Call] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    gate_at: int = 0
    _gate: asyncio.Event | None = None

    @property
    def model(self) -> Any:
        from pydantic_ai.messages import ModelResponse, ToolCallPart
        from pydantic_ai.models.function import FunctionModel

        async def respond(messages: list[Any], info: Any) -> ModelResponse:
            schema = info.output_tools[0].parameters_json_schema
            fields = list(schema["properties"])
            first = messages[0].parts[-1].content
            last = messages[-1].parts[-1]
            feedback = str(getattr(last, "content", "")) if len(messages) > 1 else ""
            self.calls.append(Call(first, fields, feedback))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                if self.gate_at:
                    self._gate = self._gate or asyncio.Event()
                    if self.in_flight >= self.gate_at:
                        self._gate.set()
                    await asyncio.wait_for(self._gate.wait(), timeout=5)
                attempt = sum(1 for call in self.calls if call.prompt == first)
                args = self.answer(fields, first, attempt)
            finally:
                self.in_flight -= 1
            return ModelResponse(parts=[ToolCallPart("final_result", args)])

        return FunctionModel(respond, model_name="scripted")
