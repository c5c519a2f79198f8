"""``clockwork update``: the logic, with pydantic-ai's FunctionModel as the model.

The project is a real directory (pytester's) with a hand-written conftest.py; the
declarations are loaded by pytest's collection as ``clockwork status`` loads them.
Nothing here deploys: ``--apply`` is tested with Docker in test_update_docker.py.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic_ai.models.function  # noqa: F401 - loaded once, before pytester's module snapshot
import pytest

import pytest_clockwork.update.agent  # noqa: F401 - (which would drop httpx's http.cookiejar)
from pytest_clockwork.errors import ClockworkError
from pytest_clockwork.reconcile.cli import main
from pytest_clockwork.update.command import Request, run
from support.completion import clean_env

CONFTEST = '''\
"""The demo's resources."""
from pytest_clockwork import DockerResource, FileResource

# the web server
web = DockerResource(
    image="clockwork-test/busybox:latest",
    ports=["80"],
    env_vars={"GREETING": "hello", "MODE": "dev"},  # dev for now
)

notes = FileResource(name="notes.txt", content="hi\\n")  # kept as it is
'''

PROD = {
    "summary": "Run web in production mode and check it.",
    "changes": [
        {"resource": "web", "field": "env_vars", "value": {"GREETING": "hello", "MODE": "prod"}}
    ],
    "assertions": [
        {
            "resource": "web",
            "type": "CommandSucceedsAssert",
            "arguments": {"command": ["sh", "-c", 'test "$MODE" = prod']},
        }
    ],
}

PROD_DIFF = "\n".join(
    [
        "--- a/conftest.py",
        "+++ b/conftest.py",
        "@@ -1,11 +1,12 @@",
        ' """The demo\'s resources."""',
        "-from pytest_clockwork import DockerResource, FileResource",
        "+from pytest_clockwork import CommandSucceedsAssert, DockerResource, FileResource",
        " ",
        " # the web server",
        " web = DockerResource(",
        '     image="clockwork-test/busybox:latest",',
        '     ports=["80"],',
        '-    env_vars={"GREETING": "hello", "MODE": "dev"},  # dev for now',
        '+    env_vars={"GREETING": "hello", "MODE": "prod"},  # dev for now',
        "+    assertions=[CommandSucceedsAssert("
        + 'command=["sh", "-c", \'test "$MODE" = prod\'])],',
        " )",
        " ",
        ' notes = FileResource(name="notes.txt", content="hi\\n")  # kept as it is',
    ]
)


@dataclass
class Model:
    """A FunctionModel answering each request with the next of ``answers`` (the last one
    again when they run out), keeping the prompts and the feedback it was sent."""

    answers: list[dict[str, Any]]
    prompts: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    during: Callable[[], None] | None = None

    @property
    def model(self) -> Any:
        from pydantic_ai.messages import ModelResponse, ToolCallPart
        from pydantic_ai.models.function import FunctionModel

        def respond(messages: list[Any], info: Any) -> ModelResponse:
            if len(messages) == 1:
                self.prompts.append(str(messages[0].parts[-1].content))
            else:
                self.feedback.append(str(getattr(messages[-1].parts[-1], "content", "")))
            if self.during is not None:
                self.during()
            calls = len(self.prompts) + len(self.feedback)
            answer = self.answers[min(calls, len(self.answers)) - 1]
            return ModelResponse(parts=[ToolCallPart("final_result", answer)])

        return FunctionModel(respond, model_name="scripted")


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    (pytester.path / "conftest.py").write_text(CONFTEST)
    return pytester.path


def update(
    project: Path, model: Model, *, write: bool = False, intent: str = "run web in production"
) -> tuple[int, str]:
    lines: list[str] = []
    request = Request(intent=intent, rootdir=project, stack="default", write=write)
    code = run(request, lines.append, model=model.model)
    return code, "\n".join(lines)


def test_an_intent_yields_the_diff_and_the_plan_and_writes_nothing(project: Path) -> None:
    model = Model([PROD])

    code, output = update(project, model)

    assert code == 0
    assert PROD_DIFF.rstrip("\n") in output
    assert "applying it to stack 'default' would:\n  create web\n  create notes" in output
    assert "nothing written (--write writes it" in output
    assert (project / "conftest.py").read_text() == CONFTEST
    assert not (project / "clockwork.lock").exists()
    prompt = model.prompts[0]
    assert "Intent: run web in production" in prompt
    assert '"MODE": "dev"' in prompt  # the declarations are shown
    assert '"conftest": "conftest.py"' in prompt


def test_write_writes_the_edit_and_records_the_update_in_the_lock(project: Path) -> None:
    code, output = update(project, Model([PROD]), write=True)

    assert code == 0
    assert "written: conftest.py; recorded in clockwork.lock" in output
    text = (project / "conftest.py").read_text()
    assert '    env_vars={"GREETING": "hello", "MODE": "prod"},  # dev for now\n' in text
    assert "assertions=[CommandSucceedsAssert(command=[" in text
    assert text.endswith('content="hi\\n")  # kept as it is\n')
    lock = json.loads((project / "clockwork.lock").read_text())
    (record,) = lock["updates"]
    assert record["intent"] == "run web in production"
    assert record["model"] == "scripted"
    assert record["changes"]["changes"] == PROD["changes"]
    assert record["files"] == ["conftest.py"]
    assert lock["resources"] == {}


def test_the_written_conftest_loads_with_the_change(
    project: Path, pytester: pytest.Pytester
) -> None:
    update(project, Model([PROD]), write=True)

    result = pytester.runpytest("--collect-only", "-q", "-m", "assertions")

    result.stdout.fnmatch_lines(["conftest.py::web.command_succeeds"])


def test_an_unsafe_proposal_is_refused_and_sent_back_with_the_reason(project: Path) -> None:
    outside = {
        "summary": "Add a config file.",
        "new_resources": [
            {
                "name": "config",
                "type": "FileResource",
                "fields": {"name": "app.ini", "directory": "../elsewhere", "content": "x=1\n"},
            }
        ],
        "assertions": [{"resource": "config", "type": "FileExistsAssert"}],
    }
    inside = json.loads(json.dumps(outside).replace("../elsewhere", "config"))
    model = Model([outside, inside])

    code, output = update(project, model, write=True, intent="add a config file")

    assert code == 0
    assert len(model.feedback) == 1
    assert "outside the rootdir" in model.feedback[0]
    assert "Rejected: config.directory = '../elsewhere'" in model.feedback[0]
    assert "rejected proposal 1: config.directory = '../elsewhere'" in output
    text = (project / "conftest.py").read_text()
    assert text.endswith(
        "\n\nconfig = FileResource(\n"
        '    name="app.ini",\n'
        '    directory="config",\n'
        '    content="x=1\\n",\n'
        "    assertions=[FileExistsAssert()],\n"
        ")\n"
    )
    assert "from pytest_clockwork import DockerResource, FileExistsAssert, FileResource" in text
    assert not (project.parent / "elsewhere").exists()


def test_proposals_rejected_until_the_retries_run_out_change_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CW_COMPLETION_MAX_RETRIES", "1")
    privileged = {
        "summary": "Make web privileged.",
        "changes": [{"resource": "web", "field": "privileged", "value": True}],
        "assertions": [{"resource": "web", "type": "ContainerRunningAssert"}],
    }
    model = Model([privileged])

    with pytest.raises(ClockworkError, match=r"proposed no usable change after 2 attempts") as exc:
        update(project, model, write=True, intent="make web privileged")

    assert "web.privileged = True: clockwork never lets a model set this" in str(exc.value)
    assert len(model.feedback) == 1
    assert (project / "conftest.py").read_text() == CONFTEST
    assert not (project / "clockwork.lock").exists()


def test_a_file_changed_since_it_was_read_refuses_to_write(project: Path) -> None:
    conftest = project / "conftest.py"
    edited = CONFTEST + "# edited while the model thought\n"
    model = Model([PROD], during=lambda: conftest.write_text(edited))

    refused = r"not written: conftest\.py changed since it was read"
    with pytest.raises(ClockworkError, match=refused):
        update(project, model, write=True)

    assert conftest.read_text() == edited
    assert not (project / "clockwork.lock").exists()


def test_a_declaration_built_in_a_loop_is_named_with_the_code_to_add_by_hand(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "conftest.py").write_text(
        textwrap.dedent(
            """\
            from pytest_clockwork import FileResource

            for _name in ["a"]:
                globals()[_name] = FileResource(name=f"{_name}.txt", content="1")
            """
        )
    )
    change = {
        "summary": "Write 2 into a.",
        "changes": [{"resource": "a", "field": "content", "value": "2"}],
        "assertions": [
            {"resource": "a", "type": "FileContentMatchesAssert", "arguments": {"contains": "2"}}
        ],
    }

    code, output = update(pytester.path, Model([change]), write=True, intent="a holds 2")

    assert code == 0
    assert "not edited: a: a is not bound by name in a conftest.py; add by hand:" in output
    assert '    content="2"' in output
    assert 'assertions=[..., FileContentMatchesAssert(contains="2")]' in output
    assert "no conftest.py changes" in output


def test_without_a_key_it_refuses_and_changes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["update", "run web in production", "--write", "--rootdir", str(project)])

    err = capsys.readouterr().err
    assert code == 1
    assert "clockwork update refused, nothing changed: no API key is set for" in err
    assert "set CW_API_KEY" in err
    assert (project / "conftest.py").read_text() == CONFTEST
    assert sorted(p.name for p in project.iterdir()) == ["conftest.py"]


def test_with_ci_set_it_refuses_even_with_a_key(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CW_API_KEY", "a-key")
    monkeypatch.setenv("CI", "true")

    code = main(["update", "run web in production", "--apply", "--rootdir", str(project)])

    assert code == 1
    assert "refused, nothing changed: CI is set" in capsys.readouterr().err
    assert sorted(p.name for p in project.iterdir()) == ["conftest.py"]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["update"], 'say what to change: clockwork update "INTENT"'),
        (["update", "x", "--intent-file", "intent.md"], "either as INTENT or with --intent-file"),
        (["update", "--intent-file", "missing.md"], "--intent-file missing.md cannot be read"),
        (["update", "--intent-file", "."], "cannot be read"),
        (["update", "  "], "the intent is empty"),
    ],
)
def test_bad_intents_are_usage_errors(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    says: str,
) -> None:
    monkeypatch.chdir(project)
    (project / "intent.md").write_text("run web in production\n")

    code = main([*arguments, "--rootdir", str(project)])

    assert code == 2
    assert says in capsys.readouterr().err
    assert (project / "conftest.py").read_text() == CONFTEST


def test_secrets_are_shown_as_references_and_given_back_untouched(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "conftest.py").write_text(
        "from pytest_clockwork import DockerResource\n\n"
        'db = DockerResource(image="clockwork-test/busybox:latest", '
        'env_vars={"POSTGRES_PASSWORD": "s3cr3t", "MODE": "dev"})\n'
    )
    reference = "${secret:db.env_vars.POSTGRES_PASSWORD}"
    change = {
        "summary": "Production mode.",
        "changes": [
            {
                "resource": "db",
                "field": "env_vars",
                "value": {"POSTGRES_PASSWORD": reference, "MODE": "prod"},
            }
        ],
        "assertions": [{"resource": "db", "type": "ContainerRunningAssert"}],
    }
    model = Model([change])

    code, output = update(pytester.path, model, write=True)

    assert code == 0
    assert "s3cr3t" not in model.prompts[0]
    assert reference in model.prompts[0]
    text = (pytester.path / "conftest.py").read_text()
    assert 'env_vars={"POSTGRES_PASSWORD": "s3cr3t", "MODE": "prod"}' in text
    assert "rejected" not in output


def test_a_later_completion_keeps_the_recorded_updates(tmp_path: Path) -> None:
    from pytest_clockwork.completion.lockfile import LockEntry, Lockfile

    lock = Lockfile(tmp_path)
    with lock.held():
        lock.record_update({"intent": "run web in production", "model": "scripted"})
        entry = LockEntry(fingerprint="f", seen={}, values={"content": "x"}, model="m")
        lock.update({"notes": entry})

    assert lock.updates() == [{"intent": "run web in production", "model": "scripted"}]
    assert lock.read() == {"notes": entry}
