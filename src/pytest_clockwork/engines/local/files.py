"""Files, directories and git clones for the local engine.

Only what clockwork created is ever removed: the files it wrote, the clones it made,
and the directories it created (once they are empty). A file that clockwork did not
create is never overwritten unless the resource says ``overwrite=True``, and then the
original is restored at teardown. The rules are :mod:`pytest_clockwork.filesystem`'s
(the Pulumi engine's providers call the same functions); what this driver adds is the
record: each thing is noted in it before it is created, so that teardown (of this
session, or of whoever cleans up after it) removes exactly that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_clockwork.errors import FileConflictError
from pytest_clockwork.filesystem import (
    check_target,
    create_clone,
    keep_original,
    make_directories,
    original_path,
    pull_clone,
    remove_clone,
    remove_empty_directories,
    remove_if_ours,
    restore_original,
    write_atomically,
)
from pytest_clockwork.specs import FileSpec, GitSpec
from pytest_clockwork.state import ResourceRecord

if TYPE_CHECKING:
    from pytest_clockwork.engines.base import Task
    from pytest_clockwork.engines.local.engine import LocalEngine


class FileDriver:
    """Writes and removes files and clones for the local engine."""

    def __init__(self, engine: LocalEngine) -> None:
        self.engine = engine

    def make_directory(self, record: ResourceRecord, directory: str | Path) -> None:
        """Create ``directory`` and missing parents, noting each one before it is created."""
        make_directories(directory, note=lambda path: self.engine.note(record, "dirs", str(path)))

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.engine.session.rootdir))
        except ValueError:
            return str(path)

    def create_file(self, task: Task) -> dict[str, Any]:
        """Write the file with its mode; keep the original of a file it may replace."""
        spec = task.spec
        assert isinstance(spec, FileSpec)
        shown = self._relative(spec.path)
        if check_target(spec.path, spec.key, overwrite=spec.overwrite, shown=shown):
            restore = json.dumps([str(spec.path), str(original_path(spec.path))])
            self.engine.note(task.record, "restores", restore)
            try:
                keep_original(spec.path, spec.key, shown=shown)
            except FileConflictError:
                self.engine.unnote(task.record, "restores", restore)  # another session's
                raise
        else:
            self.make_directory(task.record, spec.path.parent)
            self.engine.note(task.record, "files", str(spec.path))
        identity = write_atomically(spec.path, spec.content, spec.mode)
        return {"path": str(spec.path), "identity": identity}

    def rewrite(self, task: Task) -> dict[str, Any]:
        """Write a kept file resource's declared content and mode over what is there now
        (a drift correction: the path is the resource's own)."""
        spec = task.spec
        assert isinstance(spec, FileSpec)
        check_target(spec.path, spec.key, overwrite=True, shown=self._relative(spec.path))
        self.make_directory(task.record, spec.path.parent)
        identity = write_atomically(spec.path, spec.content, spec.mode)
        return {"path": str(spec.path), "identity": identity}

    def create_clone(self, task: Task) -> dict[str, Any]:
        """Clone the repository (at its branch) into ``dest``; refuse a taken ``dest``."""
        spec = task.spec
        assert isinstance(spec, GitSpec)
        create_clone(
            spec.key,
            spec.repo_url,
            spec.dest,
            spec.branch,
            shown=self._relative(spec.dest),
            note=lambda what, path: self.engine.note(task.record, what, str(path)),
        )
        return {"path": str(spec.dest)}

    def pull(self, task: Task) -> None:
        """``git pull`` a reused clone when the resource asks for it."""
        spec = task.spec
        if isinstance(spec, GitSpec) and spec.pull:
            pull_clone(spec.key, spec.dest, shown=self._relative(spec.dest))

    def destroy(self, record: ResourceRecord) -> None:
        """Remove the files and clones the record created; put replaced originals back."""
        for text in record.created.get("restores", []):
            path, kept = json.loads(text)
            restore_original(Path(path), Path(kept))
        identity = record.outputs.get("identity")
        for path in record.created.get("files", []):
            remove_if_ours(Path(path), None if identity is None else str(identity))
        for path in record.created.get("clones", []):
            remove_clone(Path(path))  # its directories: at finish, once nothing uses them

    def finish(self, records: list[ResourceRecord]) -> list[str]:
        """Remove the directories these records created, deepest first, once empty.

        Returns:
            The directories left because something else is in them.
        """
        return remove_empty_directories(
            path for record in records for path in record.created.get("dirs", [])
        )
