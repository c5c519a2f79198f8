"""The Automation API layer: the stack's configuration, and what is called on Pulumi.

``stack_config`` decides names, backend, passphrase and environment from plain inputs;
``PulumiStack`` is driven here with a recording double of ``pulumi.automation`` (the
real option classes, fake stacks), since the Pulumi CLI is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi import automation as auto

from pytest_clockwork.engines.base import SessionInfo
from pytest_clockwork.engines.pulumi.automation import (
    PulumiError,
    PulumiStack,
    StackConfig,
    describe_changes,
    stack_config,
)
from pytest_clockwork.errors import EngineUnavailableError
from pytest_clockwork.settings import LOCAL_PASSPHRASE, ClockworkSettings


def session(rootdir: Path, stack: str = "default") -> SessionInfo:
    return SessionInfo(id="s1", stack=stack, rootdir=rootdir, root_id="r")


def settings(**values: Any) -> ClockworkSettings:
    return ClockworkSettings(
        pulumi_backend_url=values.get("backend"),
        pulumi_config_passphrase=values.get("passphrase"),
    )


# -- the decisions -----------------------------------------------------------------------


def test_by_default_the_state_is_a_local_file_backend_with_the_fixed_passphrase(
    tmp_path: Path,
) -> None:
    config = stack_config(session(tmp_path), settings(), {}, cli="/usr/bin/pulumi")

    state = tmp_path / ".clockwork" / "pulumi" / "state"
    assert config.local_backend == state
    assert config.backend_url == f"file://{state}"
    assert config.env["PULUMI_BACKEND_URL"] == config.backend_url
    assert config.env["PULUMI_CONFIG_PASSPHRASE"] == LOCAL_PASSPHRASE == "clockwork"
    assert config.work_dir == tmp_path / ".clockwork" / "pulumi" / "work" / "default"


def test_the_project_is_named_after_the_rootdir_and_the_stack_after_the_option(
    tmp_path: Path,
) -> None:
    rootdir = tmp_path / "my project!"
    config = stack_config(session(rootdir, stack="ci/job 7"), settings(), {}, cli=None)

    assert (config.project, config.stack) == ("my-project", "ci-job-7")


def test_a_passphrase_from_the_settings_wins_over_the_fixed_one(tmp_path: Path) -> None:
    config = stack_config(session(tmp_path), settings(passphrase="s3cret"), {}, cli=None)

    assert config.env["PULUMI_CONFIG_PASSPHRASE"] == "s3cret"


@pytest.mark.parametrize("variable", ["CW_PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE"])
def test_the_passphrase_setting_reads_both_variables(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "from-env")

    assert ClockworkSettings.from_environ().pulumi_config_passphrase == "from-env"


def test_a_users_backend_without_a_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailableError) as caught:
        stack_config(session(tmp_path), settings(backend="s3://bucket/state"), {}, cli=None)

    message = str(caught.value)
    assert "s3://bucket/state" in message
    assert "CW_PULUMI_CONFIG_PASSPHRASE" in message
    assert "only used for its own local state" in message


def test_a_users_backend_with_a_passphrase_is_used_as_given(tmp_path: Path) -> None:
    config = stack_config(
        session(tmp_path), settings(backend="s3://bucket/state", passphrase="p"), {}, cli=None
    )

    assert config.local_backend is None
    assert config.backend_url == config.env["PULUMI_BACKEND_URL"] == "s3://bucket/state"
    assert config.env["PULUMI_CONFIG_PASSPHRASE"] == "p"


def test_a_passphrase_file_is_left_to_pulumi(tmp_path: Path) -> None:
    config = stack_config(
        session(tmp_path),
        settings(backend="s3://bucket/state"),
        {"PULUMI_CONFIG_PASSPHRASE_FILE": "/run/secrets/pp"},
        cli=None,
    )

    assert "PULUMI_CONFIG_PASSPHRASE" not in config.env


def test_pulumi_home_and_python_come_from_this_process(tmp_path: Path) -> None:
    home = str(tmp_path / "pulumi-home")

    config = stack_config(
        session(tmp_path),
        settings(),
        {"PULUMI_HOME": home, "PATH": "/usr/bin"},
        cli=f"{home}/bin/pulumi",
    )

    assert config.pulumi_home == home
    assert config.cli_root == home  # found under PULUMI_HOME, not on PATH
    assert config.env["PULUMI_PYTHON_CMD"] == sys.executable
    assert stack_config(session(tmp_path), settings(), {}, cli=None).pulumi_home is None


# -- the calls ------------------------------------------------------------------------------


class FakeStack:
    """A stack of the double: records each call, emits some output."""

    def __init__(self, api: FakeAutomation, name: str) -> None:
        self.api = api
        self.name = name
        self.workspace = SimpleNamespace(remove_stack=self.remove)

    def _emit(self, kwargs: dict[str, Any], *lines: str) -> None:
        for line in lines:
            kwargs["on_output"](line)

    def up(self, **kwargs: Any) -> Any:
        self.api.calls.append(("up", self.name, kwargs["color"]))
        self._emit(kwargs, "Updating (dev):", "", "    + docker:Container web created")
        if self.api.error is not None:
            kwargs["on_output"]("    docker:index:Container (web): error: image not found.")
            kwargs["on_error"]("error: update failed")
            raise self.api.error
        return SimpleNamespace(outputs={"web@s1": auto.OutputValue({"path": "/x"}, False)})

    def preview(self, **kwargs: Any) -> Any:
        self.api.calls.append(("preview", self.name, kwargs["color"]))
        return SimpleNamespace(change_summary={auto.OpType.CREATE: 2, "same": 1})

    def destroy(self, **kwargs: Any) -> Any:
        self.api.calls.append(("destroy", self.name, kwargs["remove"]))
        self._emit(kwargs, "Destroying (dev):")

    def remove(self, name: str) -> None:
        self.api.calls.append(("remove_stack", name, None))
        self.api.existing.discard(name)


class FakeAutomation:
    """A recording double of ``pulumi.automation`` (its option classes are the real ones)."""

    LocalWorkspaceOptions = auto.LocalWorkspaceOptions
    ProjectSettings = auto.ProjectSettings
    ProjectBackend = auto.ProjectBackend
    StackNotFoundError = auto.StackNotFoundError
    ConcurrentUpdateError = auto.ConcurrentUpdateError

    def __init__(self, existing: set[str] | None = None) -> None:
        self.existing = set(existing or ())
        self.calls: list[tuple[str, str, Any]] = []
        self.opened: list[dict[str, Any]] = []
        self.error: Exception | None = None

    def PulumiCommand(self, root: str) -> Any:
        return SimpleNamespace(root=root)

    def create_or_select_stack(self, **kwargs: Any) -> FakeStack:
        self.opened.append(kwargs)
        self.existing.add(kwargs["stack_name"])
        return FakeStack(self, kwargs["stack_name"])

    def select_stack(self, **kwargs: Any) -> FakeStack:
        self.opened.append(kwargs)
        if kwargs["stack_name"] not in self.existing:
            raise auto.StackNotFoundError(auto.CommandResult("", "no stack named 'x' found", 255))
        return FakeStack(self, kwargs["stack_name"])


@pytest.fixture
def config(tmp_path: Path) -> StackConfig:
    environ = {"PATH": "/usr/local/bin:/usr/bin"}
    return stack_config(session(tmp_path / "proj"), settings(), environ, cli="/usr/bin/pulumi")


def program() -> None:
    return None


def test_up_opens_the_stack_with_the_decided_options_and_returns_plain_outputs(
    config: StackConfig,
) -> None:
    api = FakeAutomation()
    lines: list[str] = []

    outputs = PulumiStack(config, output=lines.append, api=api).up(program)

    assert outputs == {"web@s1": {"path": "/x"}}
    (opened,) = api.opened
    assert (opened["stack_name"], opened["project_name"]) == ("default", "proj")
    assert opened["program"] is program
    options = opened["opts"]
    assert options.program is program
    assert options.work_dir == str(config.work_dir)
    assert options.env_vars == dict(config.env)
    assert options.secrets_provider == "passphrase"
    assert options.project_settings.name == "proj"
    assert options.project_settings.runtime == "python"
    assert options.project_settings.backend.url == config.backend_url
    assert options.pulumi_command is None
    assert config.work_dir.is_dir() and config.local_backend is not None
    assert config.local_backend.is_dir()
    assert api.calls == [("up", "default", "never")]
    # Pulumi's output streams (without its blank lines) as it comes.
    assert lines == ["pulumi: Updating (dev):", "pulumi:     + docker:Container web created"]


def test_the_cli_found_outside_path_is_the_one_the_workspace_runs(tmp_path: Path) -> None:
    config = stack_config(session(tmp_path), settings(), {}, cli=None)
    config = StackConfig(**{**config.__dict__, "cli_root": "/home/me/.pulumi"})
    api = FakeAutomation()

    PulumiStack(config, output=print, api=api).up(program)

    assert api.opened[0]["opts"].pulumi_command.root == "/home/me/.pulumi"


def test_a_failed_up_carries_the_tail_of_pulumis_output(config: StackConfig) -> None:
    api = FakeAutomation()
    api.error = auto.CommandError(auto.CommandResult("", "boom", 1))

    with pytest.raises(PulumiError) as caught:
        PulumiStack(config, output=lambda line: None, api=api).up(program)

    message = str(caught.value)
    # The cause, not Pulumi's closing "update failed", heads the message.
    assert message.startswith(
        "pulumi up of stack proj/default failed: "
        "docker:index:Container (web): error: image not found.\n"
    )
    assert "--- last lines of Pulumi's output ---" in message
    assert "+ docker:Container web created" in message
    assert caught.value.tail.endswith("error: update failed")


def test_a_concurrent_update_says_what_to_do(config: StackConfig) -> None:
    api = FakeAutomation()
    api.error = auto.ConcurrentUpdateError(auto.CommandResult("", "locked", 255))

    with pytest.raises(PulumiError, match="give each job its own --clockwork-stack"):
        PulumiStack(config, output=lambda line: None, api=api).up(program)


def test_a_missing_cli_says_how_to_install_it(config: StackConfig) -> None:
    api = FakeAutomation()

    def no_cli(**kwargs: Any) -> Any:
        raise FileNotFoundError(2, "No such file or directory", "pulumi")

    api.create_or_select_stack = no_cli  # type: ignore[method-assign]

    with pytest.raises(PulumiError, match="install it .*or use --clockwork-engine local"):
        PulumiStack(config, output=lambda line: None, api=api).up(program)


def test_preview_of_a_new_stack_leaves_no_stack_behind(config: StackConfig) -> None:
    api = FakeAutomation()

    summary = PulumiStack(config, output=lambda line: None, api=api).preview(program)

    assert summary == {"create": 2, "same": 1}
    assert [call[0] for call in api.calls] == ["preview", "remove_stack"]
    assert api.existing == set()


def test_preview_of_an_existing_stack_keeps_it(config: StackConfig) -> None:
    api = FakeAutomation(existing={"default"})

    PulumiStack(config, output=lambda line: None, api=api).preview(program)

    assert [call[0] for call in api.calls] == ["preview"]


def test_destroy_destroys_and_removes_the_stack(config: StackConfig) -> None:
    api = FakeAutomation(existing={"default"})

    assert PulumiStack(config, output=lambda line: None, api=api).destroy() is True
    assert api.calls == [("destroy", "default", True)]


def test_destroy_without_a_stack_does_nothing(config: StackConfig) -> None:
    api = FakeAutomation()

    assert PulumiStack(config, output=lambda line: None, api=api).destroy() is False
    assert api.calls == []


def test_a_change_summary_reads_as_words() -> None:
    assert describe_changes({"same": 2, "create": 1, "delete": 0}) == "1 to create, 2 unchanged"
    assert describe_changes({"create-replacement": 1}) == "1 create-replacement"
    assert describe_changes({}) == "no changes"
