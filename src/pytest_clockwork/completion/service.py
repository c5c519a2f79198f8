"""Completing declarations before deployment: the entry point the deployment calls.

A resource with a ``description`` and completable fields left ``None`` is completed by
a model; the result is pinned in ``clockwork.lock``. An entry whose fingerprint
matches is used without asking any model. What the lock cannot answer is completed by
the model when this run may ask one (``--clockwork-apply`` or ``--clockwork-plan``,
and the lock is not read-only), and is otherwise an error that says what changed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from pytest_clockwork.errors import ClockworkError, CompletionError, LockfileError
from pytest_clockwork.resources.base import Resource

from .lockfile import LOCK_NAME, Lockfile
from .notes import plan_notes, short
from .order import completion_order
from .resolver import Resolution, Resolver

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from pytest_clockwork.catalog import Catalog

    from .agent import ModelCompleter

T = TypeVar("T")

FIX = (
    "To fix it: give these fields in the declaration; or set CW_API_KEY (and CW_BASE_URL "
    "for another OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 for Ollama) "
    f"so that a model completes them; or use a {LOCK_NAME} that has them (commit it)."
)


def complete_resources(
    catalog: Catalog, keys: Iterable[str], *, model: Model | None = None
) -> dict[str, Resource]:
    """The completed declaration of each key (and of what their completion needed).

    Args:
        catalog: The session's declarations (their graph, rootdir, options, and the
            ``notes`` where the plan shows what completion did).
        keys: The resources to complete.
        model: A pydantic-ai model to ask instead of the configured endpoint (tests).

    Returns:
        The completed declarations by key: those of ``keys``, and of the parents and
        connected resources their completion saw.

    Raises:
        LockfileError: The lock cannot answer and no model may be asked.
        CompletionError: No model could complete a resource, or its proposals kept
            being rejected.
    """
    graph = catalog.graph
    order = completion_order(graph, keys)
    done = {key: catalog.completed[key] for key, _ in order if key in catalog.completed}
    if not any(graph.nodes[key].missing_fields() for key, _ in order if key not in done):
        return {key: done.get(key, graph.nodes[key]) for key, _ in order}
    lock = Lockfile(catalog.rootdir)
    resolver = Resolver(
        graph,
        order,
        done=done,
        entries=lock.read(),
        rootdir=catalog.rootdir,
        refresh=catalog.options.refresh,
    )
    result = _run(resolver.run(None))
    _raise_failures(result)
    if result.misses:
        needed = result.misses
        read_only = _read_only(catalog)
        if read_only is not None:
            why, fix = read_only
            raise LockfileError(
                f"{LOCK_NAME} cannot complete {_names(needed)}, and it is read-only here "
                f"({why}):\n{_reasons(needed)}\n{fix}",
                resource=next(iter(needed)),
            )
        completer = _completer(catalog, needed, model)
        with lock.held():
            resolver.entries = lock.read()
            result = _run(_ask(resolver, completer))
            if result.fresh:
                lock.update(result.fresh)
        _raise_model_failures(result, needed, completer)
    for key, request in result.requests.items():
        catalog.notes[key] = plan_notes(
            request.given, result.completed[key], request.fields, result.sources[key]
        )
    return result.completed


async def _ask(resolver: Resolver, completer: ModelCompleter) -> Resolution:
    async with completer:
        return await resolver.run(completer)


def _completer(catalog: Catalog, needed: Mapping[str, str], model: Model | None) -> ModelCompleter:
    """The model completer for this run (imports pydantic-ai).

    Raises:
        CompletionError: No API key is set for a remote endpoint.
    """
    from pytest_clockwork.settings import get_settings

    from .agent import ModelCompleter

    settings = get_settings()
    limits: dict[str, Any] = {
        "rootdir": catalog.rootdir,
        "max_retries": settings.completion_max_retries,
        "concurrency": settings.completion_concurrency,
    }
    if model is not None:
        return ModelCompleter(model, label=model.model_name, endpoint="a test model", **limits)
    model_name = catalog.options.model or settings.model
    base_url = catalog.options.base_url or settings.base_url
    api_key = settings.api_key
    if api_key is None:
        if not _is_local(base_url):
            raise CompletionError(
                f"{_names(needed)} need AI completion, but no API key is set for {base_url} "
                f"(model {model_name}):\n{_reasons(needed)}\n{FIX}",
                resource=next(iter(needed)),
            )
        api_key = "not-needed"
    return ModelCompleter.for_endpoint(
        model_name=model_name, base_url=base_url, api_key=api_key, **limits
    )


def _raise_model_failures(
    result: Resolution, needed: Mapping[str, str], completer: ModelCompleter
) -> None:
    """Raise what went wrong while asking the model, naming the resources involved."""
    from .agent import EndpointError, ProposalsRejected

    unreachable = [e for e in result.failures.values() if isinstance(e, EndpointError)]
    if unreachable:
        raise CompletionError(
            f"could not complete {_names(needed)}: the model {completer.label} at "
            f"{completer.endpoint} failed: {unreachable[0]} ({unreachable[0].hint})\n"
            f"{_reasons(needed)}\n{FIX}",
            resource=next(iter(needed)),
        )
    for key, error in result.failures.items():
        if isinstance(error, ProposalsRejected):
            fields = result.requests[key].fields
            result.failures[key] = CompletionError(_rejected(key, error, fields), resource=key)
    _raise_failures(result)


def _rejected(key: str, error: Any, fields: tuple[str, ...]) -> str:
    if not error.last:
        return (
            f"resource {key!r}: the model gave no usable completion after {error.attempts} "
            f"attempts ({error}). Give the fields in the declaration, make the description "
            "more precise, or try another model (--clockwork-model)."
        )
    shown = "; ".join(
        f"{rejection.field} = {short(rejection.value)} ({rejection.reason})"
        for rejection in error.last
    )
    asked = [rejection.field for rejection in error.last if rejection.field in fields]
    advice = (
        f"Give {', '.join(f'{name}=...' for name in asked)} in the declaration, make the "
        "description more precise, or try another model (--clockwork-model)."
        if asked
        else "The model keeps setting fields it was not asked for: try another model "
        "(--clockwork-model)."
    )
    return (
        f"resource {key!r}: the model's proposals were rejected {error.attempts} times "
        f"(1 + CW_COMPLETION_MAX_RETRIES); the last rejected values: {shown}. {advice}"
    )


def _raise_failures(result: Resolution) -> None:
    """Raise the failures of a pass: the error itself, or one naming them all."""
    if not result.failures:
        return
    first_key, first = next(iter(result.failures.items()))
    if len(result.failures) == 1 and isinstance(first, ClockworkError):
        raise first
    messages = [
        str(error)
        if isinstance(error, ClockworkError)
        else f"resource {key!r}: completion failed: {type(error).__name__}: {error}"
        for key, error in result.failures.items()
    ]
    raise CompletionError("\n".join(messages), resource=first_key)


def _read_only(catalog: Catalog) -> tuple[str, str] | None:
    """Why the lock is read-only in this run, and what to do; ``None`` when it is not.

    Attaching to running resources never asks a model (they were deployed with what
    the lock says). With ``CI`` set the lock is read-only, like ``npm ci``, unless
    ``--clockwork-lock=update`` says otherwise.
    """
    options = catalog.options
    if not (options.apply or options.plan):
        return (
            "attaching to running resources without --clockwork-apply",
            "Run pytest with --clockwork-apply to complete and deploy them.",
        )
    if options.lock == "readonly":
        why = "--clockwork-lock=readonly"
    elif options.lock is None and os.environ.get("CI", "").lower() not in ("", "0", "false"):
        why = "CI is set; --clockwork-lock=update allows asking a model"
    else:
        return None
    fix = (
        f"Complete them where a model can be asked (CW_API_KEY set, lock mode update) and "
        f"commit {LOCK_NAME}, or give these fields in the declaration."
    )
    return why, fix


def _is_local(base_url: str) -> bool:
    """Whether ``base_url`` is on this machine (Ollama, LM Studio), where no key is needed."""
    host = urlparse(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _names(keys: Iterable[str]) -> str:
    names = [repr(key) for key in keys]
    return ("resource " if len(names) == 1 else "resources ") + ", ".join(names)


def _reasons(reasons: Mapping[str, str]) -> str:
    return "\n".join(f"  - {key!r}: {reason}" for key, reason in reasons.items())


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion in a thread of its own.

    Not in the caller's thread: ``asyncio.run`` there would leave that thread without an
    event loop, which other code in the same process (Pulumi's runtime) relies on; and
    the caller may already be inside a running loop.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="clockwork-completion") as pool:
        return pool.submit(asyncio.run, coroutine).result()
