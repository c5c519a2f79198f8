"""AI completion over the real wire path: inner pytest sessions, a fake OpenAI server.

The server (tests/support/fake_openai.py) listens on 127.0.0.1 and answers
``/v1/chat/completions`` with a ``final_result`` tool call, the way an OpenAI-compatible
endpoint (OpenRouter, Ollama, LM Studio) does; nothing leaves the machine.
"""

from __future__ import annotations

import json
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic_ai.models.openai  # noqa: F401 - loaded once, not again in each inner session
import pytest

import pytest_clockwork.completion.agent  # noqa: F401
from pytest_clockwork.settings import DEFAULT_MODEL, get_settings
from support.completion import clean_env
from support.fake_openai import FakeOpenAI, HttpError, serve

SQL = "CREATE TABLE users (name text);\nINSERT INTO users VALUES ('ann'), ('bob'), ('cy');\n"
ANSWER = {"name": "seed.sql", "content": SQL, "mode": "640"}

CONFTEST = """
from pytest_clockwork import FileResource

seed = FileResource(description={description!r}, directory="scratch")
"""

TEST_SEED = """
import json
from pathlib import Path

def test_seed(seed, request):
    observed = {
        "name": seed.path.name,
        "content": seed.path.read_bytes().decode(),
        "mode": oct(seed.path.stat().st_mode & 0o7777),
    }
    Path(str(request.config.rootpath), "observed.json").write_text(json.dumps(observed))
"""


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """The fake endpoint, with CW_BASE_URL and CW_API_KEY pointing at it."""
    with serve(FakeOpenAI()) as server:
        monkeypatch.setenv("CW_BASE_URL", server.url)
        monkeypatch.setenv("CW_API_KEY", "test-key")
        yield server


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """An inner session; the settings are read afresh from the (monkeypatched) env."""
    get_settings.cache_clear()
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def write_project(pytester: pytest.Pytester, description: str = "SQL that creates 3 users") -> None:
    pytester.makeconftest(CONFTEST.format(description=description))
    pytester.makepyfile(test_seed=TEST_SEED)


