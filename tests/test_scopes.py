"""``scope=`` with files (no Docker): fixtures of each scope, copies written and removed
per scope, what a session that does not deploy says, and the scope rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.harness import read_state

FILE_TESTS = """
from pathlib import Path

def test_one(notes):
    assert notes.read_text() == "clean"
    notes.path.write_text("dirty")

def test_two(notes):
    Path("two-saw").write_text(notes.read_text())
"""


@pytest.mark.parametrize(
    ("scope", "letter", "second_sees"),
    [("function", "F", "clean"), ("module", "M", "dirty"), ("session", "S", "dirty")],
)
def test_a_file_copy_per_scope(
    pytester: pytest.Pytester, declare: Any, scope: str, letter: str, second_sees: str
) -> None:
    declare(f'notes = FileResource(name="n.txt", content="clean", scope="{scope}")\n')
    pytester.makepyfile(test_notes=FILE_TESTS)
    result = pytester.runpytest("--clockwork-apply", "--setup-show")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([f"*SETUP    {letter} notes*"])
    assert (pytester.path / "two-saw").read_text() == second_sees
    assert not (pytester.path / "n.txt").exists()
    assert read_state(pytester.path) == {}


def test_a_narrower_scope_is_deployed_only_by_a_session_that_deploys(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare('notes = FileResource(name="n.txt", content="x", scope="module")\n')
    pytester.makepyfile(test_notes="def test_notes(notes):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'notes' has scope='module': a copy is deployed one per test module, only "
            "when the session deploys; run pytest with --clockwork-apply"
        ]
    )


def test_a_composites_children_take_its_scope(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        app = BlankResource(name="app", scope="function").add(
            FileResource(name="config.ini", content="[x]")
        )
        """
    )
    pytester.makepyfile(
        test_app="""
        from pathlib import Path

        def test_one(app):
            config = app.children["config.ini"]
            Path("one").write_text(str(config.outputs["identity"]))
            config.path.write_text("changed")

        def test_two(app):
            assert app.children["config.ini"].read_text() == "[x]"
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=2)
    assert not (pytester.path / "config.ini").exists()


def test_scope_rules() -> None:
    from pytest_clockwork import BlankResource, FileResource
    from pytest_clockwork.scopes import connections_out_of_scope, scope_of, wider

    assert wider("session", "function") and not wider("module", "module")
    db = FileResource(name="db", content="x", scope="module")
    ok = FileResource(name="ok", content="x", scope="function").connect(db)
    child = FileResource(name="c", content="x")
    parent = BlankResource(name="p", scope="class").add(child)
    assert scope_of(child) == "class"
    assert list(connections_out_of_scope([ok, parent])) == []
    child.connect(ok)  # a class-scoped child connected to a function-scoped resource
    (problem,) = connections_out_of_scope([parent])
    assert "'p.c' (scope 'class') is connected to resource 'ok' (scope 'function')" in problem


def test_package_scope_lives_as_long_as_the_declaring_package(
    pytester: pytest.Pytester, declare: Any
) -> None:
    # As pytest scopes a package fixture: by the package of the conftest that defines it.
    pytester.mkpydir("a")
    declare(
        'notes = FileResource(name="n.txt", content="clean", scope="package")\n', "a/conftest.py"
    )
    for package in ("a/x", "a/y"):
        pytester.mkpydir(package)
        (pytester.path / package / "test_it.py").write_text(
            "def test_it(notes):\n"
            "    with open('seen', 'a') as seen:\n"
            "        seen.write(notes.read_text() + ' ')\n"
            "    notes.path.write_text(notes.read_text() + '+')\n"
        )
    result = pytester.runpytest("--clockwork-apply", "--setup-show")
    result.assert_outcomes(passed=2)
    assert len([line for line in result.stdout.lines if "SETUP    P notes" in line]) == 1
    result.stdout.fnmatch_lines(["deployed a/notes: 1 package copy (one per package)*"])
    assert (pytester.path / "seen").read_text() == "clean clean+ "  # one copy for both
    assert not (pytester.path / "a" / "n.txt").exists()


def test_reset_on_a_module_copy_runs_before_its_later_tests(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare('notes = FileResource(name="n.txt", content="clean", scope="module", reset=True)\n')
    pytester.makepyfile(test_notes=FILE_TESTS)
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=2)
    assert (pytester.path / "two-saw").read_text() == "clean"
