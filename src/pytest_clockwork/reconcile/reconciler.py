"""The reconciler: every interval, evaluate a stack's kept resources and act on drift.

One :meth:`Reconciler.step` destroys what expired, (re)loads the declarations when they
changed, evaluates each kept resource, and for each one that drifted either corrects it
(``on_drift="auto_correct"``, within the safety limits) or only reports it. Each drift
is alerted once until it changes or is resolved. :meth:`Reconciler.run` repeats steps
until its stop event is set; a fault (Docker restarting, a webhook down) is logged and
retried at the next interval, never raised.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.expiry import destroy_expired
from pytest_clockwork.reconcile.alerts import Alert, Alerter, Event
from pytest_clockwork.reconcile.corrections import Corrector, RecordChanged
from pytest_clockwork.reconcile.drift import Drift, summary
from pytest_clockwork.reconcile.evaluate import Evaluation, Evaluator
from pytest_clockwork.reconcile.faults import engine_fault, reset_docker, uses_docker
from pytest_clockwork.reconcile.loader import DeclarationSource, Declared
from pytest_clockwork.reconcile.safety import Clock, Safety, SafetyPolicy, ledger_path
from pytest_clockwork.resources.base import ALERT_KINDS
from pytest_clockwork.state import ResourceRecord, StateStore, root_id

logger = logging.getLogger("pytest_clockwork.reconcile")


@dataclass
class Handled:
    """What one step did about one resource.

    Attributes:
        key: The resource.
        drifts: What drifted (empty: healthy).
        action: What was done, in words.
        corrected: ``True`` corrected, ``False`` a correction failed, ``None`` none tried.
    """

    key: str
    drifts: list[Drift] = field(default_factory=list)
    action: str = ""
    corrected: bool | None = None


class Reconciler:
    """Keeps one stack's kept resources as declared.

    Args:
        rootdir: pytest's rootdir.
        stack: The stack.
        declarations: Where the declarations come from; ``None``: the state only (then
            nothing is corrected, since ``on_drift`` is unknown).
        alerter: Where alerts go (default: log lines only).
        safety: The safety controls (default: the default policy, kept in the ledger).
        allow_stateful: Recreate ``stateful=True`` resources too.
        assertions: Run the resources' assertions.
        clock: The current Unix time (expiry and safety read it).
        corrector: What corrects (replaced in tests).
    """

    def __init__(
        self,
        rootdir: Path,
        stack: str = "default",
        *,
        declarations: DeclarationSource | None = None,
        alerter: Alerter | None = None,
        safety: Safety | None = None,
        allow_stateful: bool = False,
        assertions: bool = True,
        clock: Clock = time.time,
        corrector: Corrector | None = None,
    ) -> None:
        self.rootdir = rootdir
        self.stack = stack
        self.store = StateStore(rootdir, stack)
        self.declarations = declarations
        self.alerter = alerter or Alerter(None)
        self.safety = safety or Safety(
            SafetyPolicy(), clock=clock, path=ledger_path(rootdir, stack)
        )
        self.allow_stateful = allow_stateful
        self.clock = clock
        self.corrector = corrector or Corrector(self.store)
        self.stop = threading.Event()
        self.evaluator = Evaluator(assertions=assertions, cancel=self.stop)
        self.alerter.cancel = self.stop
        self.session = SessionInfo(
            id=f"watch-{os.getpid()}", stack=stack, rootdir=rootdir, root_id=root_id(rootdir)
        )
        self._reported: dict[str, tuple[str, ...]] = {}
        self._outage: str | None = None

    @property
    def outage(self) -> str | None:
        """Why the Docker engine did not answer at the last step (``None``: it did)."""
        return self._outage

    # -- the loop ----------------------------------------------------------------------

    def run(self, interval: float, stop_event: threading.Event | None = None) -> None:
        """Run a step every ``interval`` seconds until ``stop_event`` is set.

        A step in progress finishes (a correction is never cut short); assertions stop
        polling at once.
        """
        if stop_event is not None:
            self.stop = stop_event
            self.evaluator.cancel = stop_event
            self.alerter.cancel = stop_event
        logger.info(
            "watching the kept resources of stack %r in %s every %gs",
            self.stack,
            self.rootdir,
            interval,
        )
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.step()
            except Exception as exc:
                logger.error(
                    "the evaluation failed (%s: %s); trying again in %gs",
                    type(exc).__name__,
                    exc,
                    interval,
                )
                reset_docker()
            self.stop.wait(max(0.0, interval - (time.monotonic() - started)))
        logger.info("stopped watching stack %r", self.stack)

    def step(self) -> list[Handled]:
        """Evaluate every kept resource once and act on what drifted."""
        self._destroy_expired()
        declared = self.declarations.current() if self.declarations is not None else None
        self.alerter.flush()
        records = sorted(
            (r for r in self.store.read().records.values() if r.kept and r.status == "ready"),
            key=lambda r: (r.level, r.key),
        )
        handled: list[Handled] = []
        docker_down = False
        for record in records:
            if self.stop.is_set():
                break
            if docker_down and uses_docker(record):
                continue
            try:
                result = self._reconcile(record, declared)
            except Exception as exc:
                if uses_docker(record) and engine_fault(exc):
                    docker_down = True
                    self._docker_down(exc)
                    continue
                self._could_not_evaluate(record, exc)
                continue
            if result is not None:
                handled.append(result)
        if not docker_down and self._outage is not None and any(map(uses_docker, records)):
            logger.warning("the Docker engine answers again")
            self._outage = None
        keys = {record.key for record in records}
        self.safety.forget(keys)
        self._reported = {k: v for k, v in self._reported.items() if k in keys}
        return handled

    # -- one resource ------------------------------------------------------------------

    def _reconcile(self, record: ResourceRecord, declared: Declared | None) -> Handled | None:
        evaluation = self.evaluator.evaluate(record, declared)
        if self.stop.is_set():
            return None  # the assertions were cut short: what they saw means nothing
        key = record.key
        if not evaluation.drifts:
            self.safety.healthy(key)
            if self._reported.pop(key, None) is not None:
                self._alert(evaluation, "resolved", "it is as declared again")
            return Handled(key, action="healthy")
        blocked = self._blocked(evaluation, declared)
        if blocked is not None:
            category, action = blocked
            self._report(evaluation, category, f"not corrected: {action}")
            return Handled(key, evaluation.drifts, action)
        fix = evaluation.fix
        assert fix is not None
        self.safety.attempted(key)
        logger.info("%s/%s: %s; correcting (%s)", self.stack, key, summary(evaluation.drifts), fix)
        links = declared.links(key) if declared is not None else ()
        try:
            done = self.corrector.apply(evaluation, fix, links)
        except RecordChanged as exc:
            self.safety.withdraw(key)
            logger.info("%s/%s: %s", self.stack, key, exc)
            return Handled(key, evaluation.drifts, str(exc))
        except Exception as exc:
            if uses_docker(record) and engine_fault(exc):
                self.safety.withdraw(key)
                raise  # the engine went away: an outage, not a failed correction
            return self._failed(evaluation, f"the correction ({fix}) failed: {exc}")
        after = self.store.read().records.get(record.id)
        if after is not None:
            check = self.evaluator.evaluate(after, declared)
            if check.drifts and not self.stop.is_set():
                return self._failed(
                    evaluation, f"{done}, but it still drifts: {summary(check.drifts)}", done
                )
        self.safety.succeeded(key)
        self._reported.pop(key, None)
        self._alert(evaluation, "drift", summary(evaluation.drifts), f"corrected: {done}", ok=True)
        return Handled(key, evaluation.drifts, done, True)

    def _blocked(self, evaluation: Evaluation, declared: Declared | None) -> tuple[str, str] | None:
        """Why ``evaluation`` is not corrected now: a category and the reason."""
        resource, record = evaluation.resource, evaluation.record
        if declared is None:
            return "state", "its declaration is not loaded, so on_drift is not known"
        if resource is None:
            return "undeclared", "; ".join(evaluation.notes) or "it is not declared"
        if resource.on_drift != "auto_correct":
            return "alert", "on_drift is 'alert'"
        if evaluation.destructive and resource.stateful and not self.allow_stateful:
            return "stateful", (
                f"it is stateful=True and the fix ({evaluation.fix}) would destroy what it "
                "holds; fix it by hand, or run clockwork watch --allow-stateful"
            )
        decision = self.safety.check(record.key)
        if not decision.allowed:
            return decision.limit, decision.reason
        return None

    def _report(self, evaluation: Evaluation, category: str, action: str) -> None:
        """Alert a drift that is not corrected, once until it changes."""
        key = evaluation.record.key
        signature = (category, *sorted(drift.message for drift in evaluation.drifts))
        if self._reported.get(key) == signature:
            logger.info("%s/%s still drifts: %s", self.stack, key, summary(evaluation.drifts))
            return
        self._reported[key] = signature
        self._alert(evaluation, "drift", summary(evaluation.drifts), action)

    def _failed(self, evaluation: Evaluation, message: str, action: str = "") -> Handled:
        key = evaluation.record.key
        stopped = self.safety.failed(key)
        if stopped:
            message += (
                f"; no more automatic corrections after {self.safety.policy.max_failures} "
                "failures in a row: fix it by hand (they resume once it is healthy)"
            )
        # What holds the next correction back (a cooldown, the stop) is said here already.
        limit = self.safety.check(key).limit or "failure"
        self._reported[key] = (limit, *sorted(drift.message for drift in evaluation.drifts))
        self._alert(evaluation, "failure", message, action or "correction failed", ok=False)
        return Handled(key, evaluation.drifts, message, False)

    def _alert(
        self,
        evaluation: Evaluation,
        event: Event,
        message: str,
        action: str = "",
        ok: bool | None = None,
    ) -> None:
        """Send an alert the resource asks for (``alert_on``); log it in any case."""
        resource, record = evaluation.resource, evaluation.record
        wanted = set(resource.alert_on if resource is not None else ALERT_KINDS)
        if event == "failure" and "failure" not in wanted and "drift" in wanted:
            event = "drift"  # it asked for drift alerts: a failed correction is one too
        alert = Alert(
            event=event,
            stack=self.stack,
            resource=record.key,
            kind=record.kind,
            message=message,
            drift=tuple(evaluation.drifts),
            action=action,
            ok=ok,
            rootdir=str(self.rootdir),
            time=self.clock(),
        )
        if (event == "resolved" and "drift" in wanted) or event in wanted:
            self.alerter.send(alert)
        else:
            logger.warning(alert.line())

    # -- faults ------------------------------------------------------------------------

    def _destroy_expired(self) -> None:
        try:
            outcome = destroy_expired(self.store, self.session, at=self.clock())
        except Exception as exc:
            logger.error("could not destroy expired resources: %s; retried next interval", exc)
            reset_docker()
            return
        if outcome.destroyed:
            logger.info(
                "destroyed expired resources of stack %r: %s",
                self.stack,
                ", ".join(outcome.destroyed),
            )
        for record_id, error in outcome.failures.items():
            logger.error(
                "could not destroy expired %s: %s; retried next interval", record_id, error
            )
        if outcome.failures:
            reset_docker()

    def _docker_down(self, exc: BaseException) -> None:
        reset_docker()
        if self._outage is None:
            logger.error(
                "the Docker engine does not answer (%s: %s); its containers are checked "
                "again at the next interval",
                type(exc).__name__,
                exc,
            )
        else:
            logger.info("the Docker engine still does not answer")
        self._outage = str(exc)

    def _could_not_evaluate(self, record: ResourceRecord, exc: BaseException) -> None:
        message = f"could not be evaluated: {type(exc).__name__}: {exc}"
        if self._reported.get(record.key) == ("error", message):
            logger.info("%s/%s %s", self.stack, record.key, message)
            return
        self._reported[record.key] = ("error", message)
        self._alert(Evaluation(record), "failure", message)
