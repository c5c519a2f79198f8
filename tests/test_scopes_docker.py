"""``scope=`` and ``reset=`` on a real Docker engine: a copy per test or module, resets
before each test, teardown after a crash, xdist."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from tests.support.harness import (
    eventually,
    read_state,
    start_blocked,
)

pytestmark = pytest.mark.docker

# Each test writes a marker file into the container it gets and lists what it finds.
STATEFUL_TESTS = """
import json
from pathlib import Path

def _note(web, name):
    seen = web.exec("ls /tmp").output.split()
    web.exec(["touch", f"/tmp/{name}"])
    with Path("seen.jsonl").open("a") as log:
        log.write(json.dumps([name, web.container_name, seen]) + "\\n")

def test_one(web):
    _note(web, "one")

def test_two(web):
    _note(web, "two")
"""


def _seen(pytester: pytest.Pytester) -> list[tuple[str, str, list[str]]]:
    import json

    lines = (pytester.path / "seen.jsonl").read_text().splitlines()
    return [tuple(json.loads(line)) for line in lines]  # type: ignore[misc]


def test_function_scope_gives_each_test_its_own_container(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"], scope="function")\n')
    pytester.makepyfile(test_web=STATEFUL_TESTS)
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=2)
    (first, one, seen_one), (second, two, seen_two) = _seen(pytester)
    assert (first, second) == ("one", "two")
    assert one != two  # two containers, with names that do not clash
    assert "one" not in seen_two and seen_one == seen_two  # no state from the other test
    result.stdout.fnmatch_lines(
        [
            "clockwork: web (function copy *) ready in *s",
            "deployed web: 2 function copies (one per test), ready in *s (median)",
        ]
    )
    assert leftovers() == {"containers": [], "networks": []}
    assert read_state(pytester.path) == {}


def test_module_scope_gives_one_container_per_module(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, scope="module")\n')
    pytester.makepyfile(test_a=STATEFUL_TESTS, test_b=STATEFUL_TESTS)
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=4)
    seen = _seen(pytester)
    names = [name for _, name, _ in seen]
    assert names[0] == names[1] != names[2] == names[3]
    assert seen[1][2] == seen[0][2] + ["one"]  # the module's second test sees the first's
    assert "one" not in seen[2][2]  # the next module starts afresh
    assert leftovers() == {"containers": [], "networks": []}


def test_reset_keeps_the_container_and_removes_the_state(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare("""web = DockerResource(image=IMAGE, reset=["rm -f /tmp/one /tmp/two"])\n""")
    pytester.makepyfile(test_web=STATEFUL_TESTS)
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=2)
    (_, one, seen_one), (_, two, seen_two) = _seen(pytester)
    assert one == two  # the same container
    assert "one" not in seen_two and seen_one == seen_two
    assert leftovers() == {"containers": [], "networks": []}


def test_a_failing_reset_fails_the_setup_with_its_output(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """web = DockerResource(image=IMAGE, reset=["echo cannot truncate users >&2; exit 3"])\n"""
    )
    pytester.makepyfile(test_web="def test_one(web):\n    pass\n")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'web': reset command 'echo cannot truncate users >&2; exit 3' exited "
            "with 3; its output:",
            "*cannot truncate users",
        ]
    )
    assert leftovers() == {"containers": [], "networks": []}


def test_file_reset_restores_content_and_mode(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        'notes = FileResource(name="notes.txt", directory="out", content="clean\\n", '
        'mode="0640", reset=True)\n'
    )
    pytester.makepyfile(
        test_notes="""
        import os

        def test_dirties(notes):
            assert notes.read_text() == "clean\\n"
            notes.path.write_text("dirty\\n")
            os.chmod(notes.path, 0o600)

        def test_clean_again(notes):
            assert notes.read_text() == "clean\\n"
            assert oct(notes.path.stat().st_mode & 0o777) == "0o640"
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=2)
    assert not (pytester.path / "out" / "notes.txt").exists()


def test_narrower_connects_to_wider_by_name(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        db = DockerResource(image=IMAGE, scope="module")
        api = DockerResource(image=IMAGE, scope="function").connect(db)
        """
    )
    pytester.makepyfile(
        test_api="""
        def test_reaches_db(api, db):
            result = api.exec("wget -q -O - http://db/")
            assert result.output == "hello\\n", result.output

        def test_again(api):
            assert api.exec("wget -q -O - http://db/").ok
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=2)
    assert leftovers() == {"containers": [], "networks": []}


