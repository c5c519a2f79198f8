"""Clockwork's own files: private, readable back whatever they hold, never a dead end."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_clockwork.filesystem import write_atomically
from pytest_clockwork.state import ResourceRecord, SessionEntry, StackState, StateStore
from tests.support.filesystem import read_only

NOTES = 'notes = FileResource(name="notes.txt", content="top secret", mode="600")\n'


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_is_private_and_holds_digests_not_contents(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare(NOTES)
    pytester.makepyfile(test_x="def test_x(notes): pass")

    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)

    top = pytester.path / ".clockwork"
    state = top / "stacks" / "default.json"
    assert mode_of(top) == 0o700 and mode_of(top / "stacks") == 0o700
    assert mode_of(state) == 0o600
    assert mode_of(pytester.path / "notes.txt") == 0o600
    text = state.read_text()
    assert "top secret" not in text
    assert '"digest": "sha256:' in text
    pytester.runpytest("--clockwork-destroy")


def test_an_older_world_readable_state_directory_is_made_private(
    pytester: pytest.Pytester, declare: Any
) -> None:
    (pytester.path / ".clockwork" / "stacks").mkdir(parents=True)
    (pytester.path / ".clockwork").chmod(0o755)
    declare(NOTES)
    pytester.makepyfile(test_x="def test_x(notes): pass")

    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)

    assert mode_of(pytester.path / ".clockwork") == 0o700


DAMAGES = {
    "truncated": b'{"version": 1, "stack": "default", "sessions": {',
    "empty": b"",
    "garbage": b"\xff\xfe\x00garbage\x80",
    "wrong shape": b"[1, 2, 3]",
    "wrong types": b'{"stack": "default", "records": {"x": {"key": 5}}}',
    "lone surrogate": b'{"stack": "default", "records": {"\\udcff": 1}}',
}


@pytest.mark.parametrize("damage", [*DAMAGES, "a directory"])
def test_a_damaged_state_is_moved_aside_once_and_never_blocks(
    pytester: pytest.Pytester, declare: Any, damage: str
) -> None:
    declare(NOTES)
    pytester.makepyfile(test_x="def test_x(notes):\n    assert notes.read_text() == 'top secret'\n")
    stacks = pytester.path / ".clockwork" / "stacks"
    stacks.mkdir(parents=True)
    state = stacks / "default.json"
    if damage == "a directory":
        state.mkdir()
    else:
        state.write_bytes(DAMAGES[damage])

    result = pytester.runpytest("--clockwork-apply")

    result.assert_outcomes(passed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    result.stdout.fnmatch_lines(
        [
            "warning: the state of stack 'default' could not be read (*); it was moved to "
            ".clockwork/stacks/default.json.damaged-* and the stack starts empty. Containers "
            "it listed keep their labels: pytest --clockwork-destroy removes them."
        ]
    )
    (aside,) = stacks.glob("default.json.damaged-*")
    if damage != "a directory":
        assert aside.read_bytes() == DAMAGES[damage]  # kept, byte for byte
    again = pytester.runpytest("--clockwork-apply")
    again.assert_outcomes(passed=1)
    assert "could not be read" not in again.stdout.str()


def test_a_read_only_state_directory_is_a_clear_error(
    pytester: pytest.Pytester, declare: Any
) -> None:
    declare(NOTES)
    pytester.makepyfile(test_x="def test_x(notes): pass\n\ndef test_plain(): pass\n")
    top = pytester.path / ".clockwork"
    top.mkdir()

    with read_only(top):
        result = pytester.runpytest("--clockwork-apply")

    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output
    assert result.ret != pytest.ExitCode.OK
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*clockwork cannot write its state in */.clockwork (*): make that directory "
            "writable (or remove it), or run pytest where its .clockwork can be written*"
        ]
    )
    assert not (pytester.path / "notes.txt").exists()


text = st.text()  # any text, lone surrogates and NUL included


@settings(max_examples=50, deadline=None)
@given(key=text, value=text, output=text)
def test_any_state_reads_back_as_it_was_written(
    tmp_path_factory: pytest.TempPathFactory, key: str, value: str, output: str
) -> None:
    store = StateStore(tmp_path_factory.mktemp("state"), "default")
    record = ResourceRecord(
        key=key, session="s", kind="custom", outputs={"value": value, output: [output]}
    )
    state = StackState(
        stack="default",
        sessions={"s": SessionEntry(id="s", pid=1, host=value, started_at=0.0)},
        records={record.id: record},
    )

    store.write(state)

    assert store.read() == state
    assert store.damaged == []


def test_a_file_is_written_with_its_mode_from_the_first_byte(tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    seen: set[tuple[int, int]] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for entry in tmp_path.iterdir():
                try:
                    info = entry.stat()
                except FileNotFoundError:
                    continue
                seen.add((stat.S_IMODE(info.st_mode), info.st_size))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for round_ in range(300):
            write_atomically(target, "s3cr3t" * (round_ + 1), 0o600)
    finally:
        done.set()
        watcher.join()
    assert seen and {mode for mode, _ in seen} == {0o600}
    assert json.dumps(sorted(seen))  # something was observed mid-write
