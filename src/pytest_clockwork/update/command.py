"""``clockwork update "INTENT"``: the command, from the intent to the verified stack.

1. Context: the declarations loaded as ``clockwork status`` loads them, the stack's kept
   records and what the engine observes of them, the pinned completions.
2. Proposal: a change set from the model, checked by :func:`~.evolve.evolve`.
3. Review: the diff of the conftests, what cannot be edited (with the code to add by
   hand), and the plan apply would carry out on the kept stack.
4. ``--write``: the edits written (refused when a file changed since it was read), the
   update recorded in ``clockwork.lock``.
5. ``--apply``: deployed onto the kept stack, the assertion items run.

It refuses, changing nothing, without a key for a remote endpoint and when ``CI`` is
set. It writes nothing but the project's ``conftest.py`` files and ``clockwork.lock``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_clockwork.errors import ClockworkError

from .changes import ChangeSet
from .edits import Edits, edit_sources
from .evolve import Evolution, evolve

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from pytest_clockwork.reconcile.loader import Declared
    from pytest_clockwork.resources.base import Resource

    from .agent import Proposer
    from .context import Context

Output = Callable[[str], None]


class UpdateRefused(ClockworkError):
    """The update cannot run here (no key, ``CI`` set, a stale file); nothing changed."""


@dataclass(frozen=True)
class Request:
    """What ``clockwork update`` was asked to do.

    Attributes:
        intent: The intent, as text.
        rootdir: pytest's rootdir.
        stack: The stack.
        write: Write the edits (``--write``).
        apply: Also deploy and verify (``--apply``, implies ``write``).
        pytest_args: More arguments for the pytest runs (paths, ``-c``, ``-p``...).
    """

    intent: str
    rootdir: Path
    stack: str
    write: bool = False
    apply: bool = False
    pytest_args: tuple[str, ...] = ()


def read_intent(intent: str | None, intent_file: Path | None) -> str:
    """The intent, from the argument or the file.

    Raises:
        ValueError: Both or neither are given, the file cannot be read, or it is empty;
            the message says what to do.
    """
    if intent is not None and intent_file is not None:
        raise ValueError("give the intent either as INTENT or with --intent-file, not both")
    if intent_file is not None:
        try:
            intent = intent_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ValueError(
                f"--intent-file {intent_file} cannot be read ({reason}): give a readable "
                "UTF-8 text file"
            ) from None
    if intent is None:
        raise ValueError('say what to change: clockwork update "INTENT" (or --intent-file FILE)')
    if not intent.strip():
        raise ValueError("the intent is empty: say what to change")
    return intent.strip()


def refusal(*, testing: bool = False) -> str | None:
    """Why no model may be asked here (``CI`` set, no key), or ``None``."""
    from pytest_clockwork.completion.service import _is_local
    from pytest_clockwork.settings import get_settings

    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        return (
            "CI is set: clockwork update asks a model and edits the conftests, which a CI "
            "job must not do. Run it on your machine and commit the result."
        )
    settings = get_settings()
    if not testing and settings.api_key is None and not _is_local(settings.base_url):
        return (
            f"no API key is set for {settings.base_url} (model {settings.model}): set "
            "CW_API_KEY (and CW_BASE_URL for another OpenAI-compatible endpoint, e.g. "
            "http://localhost:11434/v1 for Ollama, which needs no key)."
        )
    return None


def run(request: Request, out: Output = print, *, model: Model | None = None) -> int:
    """Run an update; return the exit code (0 done, 1 refused or a check failed).

    Args:
        request: What to do.
        out: Where the lines go.
        model: A pydantic-ai model to ask instead of the configured endpoint (tests).

    Raises:
        ClockworkError: It cannot be done; nothing was changed.
    """
    problem = refusal(testing=model is not None)
    if problem:
        raise UpdateRefused(f"clockwork update refused, nothing changed: {problem}")
    from pytest_clockwork.reconcile.loader import load

    rootdir = request.rootdir.resolve()
    declared = load(rootdir, request.stack, request.pytest_args)
    conftests = _conftests(rootdir, declared)
    roots = dict(declared.deployment.catalog.roots) if declared.deployment is not None else {}
    context = _context(rootdir, request.stack, roots, conftests)
    proposer = _proposer(model)
    proposal = proposer.propose(
        request.intent, context, lambda changes: evolve(roots, changes, rootdir=rootdir)
    )
    edits = edit_sources(rootdir, conftests, roots, proposal.changes)
    out(f"clockwork update of {rootdir} (stack {request.stack!r}, model {proposal.model})")
    out(f"intent: {request.intent}")
    out(f"change: {proposal.changes.summary}")
    for number, rejections in enumerate(proposal.rejected, start=1):
        out(f"rejected proposal {number}: " + "; ".join(str(r) for r in rejections))
    diff = edits.diff()
    out(diff.rstrip("\n") if diff else "no conftest.py changes")
    for item in edits.by_hand:
        out(f"not edited: {item}")
    for line in plan_lines(declared, proposal.evolution, request.stack):
        out(line)
    if not (request.write or request.apply):
        out("nothing written (--write writes it, --apply also deploys and checks it)")
        return 0
    written = write(edits, declared, request, proposal.changes, proposal.model)
    out(f"written: {', '.join(written) or 'no file'}; recorded in clockwork.lock")
    if not request.apply:
        return 0
    return _apply(request, rootdir, proposal.evolution, out)


def _context(
    rootdir: Path, stack: str, roots: dict[str, Resource], conftests: dict[Path, bytes]
) -> Context:
    from pytest_clockwork.state import StateStore

    from .context import gather
    from .source import NotEditable, SourceFile

    where: dict[str, str] = {}
    for path, data in conftests.items():
        shown = path.relative_to(rootdir).as_posix()
        try:
            names = SourceFile(path, data, shown).bound_names()
        except NotEditable:
            continue
        for key in roots:
            if key in names:
                where.setdefault(key, shown)
    state = StateStore(rootdir, stack).read()
    records = {
        record.key: record
        for key in {r.key for r in state.records.values()}
        if (record := state.kept(key)) is not None
    }
    return gather(rootdir, stack, roots, where, records)


def _proposer(model: Model | None) -> Proposer:
    from pytest_clockwork.settings import get_settings

    from .agent import Proposer

    settings = get_settings()
    retries = settings.completion_max_retries
    if model is not None:
        return Proposer(model, label=model.model_name, endpoint="a test model", max_retries=retries)
    return Proposer.for_endpoint(
        model_name=settings.model,
        base_url=settings.base_url,
        api_key=settings.api_key or "not-needed",
        max_retries=retries,
    )


def _conftests(rootdir: Path, declared: Declared) -> dict[Path, bytes]:
    """The project's conftest.py files the declarations came from, as read now."""
    found: dict[Path, bytes] = {}
    for path in sorted(declared.files):
        if path.name == "conftest.py" and path.is_relative_to(rootdir):
            try:
                found[path] = path.read_bytes()
            except OSError:
                continue
    return found


