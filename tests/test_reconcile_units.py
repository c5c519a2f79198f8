"""The reconciler's parts without Docker: drift rules, safety limits, alert delivery."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_clockwork.notation import parse_port
from pytest_clockwork.reconcile.alerts import Alert, Alerter
from pytest_clockwork.reconcile.drift import (
    Drift,
    FileObserved,
    container_drift,
    declaration_drift,
    file_drift,
    fix_for,
)
from pytest_clockwork.reconcile.evaluate import Evaluation
from pytest_clockwork.reconcile.safety import Safety, SafetyPolicy, describe
from pytest_clockwork.runtimes.dockerd import Observed
from pytest_clockwork.specs import ContainerSpec, FileSpec, content_digest
from pytest_clockwork.state import ResourceRecord
from tests.support.webhook import FakeClock, Receiver, free_port

HOUR, MINUTE = 3600.0, 60.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()


# -- drift rules ---------------------------------------------------------------------------


def _container(**fields: Any) -> ContainerSpec:
    values: dict[str, Any] = {"key": "web", "name": "web", "image": "img:1"}
    values.update(fields)
    return ContainerSpec(**values)


def _seen(**fields: Any) -> Observed:
    values: dict[str, Any] = {
        "status": "running",
        "health": "none",
        "image": "img:1",
        "env": {"PATH": "/bin"},
        "ports": {},
        "exit_code": None,
    }
    values.update(fields)
    return Observed(**values)


def test_a_container_as_deployed_has_no_drift() -> None:
    spec = _container(env={"A": "1"}, ports=(parse_port("80"),))
    seen = _seen(env={"A": "1", "PATH": "/bin"}, ports={"80/tcp": 32768})
    assert container_drift(spec, seen, {"80/tcp": 32768}) == []


def test_a_gone_container_is_recreated_without_destroying_anything() -> None:
    (drift,) = container_drift(_container(), None, {})
    assert (drift.what, drift.fix, drift.destructive) == ("gone", "recreate", False)


def test_a_container_being_removed_counts_as_gone() -> None:
    (drift,) = container_drift(_container(), _seen(status="removing"), {})
    assert (drift.what, drift.fix, drift.destructive) == ("gone", "recreate", False)


def test_a_stopped_container_is_started_not_recreated() -> None:
    (drift,) = container_drift(_container(), _seen(status="exited", exit_code=137), {})
    assert drift.fix == "start" and not drift.destructive
    assert "exited (exit code 137)" in drift.message
    # A one-shot container (must_run=False) is meant to exit.
    assert (
        container_drift(_container(must_run=False), _seen(status="exited", exit_code=0), {}) == []
    )


def test_env_drift_names_the_variable_but_never_its_value() -> None:
    spec = _container(env={"PASSWORD": "s3cret", "MODE": "prod"})
    drifts = container_drift(spec, _seen(env={"PASSWORD": "hunter2"}), {})
    assert [d.message for d in drifts] == [
        "env MODE is not set in the container",
        "env PASSWORD has another value than declared",
    ]
    assert all("s3cret" not in d.message and "hunter2" not in d.message for d in drifts)
    assert fix_for(drifts) == "recreate" and all(d.destructive for d in drifts)


def test_image_and_port_drift() -> None:
    spec = _container(ports=(parse_port("80"), parse_port("8443:443"), parse_port("53/udp")))
    seen = _seen(image="img:2", ports={"80/tcp": 40001, "443/tcp": 9443})
    messages = [d.message for d in container_drift(spec, seen, {"80/tcp": 40000})]
    assert messages == [
        "it runs image 'img:2', declared 'img:1'",
        "port 80/tcp moved to host port 40001 (recorded 40000)",
        "port 443/tcp is on host port 9443, declared 8443",
        "port 53/udp is not published",
    ]


def test_a_moved_free_port_only_needs_the_record_updated() -> None:
    spec = _container(ports=(parse_port("80"),))
    drifts = container_drift(spec, _seen(ports={"80/tcp": 40001}), {"80/tcp": 40000})
    assert fix_for(drifts) == "record"


def test_fix_order_and_what_counts_as_destructive() -> None:
    stopped = Drift("stopped", "x", "start", destructive=False)
    env = Drift("env", "y")
    assert fix_for([stopped]) == "start"
    assert fix_for([stopped, env]) == "recreate"
    record = ResourceRecord(key="db", session="s", kind="container")
    assert Evaluation(record, [stopped, env]).destructive
    assert not Evaluation(record, [stopped]).destructive
    # Nothing exists any more: recreating destroys nothing, whatever else drifted.
    assert not Evaluation(record, [env], exists=False).destructive


def test_file_drift(tmp_path: Path) -> None:
    spec = FileSpec(key="notes", path=tmp_path / "notes.txt", content="hello\n", mode=0o644)
    same = FileObserved(True, content_digest("hello\n"), 0o644, size=6)
    assert file_drift(spec, same) == []
    (missing,) = file_drift(spec, None)
    assert missing.what == "missing" and not missing.destructive
    changed, mode = file_drift(spec, FileObserved(True, content_digest("hi\n"), 0o600, size=3))
    assert changed.message.endswith("was changed (now 3 bytes)")
    assert changed.destructive  # rewriting it loses what someone wrote there
    assert mode.message.endswith("has mode 0600, declared 0644") and not mode.destructive
    (directory,) = file_drift(spec, FileObserved(False, None, 0o755))
    assert directory.message.endswith("is no longer a file")


def test_declaration_drift_names_fields_and_env_names_only() -> None:
    recorded = {"kind": "container", "key": "web", "image": "a:1", "env": {"TOKEN": "old"}}
    declared = {"kind": "container", "key": "web", "image": "a:2", "env": {"TOKEN": "new"}}
    (drift,) = declaration_drift(declared, recorded)
    assert drift.message == (
        "the declaration changed since it was deployed: env (TOKEN), image (a:1 → a:2)"
    )
    assert declaration_drift(recorded, recorded) == []


# -- safety --------------------------------------------------------------------------------


def test_rate_limit_cooldown_and_failures(tmp_path: Path) -> None:
    clock = FakeClock()
    safety = Safety(SafetyPolicy(), clock=clock, path=tmp_path / "ledger.json")
    assert safety.check("web").allowed
    safety.attempted("web")
    safety.succeeded("web")
    decision = safety.check("web")
    assert not decision.allowed and decision.reason.startswith("cooldown until")
    clock.advance(10 * MINUTE)
    assert safety.check("web").allowed
    safety.attempted("web")
    clock.advance(30 * MINUTE)
    decision = safety.check("web")
    assert not decision.allowed
    assert decision.reason.startswith("rate limit: 2 corrections in the last hour")
    assert decision.until == clock.now - 40 * MINUTE + HOUR
    clock.advance(20 * MINUTE + 1)  # the first correction left the window
    assert safety.check("web").allowed
    assert safety.check("db").allowed  # per resource
    # A restarted watch keeps the limits.
    again = Safety(SafetyPolicy(), clock=clock, path=tmp_path / "ledger.json")
    again.attempted("web")
    clock.advance(MINUTE)
    assert not again.check("web").allowed


def test_corrections_stop_after_consecutive_failures_until_healthy() -> None:
    clock = FakeClock()
    safety = Safety(SafetyPolicy(max_corrections=10, cooldown=0), clock=clock)
    stops = []
    for _ in range(3):
        assert safety.check("web").allowed
        safety.attempted("web")
        stops.append(safety.failed("web"))
        clock.advance(1)
    assert stops == [False, False, True]
    decision = safety.check("web")
    assert not decision.allowed and decision.reason.startswith("suspended after 3 failed")
    clock.advance(10 * HOUR)
    assert not safety.check("web").allowed  # time alone does not resume them
    safety.healthy("web")  # someone fixed it by hand
    assert safety.check("web").allowed


def test_status_describes_the_ledger(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "ledger.json"
    safety = Safety(SafetyPolicy(max_failures=2, cooldown=0), clock=clock, path=path)
    for _ in range(2):
        safety.attempted("web")
        safety.failed("web")
    text = describe(path, "web", clock.now)
    assert text is not None
    assert text.startswith("2 automatic corrections in the last hour, the last at ")
    assert text.endswith("corrections suspended after 2 failures in a row")
    assert describe(path, "other", clock.now) is None


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=1, max_value=2 * HOUR), min_size=1, max_size=40),
    max_corrections=st.integers(min_value=1, max_value=4),
    cooldown=st.sampled_from([0.0, 5 * MINUTE, 10 * MINUTE]),
)
def test_no_window_ever_holds_more_corrections_than_allowed(
    gaps: list[float], max_corrections: int, cooldown: float
) -> None:
    clock = FakeClock()
    policy = SafetyPolicy(max_corrections=max_corrections, cooldown=cooldown)
    safety = Safety(policy, clock=clock)
    done: list[float] = []
    for gap in gaps:  # drift is found at arbitrary times; correct whenever allowed
        clock.advance(gap)
        if safety.check("web").allowed:
            safety.attempted("web")
            safety.succeeded("web")
            done.append(clock.now)
    for index, start in enumerate(done):
        inside = [t for t in done[index:] if t < start + policy.window]
        assert len(inside) <= max_corrections
    assert all(later - earlier >= cooldown for earlier, later in pairwise(done))


# -- alerts --------------------------------------------------------------------------------


def _alert(**fields: Any) -> Alert:
    values: dict[str, Any] = {
        "event": "drift",
        "stack": "default",
        "resource": "web",
        "kind": "container",
        "message": "the container no longer exists",
        "drift": (Drift("gone", "the container no longer exists", "recreate", False),),
        "action": "corrected: recreated container web-1 from its declaration",
        "ok": True,
        "rootdir": "/src/app",
    }
    values.update(fields)
    return Alert(**values)


def test_alerts_are_logged_and_posted(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", "pytest_clockwork.reconcile")
    Alerter(receiver.url).send(_alert())
    (body,) = receiver.bodies
    assert {k: body[k] for k in ("event", "stack", "resource", "kind", "action", "ok")} == {
        "event": "drift",
        "stack": "default",
        "resource": "web",
        "kind": "container",
        "action": "corrected: recreated container web-1 from its declaration",
        "ok": True,
    }
    assert body["drift"] == [
        {"what": "gone", "message": "the container no longer exists", "fix": "recreate"}
    ]
    assert body["time"].endswith("+00:00") and body["host"]
    assert "drift: default/web: the container no longer exists — corrected" in caplog.text


def test_a_failing_webhook_is_retried_with_backoff() -> None:
    hook = Receiver(failures=2)
    try:
        Alerter(hook.url, backoff=0.05).send(_alert())
    finally:
        hook.close()
    assert hook.requests == 3 and len(hook.bodies) == 1


def test_an_unreachable_webhook_keeps_alerts_for_later(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    alerter = Alerter(f"http://127.0.0.1:{port}/hook", attempts=2, backoff=0.05)
    alerter.send(_alert(resource="a"))
    alerter.send(_alert(resource="b"))  # nothing raised: the loop goes on
    assert [alert.resource for alert in alerter.pending] == ["a", "b"]
    assert "could not POST the drift alert of a" in caplog.text
    hook = Receiver(port=port)
    try:
        alerter.flush()  # the next interval
    finally:
        hook.close()
    assert [body["resource"] for body in hook.bodies] == ["a", "b"]
    assert not alerter.pending
