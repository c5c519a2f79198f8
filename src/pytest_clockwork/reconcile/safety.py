"""The safety controls on automatic corrections, per resource.

- At most ``max_corrections`` corrections in any ``window`` (a sliding window: 2 an
  hour by default).
- A ``cooldown`` after each correction (10 minutes by default) before the next.
- After ``max_failures`` corrections in a row that failed (3 by default), no more
  automatic corrections: a person has to look. The count starts again once the
  resource is found healthy (fixed by hand) or a correction works.

The ledger is kept in ``.clockwork/reconcile/<stack>.json`` so that restarting
``clockwork watch`` does not reset the limits, and ``clockwork status`` can show them.
The clock is injectable for tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pytest_clockwork.filesystem import STATE_DIR, write_atomically
from pytest_clockwork.state import stack_file_stem

Clock = Callable[[], float]


@dataclass(frozen=True)
class SafetyPolicy:
    """The limits on automatic corrections of one resource.

    Attributes:
        max_corrections: Corrections allowed in any ``window``.
        window: The length of the sliding window, in seconds.
        cooldown: Seconds after a correction before the next one.
        max_failures: Consecutive failed corrections after which it stops correcting.
    """

    max_corrections: int = 2
    window: float = 3600.0
    cooldown: float = 600.0
    max_failures: int = 3


@dataclass(frozen=True)
class Decision:
    """Whether a correction may happen now, and if not, why and until when.

    Attributes:
        allowed: It may.
        limit: What holds it back: ``suspended``, ``rate`` or ``cooldown`` (or ``""``).
        reason: That, in words.
        until: When it may happen (``None``: not by waiting).
    """

    allowed: bool
    limit: str = ""
    reason: str = ""
    until: float | None = None


@dataclass
class _Entry:
    attempts: list[float] = field(default_factory=list)
    failures: int = 0


def ledger_path(rootdir: Path, stack: str) -> Path:
    """Where the safety ledger of ``stack`` is kept."""
    return rootdir / STATE_DIR / "reconcile" / f"{stack_file_stem(stack)}.json"


class Safety:
    """Decides whether a resource may be corrected now, and remembers corrections.

    Args:
        policy: The limits.
        clock: The current Unix time.
        path: Where the ledger is kept (``None``: in memory only).
    """

    def __init__(
        self, policy: SafetyPolicy, *, clock: Clock = time.time, path: Path | None = None
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.path = path
        self._entries: dict[str, _Entry] = {}
        if path is not None:
            self._entries = read_ledger(path)

    def _entry(self, key: str) -> _Entry:
        entry = self._entries.setdefault(key, _Entry())
        horizon = self.clock() - self.policy.window
        entry.attempts = [moment for moment in entry.attempts if moment > horizon]
        return entry

    def check(self, key: str) -> Decision:
        """Whether ``key`` may be corrected now."""
        policy, now, entry = self.policy, self.clock(), self._entry(key)
        if entry.failures >= policy.max_failures:
            return Decision(
                False,
                "suspended",
                f"suspended after {entry.failures} failed corrections in a row; fix it by hand "
                "(corrections resume once it is healthy)",
            )
        if len(entry.attempts) >= policy.max_corrections:
            until = max(min(entry.attempts) + policy.window, max(entry.attempts) + policy.cooldown)
            return Decision(
                False,
                "rate",
                f"rate limit: {len(entry.attempts)} corrections in the last "
                f"{duration_text(policy.window)}; next one allowed at {_clock_time(until)}",
                until,
            )
        if entry.attempts and now < max(entry.attempts) + policy.cooldown:
            until = max(entry.attempts) + policy.cooldown
            return Decision(False, "cooldown", f"cooldown until {_clock_time(until)}", until)
        return Decision(True)

    def attempted(self, key: str) -> None:
        """Note that a correction of ``key`` starts now."""
        self._entry(key).attempts.append(self.clock())
        self.save()

    def withdraw(self, key: str) -> None:
        """Forget the correction of ``key`` just started: it never reached the resource
        (the Docker engine went away), so it counts neither as one nor as a failure."""
        entry = self._entry(key)
        if entry.attempts:
            entry.attempts.pop()
            self.save()

    def succeeded(self, key: str) -> None:
        """The correction worked: the count of failures starts again."""
        self._entry(key).failures = 0
        self.save()

    def failed(self, key: str) -> bool:
        """The correction failed. Returns whether corrections of ``key`` stop now."""
        entry = self._entry(key)
        entry.failures += 1
        self.save()
        return entry.failures == self.policy.max_failures

    def healthy(self, key: str) -> None:
        """``key`` was found healthy: failures before do not count any more."""
        entry = self._entries.get(key)
        if entry is not None and entry.failures:
            entry.failures = 0
            self.save()

    def forget(self, keep: set[str]) -> None:
        """Drop what is known of resources other than ``keep`` (destroyed ones)."""
        if set(self._entries) - keep:
            self._entries = {k: v for k, v in self._entries.items() if k in keep}
            self.save()

    def save(self) -> None:
        """Write the ledger, with the policy it was kept under (when it has a path)."""
        if self.path is None:
            return
        data = {
            "policy": vars(self.policy),
            "resources": {key: vars(entry) for key, entry in self._entries.items()},
        }
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n", 0o600)


def read_ledger(path: Path) -> dict[str, _Entry]:
    """The corrections remembered in ``path`` (none when it is missing or unreadable)."""
    try:
        data = json.loads(path.read_text())["resources"]
        return {
            str(key): _Entry([float(t) for t in value["attempts"]], int(value["failures"]))
            for key, value in data.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def read_policy(path: Path) -> SafetyPolicy:
    """The policy the ledger in ``path`` was kept under (the default when unknown)."""
    try:
        return SafetyPolicy(**json.loads(path.read_text())["policy"])
    except (OSError, ValueError, KeyError, TypeError):
        return SafetyPolicy()


def describe(path: Path, key: str, now: float) -> str | None:
    """What ``clockwork status`` shows of ``key``'s corrections (``None``: nothing)."""
    entry = read_ledger(path).get(key)
    if entry is None:
        return None
    policy = read_policy(path)
    recent = [moment for moment in entry.attempts if moment > now - policy.window]
    parts = []
    if recent:
        parts.append(
            f"{len(recent)} automatic correction{'' if len(recent) == 1 else 's'} in the last "
            f"{duration_text(policy.window)}, the last at {_clock_time(max(recent))}"
        )
    if entry.failures >= policy.max_failures:
        parts.append(f"corrections suspended after {entry.failures} failures in a row")
    elif entry.failures:
        parts.append(f"{entry.failures} failed in a row")
    return "; ".join(parts) or None


def _clock_time(moment: float) -> str:
    return datetime.fromtimestamp(moment).strftime("%H:%M:%S")


def duration_text(seconds: float) -> str:
    """``3600`` → ``"hour"``, ``600`` → ``"10 minutes"``, ``2.5`` → ``"2.5 seconds"``."""
    if seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return "hour" if hours == 1 else f"{hours} hours"
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return "minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds:g} seconds"
