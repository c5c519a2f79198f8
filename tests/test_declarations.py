"""Where resources are declared: each conftest's own, mistakes named where they are."""

from __future__ import annotations

import json
from typing import Any

import pytest


def test_two_conftests_may_bind_one_name_to_different_resources(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare('web = FileResource(name="fa.txt", content="from-a")\n', "a/conftest.py")
    declare('web = FileResource(name="fb.txt", content="from-b")\n', "b/conftest.py")
    declare('web = FileResource(name="root.txt", content="from-root")\n')
    for where in ("a", "b", "."):
        expected = {"a": "from-a", "b": "from-b", ".": "from-root"}[where]
        pytester.makepyfile(
            **{
                f"{where}/test_{where.strip('.') or 'root'}.py": (
                    f"def test_web(web):\n    assert web.read_text() == {expected!r}\n"
                )
            }
        )

    result = pytester.runpytest("--clockwork-apply", "--clockwork-keep")

    result.assert_outcomes(passed=3)
    state = json.loads((pytester.path / ".clockwork" / "stacks" / "default.json").read_text())
    assert sorted(record["key"] for record in state["records"].values()) == [
        "a/web",
        "b/web",
        "web",
    ]
    assert (pytester.path / "fb.txt").read_text() == "from-b"
    pytester.runpytest("--clockwork-destroy")
    assert not any((pytester.path / name).exists() for name in ("fa.txt", "fb.txt", "root.txt"))


def test_assertion_items_of_a_deeper_conftest_keep_short_names(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare(
        'notes = FileResource(name="n.txt", content="x", assertions=[FileExistsAssert()])\n',
        "sub/conftest.py",
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["sub/conftest.py::notes.file_exists PASSED*"])


@pytest.mark.parametrize("name", ["request", "tmp_path", "monkeypatch"])
def test_a_resource_named_like_a_pytest_fixture_is_refused(
    pytester: pytest.Pytester, declare: Any, name: str
) -> None:
    declare(f'{name} = FileResource(name="x.txt", content="x")\n')
    pytester.makepyfile(test_x="def test_x(): pass")

    result = pytester.runpytest("--clockwork-apply")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            f"ERROR: clockwork: conftest.py: resource {name!r} has the name of pytest's own "
            f"fixture {name!r}, so tests could never get it: bind it to another name"
        ]
    )
    assert not (pytester.path / "x.txt").exists()


def test_in_a_deeper_conftest_it_is_a_collection_error_there(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare('request = FileResource(name="x.txt", content="x")\n', "sub/conftest.py")
    pytester.makepyfile(
        **{"sub/test_x.py": "def test_x(): pass", "test_ok.py": "def test_ok(): pass"}
    )

    result = pytester.runpytest("--clockwork-apply")

    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*clockwork: sub/conftest.py: resource 'request' has the name*"])


def test_a_class_bound_instead_of_a_resource_is_refused(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare("web = DockerResource\n")
    pytester.makepyfile(test_x="def test_x(web): pass")

    result = pytester.runpytest("--clockwork-apply")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: clockwork: conftest.py: 'web' is bound to the class DockerResource, not to "
            "a resource: write web = DockerResource(...)"
        ]
    )


def test_a_resource_in_a_test_module_is_pointed_at_its_conftest(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_x="""
        from pytest_clockwork import FileResource

        notes = FileResource(name="n.txt", content="x")

        def test_x(notes):
            pass
        """
    )

    result = pytester.runpytest("--clockwork-apply")

    result.assert_outcomes(errors=1, warnings=1)
    hint = (
        "test_x.py: resource 'notes' is declared in a test module, where clockwork does not "
        "look: move it to a conftest.py (e.g. conftest.py) to use it as a fixture"
    )
    result.stdout.fnmatch_lines(
        ["*fixture 'notes' not found*", "*- clockwork -*", hint, "*warnings summary*", f"*{hint}"]
    )
