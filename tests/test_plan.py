"""One plan, read by every part: --clockwork-plan says what apply then does."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.docker


def test_plan_and_apply_agree_on_a_killed_kept_container(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, docker_client: Any
) -> None:
    declare("web = DockerResource(image=IMAGE)\nnotes = FileResource(content='x')\n")
    pytester.makepyfile(test_x="def test_x(web, notes): pass")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    (kept,) = leftovers()["containers"]
    docker_client.containers.get(kept).remove(force=True)

    plan = pytester.runpytest("--clockwork-plan")

    plan.stdout.fnmatch_lines(
        [
            f"    web (DockerResource, image *): replace kept (its container {kept} is gone)",
            "    notes (FileResource, */notes): reuse kept",
        ]
    )
    applied = pytester.runpytest("--clockwork-apply", "-v")
    applied.assert_outcomes(passed=1)
    applied.stdout.fnmatch_lines(["clockwork: notes ready in *s (reused)"])
    (web,) = [line for line in applied.stdout.lines if line.startswith("clockwork: web ready")]
    assert "(reused)" not in web  # replaced, as the plan said
    assert leftovers()["containers"] == []


def test_plan_says_replace_for_a_changed_kept_resource(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare("notes = FileResource(content='one')\n")
    pytester.makepyfile(test_x="def test_x(notes): pass")
    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    declare("notes = FileResource(content='two')\n")

    plan = pytester.runpytest("--clockwork-plan")

    plan.stdout.fnmatch_lines(
        ["    notes (FileResource, */notes): replace kept (its declaration changed)"]
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert not (pytester.path / "notes").exists()
