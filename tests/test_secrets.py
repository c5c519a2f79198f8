"""Secrets reach the container and nothing else: not the model, the lock, the state or
the terminal. Connected resources use them by reference."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from pytest_clockwork import DockerResource, FileResource
from pytest_clockwork.completion.policy import review
from pytest_clockwork.resources.secrets import secret_name
from pytest_clockwork.settings import get_settings
from support.completion import catalog, clean_env
from support.fake_openai import FakeOpenAI, serve

PASSWORD = "s3cr3t-db-pw-7f1c"
TOKEN = "tok-XYZZY-4411"
README = "# The app\n"

CONFTEST = f"""
from pydantic import SecretStr
from pytest_clockwork import DockerResource, FileResource

db = DockerResource(
    image=IMAGE,
    ports=["80"],
    env_vars={{"POSTGRES_PASSWORD": {PASSWORD!r}, "POSTGRES_USER": "app",
              "WEBHOOK": SecretStr({TOKEN!r})}},
)
api = DockerResource(description="the HTTP API", image=IMAGE, ports=["80"]).connect(db)
notes = FileResource(description="readme", directory="docs").connect(db)
"""

TESTS = f"""
import docker

def test_the_api_gets_the_password_by_reference(api, db):
    env = docker.from_env().containers.get(api.container_id).attrs["Config"]["Env"]
    assert "DATABASE_URL=postgresql://app:{PASSWORD}@db:80/app" in env
    assert db.env_vars["POSTGRES_PASSWORD"].get_secret_value() == {PASSWORD!r}

def test_a_failure_shows_no_secret(db, notes):
    assert db.env_vars == {{}}
