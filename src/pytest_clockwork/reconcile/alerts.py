"""Alerts: a log line always, and a JSON POST to a webhook when one is configured.

The webhook gets each alert as JSON::

    {"event": "drift", "stack": "default", "resource": "web", "kind": "container",
     "message": "the container no longer exists", "drift": [{"what": "gone", ...}],
     "action": "recreated it", "ok": true, "rootdir": "/src/app", "host": "ci-7",
     "time": "2025-05-01T12:00:00+00:00"}

``event`` is ``drift`` (found, and what was done about it), ``failure`` (a correction
failed, or corrections stopped) or ``resolved`` (healthy again without a correction).
A POST is retried with backoff; one that still fails is kept and retried at the next
interval (up to :data:`BACKLOG` alerts), so an unreachable webhook never stops the
reconciler.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pytest_clockwork.reconcile.drift import Drift

Event = Literal["drift", "failure", "resolved"]
BACKLOG = 100
logger = logging.getLogger("pytest_clockwork.reconcile")


@dataclass(frozen=True)
class Alert:
    """One alert about one resource.

    Attributes:
        event: ``drift``, ``failure`` or ``resolved``.
        stack: The stack.
        resource: The resource's key.
        kind: Its kind (``container``, ``file``...).
        message: What happened, in one line.
        drift: What drifted.
        action: What was done about it.
        ok: Whether the resource is as declared after that (``None``: not known).
        rootdir: The project's rootdir.
        time: When (Unix time).
    """

    event: Event
    stack: str
    resource: str
    kind: str
    message: str
    drift: tuple[Drift, ...] = ()
    action: str = ""
    ok: bool | None = None
    rootdir: str = ""
    time: float = field(default_factory=time.time)

    def payload(self) -> dict[str, Any]:
        """The JSON body POSTed to the webhook."""
        return {
            "event": self.event,
            "stack": self.stack,
            "resource": self.resource,
            "kind": self.kind,
            "message": self.message,
            "drift": [drift.to_json() for drift in self.drift],
            "action": self.action,
            "ok": self.ok,
            "rootdir": self.rootdir,
            "host": socket.gethostname(),
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="seconds"),
        }

    def line(self) -> str:
        """The alert as a log line."""
        action = f" — {self.action}" if self.action else ""
        return f"{self.event}: {self.stack}/{self.resource}: {self.message}{action}"


class Alerter:
    """Logs alerts and POSTs them to a webhook.

    Args:
        webhook: The URL, or ``None`` for log lines only.
        attempts: POST attempts per alert and interval.
        timeout: Seconds one POST may take.
        backoff: The longest wait between attempts, in seconds (they start at 1/8 of it).
        cancel: Stop retrying when set (SIGTERM); the alert stays queued.
    """

    def __init__(
        self,
        webhook: str | None,
        *,
        attempts: int = 3,
        timeout: float = 5.0,
        backoff: float = 4.0,
        cancel: threading.Event | None = None,
    ) -> None:
        self.webhook = webhook
        self.attempts = attempts
        self.timeout = timeout
        self.backoff = backoff
        self.cancel = cancel
        self.pending: deque[Alert] = deque()
        self.delivered = 0

    def send(self, alert: Alert) -> None:
        """Log ``alert`` and deliver it (with what is still queued) to the webhook."""
        level = logging.INFO if alert.event == "resolved" else logging.WARNING
        logger.log(level, alert.line())
        if not self.webhook:
            return
        if len(self.pending) >= BACKLOG:
            dropped = self.pending.popleft()
            logger.warning("alert queue full: dropped the oldest alert (%s)", dropped.line())
        self.pending.append(alert)
        self.flush()

    def flush(self) -> None:
        """Deliver the queued alerts in order; stop at the first that cannot be."""
        while self.pending and self.webhook:
            alert = self.pending[0]
            try:
                self._post(alert)
            except Exception as exc:
                logger.warning(
                    "could not POST the %s alert of %s to %s (%s: %s); %d alert(s) kept, "
                    "retried at the next interval",
                    alert.event,
                    alert.resource,
                    self.webhook,
                    type(exc).__name__,
                    exc,
                    len(self.pending),
                )
                return
            self.pending.popleft()
            self.delivered += 1

    def _post(self, alert: Alert) -> None:
        import httpx
        from tenacity import (
            Retrying,
            retry_if_exception_type,
            stop_after_attempt,
            stop_never,
            stop_when_event_set,
            wait_exponential,
        )

        assert self.webhook is not None
        cancelled = stop_when_event_set(self.cancel) if self.cancel is not None else stop_never
        for attempt in Retrying(
            stop=stop_after_attempt(self.attempts) | cancelled,
            wait=wait_exponential(multiplier=self.backoff / 8, max=self.backoff),
            retry=retry_if_exception_type(httpx.HTTPError),
            reraise=True,
        ):
            with attempt:
                response = httpx.post(self.webhook, json=alert.payload(), timeout=self.timeout)
                response.raise_for_status()
