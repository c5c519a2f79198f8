"""The filesystem rules every part of clockwork follows, written once.

- Clockwork's own files live in ``<rootdir>/.clockwork`` (mode 0700, ignored by git),
  written atomically with their final mode from the first byte.
- A user's file is never lost: a file resource that replaces one (``overwrite=True``)
  keeps the original as a hard link next to it (``.name.clockwork-original``), which
  is the very same file (content, mode, owner, times; a symlink stays a symlink) and
  which is renamed back at teardown. The link doubles as a claim: a second session
  that wants to replace the same file is refused while the first one holds it.
- Only what clockwork created is removed: files it wrote (while they are still its
  own), and directories it created, once they are empty.
- A clone goes only where nothing is (or an empty directory is): a directory that
  holds anything clockwork did not put there is refused, never cloned into or over.
  Its missing parents are created for it and removed with it, once empty.

Both engines call these functions: the local engine directly, noting what it is about
to create in its record first; the Pulumi engine from its dynamic providers
(:mod:`pytest_clockwork.engines.pulumi.files`), carrying what was created in the
resource's outputs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from pytest_clockwork.errors import DeploymentError, FileConflictError, StateError

STATE_DIR = ".clockwork"
ORIGINAL_SUFFIX = ".clockwork-original"
_GITIGNORE = "# Written by pytest-clockwork; not for version control.\n*\n"


# -- clockwork's own directory ------------------------------------------------------------


def state_directory(rootdir: Path, *parts: str) -> Path:
    """``<rootdir>/.clockwork/<parts>``, created private (0700) when missing.

    Raises:
        StateError: It cannot be created or written (a read-only checkout).
    """
    top = rootdir / STATE_DIR
    directory = top.joinpath(*parts)
    if directory in _READY and directory.is_dir():
        return directory
    try:
        if not top.is_dir():
            top.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomically(top / ".gitignore", _GITIGNORE, 0o644)
        elif top.stat().st_mode & 0o077 and top.stat().st_uid == os.getuid():
            top.chmod(0o700)  # made by an earlier version, readable by others
        for depth in range(1, len(parts) + 1):
            top.joinpath(*parts[:depth]).mkdir(mode=0o700, exist_ok=True)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "not writable", str(directory))
    except OSError as exc:
        raise state_error(exc) from None
    _READY.add(directory)
    return directory


_READY: set[Path] = set()
"""The state directories this process has made sure of."""


def state_error(exc: OSError) -> StateError:
    """The error for clockwork's own files that cannot be read or written."""
    where = exc.filename or STATE_DIR
    return StateError(
        f"clockwork cannot write its state in {where} ({exc.strerror or exc}): make that "
        f"directory writable (or remove it), or run pytest where its {STATE_DIR} can be written"
    )


# -- writing ------------------------------------------------------------------------------


def write_atomically(path: Path, content: str | bytes, mode: int) -> str:
    """Write ``content`` to ``path`` with ``mode`` from the start, then rename it in place.

    The temporary file is created private, gets ``mode`` before any content is written,
    and replaces ``path`` in one rename: nobody ever sees it half written or with a
    wider mode.

    Returns:
        The identity (``device:inode``) of the file written, to tell later whether the
        file at ``path`` is still this one.
    """
    data = content.encode() if isinstance(content, str) else content
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            identity = _identity(os.fstat(stream.fileno()))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return identity


def rewrite_in_place(path: Path, content: str | bytes, mode: int, identity: str | None) -> str:
    """Write ``content`` with ``mode`` at ``path`` again (a file resource's ``reset=True``).

    While ``path`` is still the file clockwork wrote (its ``identity``), that very file is
    rewritten, so it keeps its identity; otherwise (removed, replaced, a symbolic link put
    there: never followed) a new file takes its place, as :func:`write_atomically` writes.

    Returns:
        The identity of the file now at ``path``.

    Raises:
        OSError: It cannot be written (its directory is gone, a directory is there).
    """
    data = content.encode() if isinstance(content, str) else content
    if identity is not None and identity_of(path) == identity:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        except OSError:
            descriptor = -1
        if descriptor >= 0:
            with os.fdopen(descriptor, "wb") as stream:
                os.fchmod(descriptor, mode)
                stream.truncate(0)
                stream.write(data)
            return identity
    return write_atomically(path, data, mode)


def _identity(info: os.stat_result) -> str:
    return f"{info.st_dev}:{info.st_ino}"


def identity_of(path: Path) -> str | None:
    """The identity of what is at ``path`` now (``None``: nothing)."""
    try:
        return _identity(path.lstat())
    except OSError:
        return None


