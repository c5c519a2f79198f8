"""Files and directories as Pulumi dynamic resources that only touch what they create.

Why a dynamic provider rather than ``pulumi_command.local.Command``: a file resource
has rules (refuse to overwrite a file clockwork did not create unless ``overwrite``;
then restore the original at teardown; remove the parent directories it created once
they are empty). Written in Python they are the same rules as the local engine's, easy
to read, and tested by calling :meth:`FileProvider.create` / ``diff`` / ``update`` /
``delete`` on real files; as shell scripts they would need quoting and a way to carry
state from create to delete. What was created (directories, the original content) is
kept in the resource's own outputs, so ``delete`` undoes exactly what ``create`` did.

The provider runs in a process that Pulumi starts (``pulumi-resource-pulumi-python``),
which unpickles it by reference: that interpreter must import ``pytest_clockwork``.
The engine points ``PULUMI_PYTHON_CMD`` at the interpreter running pytest for that.
"""

from __future__ import annotations

import base64
import contextlib
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

from pytest_clockwork.errors import FileConflictError
from pytest_clockwork.filesystem import (
    missing_directories,
    remove_empty_directories,
    write_atomically,
)

_FILE_INPUTS = ("key", "path", "content", "mode", "overwrite")


def make_directories(directory: str | Path) -> list[str]:
    """Create ``directory`` and its missing parents; return those created, outermost first."""
    created: list[str] = []
    try:
        for path in missing_directories(directory):
            path.mkdir()
            created.append(str(path))
    except OSError:
        remove_empty_directories(created)
        raise
    return created


class FileProvider(pulumi.dynamic.ResourceProvider):
    """Creates, updates and deletes one file (inputs: key, path, content, mode, overwrite)."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Write the file; refuse to replace one clockwork did not create, unless overwrite."""
        key, path = str(props["key"]), Path(props["path"])
        if path.is_dir():
            raise FileConflictError(
                f"resource {key!r}: {path} is a directory; give the file another name or path",
                resource=key,
            )
        original: str | None = None
        original_mode: int | None = None
        directories: list[str] = []
        if path.exists():
            if not props.get("overwrite"):
                raise FileConflictError(
                    f"resource {key!r}: {path} already exists and clockwork did not create "
                    "it. Remove it, choose another path, or set overwrite=True (the original "
                    "is restored at teardown).",
                    resource=key,
                )
            original = base64.b64encode(path.read_bytes()).decode()
            original_mode = path.stat().st_mode & 0o7777
        else:
            directories = make_directories(path.parent)
        try:
            write_atomically(path, str(props["content"]), int(props["mode"]))
        except OSError:
            remove_empty_directories(directories)
            raise
        outs = {
            **props,
            "directories": directories,
            "original": original,
            "original_mode": original_mode,
        }
        return pulumi.dynamic.CreateResult(id_=str(path), outs=outs)

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Another path replaces the file; other changes rewrite it in place."""
        changed = [name for name in _FILE_INPUTS if olds.get(name) != news.get(name)]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=[name for name in changed if name == "path"],
            delete_before_replace=True,
        )

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Rewrite the content and mode; what create made (or saved) is kept for delete."""
        write_atomically(Path(news["path"]), str(news["content"]), int(news["mode"]))
        kept = {name: olds.get(name) for name in ("directories", "original", "original_mode")}
        return pulumi.dynamic.UpdateResult(outs={**news, **kept})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Restore the original (when one was overwritten) or remove the file and its dirs."""
        path = Path(props["path"])
        original = props.get("original")
        if original is not None:
            write_atomically(
                path, base64.b64decode(original), int(props.get("original_mode") or 0o644)
            )
            return
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        remove_empty_directories(list(props.get("directories") or []))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """On refresh: the file is gone when its path no longer exists."""
        if not Path(props["path"]).exists():
            return pulumi.dynamic.ReadResult(None, {})
        return pulumi.dynamic.ReadResult(id_, props)


class DirectoryProvider(pulumi.dynamic.ResourceProvider):
    """Makes sure a directory exists (a bind mount's source); removes only what it made."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Create the directory and its missing parents."""
        directories = make_directories(props["path"])
        return pulumi.dynamic.CreateResult(
            id_=str(props["path"]), outs={**props, "directories": directories}
        )

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Another path is another directory."""
        moved = olds.get("path") != news["path"]
        return pulumi.dynamic.DiffResult(changes=moved, replaces=["path"] if moved else [])

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Remove the directories it created, once empty."""
        remove_empty_directories(list(props.get("directories") or []))


class ClockworkFile(pulumi.dynamic.Resource, module="clockwork", name="File"):
    """A file written by :class:`FileProvider`."""

    path: pulumi.Output[str]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        outputs = {"directories": None, "original": None, "original_mode": None}
        super().__init__(FileProvider(), name, {**props, **outputs}, opts)


class ClockworkDirectory(pulumi.dynamic.Resource, module="clockwork", name="Directory"):
    """A directory made by :class:`DirectoryProvider`."""

    path: pulumi.Output[str]

    def __init__(self, name: str, path: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(DirectoryProvider(), name, {"path": path, "directories": None}, opts)