"""


def answer(request: dict[str, Any]) -> dict[str, Any]:
    properties = request["tools"][0]["function"]["parameters"]["properties"]
    if "content" in properties:
        return {"name": "README.md", "content": README, "mode": "644"}
    return {
        "env_vars": {
            "DATABASE_URL": "postgresql://app:${secret:db.env_vars.POSTGRES_PASSWORD}@db:80/app"
        }
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    clean_env(monkeypatch)
    with serve(FakeOpenAI(fallback=answer)) as server:
        monkeypatch.setenv("CW_BASE_URL", server.url)
        monkeypatch.setenv("CW_API_KEY", "test-key")
        yield server
    get_settings.cache_clear()


def everything_under(directory: Path) -> str:
    return "\n".join(
        path.read_bytes().decode(errors="replace")
        for path in directory.rglob("*")
        if path.is_file()
    )


@pytest.mark.docker
def test_no_secret_reaches_the_model_the_lock_the_state_or_the_terminal(
    pytester: pytest.Pytester, declare: Any, fake: FakeOpenAI, leftovers: Any
) -> None:
    declare(CONFTEST)
    pytester.makepyfile(test_app=TESTS)
    get_settings.cache_clear()

    plan = pytester.runpytest("--clockwork-plan", "-vv")
    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep", "-vv")

    result.assert_outcomes(passed=1, failed=1)
    plan.stdout.fnmatch_lines(["*env_vars = *${secret:db.env_vars.POSTGRES_PASS*"])
    terminal = "".join(run.stdout.str() + run.stderr.str() for run in (plan, result))
    assert "SecretStr('**********')" in terminal  # the failing test's diff, masked
    sent = json.dumps(fake.requests)
    assert "${secret:db.env_vars.POSTGRES_PASSWORD}" in sent  # what the model sees instead
    lock = (pytester.path / "clockwork.lock").read_text()
    assert "${secret:db.env_vars.POSTGRES_PASSWORD}" in lock
    state = everything_under(pytester.path / ".clockwork")
    assert "<secret sha256:" in state
    for secret in (PASSWORD, TOKEN):
        for where, text in (
            ("the model", sent),
            ("clockwork.lock", lock),
            ("the state", state),
            ("the terminal", terminal),
        ):
            assert secret not in text, f"{secret} reached {where}"
    # Kept with its secrets, the stack is reused as it is, then destroyed.
    again = pytester.runpytest("--clockwork-apply", "-k", "reference", "-v")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["clockwork: api ready in *s (reused)"])
    assert leftovers()["containers"] == []


def test_secret_names() -> None:
    for name in (
        "POSTGRES_PASSWORD",
        "DB_PASS",
        "API_KEY",
        "SECRET_KEY_BASE",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "MYSQL_ROOT_PASSWORD",
        "apiKey",
        "dbPassword",
        "SENTRY_DSN",
        "PRIVATE_KEY",
        "CREDENTIALS_JSON",
        "REDIS_PWD",
    ):
        assert secret_name(name), name
    for name in (
        "POSTGRES_USER",
        "PORT",
        "HOST",
        "PATH",
        "KEYBOARD_LAYOUT",
        "MONKEY",
        "DATABASE_URL",
        "LOG_LEVEL",
    ):
        assert not secret_name(name), name


def test_secret_looking_values_are_kept_as_secrets() -> None:
    web = DockerResource(
        image="x",
        env_vars={
            "DB_PASSWORD": "pw",
            "URL": "postgres://u:pw@db/app",
            "REF": "postgres://u:${secret:db.env_vars.DB_PASSWORD}@db/app",
            "USER": "u",
            "MINE": SecretStr("marked"),
        },
    )
    env = web.env_vars or {}
    assert {name for name, value in env.items() if isinstance(value, SecretStr)} == {
        "DB_PASSWORD",
        "URL",
        "MINE",
    }
    assert "pw" not in repr(web) and "marked" not in repr(web)
    assert FileResource(name="f", content=SecretStr("x")).model_dump(mode="json")["content"] == (
        "**********"
    )


def test_a_reference_to_an_unknown_or_unshown_secret_is_refused(tmp_path: Path) -> None:
    ok = "${secret:db.env_vars.POSTGRES_PASSWORD}"
    candidate = DockerResource(image="x", env_vars={"URL": f"postgres://a:{ok}@db/x"})
    shown = {ok}
    assert review(candidate, {"env_vars": {"URL": ok}}, rootdir=tmp_path, references=shown) == []
    (unknown,) = review(
        candidate,
        {"env_vars": {"URL": "${secret:db.env_vars.ROOT_PASSWORD}"}},
        rootdir=tmp_path,
        references=shown,
    )
    assert "is not a secret you were shown" in unknown.reason and ok in unknown.reason
    (masked,) = review(
        candidate, {"env_vars": {"URL": "**********"}}, rootdir=tmp_path, references=shown
    )
    assert "stands for a hidden value" in masked.reason


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("${secret:nobody.env_vars.X}", "names no declared resource"),
        ("${secret:db.env_vars.NOPE}", "names no text: DockerResource has no 'env_vars.NOPE'"),
        ("${secret:db.ports}", "names no text"),
    ],
)
def test_an_unresolvable_reference_names_the_resource_the_field_and_the_fix(
    tmp_path: Path, reference: str, problem: str
) -> None:
    from pytest_clockwork.errors import DeclarationError

    db = DockerResource(image="x", ports=["80"], env_vars={"PASSWORD": "pw"})
    api = DockerResource(image="x", env_vars={"URL": f"x:{reference}"})
    plan = catalog(tmp_path, {"db": db, "api": api})

    with pytest.raises(DeclarationError) as info:
        plan.spec_of("api")

    message = str(info.value)
    assert message.startswith("resource 'api': env_vars['URL']") or "resource 'api'" in message
    assert problem in message


def test_a_reference_resolves_at_deploy_and_stays_a_secret(tmp_path: Path) -> None:
    db = DockerResource(image="x", env_vars={"PASSWORD": "pw"})
    api = DockerResource(image="x", env_vars={"URL": "u:${secret:db.env_vars.PASSWORD}@db"})
    plan = catalog(tmp_path, {"db": db, "api": api})

    spec = plan.spec_of("api")

    assert spec.env == {"URL": "u:pw@db"}  # type: ignore[attr-defined]
    assert spec.secret_env == ("URL",)  # type: ignore[attr-defined]
    assert "pw" not in json.dumps(spec.to_json())


def test_a_recorded_secret_still_tells_drift_apart(tmp_path: Path) -> None:
    from pytest_clockwork.reconcile.drift import container_drift
    from pytest_clockwork.runtimes.dockerd import Observed
    from pytest_clockwork.specs import spec_from_json

    db = DockerResource(image="x", env_vars={"PASSWORD": "pw", "MODE": "a"})
    recorded = spec_from_json(catalog(tmp_path, {"db": db}).spec_of("db").to_json())
    assert recorded.to_json() == spec_from_json(recorded.to_json()).to_json()

    def seen(password: str) -> Observed:
        env = {"PASSWORD": password, "MODE": "a"}
        return Observed("running", "none", "x", env, {}, None)

    assert container_drift(recorded, seen("pw"), {}) == []  # type: ignore[arg-type]
    (changed,) = container_drift(recorded, seen("other"), {})  # type: ignore[arg-type]
    assert changed.message == "env PASSWORD has another value than declared"
