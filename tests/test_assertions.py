"""Assertions as collected test items, and the built-in checks, on real Docker and files."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest

from tests.support.engine import nothing_listens_behind

CONTAINERS = """
web = DockerResource(
    image=IMAGE,
    ports=["80", "81"],
    wait_for_ports=False,  # nothing listens on 81: PortAccessibleAssert must say so
    command=["sh", "-c", "echo listening on 80; httpd -f -p 80 -h /www"],
    healthcheck=Healthcheck(test="wget -q -O- http://127.0.0.1/health", interval="0.2s"),
    assertions=[
        ContainerRunningAssert(),
        ContainerHealthyAssert(),
        HealthcheckAssert(port=80),
        HealthcheckAssert(port=80, path="/nope", timeout=2),
        PortAccessibleAssert(port=80),
        PortAccessibleAssert(port=81, timeout=1),
        LogContainsAssert(pattern="listening on \\\\d+"),
        LogContainsAssert(pattern="segfault", timeout=1),
        CommandSucceedsAssert(command="cat /www/index.html", expect_output="hello"),
        CommandSucceedsAssert(command=["test", "-f", "/missing"], timeout=1),
    ],
)
done = DockerResource(
    image=IMAGE,
    command="true",
    must_run=False,
    assertions=[ContainerRunningAssert(timeout=1)],
)
sick = DockerResource(
    image=IMAGE,
    must_run=False,
    healthcheck=Healthcheck(test="false", interval="0.2s", retries=1),
    assertions=[ContainerHealthyAssert(timeout=3)],
)
"""

FILES = """
notes = FileResource(
    name="notes.md",
    content="# Notes\\nversion: 1.2.3\\n",
    directory="docs",
    assertions=[
        FileExistsAssert(),
        FileExistsAssert(path="missing.md", timeout=1),
        FileContentMatchesAssert(pattern=r"version: \\d+\\.\\d+"),
        FileContentMatchesAssert(contains="draft", timeout=1),
    ],
)
"""


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Item name → PASSED/FAILED/ERROR, from -rA style verbose lines."""
    found = {}
    for line in result.outlines:
        for word in ("PASSED", "FAILED", "ERROR"):
            if line.startswith("conftest.py::") and f" {word}" in line:
                found[line.split()[0].split("::", 1)[1]] = word
    return found