# -- a file resource's place --------------------------------------------------------------


def check_target(path: Path, key: str, *, overwrite: bool, shown: str) -> bool:
    """Whether ``path`` holds something a file resource would replace.

    Args:
        path: Where the file goes.
        key: The resource.
        overwrite: The resource may replace what is there.
        shown: ``path`` as shown in messages (relative to the rootdir).

    Raises:
        FileConflictError: A directory is there, or a file (or symlink, even a dangling
            one) that the resource may not replace.
    """
    if path.is_dir() and not path.is_symlink():
        raise FileConflictError(
            f"resource {key!r}: {shown} is a directory; give the file another name or path",
            resource=key,
        )
    _check_way(path, key, f"{shown} cannot be written", "choose another directory (or path)")
    if not os.path.lexists(path):
        return False
    if not overwrite:
        link = " (a symbolic link)" if path.is_symlink() else ""
        raise FileConflictError(
            f"resource {key!r}: {shown} already exists{link} and clockwork did not create it. "
            "Remove it, choose another path, or set overwrite=True (the original is restored "
            "at teardown).",
            resource=key,
        )
    return True


def _check_way(path: Path, key: str, what: str, fix: str) -> None:
    """Refuse ``path`` when the nearest of its parents that exists is not a directory.

    Raises:
        FileConflictError: ``"resource 'x': <what>: 'a' on its way is a file, not a
            directory; <fix>"``.
    """
    ancestor = path.parent
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise FileConflictError(
            f"resource {key!r}: {what}: {ancestor.name!r} on its way is a file, not a "
            f"directory; {fix}",
            resource=key,
        )


def original_path(path: Path) -> Path:
    """Where the original of a replaced file is kept while clockwork's file is there."""
    return path.with_name(f".{path.name}{ORIGINAL_SUFFIX}")


def keep_original(path: Path, key: str, *, shown: str) -> Path:
    """Keep what is at ``path`` (exactly: a hard link to it) before it is replaced.

    Returns:
        Where it is kept; :func:`restore_original` puts it back.

    Raises:
        FileConflictError: Another session already replaced it (it holds the original),
            or the original cannot be kept exactly; nothing was changed.
    """
    kept = original_path(path)
    try:
        os.link(path, kept, follow_symlinks=False)
    except FileExistsError:
        raise FileConflictError(
            f"resource {key!r}: {shown} is already replaced by another clockwork session, "
            f"which keeps its original in {kept.name}; wait until that session ends. If none "
            f"runs any more, `pytest --clockwork-destroy` restores it (or move {kept.name} "
            f"back over {path.name} by hand).",
            resource=key,
        ) from None
    except OSError as exc:
        raise FileConflictError(
            f"resource {key!r}: cannot keep the original of {shown} exactly "
            f"({exc.strerror or exc}), so it is not replaced: clockwork only replaces a "
            "file it can give back as it was. Move it away yourself, or choose another path.",
            resource=key,
        ) from None
    return kept


