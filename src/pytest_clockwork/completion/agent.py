"""Asking a model, through pydantic-ai, for the fields a resource left to complete.

Importing this module imports pydantic-ai and the OpenAI client (about 0.9 s), so the
resolver imports it only when a completion actually needs a model: never when
``clockwork.lock`` answers, never at plugin load.

Every proposal is rebuilt with the resource class's own validation and reviewed by
the safety :mod:`~pytest_clockwork.completion.policy`; a rejected value goes back to the
model as a retry with the reason (``ModelRetry`` in an output validator). Transient
HTTP failures (429, 5xx, timeouts, a dropped connection) are retried with backoff by
tenacity; the OpenAI client's own retries are turned off so that one policy applies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_ai import Agent, ModelRetry
from pydantic_ai.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
)
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings
from pydantic_core import to_jsonable_python
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from pytest_clockwork.resources.base import Resource
from pytest_clockwork.resources.secrets import revealed

from .output import field_docs, output_model
from .policy import Rejection, review
from .prompt import INSTRUCTIONS, render
from .rebuild import rebuild
from .request import NEVER_COMPLETED, CompletionRequest

REQUEST_TIMEOUT = 120.0
"""Seconds one HTTP request to the model may take."""
TRANSIENT_ATTEMPTS = 5
"""Attempts at a request that fails transiently (429, 5xx, timeouts)."""
BACKOFF_BASE = 1.0
BACKOFF_MAX = 30.0


class EndpointError(Exception):
    """The model endpoint could not be used (unreachable, refused the key, no such model).

    Args:
        message: What happened.
        hint: What to check.
    """

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


class ProposalsRejected(Exception):
    """The model's proposals kept being rejected until the retries ran out.

    Args:
        key: The resource.
        last: The rejections of the last proposal (empty when unknown).
        attempts: How many proposals were made.
        detail: pydantic-ai's account of what went wrong.
    """

    def __init__(self, key: str, last: list[Rejection], attempts: int, detail: str) -> None:
        super().__init__(detail)
        self.key = key
        self.last = last
        self.attempts = attempts


@dataclass(frozen=True)
class Proposal:
    """An accepted completion: the values (JSON) and the model that proposed them."""

    values: dict[str, Any]
    model: str


class ModelCompleter:
    """Completes resources with one model, a bounded number at a time.

    Args:
        model: The pydantic-ai model (built by :meth:`for_endpoint`, or a test model).
        label: The model's name as recorded in ``clockwork.lock``.
        endpoint: Where the model is reached (for messages).
        rootdir: pytest's rootdir, for the safety policy.
        max_retries: Rejected proposals sent back to the model before giving up.
        concurrency: Completions running at the same time.
    """

    def __init__(
        self,
        model: Model,
        *,
        label: str,
        endpoint: str,
        rootdir: Path,
        max_retries: int,
        concurrency: int,
    ) -> None:
        self.model = model
        self.label = label
        self.endpoint = endpoint
        self.rootdir = rootdir
        self.max_retries = max_retries
        self._slots = asyncio.Semaphore(concurrency)

    @classmethod
    def for_endpoint(
        cls,
        *,
        model_name: str,
        base_url: str,
        api_key: str,
        rootdir: Path,
        max_retries: int,
        concurrency: int,
    ) -> ModelCompleter:
        """A completer for an OpenAI-compatible chat-completions endpoint."""
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        provider = OpenAIProvider(base_url=base_url, api_key=api_key)
        return cls(
            OpenAIChatModel(model_name, provider=provider),
            label=model_name,
            endpoint=base_url,
            rootdir=rootdir,
            max_retries=max_retries,
            concurrency=concurrency,
        )

    async def __aenter__(self) -> ModelCompleter:
        await self.model.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.model.__aexit__(None, None, None)

    async def complete(self, request: CompletionRequest, resource: Resource) -> Proposal:
        """Ask the model for ``request.fields`` until a proposal passes every check.

        Raises:
            ProposalsRejected: The retries ran out.
            EndpointError: The endpoint failed in a way retrying does not fix.
        """
        rejections: list[list[Rejection]] = []
        agent = self._agent(request, resource, rejections)
        prompt = render(request, field_docs(type(resource)))
        async with self._slots:
            try:
                result = await self._run(agent, prompt)
            except UnexpectedModelBehavior as exc:
                last = _from_cause(exc.__cause__) or (rejections[-1] if rejections else [])
                raise ProposalsRejected(request.key, last, self.max_retries + 1, str(exc)) from None
            except ModelAPIError as exc:
                raise endpoint_error(exc) from None
        return Proposal(values=_values(result.output, request.fields), model=self.label)

    def _agent(
        self, request: CompletionRequest, resource: Resource, rejections: list[list[Rejection]]
    ) -> Agent[None, BaseModel]:
        settings: ModelSettings = {"max_retries": 0, "timeout": REQUEST_TIMEOUT}
        agent: Agent[None, BaseModel] = Agent(
            self.model,
            output_type=output_model(type(resource), request.fields),
            instructions=INSTRUCTIONS,
            retries={"output": self.max_retries},
            model_settings=settings,
        )
        rootdir = self.rootdir

        @agent.output_validator
        def check(output: BaseModel) -> BaseModel:
            found = _unasked(output, request)
            if not found:
                values = _values(output, request.fields)
                try:
                    candidate = rebuild(resource, values)
                except ValidationError as exc:
                    found = [_from_error(error, values) for error in exc.errors()]
                else:
                    found = review(
                        candidate, values, rootdir=rootdir, references=request.references
                    )
            if found:
                rejections.append(found)
                raise ModelRetry(
                    "Rejected: "
                    + "; ".join(str(rejection) for rejection in found)
                    + ". Propose the fields again with values that follow the rules."
                )
            return output

        return agent

    async def _run(self, agent: Agent[None, BaseModel], prompt: str) -> Any:
        return await run_agent(agent, prompt)


async def run_agent(agent: Agent[None, Any], prompt: str) -> Any:
    """``agent.run(prompt)``, retried with backoff while the endpoint fails transiently
    (429, 5xx, timeouts, a dropped connection)."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(TRANSIENT_ATTEMPTS),
        wait=_backoff,
        retry=retry_if_exception(_transient),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await agent.run(prompt)
    raise AssertionError("unreachable: tenacity reraises the last failure")