@pytest.mark.docker
def test_each_built_in_passes_and_fails(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(CONTAINERS + FILES)
    result = pytester.runpytest("--clockwork-apply", "-v", "-p", "no:randomly")
    assert outcomes(result) == {
        "web.container_running": "PASSED",
        "web.container_healthy": "PASSED",
        "web.healthcheck": "PASSED",
        "web.healthcheck_2": "FAILED",
        "web.port_accessible": "PASSED",
        "web.port_accessible_2": "FAILED",
        "web.log_contains": "PASSED",
        "web.log_contains_2": "FAILED",
        "web.command_succeeds": "PASSED",
        "web.command_succeeds_2": "FAILED",
        "done.container_running": "FAILED",
        "sick.container_healthy": "FAILED",
        "notes.file_exists": "PASSED",
        "notes.file_exists_2": "FAILED",
        "notes.file_content_matches": "PASSED",
        "notes.file_content_matches_2": "FAILED",
    }
    text = result.stdout.str()
    for message in (
        "resource 'web': GET http://127.0.0.1:*/nope returned 404, expected 200",
        f"resource 'web': port 127.0.0.1:* (container port 81) {nothing_listens_behind()}",
        "resource 'web': 'segfault' not found in the logs of container web-*; its last lines:",
        "resource 'web': `test -f /missing` in web-* exited with 1, expected 0; output:",
        "resource 'done': container done-* is exited (exit code 0), expected running",
        "resource 'sick': container sick-* is unhealthy (status running), expected healthy",
        "resource 'notes': */docs/missing.md does not exist",
        "resource 'notes': */docs/notes.md does not contain text 'draft'; it contains "
        "'# Notes\\nversion: 1.2.3\\n'",
    ):
        result.stdout.fnmatch_lines([f"*{message}*"])
    # Failures show the message, not a traceback into the plugin.
    assert "pytest_clockwork" not in text.split("FAILURES")[1].split("short test summary")[0]
    # A container assertion's failure carries the container's logs.
    result.stdout.fnmatch_lines(["*clockwork: logs of web (last 50 lines)*", "listening on 80"])
    assert leftovers()["containers"] == []


@pytest.mark.docker
def test_a_failing_check_ends_near_its_timeout(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        web = DockerResource(image=IMAGE, ports=["80"],
                             assertions=[HealthcheckAssert(port=80, path="/nope", timeout=3)])
        """
    )
    result = pytester.runpytest("--clockwork-apply", "--junitxml=report.xml")
    result.assert_outcomes(failed=1)
    (case,) = ElementTree.parse(pytester.path / "report.xml").getroot().iter("testcase")
    assert case.get("name") == "web.healthcheck"
    assert 3.0 <= float(case.get("time", "0")) < 6.0


def test_markers_and_selection(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        notes = FileResource(content="x", assertions=[FileExistsAssert()])
        other = FileResource(content="y", assertions=[FileContentMatchesAssert(contains="y")])
        """
    )
    pytester.makepyfile(test_x="def test_plain(notes):\n    pass\n")
    run = pytester.runpytest
    run("--clockwork-apply", "--strict-markers").assert_outcomes(passed=3)
    run("--clockwork-apply", "-m", "assertions").assert_outcomes(passed=2, deselected=1)
    run("--clockwork-apply", "-m", "clockwork").assert_outcomes(passed=2, deselected=1)
    run("--clockwork-apply", "-m", "not assertions").assert_outcomes(passed=1, deselected=2)
    run("--clockwork-apply", "-k", "other").assert_outcomes(passed=1, deselected=2)
    run("--clockwork-apply", "conftest.py::notes.file_exists").assert_outcomes(passed=1)
    # Naming a test file runs its tests, not the conftest's assertion items.
    run("--clockwork-apply", "test_x.py").assert_outcomes(passed=1)
    result = run("--clockwork-apply", "--setup-show", "-m", "assertions", "-k", "notes")
    result.stdout.fnmatch_lines(
        ["*SETUP    S notes*", "*conftest.py::notes.file_exists (fixtures used: notes)*"]
    )


def test_items_in_a_subdirectory_and_last_failed(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        notes = FileResource(content="x", assertions=[
            FileContentMatchesAssert(contains="x"),
            FileContentMatchesAssert(contains="missing", timeout=0.5, description="has missing"),
        ])
        """,
        path="tests/conftest.py",
    )
    pytester.makepyfile(**{"tests/test_x.py": "def test_x():\n    pass\n"})
    result = pytester.runpytest(
        "-p", "cacheprovider", "--clockwork-apply", "-m", "assertions", "tests"
    )
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    result.stdout.fnmatch_lines(["FAILED tests/conftest.py::notes.has_missing - *"])
    result = pytester.runpytest("-p", "cacheprovider", "--clockwork-apply", "--lf", "tests")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["run-last-failure: rerun previous 1 failure*"])


@pytest.mark.docker
def test_evaluate_a_kept_environment(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        web = DockerResource(image=IMAGE, ports=["80"],
                             assertions=[ContainerRunningAssert(), HealthcheckAssert(port=80)])
        """
    )
    pytester.makepyfile(test_x="def test_x(web):\n    pass\n")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep", "-m", "not assertions")
    assert len(leftovers()["containers"]) == 1
    # CI's evaluate step: no --clockwork-apply, only the assertion items.
    result = pytester.runpytest("-m", "assertions")
    result.assert_outcomes(passed=2, deselected=1)
    assert len(leftovers()["containers"]) == 1
    pytester.runpytest("--clockwork-destroy")
    result = pytester.runpytest("-m", "assertions")
    result.assert_outcomes(errors=2, deselected=1)
    result.stdout.fnmatch_lines(["*resource 'web' is not deployed in stack 'default'*"])


def test_a_custom_assertion(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        import json

        class JsonHasKeys(Assertion):
            keys: list[str]

            def check(self, resource):
                data = json.loads(resource.read_text())
                missing = [key for key in self.keys if key not in data]
                if missing:
                    raise AssertionFailed(f"{resource.path} lacks {', '.join(missing)}")

        config = FileResource(name="config.json", content='{"debug": true}', assertions=[
            JsonHasKeys(keys=["debug"]), JsonHasKeys(keys=["port"], timeout=0.5),
        ])
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*conftest.py::config.json_has_keys PASSED*", "*config.json lacks port"]
    )


def test_a_built_in_that_does_not_fit_is_a_collection_error(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare(
        """
        web = DockerResource(image=IMAGE, assertions=[FileExistsAssert()])
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*FileExistsAssert does not fit resource 'web' (a DockerResource): it checks "
            "files and repositories; remove it or use another assertion*"
        ]
    )


def test_children_assertions_and_plan(pytester: pytest.Pytester, declare: Any) -> None:
    declare(
        """
        site = BlankResource(name="site").add(
            FileResource(name="index.html", content="<h1>", assertions=[FileExistsAssert()]),
        )
        """
    )
    result = pytester.runpytest("--clockwork-plan")
    result.stdout.fnmatch_lines(
        ["*site.index.html (FileResource*", "*assertions: site.index.html.file_exists"]
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.stdout.fnmatch_lines(["*conftest.py::site.index.html.file_exists PASSED*"])


def test_assertion_argument_errors() -> None:
    from pydantic import ValidationError

    from pytest_clockwork import FileContentMatchesAssert, HealthcheckAssert

    with pytest.raises(ValidationError, match="either url=... or port=..."):
        HealthcheckAssert()
    with pytest.raises(ValidationError, match="either url=... or port=..."):
        HealthcheckAssert(url="http://x", port=80)
    with pytest.raises(ValidationError, match="either pattern=... or contains=..."):
        FileContentMatchesAssert()
    with pytest.raises(ValidationError, match="timeout"):
        HealthcheckAssert(port=80, timeout=0)


def test_assertions_fit_the_resource_types_they_name_and_their_subclasses() -> None:
    from pytest_clockwork import (
        Assertion,
        ContainerResource,
        ContainerRunningAssert,
        DockerResource,
        FileExistsAssert,
        FileResource,
        GitRepoResource,
        HealthcheckAssert,
        PortAccessibleAssert,
        Resource,
    )

    class Notes(FileResource):
        """A user's own kind of file."""

    class Bucket(Resource):
        """A user's own resource type."""

    class BucketIsEmpty(Assertion):
        resource_types = (Bucket,)

        def check(self, resource: Resource) -> None:
            pass

    web, notes, repo = (
        DockerResource(image="x", ports=["80"]),
        Notes(content="x"),
        GitRepoResource(repo_url="https://example.com/r.git"),
    )
    assert ContainerRunningAssert.resource_types == (ContainerResource,)
    assert FileExistsAssert.resource_types == (FileResource, GitRepoResource)
    assert [FileExistsAssert().fits(r) for r in (web, notes, repo)] == [False, True, True]
    assert ContainerRunningAssert().misfit(notes) == "it checks containers"
    assert FileExistsAssert().misfit(web) == "it checks files and repositories"
    assert HealthcheckAssert(port=80).fits(web) and not HealthcheckAssert(port=80).fits(notes)
    assert HealthcheckAssert(url="http://x").fits(notes)
    assert PortAccessibleAssert(port=5, host="h").fits(notes)
    assert BucketIsEmpty().misfit(web) == "it checks Bucket"
    assert BucketIsEmpty().fits(Bucket(name="b"))


def test_resource_types_are_classes_not_names() -> None:
    from pytest_clockwork import Assertion

    with pytest.raises(TypeError, match=r"resource classes .* not their names \['FileResource'\]"):

        class Named(Assertion):
            resource_types = ("FileResource",)  # type: ignore[assignment]


@pytest.mark.docker
def test_assertion_items_under_xdist(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        web = DockerResource(image=IMAGE, ports=["80"], assertions=[
            ContainerRunningAssert(), HealthcheckAssert(port=80), PortAccessibleAssert(port=80),
        ])
        notes = FileResource(content="x", assertions=[FileExistsAssert()])
        """
    )
    result = pytester.runpytest(
        "--clockwork-apply",
        "-n",
        "2",
        "-m",
        "assertions",
        "-p",
        "xdist",
        "-p",
        "no:hypothesispytest",
    )
    result.assert_outcomes(passed=4)
    assert leftovers()["containers"] == []
