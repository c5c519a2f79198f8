"""Files, directories and git clones for the local engine.

Only what clockwork created is ever removed: the files it wrote, the clones it made,
and the directories it created (once they are empty). A file that clockwork did not
create is never overwritten unless the resource says ``overwrite=True``, and then the
original is restored at teardown.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_clockwork.errors import DeploymentError, FileConflictError
from pytest_clockwork.filesystem import (
    check_target,
    keep_original,
    missing_directories,
    original_path,
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
        """Create ``directory`` and missing parents, noting each one created."""
        for path in missing_directories(directory):
            self.engine.note(record, "dirs", str(path))
            path.mkdir(exist_ok=True)

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
        """Clone the repository (at its branch) into ``dest``."""
        spec = task.spec
        assert isinstance(spec, GitSpec)
        if spec.dest.exists() and any(spec.dest.iterdir()):
            raise FileConflictError(
                f"resource {spec.key!r}: {self._relative(spec.dest)} already exists and is not "
                "empty, and clockwork did not create it. Remove it or choose another dest.",
                resource=spec.key,
            )
        self.make_directory(task.record, spec.dest.parent)
        self.engine.note(task.record, "clones", str(spec.dest))
        command = ["git", "clone", "--quiet"]
        if spec.branch:
            command += ["--branch", spec.branch]
        command += ["--", spec.repo_url, str(spec.dest)]
        fix = "check repo_url" + (" and branch" if spec.branch else "")
        self._git(spec.key, command, fix)
        return {"path": str(spec.dest)}

    def pull(self, task: Task) -> None:
        """``git pull`` a reused clone when the resource asks for it."""
        spec = task.spec
        if isinstance(spec, GitSpec) and spec.pull:
            self._git(spec.key, ["git", "-C", str(spec.dest), "pull", "--quiet"], "set pull=False")

    @staticmethod
    def _git(key: str, command: list[str], fix: str) -> None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise DeploymentError(
                f"resource {key!r}: git is not installed; install it to clone repositories",
                resource=key,
            ) from None
        if done.returncode != 0:
            raise DeploymentError(
                f"resource {key!r}: {' '.join(command[:3])} failed ({fix}): {done.stderr.strip()}",
                resource=key,
            )

    def destroy(self, record: ResourceRecord) -> None:
        """Remove the files and clones the record created; put replaced originals back."""
        for text in record.created.get("restores", []):
            path, kept = json.loads(text)
            restore_original(Path(path), Path(kept))
        identity = record.outputs.get("identity")
        for path in record.created.get("files", []):
            remove_if_ours(Path(path), None if identity is None else str(identity))
        for path in record.created.get("clones", []):
            shutil.rmtree(path, ignore_errors=True)

    def finish(self, records: list[ResourceRecord]) -> list[str]:
        """Remove the directories these records created, deepest first, once empty.

        Returns:
            The directories left because something else is in them.
        """
        return remove_empty_directories(
            path for record in records for path in record.created.get("dirs", [])
        )