def _values(output: BaseModel, fields: tuple[str, ...]) -> dict[str, Any]:
    """The requested fields of ``output`` as JSON: exactly those, never another.

    Values the model chose itself are kept as they are, also where the field holds
    secrets: they are the model's proposal, pinned in the lock for review.
    """
    data = to_jsonable_python(revealed(output.model_dump(include=set(fields))))
    return {name: data[name] for name in fields}


def _unasked(output: BaseModel, request: CompletionRequest) -> list[Rejection]:
    asked = ", ".join(request.fields)
    found = []
    for name, value in sorted((output.model_extra or {}).items()):
        if name in NEVER_COMPLETED:
            reason = "clockwork never lets a model set this; only the declaration may"
        elif name in request.given:
            reason = f"given by the developer and fixed; fill only {asked}"
        else:
            reason = f"not asked for; fill only {asked}"
        found.append(Rejection(name, value, reason))
    return found


def _from_error(error: Mapping[str, Any], values: Mapping[str, Any]) -> Rejection:
    location = [str(part) for part in error.get("loc", ())]
    field = location[0] if location else ", ".join(values)
    value = values.get(field, error.get("input"))
    return Rejection(field, value, str(error.get("msg", "invalid")))


def _from_cause(cause: BaseException | None) -> list[Rejection]:
    if isinstance(cause, ValidationError):
        return [_from_error(error, {}) for error in cause.errors()]
    return []


def _transient(exc: BaseException) -> bool:
    """Whether retrying later may help: 408, 429, 5xx, a timeout, a dropped connection."""
    if isinstance(exc, ModelHTTPError) and (
        exc.status_code in (408, 429) or exc.status_code >= 500
    ):
        return True
    if isinstance(
        exc,
        ModelRateLimitError
        | ModelUnavailableError
        | ModelServerError
        | ModelTimeoutError
        | ModelRequestTimeout,
    ):
        return True
    return isinstance(exc, ModelConnectionError) and exc.phase in ("write", "read")


def _backoff(state: RetryCallState) -> float:
    failure = state.outcome.exception() if state.outcome else None
    asked = getattr(failure, "retry_after", None)
    if isinstance(asked, int | float):
        return float(min(max(asked, 0.0), BACKOFF_MAX))
    return float(min(BACKOFF_BASE * 2 ** (state.attempt_number - 1), BACKOFF_MAX))


def endpoint_error(exc: ModelAPIError) -> EndpointError:
    """What failed at the endpoint, with a hint of what to check."""
    if isinstance(exc, ModelAuthenticationError):
        hint = "the endpoint refused the key: check CW_API_KEY"
    elif isinstance(exc, ModelNotFoundError):
        hint = "the endpoint does not know the model: check CW_MODEL and CW_BASE_URL"
    elif isinstance(exc, ModelConnectionError):
        hint = "is CW_BASE_URL right, and is the server running?"
    elif _transient(exc):
        hint = f"it kept failing after {TRANSIENT_ATTEMPTS} attempts; try again later"
    else:
        hint = "check CW_BASE_URL, CW_MODEL and CW_API_KEY"
    return EndpointError(f"{type(exc).__name__}: {exc}", hint)
