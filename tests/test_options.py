"""Settings are checked when pytest starts: options, CW_* variables, ini keys, stack names."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pytest_clockwork.reconcile.cli import main
from pytest_clockwork.settings import BY_NAME, ClockworkSettings, SettingError
from pytest_clockwork.state import ResourceRecord, StateStore


@pytest.mark.parametrize(
    ("how", "named", "accepted"),
    [
        (["--clockwork-ttl", "2x"], "--clockwork-ttl=2x", "expected seconds or a form like '90s'"),
        ({"CW_TTL": "2x"}, "CW_TTL=2x", "'30m', '2h', '1h30m'"),
        ("clockwork_ttl = 2x", "clockwork_ttl=2x in tox.ini", "expected seconds"),
        (
            {"CW_KEEP": "sometimes"},
            "CW_KEEP=sometimes",
            "expected one of always, on-failure, never",
        ),
        ({"CW_APPLY": "maybe"}, "CW_APPLY=maybe", "expected true or false"),
        ("clockwork_apply = maybe", "clockwork_apply=maybe in tox.ini", "expected true or false"),
        ({"CW_ENGINE": "docker"}, "CW_ENGINE=docker", "expected one of auto, local, pulumi"),
        (["--clockwork-engine", "docker"], "--clockwork-engine=docker", "auto, local, pulumi"),
        (
            {"CW_COMPLETION_CONCURRENCY": "0"},
            "CW_COMPLETION_CONCURRENCY=0",
            "expected a whole number from 1 to 64",
        ),
        ({"CW_BASE_URL": "localhost:11434"}, "CW_BASE_URL=localhost:11434", "http:// or https://"),
        (["--clockwork-stack", "/abs/evil"], "--clockwork-stack=/abs/evil", "feature/login"),
        ({"CW_STACK": "../../outside/s"}, "CW_STACK=../../outside/s", "invalid stack name"),
        (["--clockwork-keep=forever"], "--clockwork-keep=forever", "always, on-failure, never"),
    ],
)
def test_a_bad_setting_is_a_usage_error_before_anything_runs(
    pytester: pytest.Pytester,
    declare: Any,
    monkeypatch: pytest.MonkeyPatch,
    how: Any,
    named: str,
    accepted: str,
) -> None:
    declare('notes = FileResource(name="notes.txt", content="x")\n')
    pytester.makepyfile(test_x="def test_x(notes): raise SystemExit('no test may run')")
    args = ["--clockwork-apply"]
    if isinstance(how, list):
        args += how
    elif isinstance(how, dict):
        for variable, value in how.items():
            monkeypatch.setenv(variable, value)
    else:
        pytester.makefile(".ini", tox=f"[pytest]\n{how}\n")

    result = pytester.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    first = result.stderr.lines[0]
    assert first.startswith(f"ERROR: clockwork: {named}: "), first
    assert accepted in first
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert not (pytester.path / "notes.txt").exists()
    assert not (pytester.path / ".clockwork").exists()


def test_a_secret_setting_is_never_echoed() -> None:
    with pytest.raises(SettingError) as info:
        BY_NAME["api_key"].read("  ", "CW_API_KEY")
    assert str(info.value).startswith("CW_API_KEY=<hidden>: ")


def test_an_unknown_cw_variable_is_a_warning_that_suggests_the_setting(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CW_KEPP", "always")
    pytester.makepyfile(test_x="def test_x(): pass")

    result = pytester.runpytest()

    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*CW_KEPP is not a clockwork setting (CW_* variables are); did you mean CW_KEEP?"]
    )


def test_the_settings_table_and_the_settings_class_agree() -> None:
    fields = set(ClockworkSettings._fields) - {"given"}
    assert fields == set(BY_NAME)
    for setting in BY_NAME.values():
        assert getattr(ClockworkSettings(), setting.name) == setting.default


def test_settings_never_show_their_secrets() -> None:
    settings = ClockworkSettings.from_environ(
        {"CW_API_KEY": "sk-live-123", "PULUMI_CONFIG_PASSPHRASE": "hunter2", "CW_STACK": "ci"}
    )
    shown = repr(settings)
    assert "sk-live-123" not in shown and "hunter2" not in shown
    assert "api_key=***" in shown and "stack='ci'" in shown


def test_a_stack_named_like_a_branch_works_everywhere(
    pytester: pytest.Pytester, declare: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    declare('notes = FileResource(name="notes.txt", content="x")\n')
    pytester.makepyfile(test_x="def test_x(notes): pass")
    stack = ["--clockwork-stack", "feature/x"]
    pytester.runpytest("--clockwork-apply", "--clockwork-keep", *stack).assert_outcomes(passed=1)
    state = pytester.path / ".clockwork" / "stacks"
    assert sorted(path.name for path in state.glob("*.json")) == ["feature%2Fx.json"]

    capsys.readouterr()
    assert main(["status", "--rootdir", str(pytester.path), "--no-declarations"]) == 0
    assert "stack 'feature/x': 1 resource" in capsys.readouterr().out
    pytester.runpytest("--clockwork-destroy", *stack).stdout.fnmatch_lines(
        ["destroyed in stack 'feature/x': notes"]
    )
    assert not (pytester.path / "notes.txt").exists()

    # --clockwork-expired looks in every stack, feature/y too.
    expired = pytester.path / "expired.txt"
    expired.write_text("x")
    with StateStore(pytester.path, "feature/y").transaction() as recorded:
        record = ResourceRecord(
            key="old",
            session="gone",
            kind="file",
            status="ready",
            kept=True,
            expires_at=time.time() - 1,
            outputs={"path": str(expired)},
        )
        record.add_created("files", str(expired))
        recorded.put(record)
    result = pytester.runpytest("--clockwork-destroy", "--clockwork-expired")
    result.stdout.fnmatch_lines(["expired, destroyed: old"])
    assert not expired.exists()
