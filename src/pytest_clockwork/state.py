"""The stack's state: ``.clockwork/stacks/<stack>.json``, one record per deployed resource.

Each record is written before its resource is created and updated with what was
created and with the outputs after, so a session that died can always be cleaned up
by another process (the watchdog, the next session, the xdist controller) from the
state alone. Writes are atomic (write, then rename) and happen under a file lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from pytest_clockwork.errors import StateError
from pytest_clockwork.filesystem import STATE_DIR as STATE_DIR
from pytest_clockwork.filesystem import state_directory, state_error, write_atomically

logger = logging.getLogger("pytest_clockwork")
STATE_VERSION = 1
"""The version of the state files this clockwork writes and reads."""


class SessionEntry(BaseModel):
    """A pytest session (or xdist run) that owns records.

    Attributes:
        id: The session id, also in every label and container name.
        pid: The owning process (the xdist controller under xdist).
        pid_started: That process's start time, to tell a reused pid apart.
        host: The machine it runs on; sessions of other hosts are never reaped.
        started_at: Unix time.
        engine: ``local`` or ``pulumi``.
        watchdog_pid: The watchdog process watching this session, when one runs.
    """

    id: str
    pid: int
    pid_started: float | None = None
    host: str
    started_at: float
    engine: str = "local"
    watchdog_pid: int | None = None


class ResourceRecord(BaseModel):
    """One deployed (or being deployed) resource.

    Attributes:
        key: The resource's key.
        session: The session that owns it.
        kind: The spec kind (``container``, ``file``...).
        engine: The engine that created it.
        status: ``creating`` until it is ready, ``failed`` when creation failed.
        fingerprint: Digest of the spec it was deployed from.
        level: Its deploy level; records are destroyed from the highest level down.
        kept: Left running on purpose; only ``--clockwork-destroy`` (or expiry) removes it.
        lifetime: The resource's ``max_duration`` in seconds, when it has one.
        expires_at: When a kept resource is due to be destroyed (Unix time).
        created: What was created, by type, so exactly that can be removed.
        outputs: What deployment produced (container id, host ports, path).
        spec: The spec it was deployed from (JSON), for drift checks and display.
        deployed_at: Unix time when it became ready.
        seconds: How long deployment took.
        worker: The pytest-xdist worker that deployed it, under xdist.
        scope: The resource's scope (``session`` unless it has a narrower one).
        instance: For a narrower scope, the copy this record is of (one per test, module,
            ...): part of its id, its container's name and its networks' names. Such a
            record is removed when its scope ends; it is never kept nor reused.
    """

    key: str
    session: str
    kind: str
    engine: str = "local"
    status: Literal["creating", "ready", "failed"] = "creating"
    fingerprint: str = ""
    level: int = 0
    kept: bool = False
    lifetime: float | None = None
    expires_at: float | None = None
    created: dict[str, list[str]] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    spec: dict[str, Any] = Field(default_factory=dict)
    deployed_at: float | None = None
    seconds: float | None = None
    worker: str | None = None
    scope: str = "session"
    instance: str | None = None

    @property
    def id(self) -> str:
        """``key@session`` (``key@session#instance`` for a copy of a narrower scope):
        unique in a stack."""
        suffix = f"#{self.instance}" if self.instance else ""
        return f"{self.key}@{self.session}{suffix}"

    def add_created(self, what: str, identifier: str) -> None:
        """Note that ``identifier`` (a container id, a path) of type ``what`` was created."""
        items = self.created.setdefault(what, [])
        if identifier not in items:
            items.append(identifier)


class StackState(BaseModel):
    """Everything one stack has: its sessions and its records."""

    version: int = STATE_VERSION
    stack: str
    sessions: dict[str, SessionEntry] = Field(default_factory=dict)
    records: dict[str, ResourceRecord] = Field(default_factory=dict)

    def put(self, record: ResourceRecord) -> None:
        """Insert or replace ``record``."""
        self.records[record.id] = record

    def of_session(self, session: str) -> list[ResourceRecord]:
        """The records a session owns."""
        return [record for record in self.records.values() if record.session == session]

    def kept(self, key: str) -> ResourceRecord | None:
        """The newest kept, ready record of ``key``."""
        candidates = [
            record
            for record in self.records.values()
            if record.key == key and record.kept and record.status == "ready"
        ]
        return max(candidates, key=lambda r: r.deployed_at or 0, default=None)


class _PathLock:
    """One lock per lock file and process: threads queue on ``threads``, the first one in
    takes the file lock that other processes see."""

    _registry: ClassVar[dict[Path, _PathLock]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        from pytest_clockwork.locks import FileLock

        self.threads = threading.RLock()
        self.file = FileLock(path)
        self.depth = 0

    @classmethod
    def for_path(cls, path: Path) -> _PathLock:
        with cls._registry_lock:
            if path not in cls._registry:
                cls._registry[path] = cls(path)
            return cls._registry[path]


def root_id(rootdir: Path) -> str:
    """A short stable id of a rootdir, used in labels to find what it created."""
    return hashlib.sha256(str(rootdir.resolve()).encode()).hexdigest()[:12]


class StateStore:
    """Reads and writes one stack's state file.

    Args:
        rootdir: pytest's rootdir; state lives in ``<rootdir>/.clockwork``.
        stack: The stack name.
    """

    def __init__(self, rootdir: Path, stack: str) -> None:
        from pytest_clockwork.settings import check_stack

        self.rootdir = rootdir
        self.stack = check_stack(stack)
        self.directory = rootdir / STATE_DIR / "stacks"
        self.path = self.directory / f"{self.file_stem}.json"
        self._lock_path = self.directory / f"{self.file_stem}.lock"
        self.damaged: list[str] = []
        """What :meth:`read` found damaged and moved aside, in words."""

    @property
    def file_stem(self) -> str:
        """The stack's name as a file name: ``feature/x`` is ``feature%2Fx``."""
        return stack_file_stem(self.stack)

    def session_file(self, session: str, suffix: str) -> Path:
        """A file of one session of this stack, next to the state (``.deploy.lock``)."""
        return self.directory / f"{self.file_stem}.{session}{suffix}"

    def read(self) -> StackState:
        """The current state (empty when there is none).

        A state file that cannot be read back (truncated, not JSON, another shape, a
        directory in its place) is moved aside (``<stack>.json.damaged-<time>``), never
        dropped: it may list live containers, which are still found by their labels. The
        move is noted in :attr:`damaged` and logged; the state starts empty.

        Raises:
            StateError: The state cannot be read and cannot be moved aside either.
        """
        try:
            data = json.loads(self.path.read_bytes().decode("utf-8"))
            version = data.get("version", 1) if isinstance(data, dict) else 1
            if isinstance(version, int) and version > STATE_VERSION:
                raise StateError(
                    f"the state of stack {self.stack!r} ({self.path}) was written by a newer "
                    f"pytest-clockwork (state version {version}; this one reads version "
                    f"{STATE_VERSION}): upgrade pytest-clockwork, or use another "
                    "--clockwork-stack"
                )
            return StackState.model_validate(data)
        except FileNotFoundError:
            return StackState(stack=self.stack)
        except (OSError, ValueError) as exc:  # UnicodeDecodeError, JSON, validation
            self._move_aside(exc)
            return StackState(stack=self.stack)

    def _move_aside(self, exc: Exception) -> None:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return  # another process moved it first
        except OSError as error:
            raise StateError(
                f"the state of stack {self.stack!r} ({self.path}) cannot be read ({reason}) "
                f"nor moved aside ({error.strerror or error}): move it away by hand; what it "
                "lists is found again by its Docker labels (pytest --clockwork-destroy)"
            ) from None
        destroy = "pytest --clockwork-destroy"
        if self.stack != "default":
            destroy += f" --clockwork-stack {self.stack}"
        message = (
            f"the state of stack {self.stack!r} could not be read ({type(exc).__name__}: "
            f"{reason}); it was moved to {aside.relative_to(self.rootdir)} and the stack "
            f"starts empty. Containers it listed keep their labels: {destroy} removes them."
        )
        self.damaged.append(message)
        logger.warning("%s", message)

    @contextlib.contextmanager
    def lock(self, timeout: float = 300) -> Iterator[None]:
        """Hold the stack's lock: across processes (a file lock) and threads (reentrant)."""
        self.ensure_directory()
        held = _PathLock.for_path(self._lock_path)
        if not held.threads.acquire(timeout=timeout):
            raise self._locked_error(timeout)
        try:
            if held.depth == 0:
                from pytest_clockwork.locks import LockTimeout

                try:
                    held.file.acquire(timeout=timeout)
                except LockTimeout:
                    raise self._locked_error(timeout) from None
                except OSError as exc:
                    raise state_error(exc) from None
            held.depth += 1
            try:
                yield
            finally:
                held.depth -= 1
                if held.depth == 0:
                    held.file.release()
        finally:
            held.threads.release()

    def _locked_error(self, timeout: float) -> StateError:
        return StateError(
            f"stack {self.stack!r} is locked by another process for over {timeout:.0f}s "
            f"({self._lock_path}); is a session stuck?"
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[StackState]:
        """Read, let the caller change, and write back the state, under the lock."""
        with self.lock():
            state = self.read()
            yield state
            self.write(state)

    def record_outputs(self, record_id: str, outputs: dict[str, Any]) -> None:
        """Replace the outputs of record ``record_id`` (gone already: nothing to do).

        For a resource whose outputs changed after deployment (a container restarted on
        a new host port), so that whoever attaches to it later reads the new ones.
        """
        with self.transaction() as state:
            record = state.records.get(record_id)
            if record is not None:
                record.outputs = dict(outputs)

    def write(self, state: StackState) -> None:
        """Write ``state`` atomically, readable by its owner only; empty removes the file.

        Raises:
            StateError: The state directory cannot be written.
        """
        self.ensure_directory()
        try:
            if not state.sessions and not state.records:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
                return
            # ASCII JSON: any text (a lone surrogate too) reads back as it was written.
            payload = json.dumps(state.model_dump(mode="json"), indent=2, sort_keys=True)
            write_atomically(self.path, payload + "\n", 0o600)
        except OSError as exc:
            raise state_error(exc) from None

    def ensure_directory(self) -> None:
        """Create the private directory of the stacks' state when it is missing."""
        state_directory(self.rootdir, "stacks")

    @classmethod
    def stacks(cls, rootdir: Path) -> list[str]:
        """The stacks that have state under ``rootdir``."""
        from pytest_clockwork.settings import check_stack

        names = []
        for path in (rootdir / STATE_DIR / "stacks").glob("*.json"):
            with contextlib.suppress(ValueError):  # not a file clockwork wrote
                names.append(check_stack(path.stem.replace("%2F", "/")))
        return sorted(names)


def stack_file_stem(stack: str) -> str:
    """A stack name as a file name (``/`` is not allowed in stack names' parts)."""
    return stack.replace("/", "%2F")


def this_host() -> str:
    """The host name recorded with sessions."""
    return socket.gethostname()


def process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since boot, from /proc), or None if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return float(fields[19])


def process_alive(pid: int, started: float | None) -> bool:
    """Whether ``pid`` is still the process that started at ``started``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if started is None:
        return True
    now = process_started(pid)
    if now is None:
        return True
    if now != started:
        return False
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            return False
    return True


def now() -> float:
    """The current Unix time (one place, so tests can reason about it)."""
    return time.time()
