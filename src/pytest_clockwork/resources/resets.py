"""``reset=``: bringing a deployed resource back to a clean state before each test.

A container's ``reset=[...]`` is a list of commands run inside it, in order (a string
runs with ``sh -c``, a list as it is), through its ``exec()``: cheaper than a new
container for each test. A file's ``reset=True`` writes its declared content and mode
again. A command that fails, or a file that cannot be written, is a
:class:`~pytest_clockwork.ResetError` that names the resource, the command and its
output: the test's setup fails with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_clockwork.errors import ClockworkError, ResetError

if TYPE_CHECKING:
    from pytest_clockwork.resources.container import ContainerResource
    from pytest_clockwork.resources.file import FileResource

OUTPUT_LINES = 30
"""How many lines of a failed command's output its error shows (the last ones)."""

ResetCommand = str | list[str]


def check_commands(value: Any) -> Any:
    """A container's ``reset=`` before validation: a list of commands, none empty.

    Raises:
        ValueError: It is no list of commands, or one of them is empty; says what to write.
    """
    example = "e.g. reset=[\"psql -U postgres -c 'TRUNCATE users'\"]"
    if isinstance(value, bool):
        raise ValueError(
            f"reset={value!r} is for a FileResource (reset=True writes the file again); a "
            f"container's reset= is the commands run in it before each test, {example}"
        )
    if isinstance(value, str):
        raise ValueError(f"reset takes a list of commands: write reset=[{value!r}]")
    if not isinstance(value, list | tuple):
        return value  # pydantic says what is wrong with it
    for index, command in enumerate(value):
        if isinstance(command, str):
            empty = not command.strip()
        elif isinstance(command, list | tuple):
            empty = not command or not isinstance(command[0], str) or not command[0].strip()
        else:
            continue  # pydantic names the type
        if empty:
            raise ValueError(
                f"reset[{index}]={command!r} is an empty command: give the command to run in "
                f"the container before each test (a string runs with sh -c), {example}"
            )
    return list(value)


def check_file_reset(value: Any) -> Any:
    """A file's ``reset=`` before validation: ``True`` or ``False``, not commands.

    Raises:
        ValueError: Commands were given; says that they are for containers.
    """
    if isinstance(value, list | tuple | str):
        raise ValueError(
            f"reset={value!r}: a FileResource takes reset=True (its declared content and mode "
            "are written again before each test that uses it); commands are for containers"
        )
    return value


def run_commands(container: ContainerResource) -> None:
    """Run the container's ``reset=`` commands in it, in order.

    Raises:
        ResetError: A command exited with another code than 0, or could not run.
    """
    for command in container.reset:
        shown = command if isinstance(command, str) else " ".join(command)
        try:
            result = container.exec(command)
        except ClockworkError as exc:
            raise ResetError(
                f"resource {container.key!r}: reset command {shown!r} could not run: {exc}",
                resource=container.key,
            ) from None
        if not result.ok:
            raise ResetError(
                f"resource {container.key!r}: reset command {shown!r} exited with "
                f"{result.exit_code}; its output:\n{_tail(result.output)}",
                resource=container.key,
            )


def restore_file(file: FileResource) -> None:
    """Write the file's declared content and mode again (in place when it is still the
    file clockwork wrote, so that teardown still knows it for its own).

    Raises:
        ResetError: It cannot be written (its directory is gone, a directory is there).
    """
    from pathlib import Path

    from pytest_clockwork.filesystem import rewrite_in_place
    from pytest_clockwork.specs import FileSpec

    spec = file._spec
    if not isinstance(spec, FileSpec):
        raise ResetError(
            f"resource {file.key!r} cannot be reset: its fixture value has no declared "
            "content (use the fixture, not the declaration)",
            resource=file.key,
        )
    identity = file.outputs.get("identity")
    try:
        known = None if identity is None else str(identity)
        written = rewrite_in_place(Path(file.outputs["path"]), spec.content, spec.mode, known)
    except OSError as exc:
        raise ResetError(
            f"resource {file.key!r}: cannot write {file.outputs['path']} again before the test "
            f"({exc.strerror or exc})",
            resource=file.key,
        ) from None
    if written != identity:
        file._outputs_changed({"identity": written})


def _tail(output: str) -> str:
    lines = output.rstrip().splitlines() or ["(no output)"]
    shown = lines[-OUTPUT_LINES:]
    if len(lines) > OUTPUT_LINES:
        shown.insert(0, f"(last {OUTPUT_LINES} of {len(lines)} lines)")
    return "\n".join(f"  {line}" for line in shown)
