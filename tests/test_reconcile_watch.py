"""The reconciler against real kept stacks: drift found, corrected (or not), alerted.

Each test keeps a stack with ``pytest --clockwork-apply --clockwork-keep``, sabotages
it behind the reconciler's back, and drives :meth:`Reconciler.step` in-process with a
clock it controls, the way ``clockwork watch`` does every interval.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pytest_clockwork.errors import EngineUnavailableError
from pytest_clockwork.reconcile.alerts import Alerter
from pytest_clockwork.reconcile.cli import main
from pytest_clockwork.reconcile.corrections import Corrector
from pytest_clockwork.reconcile.loader import DeclarationSource
from pytest_clockwork.reconcile.reconciler import Reconciler
from pytest_clockwork.reconcile.safety import Safety, SafetyPolicy, ledger_path
from pytest_clockwork.state import ResourceRecord, StateStore
from tests.support.webhook import FakeClock, Receiver, free_port

MINUTE = 60.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()


def keep(pytester: pytest.Pytester, *uses: str, ttl: str | None = None) -> None:
    """Deploy and keep what the tests use (a test that takes each of ``uses``)."""
    pytester.makepyfile(test_uses=f"def test_uses({', '.join(uses)}):\n    pass\n")
    extra = ["--clockwork-ttl", ttl] if ttl else []
    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep", *extra)
    assert result.ret == 0, result.stdout.str()


def records(pytester: pytest.Pytester) -> dict[str, ResourceRecord]:
    state = StateStore(pytester.path, "default").read()
    return {record.key: record for record in state.records.values()}


def reconciler(
    pytester: pytest.Pytester,
    clock: FakeClock,
    *,
    webhook: str | None = None,
    policy: SafetyPolicy | None = None,
    **options: Any,
) -> Reconciler:
    """A reconciler of the pytester project, as ``clockwork watch`` builds one."""
    return Reconciler(
        pytester.path,
        "default",
        declarations=DeclarationSource(pytester.path, "default"),
        alerter=Alerter(webhook, backoff=0.05),
        safety=Safety(
            policy or SafetyPolicy(), clock=clock, path=ledger_path(pytester.path, "default")
        ),
        clock=clock,
        **options,
    )


def container_env(docker_client: Any, record: ResourceRecord) -> dict[str, str]:
    attrs = docker_client.containers.get(record.outputs["container_id"]).attrs
    return dict(item.split("=", 1) for item in attrs["Config"]["Env"])


@pytest.mark.docker
def test_a_killed_container_is_recreated_and_stays_kept(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    docker_client: Any,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    declare(
        """
        web = DockerResource(
            image=IMAGE, ports=["80"], on_drift="auto_correct",
            assertions=[HealthcheckAssert(port=80, timeout=3)],
        )
        """
    )
    keep(pytester, "web", ttl="1h")
    before = records(pytester)["web"]
    docker_client.containers.get(before.outputs["container_id"]).remove(force=True)
    clock = FakeClock(time.time())

    # Docker goes away in the middle of the correction: an outage, not a failed correction.
    class Unreachable(Corrector):
        def apply(self, *args: Any, **kwargs: Any) -> str:
            raise EngineUnavailableError("no Docker engine answers (restarting)")

    outage = reconciler(pytester, clock, corrector=Unreachable(StateStore(pytester.path, "x")))
    assert outage.step() == []
    assert "the Docker engine does not answer" in caplog.text
    assert not receiver.bodies  # nothing failed, nothing to alert

    (handled,) = reconciler(pytester, clock, webhook=receiver.url).step()  # no cooldown

    assert handled.corrected is True and [d.what for d in handled.drifts] == ["gone"]
    after = records(pytester)["web"]
    assert after.kept and after.session == before.session
    assert after.expires_at == before.expires_at  # it keeps its expiry
    assert after.outputs["container_name"] == before.outputs["container_name"]
    assert after.outputs["container_id"] != before.outputs["container_id"]
    port = after.outputs["ports"]["80/tcp"]
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "hello\n"
    (alert,) = receiver.bodies
    assert (alert["event"], alert["stack"], alert["resource"], alert["ok"]) == (
        "drift",
        "default",
        "web",
        True,
    )
    assert alert["drift"][0]["message"] == "the container no longer exists"
    assert alert["action"].startswith("corrected: recreated container web-")
    # The next session attaches to the recreated container as it would to the kept one.
    pytester.runpytest().assert_outcomes(passed=2)
    # Destroyed, so that the watchdog waiting for its expiry ends too.
    assert main(["destroy", "--rootdir", str(pytester.path)]) == 0


@pytest.mark.docker
def test_a_changed_declaration_is_alerted_then_corrected(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    docker_client: Any,
    receiver: Receiver,
) -> None:
    body = 'web = DockerResource(image=IMAGE, env_vars={{"MODE": "{}"}}, on_drift="{}")\n'
    declare(body.format("blue", "alert"))
    keep(pytester, "web")
    clock = FakeClock(time.time())
    watch = reconciler(pytester, clock, webhook=receiver.url)
    declare(body.format("green", "alert"))

    for _ in range(2):  # the same drift twice: alerted once
        (handled,) = watch.step()
        assert handled.corrected is None and handled.action == "on_drift is 'alert'"
        clock.advance(MINUTE)
    (alert,) = receiver.bodies
    assert alert["message"] == "the declaration changed since it was deployed: env (MODE)"
    assert alert["action"] == "not corrected: on_drift is 'alert'"
    assert container_env(docker_client, records(pytester)["web"])["MODE"] == "blue"

    declare(body.format("green", "auto_correct"))
    (handled,) = watch.step()
    assert handled.corrected is True
    assert container_env(docker_client, records(pytester)["web"])["MODE"] == "green"
    assert receiver.bodies[-1]["action"].startswith("corrected: recreated container")
    # What watch deployed is what the declaration deploys: the next session reuses it.
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["deployed web: container web-* (reused)*"])


@pytest.mark.docker
def test_stateful_resources_are_started_but_not_recreated_without_the_flag(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    docker_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = (
        'db = DockerResource(image=IMAGE, env_vars={{"MODE": "{}"}}, stateful=True,\n'
        '                    on_drift="auto_correct", assertions=[ContainerRunningAssert()])\n'
    )
    declare(body.format("one"))
    keep(pytester, "db")
    first = records(pytester)["db"].outputs["container_id"]
    docker_client.containers.get(first).kill()
    clock = FakeClock(time.time())

    (handled,) = reconciler(pytester, clock).step()
    assert handled.corrected is True and handled.action.startswith("started container db-")
    assert docker_client.containers.get(first).status == "running"  # the same container

    declare(body.format("two"))
    clock.advance(11 * MINUTE)
    (handled,) = reconciler(pytester, clock).step()
    assert handled.corrected is None
    assert handled.action == (
        "it is stateful=True and the fix (recreate) would destroy what it holds; fix it by "
        "hand, or run clockwork watch --allow-stateful"
    )
    assert records(pytester)["db"].outputs["container_id"] == first
    assert "drift: default/db: the declaration changed" in caplog.text

    (handled,) = reconciler(pytester, clock, allow_stateful=True).step()
    assert handled.corrected is True
    assert container_env(docker_client, records(pytester)["db"])["MODE"] == "two"


@pytest.mark.docker
def test_a_failing_assertion_is_drift(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, docker_client: Any
) -> None:
    declare(
        """
        web = DockerResource(
            image=IMAGE, ports=["80"], on_drift="auto_correct",
            assertions=[HealthcheckAssert(port=80, timeout=1)],
        )
        """
    )
    keep(pytester, "web")
    container = docker_client.containers.get(records(pytester)["web"].outputs["container_id"])
    assert container.exec_run(["rm", "/www/index.html"]).exit_code == 0  # the app breaks

    (handled,) = reconciler(pytester, FakeClock(time.time())).step()

    (drift,) = handled.drifts
    assert drift.what == "assertion"
    assert drift.message.startswith("assertion web.healthcheck failed: resource 'web': GET ")
    assert drift.message.endswith("returned 404, expected 200")
    assert handled.corrected is True
    port = records(pytester)["web"].outputs["ports"]["80/tcp"]
    assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200


def test_changed_and_deleted_files_are_rewritten(
    pytester: pytest.Pytester, declare: Any, receiver: Receiver
) -> None:
    declare(
        """
        notes = FileResource(name="notes.txt", content="hello\\n", on_drift="auto_correct")
        draft = FileResource(name="draft.txt", content="v1\\n")
        """
    )
    keep(pytester, "notes", "draft")
    notes, draft = pytester.path / "notes.txt", pytester.path / "draft.txt"
    notes.write_text("vandalised\n")
    draft.write_text("v2, by hand\n")
    clock = FakeClock(time.time())
    watch = reconciler(pytester, clock, webhook=receiver.url)

    handled = {h.key: h for h in watch.step()}
    assert notes.read_text() == "hello\n" and handled["notes"].corrected is True
    assert draft.read_text() == "v2, by hand\n" and handled["draft"].corrected is None
    assert handled["notes"].drifts[0].message == f"{notes} was changed (now 11 bytes)"
    assert {(b["resource"], b["action"].split(":")[0]) for b in receiver.bodies} == {
        ("notes", "corrected"),
        ("draft", "not corrected"),
    }

    notes.unlink()
    clock.advance(11 * MINUTE)  # after the cooldown
    handled = {h.key: h for h in watch.step()}
    assert handled["notes"].drifts[0].message == f"{notes} no longer exists"
    assert notes.read_text() == "hello\n"
    assert records(pytester)["notes"].kept


def test_rate_limit_and_cooldown_hold_under_repeated_sabotage(
    pytester: pytest.Pytester, declare: Any, receiver: Receiver
) -> None:
    declare('notes = FileResource(name="notes.txt", content="ok\\n", on_drift="auto_correct")\n')
    keep(pytester, "notes")
    notes = pytester.path / "notes.txt"
    clock = FakeClock(time.time())
    watch = reconciler(pytester, clock, webhook=receiver.url)  # 2 an hour, 10 minutes apart
    start = clock.now
    seen = []
    for minute in (0, 1, 2, 11, 12, 25, 40, 61):
        clock.now = start + minute * MINUTE
        notes.write_text("sabotage\n")  # again and again
        (handled,) = watch.step()
        seen.append((minute, handled.corrected, handled.action.split(" until")[0].split(":")[0]))
        assert (notes.read_text() == "ok\n") is bool(handled.corrected)
    assert seen == [
        (0, True, "rewrote " + str(notes) + " from its declaration"),
        (1, None, "cooldown"),
        (2, None, "cooldown"),
        (11, True, "rewrote " + str(notes) + " from its declaration"),
        (12, None, "rate limit"),  # and a cooldown: the later one is said
        (25, None, "rate limit"),
        (40, None, "rate limit"),
        (61, True, "rewrote " + str(notes) + " from its declaration"),
    ]
    # Each state is alerted once, not at every interval.
    assert [body["action"].split(" until")[0].split(":")[:2] for body in receiver.bodies] == [
        ["corrected", " rewrote " + str(notes) + " from its declaration"],
        ["not corrected", " cooldown"],
        ["corrected", " rewrote " + str(notes) + " from its declaration"],
        ["not corrected", " rate limit"],
        ["corrected", " rewrote " + str(notes) + " from its declaration"],
    ]


def test_corrections_stop_after_three_failures_in_a_row(
    pytester: pytest.Pytester, declare: Any, receiver: Receiver
) -> None:
    declare('notes = FileResource(name="notes.txt", content="ok\\n", on_drift="auto_correct")\n')
    keep(pytester, "notes")
    notes = pytester.path / "notes.txt"
    notes.unlink()
    notes.mkdir()  # something it cannot remove stands where the file was
    (notes / "keep").write_text("")
    clock = FakeClock(time.time())
    policy = SafetyPolicy(max_corrections=10, cooldown=0)
    watch = reconciler(pytester, clock, webhook=receiver.url, policy=policy)

    outcomes = []
    for _ in range(5):
        (handled,) = watch.step()
        outcomes.append(handled.corrected)
        clock.advance(MINUTE)
    assert outcomes == [False, False, False, None, None]
    assert [body["event"] for body in receiver.bodies] == ["failure"] * 3
    assert receiver.bodies[0]["message"].startswith("the correction (recreate) failed: ")
    assert receiver.bodies[2]["message"].endswith(
        "no more automatic corrections after 3 failures in a row: fix it by hand (they "
        "resume once it is healthy)"
    )
    assert handled.action.startswith("suspended after 3 failed corrections in a row")

    shutil.rmtree(notes)  # fixed by hand
    notes.write_text("ok\n")
    (handled,) = watch.step()
    assert handled.action == "healthy" and receiver.bodies[-1]["event"] == "resolved"
    clock.advance(MINUTE)
    notes.write_text("sabotage\n")
    (handled,) = watch.step()
    assert handled.corrected is True and notes.read_text() == "ok\n"


def test_an_unreachable_webhook_does_not_stop_the_reconciler(
    pytester: pytest.Pytester, declare: Any, caplog: pytest.LogCaptureFixture
) -> None:
    declare('notes = FileResource(name="notes.txt", content="ok\\n", on_drift="auto_correct")\n')
    keep(pytester, "notes")
    notes = pytester.path / "notes.txt"
    port = free_port()
    clock = FakeClock(time.time())
    watch = reconciler(pytester, clock, webhook=f"http://127.0.0.1:{port}/hook")

    notes.write_text("sabotage\n")
    (handled,) = watch.step()
    assert handled.corrected is True and notes.read_text() == "ok\n"
    assert "could not POST the drift alert of notes" in caplog.text

    hook = Receiver(port=port)  # the webhook is back
    try:
        clock.advance(MINUTE)
        (handled,) = watch.step()
    finally:
        hook.close()
    assert handled.action == "healthy"
    assert [body["resource"] for body in hook.bodies] == ["notes"]


def test_without_declarations_drift_is_reported_never_corrected(
    pytester: pytest.Pytester, declare: Any, caplog: pytest.LogCaptureFixture
) -> None:
    conftest = declare(
        'notes = FileResource(name="notes.txt", content="ok\\n", on_drift="auto_correct")\n'
    )
    keep(pytester, "notes")
    conftest.write_text("this is not python\n")
    notes: Path = pytester.path / "notes.txt"
    notes.write_text("sabotage\n")

    (handled,) = reconciler(pytester, FakeClock(time.time())).step()

    assert handled.corrected is None
    assert handled.action == "its declaration is not loaded, so on_drift is not known"
    assert notes.read_text() == "sabotage\n"
    assert "cannot load the declarations under" in caplog.text
    assert "ImportError while loading conftest" in caplog.text  # pytest's own words
    assert "NameError: name 'this' is not defined" in caplog.text
