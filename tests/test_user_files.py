"""A user's file always comes back exactly, or the session refuses to touch it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.harness import eventually, run_subprocess

WAITING_TEST = """
import time
from pathlib import Path

def test_holds(pre):
    Path("a-started").write_text("")
    while not Path("release").exists():
        time.sleep(0.02)
"""


def snapshot(path: Path) -> tuple[Any, ...]:
    info = path.lstat()
    target = os.readlink(path) if path.is_symlink() else path.read_bytes()
    return (target, info.st_ino, info.st_mode, info.st_mtime_ns, info.st_nlink)


def test_two_sessions_replacing_one_file_give_the_original_back(
    pytester: pytest.Pytester, declare: Any
) -> None:
    original = pytester.path / "pre.txt"
    original.write_text("ORIGINAL\n")
    original.chmod(0o640)
    before = snapshot(original)
    declare('pre = FileResource(name="pre.txt", content="from A\\n", overwrite=True)\n')
    pytester.makepyfile(test_a=WAITING_TEST)
    session_a = run_subprocess(pytester, "--clockwork-apply", "test_a.py")
    try:
        eventually(lambda: (pytester.path / "a-started").exists(), timeout=30)
        assert original.read_text() == "from A\n"
        declare('pre = FileResource(name="pre.txt", content="from B\\n", overwrite=True)\n')
        pytester.makepyfile(test_b="def test_b(pre): pass")

        result = pytester.runpytest("--clockwork-apply", "test_b.py")

        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            [
                "*resource 'pre': pre.txt is already replaced by another clockwork session, "
                "which keeps its original in .pre.txt.clockwork-original; wait until that "
                "session ends*"
            ]
        )
        assert original.read_text() == "from A\n"  # B changed nothing
    finally:
        (pytester.path / "release").write_text("")
        session_a.communicate(timeout=30)
    assert session_a.returncode == 0
    assert snapshot(original) == before  # the same file: content, inode, mode, time
    assert not (pytester.path / ".pre.txt.clockwork-original").exists()


def test_a_dangling_symlink_is_a_users_file_too(pytester: pytest.Pytester, declare: Any) -> None:
    link = pytester.path / "link.txt"
    link.symlink_to("nowhere/at/all")
    before = snapshot(link)
    declare('link = FileResource(name="link.txt", content="x")\n')
    pytester.makepyfile(test_x="def test_x(link): pass")

    result = pytester.runpytest("--clockwork-apply")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'link': link.txt already exists (a symbolic link) and clockwork did not "
            "create it. Remove it, choose another path, or set overwrite=True*"
        ]
    )
    assert snapshot(link) == before


@pytest.mark.parametrize("target", ["nowhere/at/all", "real.txt"])
def test_an_overwritten_symlink_comes_back_as_the_same_symlink(
    pytester: pytest.Pytester, declare: Any, target: str
) -> None:
    real = pytester.path / "real.txt"
    real.write_text("the link's target\n")
    link = pytester.path / "link.txt"
    link.symlink_to(target)
    before, real_before = snapshot(link), snapshot(real)
    declare('link = FileResource(name="link.txt", content="mine", overwrite=True)\n')
    pytester.makepyfile(
        test_x="""
        import os

        def test_x(link):
            assert not os.path.islink(link.path) and link.read_text() == "mine"
        """
    )

    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)

    assert snapshot(link) == before
    assert snapshot(real) == real_before  # the target was never written through the link


def test_a_file_replaced_behind_clockworks_back_is_not_removed(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare('notes = FileResource(name="notes.txt", content="mine")\n')
    pytester.makepyfile(
        test_x="""
        from pathlib import Path

        def test_x(notes):
            Path("notes.tmp").write_text("someone else's")
            Path("notes.tmp").replace("notes.txt")
        """
    )

    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)

    assert (pytester.path / "notes.txt").read_text() == "someone else's"
