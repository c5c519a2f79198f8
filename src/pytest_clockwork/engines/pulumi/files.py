"""Files, directories and git clones as Pulumi dynamic resources that only touch what
they create.

Why dynamic providers rather than ``pulumi_command.local.Command``: these resources have
rules (refuse to overwrite a file clockwork did not create unless ``overwrite``; then
restore the original at teardown; refuse to clone into a non-empty directory; remove the
parent directories they created once they are empty). The rules are written once, in
:mod:`pytest_clockwork.filesystem`, and these providers call them as the local engine
does; they are tested by calling ``create`` / ``diff`` / ``update`` / ``delete`` on real
files and real git repositories. As shell scripts they would be a second copy, need
quoting and a way to carry state from create to delete. What was created (directories,
where the original is kept) is in the resource's own outputs, so ``delete`` undoes
exactly what ``create`` did. A file's content is a secret output (Pulumi encrypts it in
its state); changes are decided on its digest.

The providers run in a process that Pulumi starts (``pulumi-resource-pulumi-python``),
which unpickles them by reference: that interpreter must import ``pytest_clockwork``.
The engine points ``PULUMI_PYTHON_CMD`` at the interpreter running pytest for that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

from pytest_clockwork.filesystem import (
    check_target,
    create_clone,
    keep_original,
    make_directories,
    remove_clone,
    remove_empty_directories,
    remove_if_ours,
    restore_original,
    write_atomically,
)

_FILE_INPUTS = ("key", "path", "digest", "mode", "overwrite")
"""What decides the file; ``content`` is not compared (a rebuilt entry has only its digest)."""
_MADE = ("directories", "original", "identity")
"""What ``create`` made, carried to ``delete``."""
_CLONE_INPUTS = ("repo_url", "dest", "branch")
"""What decides the clone: another of them is another clone."""


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


class CloneProvider(pulumi.dynamic.ResourceProvider):
    """Clones a repository (inputs: key, repo_url, dest, branch), with the same rules as
    the local engine (:func:`pytest_clockwork.filesystem.create_clone`); removes the clone
    and the directories it created for it."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Refuse a taken ``dest``, create its missing parents, clone."""
        dest = Path(props["dest"])
        directories = create_clone(
            str(props["key"]), str(props["repo_url"]), dest, props.get("branch") or None
        )
        return pulumi.dynamic.CreateResult(
            id_=str(dest), outs={**props, "directories": directories}
        )

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Another repository, dest or branch is another clone: replace it."""
        changed = [
            name for name in _CLONE_INPUTS if (olds.get(name) or None) != (news.get(name) or None)
        ]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed), replaces=changed, delete_before_replace=True
        )

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Remove the clone, then the directories created for it (once empty)."""
        remove_clone(Path(props["dest"]), list(props.get("directories") or []))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """On refresh: the clone is gone when its dest no longer exists."""
        if not Path(props["dest"]).exists():
            return pulumi.dynamic.ReadResult(None, {})
        return pulumi.dynamic.ReadResult(id_, props)


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


class ClockworkClone(pulumi.dynamic.Resource, module="clockwork", name="Clone"):
    """A git clone made by :class:`CloneProvider`."""

    dest: pulumi.Output[str]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(CloneProvider(), name, {**props, "directories": None}, opts)