def plan_lines(declared: Declared, evolution: Evolution, stack: str) -> list[str]:
    """What applying the change would do to the kept stack, from the plan apply makes."""
    from pytest_clockwork.catalog import Catalog
    from pytest_clockwork.plan import Planner
    from pytest_clockwork.state import StateStore

    lines = [f"applying it to stack {stack!r} would:"]
    deployment = declared.deployment
    if deployment is None:
        lines += [f"  create {key}" for key in evolution.roots]
    else:
        catalog = Catalog(declared.rootdir, deployment.options)
        for resource in evolution.roots.values():
            catalog.declare(resource)
        store = StateStore(declared.rootdir, stack)
        planner = Planner(catalog, store, deployment.session, deployment.engine_name)
        try:
            plan = planner.plan(evolution.roots)
        except ClockworkError as exc:
            lines.append(f"  (no plan: {exc})")
        else:
            for step in plan:
                if step.action == "replace":
                    lines.append(f"  replace {step.key} ({step.reason.removeprefix('kept, but ')})")
                elif step.action == "reuse":
                    lines.append(f"  reuse {step.key}")
                else:
                    lines.append(f"  {step.action} {step.key}")
    state = StateStore(declared.rootdir, stack).read()
    for key in evolution.removed:
        if state.kept(key) is not None:
            lines.append(f"  destroy {key} (no longer declared)")
    return lines


def write(
    edits: Edits, declared: Declared, request: Request, changes: ChangeSet, model: str
) -> list[str]:
    """Write the edited conftests and record the update in ``clockwork.lock``.

    Raises:
        UpdateRefused: A file changed since it was read; nothing is written.
    """
    from pytest_clockwork.completion.lockfile import Lockfile
    from pytest_clockwork.filesystem import write_atomically

    changed = [
        source.shown
        for source in edits.files.values()
        if (_current(source.path) or b"") != source.original
    ]
    if changed or declared.stale():
        names = ", ".join(changed) or "a file the declarations come from"
        raise UpdateRefused(
            f"not written: {names} changed since it was read; run clockwork update again"
        )
    written = []
    for source in edits.changed:
        mode = source.path.stat().st_mode & 0o777 if source.path.exists() else 0o644
        write_atomically(source.path, source.render(), mode)
        written.append(source.shown)
    lock = Lockfile(request.rootdir.resolve())
    with lock.held():
        lock.record_update(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "intent": request.intent,
                "model": model,
                "changes": changes.model_dump(mode="json", exclude_defaults=True),
                "files": written,
            }
        )
    return written


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _apply(request: Request, rootdir: Path, evolution: Evolution, out: Output) -> int:
    from .verify import apply_and_check, destroy_removed

    failures = destroy_removed(rootdir, request.stack, evolution.removed)
    for failure in failures:
        out(f"could not destroy {failure}")
    out(f"deploying onto stack {request.stack!r} and running the assertions...")
    code, results = apply_and_check(rootdir, request.stack, request.pytest_args, out)
    for result in results:
        verdict = "passed" if result.passed else "FAILED"
        out(f"  {verdict} {result.name}" + (f": {result.message}" if result.message else ""))
    failed = [r for r in results if not r.passed]
    if failed or failures or code not in (0, 5):
        out(f"verification failed: {len(failed)} of {len(results)} checks failed")
        return 1
    out(f"verified: {len(results)} checks passed")
    return 0
