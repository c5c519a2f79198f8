"""The plugin without Docker: fixtures, options, files, plan, attach errors, cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import fake_pulumi, without_pulumi


def test_help_shows_the_clockwork_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*infrastructure as fixtures (pytest-clockwork)*",
            "*--clockwork-apply*",
            "*--clockwork-keep*",
            "*--clockwork-destroy*",
            "*--clockwork-plan*",
            "*--clockwork-stack*",
            "*--clockwork-engine*",
            "*clockwork_stack*",
        ]
    )


def test_resources_become_session_fixtures(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        notes = FileResource(name="notes.txt", content="hello", directory="scratch")
        """
    )
    pytester.makepyfile(
        test_notes="""
        from pathlib import Path

        def test_a(notes, request):
            assert notes.read_text() == "hello"
            assert notes.path == Path(str(request.config.rootpath)) / "scratch" / "notes.txt"
            assert request.fixturenames.count("notes") == 1

        def test_b(notes):
            assert notes.path.exists()
        """
    )
    result = pytester.runpytest("--clockwork-apply", "--setup-show")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*SETUP    S notes*"])
    assert not (pytester.path / "scratch").exists()


def test_header_names_engine_stack_and_count(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CW_ENGINE")  # auto, on a machine without the Pulumi CLI
    without_pulumi(monkeypatch, tmp_path)
    declare('a = FileResource(content="x")\nb = FileResource(content="y")\n')
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest("--clockwork-stack", "ci")
    result.stdout.fnmatch_lines(
        ["clockwork: engine local (auto: no Pulumi CLI found), stack 'ci', 2 resources declared"]
    )


def test_auto_picks_a_pulumi_cli_on_path(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CW_ENGINE")
    without_pulumi(monkeypatch, tmp_path)
    cli = fake_pulumi(tmp_path / "bin")  # on the PATH without_pulumi made
    declare('a = FileResource(content="x")\n')
    pytester.makepyfile(test_x="def test_x(): pass")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"clockwork: engine pulumi (auto: Pulumi CLI found at {cli}), stack 'default', *"]
    )