def restore_original(path: Path, kept: Path) -> None:
    """Put the original back at ``path`` (replacing clockwork's file); gone is fine."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(kept, path)


def remove_if_ours(path: Path, identity: str | None) -> bool:
    """Remove the file clockwork wrote at ``path``, unless someone replaced it since.

    Args:
        path: The file.
        identity: What :func:`write_atomically` returned (``None``: not known, remove).

    Returns:
        Whether nothing of clockwork's is left there.
    """
    if identity is not None and identity_of(path) not in (identity, None):
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True


# -- directories --------------------------------------------------------------------------


def missing_directories(directory: str | Path) -> list[Path]:
    """``directory`` and its parents that do not exist yet, outermost first."""
    missing: list[Path] = []
    path = Path(directory)
    while not os.path.lexists(path):
        missing.append(path)
        path = path.parent
    return list(reversed(missing))


def remove_empty_directories(directories: Iterable[str]) -> list[str]:
    """Remove ``directories`` deepest first, each only when empty.

    Returns:
        Those left in place because something else is in them.
    """
    left = []
    for path in sorted(set(directories), key=lambda p: p.count(os.sep), reverse=True):
        try:
            Path(path).rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            left.append(path)
    return left


def make_directories(
    directory: str | Path, *, note: Callable[[Path], None] | None = None
) -> list[str]:
    """Create ``directory`` and its missing parents.

    Args:
        directory: The directory wanted.
        note: Called with each directory before it is created: the caller records it
            (the local engine's record), and its teardown removes it. Without ``note``,
            a failure removes the directories made so far before it is raised.

    Returns:
        The directories created, outermost first (one that appears meanwhile, made by
        someone else, is not counted).
    """
    created: list[str] = []
    try:
        for path in missing_directories(directory):
            if note is not None:
                note(path)
            try:
                path.mkdir()
            except FileExistsError:
                if not path.is_dir():
                    raise
                continue
            created.append(str(path))
    except BaseException:
        if note is None:
            remove_empty_directories(created)
        raise
    return created


# -- git clones ---------------------------------------------------------------------------


def check_clone_target(dest: Path, key: str, *, shown: str) -> None:
    """Refuse a ``dest`` a clone may not go to: anything there but an empty directory.

    Args:
        dest: Where the clone goes.
        key: The resource.
        shown: ``dest`` as shown in messages (relative to the rootdir).

    Raises:
        FileConflictError: ``dest`` is a directory that is not empty, a file or a
            symbolic link (even a dangling one), or a file is in the way of its parents;
            nothing was changed.
    """
    if os.path.lexists(dest):
        if dest.is_symlink() or not dest.is_dir():
            what = "a symbolic link" if dest.is_symlink() else "a file"
            raise FileConflictError(
                f"resource {key!r}: {shown} already exists ({what}), and clockwork did not "
                "create it. Remove it or choose another dest.",
                resource=key,
            )
        if any(dest.iterdir()):
            raise FileConflictError(
                f"resource {key!r}: {shown} already exists and is not empty, and clockwork "
                "did not create it. Remove it or choose another dest.",
                resource=key,
            )
        return
    _check_way(dest, key, f"{shown} cannot be created", "choose another dest")


def clone_repository(key: str, repo_url: str, dest: Path, branch: str | None = None) -> None:
    """``git clone --quiet [--branch BRANCH] -- REPO_URL DEST``.

    Raises:
        DeploymentError: git is not installed, or the clone failed (with git's reason).
    """
    command = ["git", "clone", "--quiet"]
    if branch:
        command += ["--branch", branch]
    command += ["--", repo_url, str(dest)]
    fix = "check repo_url" + (" and branch" if branch else "")
    _git(key, command, f"git clone --quiet failed ({fix})")


def pull_clone(key: str, dest: Path, *, shown: str) -> None:
    """``git pull --quiet`` in a clone that is reused (``pull=True``).

    Raises:
        DeploymentError: git is not installed, or the pull failed (with git's reason).
    """
    _git(
        key,
        ["git", "-C", str(dest), "pull", "--quiet"],
        f"git pull failed in {shown} (set pull=False)",
    )


def _git(key: str, command: list[str], failed: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise DeploymentError(
            f"resource {key!r}: git is not installed; install it to clone repositories",
            resource=key,
        ) from None
    if done.returncode != 0:
        raise DeploymentError(f"resource {key!r}: {failed}: {done.stderr.strip()}", resource=key)


def create_clone(
    key: str,
    repo_url: str,
    dest: Path,
    branch: str | None = None,
    *,
    shown: str | None = None,
    note: Callable[[str, Path], None] | None = None,
) -> list[str]:
    """Clone ``repo_url`` (at ``branch``) into ``dest``, creating its missing parents.

    Args:
        key: The resource.
        repo_url: What to clone.
        dest: Where (absolute).
        branch: The branch to check out (``None``: the repository's default).
        shown: ``dest`` as shown in messages (default: ``dest``).
        note: Called as ``note("dirs", path)`` before each missing parent is created and
            ``note("clones", dest)`` before cloning: the caller records them (the local
            engine's record) and its teardown removes them. Without ``note``, a failure
            removes what was made here before it is raised.

    Returns:
        The parent directories created for the clone, outermost first: what
        :func:`remove_clone` removes with it.

    Raises:
        FileConflictError: ``dest`` is taken (:func:`check_clone_target`).
        DeploymentError: git is missing or the clone failed.
    """
    check_clone_target(dest, key, shown=shown or str(dest))
    existed = os.path.lexists(dest)
    directories = make_directories(
        dest.parent, note=None if note is None else (lambda path: note("dirs", path))
    )
    if note is not None:
        note("clones", dest)
    try:
        clone_repository(key, repo_url, dest, branch)
    except BaseException:
        if note is None:
            remove_clone(None if existed else dest, directories)
        raise
    return directories


def remove_clone(dest: Path | None, directories: Iterable[str] = ()) -> list[str]:
    """Remove the clone at ``dest``, then ``directories`` (deepest first, once empty).

    Returns:
        The directories left because something else is in them.
    """
    if dest is not None:
        shutil.rmtree(dest, ignore_errors=True)
    return remove_empty_directories(directories)
