"""``clockwork.lock``: the completed values of each resource, pinned for every machine.

The file is JSON with sorted keys and an indent, one entry per resource key, so a pull
request shows exactly which completion changed. Each entry holds what the completion
saw (``seen``) and its fingerprint, the completed ``values``, and the ``model`` that
produced them (for information only: another model setting does not invalidate it).
It is written atomically (a temporary file renamed over it) under a file lock in
``.clockwork/``, so pytest-xdist workers that complete at the same time do not lose
each other's entries; entries this run did not touch stay as they are. The ``updates``
list records what ``clockwork update --write`` changed (intent, change set, model).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from pytest_clockwork.errors import LockfileError
from pytest_clockwork.filesystem import STATE_DIR, state_directory, write_atomically

LOCK_NAME = "clockwork.lock"
VERSION = 1
LOCK_TIMEOUT = 600.0


class LockEntry(BaseModel):
    """One resource's pinned completion.

    Attributes:
        fingerprint: The hash of ``seen``.
        seen: What the completion was based on (description, given fields, context).
        values: The completed fields, as JSON.
        model: The model that produced them (informational).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    fingerprint: str
    seen: dict[str, Any]
    values: dict[str, Any]
    model: str


class Lockfile:
    """Reads and updates ``clockwork.lock`` at ``rootdir``.

    Args:
        rootdir: pytest's rootdir.
    """

    def __init__(self, rootdir: Path) -> None:
        self.path = rootdir / LOCK_NAME
        self._state_dir = rootdir / STATE_DIR

    def read(self) -> dict[str, LockEntry]:
        """The entries by resource key (none when there is no lock file).

        Raises:
            LockfileError: The file is not a lock this version of clockwork can read.
        """
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return {}
        except IsADirectoryError:
            raise LockfileError(
                f"{self.path} is a directory, not a file: remove it (clockwork writes "
                f"{LOCK_NAME} itself)"
            ) from None
        except OSError as exc:
            raise LockfileError(
                f"{self.path} cannot be read ({exc.strerror or exc}): fix its permissions"
            ) from None
        except ValueError as exc:  # not UTF-8, not JSON
            raise LockfileError(
                f"{self.path} is not valid JSON ({exc}): resolve the merge conflict in it, "
                "or remove the broken entries and complete them again"
            ) from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            found = data.get("version") if isinstance(data, dict) else None
            raise LockfileError(
                f"{self.path} has version {found!r}; this clockwork reads version {VERSION}: "
                "upgrade pytest-clockwork, or move the file away and complete again"
            )
        resources = data.get("resources")
        if resources is None:
            resources = {}
        if not isinstance(resources, dict):
            raise LockfileError(
                f"{self.path}: 'resources' is malformed (a {type(resources).__name__}, not an "
                "object by resource): resolve the merge conflict in it, or remove the file "
                "and complete again"
            )
        entries: dict[str, LockEntry] = {}
        for key, raw in resources.items():
            try:
                entries[key] = LockEntry.model_validate(raw)
            except ValidationError as exc:
                raise LockfileError(
                    f"{self.path}: the entry of resource {key!r} is malformed ({exc}): "
                    "remove it and complete the resource again",
                    resource=key,
                ) from None
        return entries

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock file's guard, so one process at a time completes and writes."""
        from pytest_clockwork.locks import FileLock, LockTimeout

        self._ensure_state_dir()
        try:
            with FileLock(self._state_dir / f"{LOCK_NAME}.guard").hold(timeout=LOCK_TIMEOUT):
                yield
        except LockTimeout:
            raise LockfileError(
                f"{self.path} has been held by another process for over {LOCK_TIMEOUT:.0f}s "
                "(a completion in another pytest or xdist worker); is it stuck?"
            ) from None

    def update(self, entries: Mapping[str, LockEntry]) -> bool:
        """Write ``entries`` over those of the same keys; keep every other entry.

        Call it while :meth:`held`. The file is replaced atomically, and only when its
        content changes.

        Returns:
            Whether the file was written.
        """
        current = self.read()
        merged = {**current, **entries}
        text = render(merged, self.updates())
        try:
            if self.path.read_text(encoding="utf-8") == text:
                return False
        except FileNotFoundError:
            pass
        write_atomically(self.path, text, 0o644)  # committed: readable like any source file
        return True

    def updates(self) -> list[dict[str, Any]]:
        """The updates recorded by ``clockwork update --write``, oldest first."""
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return []
        found = data.get("updates") if isinstance(data, dict) else None
        return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []

    def record_update(self, update: Mapping[str, Any]) -> None:
        """Add an update (its intent, change set and model) to the file; keep the rest.

        Call it while :meth:`held`.
        """
        text = render(self.read(), [*self.updates(), dict(update)])
        write_atomically(self.path, text, 0o644)

    def _ensure_state_dir(self) -> None:
        state_directory(self.path.parent)


def render(entries: Mapping[str, LockEntry], updates: Sequence[Mapping[str, Any]] = ()) -> str:
    """The lock file's text: stable, sorted, indented JSON ending in a newline.

    Args:
        entries: The pinned completions by resource key.
        updates: The updates ``clockwork update --write`` recorded, oldest first.
    """
    payload: dict[str, Any] = {
        "version": VERSION,
        "resources": {key: entries[key].model_dump(mode="json") for key in sorted(entries)},
    }
    if updates:
        payload["updates"] = list(updates)
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def describe_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """What differs between the ``seen`` of a lock entry and of the declaration now.

    Returns:
        A short phrase such as ``description 'a' → 'b'; given ports changed``.
    """
    changes: list[str] = []
    for part in sorted(set(old) | set(new)):
        before, after = old.get(part), new.get(part)
        if before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            for name in sorted(set(before) | set(after)):
                if name not in before:
                    changes.append(f"{_part(part)} {name!r} added")
                elif name not in after:
                    changes.append(f"{_part(part)} {name!r} removed")
                elif before[name] != after[name]:
                    changes.append(
                        f"{_part(part)} {name!r}: {_short(before[name])} → {_short(after[name])}"
                    )
        else:
            changes.append(f"{_part(part)}: {_short(before)} → {_short(after)}")
    return "; ".join(changes) or "nothing visible (the fingerprint differs)"


_PARTS = {
    "given": "given field",
    "connections": "connected resource",
    "siblings": "sibling",
    "children": "child",
    "fields": "fields to complete",
}


def _part(name: str) -> str:
    return _PARTS.get(name, name)


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