def test_no_resources_no_header_and_no_heavy_imports(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_x="""
        import sys

        def test_nothing_heavy_loaded():
            heavy = [m for m in ("docker", "pulumi", "pydantic_ai", "pydantic",
                                 "pytest_clockwork.resources.base")
                     if m in sys.modules]
            assert heavy == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:xdist", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=1)
    assert "clockwork:" not in result.stdout.str()


def test_disabled_with_p_no_clockwork(pytester: pytest.Pytester, declare: Any) -> None:
    declare('notes = FileResource(content="x")\n')
    pytester.makepyfile(test_x="def test_x(notes): pass")
    result = pytester.runpytest("-p", "no:clockwork", "--clockwork-apply")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # the option does not exist then
    result = pytester.runpytest("-p", "no:clockwork")
    result.stdout.fnmatch_lines(["*fixture 'notes' not found*"])


def test_visible_exactly_where_the_conftest_is(pytester: pytest.Pytester, declare: Any) -> None:
    declare('inner = FileResource(content="x")\n', path="sub/conftest.py")
    pytester.makepyfile(
        **{
            "sub/test_in.py": "def test_in(inner):\n    assert inner.read_text() == 'x'\n",
            "test_out.py": "def test_out(inner):\n    pass\n",
        }
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'inner' not found*"])


def test_without_apply_fixtures_say_how_to_deploy(pytester: pytest.Pytester, declare: Any) -> None:
    declare('web = FileResource(content="x")\n')
    pytester.makepyfile(test_x="def test_x(web): pass")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*resource 'web' is not deployed in stack 'default': run pytest with --clockwork-apply*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert not (pytester.path / "web").exists()


def test_only_what_the_selected_tests_need(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        notes = FileResource(content="n")
        other = FileResource(content="o")
        """
    )
    pytester.makepyfile(
        test_x="""
        from pathlib import Path

        def test_notes(notes):
            assert not Path(notes.path).with_name("other").exists()

        def test_other(other):
            pass
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-k", "notes", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["clockwork: notes ready in *s"])
    assert "other ready" not in result.stdout.str()


def test_order_follows_connections(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        import os, time
        from pathlib import Path

        class Stamped(FileResource):
            def spec(self, context):
                return super().spec(context)

        third = FileResource(content="3")
        second = FileResource(content="2").connect(third)
        first = FileResource(content="1").connect(second)
        """
    )
    pytester.makepyfile(
        test_x="""
        def test_order(first):
            pass
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=1)
    lines = [line for line in result.outlines if line.startswith("clockwork: ") and "ready" in line]
    assert [line.split()[1] for line in lines] == ["third", "second", "first"]


def test_composites_give_deployed_children(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        site = BlankResource(name="site").add(
            FileResource(name="index.html", content="<h1>hi</h1>", directory="public"),
            FileResource(name="about.html", content="about", directory="public"),
        )
        """
    )
    pytester.makepyfile(
        test_x="""
        def test_site(site):
            assert set(site.children) == {"index.html", "about.html"}
            assert site.children["index.html"].read_text() == "<h1>hi</h1>"
            assert site.children["about.html"].parent is site
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "public").exists()


def test_relative_paths_are_relative_to_rootdir(pytester: pytest.Pytester, declare: Any) -> None:
    declare('notes = FileResource(name="n.txt", content="x", directory="out")\n')
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(**{"tests/test_x.py": "def test_x(notes):\n    pass\n"})
    elsewhere = pytester.path / "tests"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--clockwork-apply",
            "--clockwork-keep",
            "test_x.py",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (pytester.path / "out" / "n.txt").exists()
    assert not (elsewhere / "out").exists()
    pytester.runpytest("--clockwork-destroy")


def test_refuses_to_overwrite_a_users_file(pytester: pytest.Pytester, declare: Any) -> None:
    (pytester.path / "data").mkdir()
    users = pytester.path / "data" / "users.csv"
    users.write_text("alice\n")
    declare('users = FileResource(name="users.csv", content="mallory\\n", directory="data")\n')
    pytester.makepyfile(test_x="def test_x(users): pass")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*resource 'users': data/users.csv already exists and clockwork did not create it*"]
    )
    assert users.read_text() == "alice\n"
    assert (pytester.path / "data").is_dir()


def test_overwrite_restores_the_original(pytester: pytest.Pytester, declare: Any) -> None:
    users = pytester.path / "users.csv"
    users.write_text("alice\n")
    declare('users = FileResource(name="users.csv", content="bob\\n", overwrite=True)\n')
    pytester.makepyfile(test_x="def test_x(users):\n    assert users.read_text() == 'bob\\n'\n")
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert users.read_text() == "alice\n"


def test_destroy_keeps_a_pre_existing_directory(pytester: pytest.Pytester, declare: Any) -> None:
    existing = pytester.path / "shared"
    existing.mkdir()
    (existing / "keep.me").write_text("mine")
    declare('a = FileResource(content="x", directory="shared/new/deeper")\n')
    pytester.makepyfile(test_x="def test_x(a): pass")
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert sorted(p.name for p in existing.iterdir()) == ["keep.me"]


def test_keep_then_attach_then_destroy(pytester: pytest.Pytester, declare: Any) -> None:
    declare('notes = FileResource(name="n.txt", content="kept")\n')
    pytester.makepyfile(test_x="def test_x(notes):\n    assert notes.read_text() == 'kept'\n")
    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["kept notes: */n.txt", "destroy with: pytest --rootdir * --clockwork-destroy"]
    )
    assert (pytester.path / "n.txt").exists()
    # Without --clockwork-apply the fixture attaches to what was kept.
    pytester.runpytest().assert_outcomes(passed=1)
    state = json.loads((pytester.path / ".clockwork" / "stacks" / "default.json").read_text())
    assert [r["kept"] for r in state["records"].values()] == [True]
    result = pytester.runpytest("--clockwork-destroy")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["destroyed in stack 'default': notes"])
    assert not (pytester.path / "n.txt").exists()
    pytester.runpytest().assert_outcomes(errors=1)


def test_keep_on_failure(pytester: pytest.Pytester, declare: Any) -> None:
    declare('notes = FileResource(name="n.txt", content="x")\n')
    pytester.makepyfile(test_x="def test_x(notes):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep=on-failure").assert_outcomes(passed=1)
    assert not (pytester.path / "n.txt").exists()
    pytester.makepyfile(test_x="def test_x(notes):\n    assert False\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep=on-failure").assert_outcomes(failed=1)
    assert (pytester.path / "n.txt").exists()
    pytester.runpytest("--clockwork-destroy")
    assert not (pytester.path / "n.txt").exists()


def test_kept_resources_are_reused_or_replaced(pytester: pytest.Pytester, declare: Any) -> None:
    declare('notes = FileResource(name="n.txt", content="one")\n')
    pytester.makepyfile(test_x="def test_x(notes):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    first = (pytester.path / "n.txt").stat().st_mtime_ns
    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep", "-v")
    result.stdout.fnmatch_lines(["clockwork: notes ready in *s (reused)"])
    assert (pytester.path / "n.txt").stat().st_mtime_ns == first
    declare('notes = FileResource(name="n.txt", content="two")\n')
    result = pytester.runpytest("--clockwork-apply", "-v")
    assert "(reused)" not in result.stdout.str()
    assert not (pytester.path / "n.txt").exists()
    state_file = pytester.path / ".clockwork" / "stacks" / "default.json"
    assert not state_file.exists()


def test_plan_lists_the_order_and_deploys_nothing(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        db = FileResource(name="db.sql", content="x")
        api = FileResource(name="api.txt", content="y").connect(db)
        """
    )
    pytester.makepyfile(test_x="def test_x(api): raise SystemExit('no test may run')")
    result = pytester.runpytest("--clockwork-plan")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "clockwork plan for stack 'default' (engine local), in deploy order:",
            "  level 1:",
            "    db (FileResource, */db.sql): create",
            "  level 2:",
            "    api (FileResource, */api.txt): create",
        ]
    )
    assert not (pytester.path / "db.sql").exists()