def test_a_copy_deploys_what_its_scopes_tests_need_together(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    # The module's first test uses db alone; its second uses api, connected to db: the
    # module's copy deploys both at once, on one network, so api reaches db by name.
    declare(
        """
        db = DockerResource(image=IMAGE, scope="module")
        api = DockerResource(image=IMAGE, scope="module").connect(db)
        """
    )
    pytester.makepyfile(
        test_api="""
        def test_db_alone(db):
            assert db.container_name

        def test_api_reaches_db(api):
            result = api.exec("wget -q -O - http://db/")
            assert result.output == "hello\\n", result.output
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
    assert leftovers() == {"containers": [], "networks": []}


def test_wider_connected_to_narrower_is_an_error_naming_both(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        db = DockerResource(image=IMAGE, scope="function")
        api = DockerResource(image=IMAGE, scope="module").connect(db)
        """,
        "sub/conftest.py",
    )
    (pytester.path / "sub" / "test_api.py").write_text("def test_api(api):\n    pass\n")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(errors=1)  # a collection error of sub/
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting sub*",
            "*resource 'sub/api' (scope 'module') is connected to resource 'sub/db' "
            "(scope 'function')*give 'sub/db' scope='module' (or wider), or 'sub/api' "
            "scope='function'",
        ]
    )
    assert leftovers() == {"containers": [], "networks": []}


def test_sigkill_during_a_function_scoped_test_leaves_nothing(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        db = DockerResource(image=IMAGE)
        web = DockerResource(image=IMAGE, scope="function").connect(db)
        """
    )
    process = start_blocked(pytester, "--clockwork-apply")
    assert len(leftovers()["containers"]) == 2
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=10)
    eventually(
        lambda: leftovers() == {"containers": [], "networks": []},
        timeout=15,
        message="the watchdog did not remove the copy, the session's container and networks",
    )
    eventually(lambda: read_state(pytester.path) == {}, timeout=5)


def test_plan_shows_the_scope_and_keep_keeps_only_session_scoped(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        db = DockerResource(image=IMAGE)
        web = DockerResource(image=IMAGE, scope="function").connect(db)
        """
    )
    pytester.makepyfile(test_web="def test_web(web):\n    pass\n")
    result = pytester.runpytest("--clockwork-plan")
    result.stdout.fnmatch_lines(
        [
            "    db (DockerResource, image *): create",
            "    web (DockerResource, scope function: one per test, image *): create",
        ]
    )
    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "kept db: *",
            "not kept: web (scope function): --clockwork-keep keeps only session-scoped "
            "resources; a copy of a narrower scope is removed when its scope ends",
        ]
    )
    assert [name.split("-")[0] for name in leftovers()["containers"]] == ["db"]
    pytester.runpytest("--clockwork-destroy")
    assert leftovers()["containers"] == []


def test_xdist_workers_get_their_own_copies(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        db = DockerResource(image=IMAGE)
        web = DockerResource(image=IMAGE, scope="function").connect(db)
        """
    )
    tests = "\n".join(
        f"def test_{n}(web):\n    assert web.exec('wget -q -O - http://db/').ok\n"
        f"    assert web.exec('ls /tmp/dirty').exit_code != 0\n"
        f"    web.exec('touch /tmp/dirty')\n"
        for n in range(6)
    )
    pytester.makepyfile(test_web=tests)
    result = pytester.runpytest_subprocess("--clockwork-apply", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=6)
    assert leftovers() == {"containers": [], "networks": []}
    assert read_state(pytester.path) == {}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_a_function_scoped_test_tears_down(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, signum: int
) -> None:
    declare('web = DockerResource(image=IMAGE, scope="function")\n')
    process = start_blocked(pytester, "--clockwork-apply")
    assert len(leftovers()["containers"]) == 1
    os.kill(process.pid, signum)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert leftovers() == {"containers": [], "networks": []}
    assert read_state(pytester.path) == {}


def test_class_scope_failures_and_assertion_items(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        web = DockerResource(
            image=IMAGE, ports=["80"], scope="class",
            assertions=[HealthcheckAssert(port=80, path="/")],
        )
        """
    )
    pytester.makepyfile(
        test_web="""
        from pathlib import Path

        class TestOne:
            def test_a(self, web):
                Path("a").write_text(web.container_name)

            def test_b(self, web):
                assert web.container_name == Path("a").read_text()

        class TestTwo:
            def test_c(self, web):
                assert web.container_name != Path("a").read_text()
                assert False, "a failing test still has its copy removed"
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=3, failed=1)  # the assertion item passes on its own copy
    result.stdout.fnmatch_lines(["*conftest.py::web.healthcheck PASSED*"])
    assert len([line for line in result.stdout.lines if "(class copy" in line]) == 3
    assert leftovers() == {"containers": [], "networks": []}
    assert read_state(pytester.path) == {}