def observed(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((pytester.path / "observed.json").read_text())
    return data


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_completion_end_to_end_then_replay_from_the_lock(
    pytester: pytest.Pytester, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(pytester)
    fake.script.append(ANSWER)
    result = run(pytester, "--clockwork-apply")
    result.assert_outcomes(passed=1)
    assert observed(pytester) == {"name": "seed.sql", "content": SQL, "mode": "0o640"}
    assert not (pytester.path / "scratch" / "seed.sql").exists()  # destroyed at the end

    (request,) = fake.requests
    assert request["model"] == DEFAULT_MODEL
    assert request["tool_choice"] == "required"
    (tool,) = request["tools"]
    assert tool["function"]["name"] == "final_result"
    assert sorted(tool["function"]["parameters"]["properties"]) == ["content", "mode", "name"]
    assert "SQL that creates 3 users" in fake.prompts[0]
    assert fake.headers[0]["authorization"] == "Bearer test-key"

    lock_text = (pytester.path / "clockwork.lock").read_text()
    entry = json.loads(lock_text)["resources"]["seed"]
    assert entry["values"] == {"name": "seed.sql", "content": SQL, "mode": "0640"}
    assert entry["model"] == DEFAULT_MODEL
    first = observed(pytester)

    # No server, no key: the lock answers, byte for byte.
    monkeypatch.delenv("CW_API_KEY")
    monkeypatch.setenv("CW_BASE_URL", closed_port_url())
    (pytester.path / "observed.json").unlink()
    result = run(pytester, "--clockwork-apply")
    result.assert_outcomes(passed=1)
    assert observed(pytester) == first
    assert (pytester.path / "clockwork.lock").read_text() == lock_text
    assert len(fake.requests) == 1


def test_a_changed_declaration_without_a_server_is_a_clear_error(
    pytester: pytest.Pytester, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(pytester)
    fake.script.append(ANSWER)
    run(pytester, "--clockwork-apply").assert_outcomes(passed=1)
    lock_text = (pytester.path / "clockwork.lock").read_text()

    write_project(pytester, description="SQL that creates 5 users")
    monkeypatch.setenv("CW_BASE_URL", closed_port_url())
    result = run(pytester, "--clockwork-apply")
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert "could not complete resource 'seed'" in text
    assert "changed since clockwork.lock was written" in text
    assert '"SQL that creates 3 users" → "SQL that creates 5 users"' in text
    assert "is CW_BASE_URL right, and is the server running?" in text
    assert "give these fields in the declaration" in text
    assert (pytester.path / "clockwork.lock").read_text() == lock_text

    monkeypatch.delenv("CW_API_KEY")
    monkeypatch.delenv("CW_BASE_URL")
    result = run(pytester, "--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'seed' need AI completion, but no API key is set for "
            "https://openrouter.ai/api/v1*",
            "*'seed': changed since clockwork.lock was written: description*",
        ]
    )


def test_ci_reads_the_lock_and_never_calls_the_model(
    pytester: pytest.Pytester, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(pytester)
    monkeypatch.setenv("CI", "true")
    result = run(pytester, "--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*clockwork.lock cannot complete resource 'seed', and it is read-only here "
            "(CI is set; --clockwork-lock=update allows asking a model)*"
        ]
    )
    assert fake.requests == []

    fake.script.append(ANSWER)
    run(pytester, "--clockwork-apply", "--clockwork-lock=update").assert_outcomes(passed=1)
    assert len(fake.requests) == 1
    run(pytester, "--clockwork-apply").assert_outcomes(passed=1)  # CI again: from the lock
    assert len(fake.requests) == 1


def test_a_lock_written_before_keys_had_directories_still_answers(
    pytester: pytest.Pytester, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(pytester)
    fake.script.append(ANSWER)
    run(pytester, "--clockwork-apply").assert_outcomes(passed=1)
    assert list(json.loads((pytester.path / "clockwork.lock").read_text())["resources"]) == ["seed"]
    (pytester.path / "sub").mkdir()  # the same declaration, now in a deeper conftest
    (pytester.path / "conftest.py").rename(pytester.path / "sub" / "conftest.py")
    (pytester.path / "test_seed.py").rename(pytester.path / "sub" / "test_seed.py")
    monkeypatch.setenv("CI", "true")

    run(pytester, "--clockwork-apply").assert_outcomes(passed=1)

    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "failures",
    [[HttpError(429, retry_after="0")], [HttpError(503, retry_after="0"), HttpError(500, "0")]],
    ids=["429", "503-500"],
)
def test_transient_failures_are_retried(
    pytester: pytest.Pytester, fake: FakeOpenAI, failures: list[HttpError]
) -> None:
    write_project(pytester)
    fake.script.extend([*failures, ANSWER])
    run(pytester, "--clockwork-apply").assert_outcomes(passed=1)
    assert len(fake.requests) == len(failures) + 1
    assert observed(pytester)["content"] == SQL


def test_a_refused_key_is_not_retried(pytester: pytest.Pytester, fake: FakeOpenAI) -> None:
    write_project(pytester)
    fake.script.append(HttpError(401, message="invalid key"))
    result = run(pytester, "--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the endpoint refused the key: check CW_API_KEY*"])
    assert len(fake.requests) == 1


def test_rejected_proposals_go_back_to_the_model(
    pytester: pytest.Pytester, fake: FakeOpenAI
) -> None:
    write_project(pytester)
    fake.script.extend([{**ANSWER, "mode": "777"}, ANSWER])
    run(pytester, "--clockwork-apply").assert_outcomes(passed=1)
    retry = fake.requests[1]["messages"][-1]
    assert retry["role"] == "tool"
    assert "world-writable" in retry["content"]
    assert observed(pytester)["mode"] == "0o640"


def test_plan_shows_what_was_given_and_what_the_model_gave(
    pytester: pytest.Pytester, fake: FakeOpenAI
) -> None:
    write_project(pytester)
    fake.script.append(ANSWER)
    result = run(pytester, "--clockwork-plan")
    result.stdout.fnmatch_lines(
        [
            "*seed (FileResource*: create",
            "*given by you: directory",
            f"*completed now by model {DEFAULT_MODEL} (pinned in clockwork.lock): "
            "name, content, mode",
            '*  name = "seed.sql"',
            '*  mode = "0640"',
        ]
    )
    result = run(pytester, "--clockwork-plan")
    result.stdout.fnmatch_lines(
        [f"*completed from clockwork.lock (by model {DEFAULT_MODEL}): name, content, mode"]
    )
    assert len(fake.requests) == 1


def test_a_run_answered_by_the_lock_does_not_import_pydantic_ai(
    pytester: pytest.Pytester, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(pytester)
    fake.script.append(ANSWER)
    run(pytester, "--clockwork-plan")
    assert (pytester.path / "clockwork.lock").exists()
    pytester.makepyfile(
        test_seed=textwrap.dedent(
            """
            import sys

            def test_seed(seed):
                assert seed.read_text().startswith("CREATE TABLE")
                loaded = sorted(m for m in sys.modules if m.split(".")[0] in
                                ("pydantic_ai", "openai", "pytest_clockwork.completion.agent"))
                assert loaded == []
            """
        )
    )
    monkeypatch.delenv("CW_API_KEY")
    result = pytester.runpytest_subprocess(
        "--clockwork-apply", "-p", "no:xdist", "-p", "no:hypothesispytest", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)


def test_the_example_runs_offline_from_its_committed_lock(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "ai-completion"
    for source in example.iterdir():
        if source.is_file() and source.suffix in (".py", ".ini", ".lock"):
            (pytester.path / source.name).write_bytes(source.read_bytes())
    monkeypatch.setenv("CI", "1")  # read-only: a stale or missing entry would be an error
    monkeypatch.setenv("CW_BASE_URL", closed_port_url())
    result = run(pytester, "--clockwork-apply", "-v")
    result.assert_outcomes(passed=5)
    assert (example / "clockwork.lock").read_bytes() == (
        pytester.path / "clockwork.lock"
    ).read_bytes()


def test_attaching_to_a_kept_deployment_completes_from_the_lock(
    pytester: pytest.Pytester, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(pytester)
    fake.script.append(ANSWER)
    run(pytester, "--clockwork-apply", "--clockwork-keep=always").assert_outcomes(passed=1)
    kept = observed(pytester)
    assert (pytester.path / "scratch" / "seed.sql").exists()
    try:
        monkeypatch.delenv("CW_API_KEY")
        monkeypatch.setenv("CW_BASE_URL", closed_port_url())
        (pytester.path / "observed.json").unlink()
        run(pytester).assert_outcomes(passed=1)  # no --clockwork-apply: attach
        assert observed(pytester) == kept
        assert len(fake.requests) == 1

        write_project(pytester, description="SQL that creates 5 users")
        result = run(pytester)
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            [
                "*clockwork.lock cannot complete resource 'seed', and it is read-only here "
                "(attaching to running resources without --clockwork-apply)*",
                "*'seed': changed since clockwork.lock was written: description*",
            ]
        )
    finally:
        run(pytester, "--clockwork-destroy")
    assert not (pytester.path / "scratch" / "seed.sql").exists()


def test_options_win_over_settings(
    pytester: pytest.Pytester, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_project(pytester)
    monkeypatch.setenv("CW_BASE_URL", closed_port_url())
    monkeypatch.setenv("CW_MODEL", "from-the-environment")
    fake.script.append(ANSWER)
    result = run(
        pytester, "--clockwork-apply", "--clockwork-base-url", fake.url, "--clockwork-model", "m1"
    )
    result.assert_outcomes(passed=1)
    assert [request["model"] for request in fake.requests] == ["m1"]
    lock = json.loads((pytester.path / "clockwork.lock").read_text())
    assert lock["resources"]["seed"]["model"] == "m1"

    # Another model setting does not invalidate the lock.
    result = run(pytester, "--clockwork-apply", "--clockwork-model", "m2")
    result.assert_outcomes(passed=1)
    assert len(fake.requests) == 1