def test_settings_order_cli_then_env_then_ini(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    declare('a = FileResource(content="x")\n')
    pytester.makepyfile(test_x="def test_x(): pass")
    pytester.makeini("[pytest]\nclockwork_stack = from-ini\n")
    pytester.runpytest().stdout.fnmatch_lines(["*stack 'from-ini'*"])
    monkeypatch.setenv("CW_STACK", "from-env")
    pytester.runpytest().stdout.fnmatch_lines(["*stack 'from-env'*"])
    pytester.runpytest("--clockwork-stack", "from-cli").stdout.fnmatch_lines(["*stack 'from-cli'*"])


def test_apply_from_ini(pytester: pytest.Pytester, declare: Any) -> None:
    declare('notes = FileResource(content="x")\n')
    pytester.makeini("[pytest]\nclockwork_apply = true\n")
    pytester.makepyfile(test_x="def test_x(notes):\n    assert notes.read_text() == 'x'\n")
    pytester.runpytest().assert_outcomes(passed=1)


def test_pulumi_engine_without_cli_is_a_usage_error(
    pytester: pytest.Pytester, declare: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    without_pulumi(monkeypatch, tmp_path)
    declare('a = FileResource(content="x")\n')
    pytester.makepyfile(test_x="def test_x(a): pass")
    result = pytester.runpytest("--clockwork-apply", "--clockwork-engine", "pulumi")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--clockwork-engine pulumi needs the Pulumi CLI, which is not installed*"
            "--clockwork-engine local*"
        ]
    )


def test_declaration_errors_are_reported(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        a = FileResource(content="a")
        b = FileResource(content="b").connect(a)
        a.connect(b)
        """
    )
    pytester.makepyfile(test_x="def test_x(a): pass")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Dependency cycle detected: a → b → a*"])


def test_git_clone_from_a_local_repository(pytester: pytest.Pytester, declare: Any) -> None:
    upstream = pytester.path / "upstream"
    subprocess.run(["git", "init", "-q", "-b", "main", str(upstream)], check=True)
    (upstream / "README").write_text("upstream\n")
    git = ["git", "-C", str(upstream), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    subprocess.run([*git, "branch", "feature"], check=True)
    bare = pytester.path / "upstream.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(upstream), str(bare)], check=True)
    declare(
        'repo = GitRepoResource(repo_url="upstream.git", dest="work/clone", branch="feature")\n'
    )
    pytester.makepyfile(
        test_x="""
        import subprocess

        def test_clone(repo):
            assert (repo.path / "README").read_text() == "upstream\\n"
            branch = subprocess.run(["git", "-C", str(repo.path), "branch", "--show-current"],
                                    capture_output=True, text=True).stdout.strip()
            assert branch == "feature"
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert not (pytester.path / "work").exists()


@pytest.mark.skipif(sys.platform == "darwin", reason="checks the error where the runtime is absent")
def test_apple_containers_are_not_available_here(pytester: pytest.Pytester, declare: Any) -> None:
    declare('mac = AppleContainerResource(image="alpine")\n')
    pytester.makepyfile(test_x="def test_x(mac): pass")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*`container` runtime is not available on this platform*"])


def test_state_is_recorded_for_kept_resources(pytester: pytest.Pytester, declare: Any) -> None:
    declare('notes = FileResource(name="n.txt", content="x", directory="d")\n')
    pytester.makepyfile(test_x="def test_x(notes): pass")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep", "--clockwork-stack", "s1")
    state_dir = pytester.path / ".clockwork"
    assert (state_dir / ".gitignore").exists()
    record = json.loads((state_dir / "stacks" / "s1.json").read_text())["records"]
    (entry,) = record.values()
    assert entry["status"] == "ready" and entry["kept"] is True
    assert entry["created"] == {
        "dirs": [str(pytester.path / "d")],
        "files": [str(pytester.path / "d" / "n.txt")],
    }
    pytester.runpytest("--clockwork-destroy", "--clockwork-stack", "s1")
    assert not Path(pytester.path / "d").exists()
