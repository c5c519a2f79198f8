"""Files and directories as Pulumi dynamic resources that only touch what they create.

Why a dynamic provider rather than ``pulumi_command.local.Command``: a file resource
has rules (refuse to overwrite a file clockwork did not create unless ``overwrite``;
then restore the original at teardown; remove the parent directories it created once
they are empty). Written in Python they are the same rules as the local engine's, easy
to read, and tested by calling :meth:`FileProvider.create` / ``diff`` / ``update`` /
``delete`` on real files; as shell scripts they would need quoting and a way to carry
state from create to delete. What was created (directories, where the original is
kept) is in the resource's own outputs, so ``delete`` undoes exactly what ``create`` did.
The content is a secret output (Pulumi encrypts it in its state); changes are decided on
its digest.

The provider runs in a process that Pulumi starts (``pulumi-resource-pulumi-python``),
which unpickles it by reference: that interpreter must import ``pytest_clockwork``.
The engine points ``PULUMI_PYTHON_CMD`` at the interpreter running pytest for that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

from pytest_clockwork.filesystem import (
    check_target,
    keep_original,
    missing_directories,
    remove_empty_directories,
    remove_if_ours,
    restore_original,
    write_atomically,
)

_FILE_INPUTS = ("key", "path", "digest", "mode", "overwrite")
"""What decides the file; ``content`` is not compared (a rebuilt entry has only its digest)."""
_MADE = ("directories", "original", "identity")
"""What ``create`` made, carried to ``delete``."""


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
    """Creates, updates and deletes one file (inputs: key, path, content, digest, mode,
    overwrite), with the same rules as the local engine (:mod:`pytest_clockwork.filesystem`)."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Write the file; keep the original of one it may replace, refuse the others."""
        key, path = str(props["key"]), Path(props["path"])
        original: str | None = None
        directories: list[str] = []
        if check_target(path, key, overwrite=bool(props.get("overwrite")), shown=str(path)):
            original = str(keep_original(path, key, shown=str(path)))
        else:
            directories = make_directories(path.parent)
        try:
            identity = write_atomically(path, str(props["content"]), int(props["mode"]))
        except OSError:
            if original is not None:
                restore_original(path, Path(original))
            remove_empty_directories(directories)
            raise
        outs = {**props, "directories": directories, "original": original, "identity": identity}
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
        """Rewrite the content and mode; what create made (or kept) stays for delete."""
        identity = write_atomically(Path(news["path"]), str(news["content"]), int(news["mode"]))
        kept = {name: olds.get(name) for name in _MADE}
        return pulumi.dynamic.UpdateResult(outs={**news, **kept, "identity": identity})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Put the original back (when one was replaced), or remove the file and its dirs."""
        path = Path(props["path"])
        original = props.get("original")
        if original:
            restore_original(path, Path(original))
            return
        identity = props.get("identity")
        remove_if_ours(path, None if identity is None else str(identity))
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
        outputs = dict.fromkeys(_MADE)
        secret = pulumi.ResourceOptions(additional_secret_outputs=["content"])
        super().__init__(
            FileProvider(), name, {**props, **outputs}, pulumi.ResourceOptions.merge(opts, secret)
        )


class ClockworkDirectory(pulumi.dynamic.Resource, module="clockwork", name="Directory"):
    """A directory made by :class:`DirectoryProvider`."""

    path: pulumi.Output[str]

    def __init__(self, name: str, path: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(DirectoryProvider(), name, {"path": path, "directories": None}, opts)
