"""Files, directories and clones of the Pulumi engine, against real files in tmp_path.

The dynamic providers are called directly (Pulumi does not run them under mocks), the
clone provider against real git repositories made here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork import GitRepoResource, SpecContext
from pytest_clockwork.engines.pulumi.files import CloneProvider, DirectoryProvider, FileProvider
from pytest_clockwork.errors import DeploymentError, FileConflictError
from pytest_clockwork.specs import content_digest


def props(path: Path, content: str = "hello\n", **extra: Any) -> dict[str, Any]:
    # Pulumi hands numbers to providers as floats.
    return {
        "key": "notes",
        "path": str(path),
        "content": content,
        "digest": content_digest(content),
        "mode": float(0o640),
        "overwrite": False,
        **extra,
    }


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_create_writes_the_file_with_its_mode_and_delete_removes_what_it_made(
    tmp_path: Path,
) -> None:
    target = tmp_path / "a" / "b" / "notes.txt"
    provider = FileProvider()

    created = provider.create(props(target))

    assert target.read_text() == "hello\n"
    assert mode_of(target) == 0o640
    assert created.id == str(target)
    assert created.outs is not None
    assert created.outs["path"] == str(target)
    assert created.outs["directories"] == [str(tmp_path / "a"), str(tmp_path / "a" / "b")]
    assert created.outs["original"] is None

    provider.delete(created.id, created.outs)

    assert not (tmp_path / "a").exists()
    assert tmp_path.exists()


def test_delete_keeps_a_created_directory_that_something_else_now_uses(tmp_path: Path) -> None:
    target = tmp_path / "out" / "notes.txt"
    provider = FileProvider()
    created = provider.create(props(target))
    (tmp_path / "out" / "other.txt").write_text("not clockwork's")
    assert created.outs is not None

    provider.delete(created.id, created.outs)

    assert not target.exists()
    assert (tmp_path / "out" / "other.txt").read_text() == "not clockwork's"


def test_an_existing_file_is_not_overwritten_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("the user's")

    with pytest.raises(FileConflictError) as caught:
        FileProvider().create(props(target))

    assert "already exists and clockwork did not create it" in str(caught.value)
    assert "overwrite=True" in str(caught.value)
    assert target.read_text() == "the user's"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_an_overwritten_file_gets_its_content_and_mode_back_at_delete(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_bytes(b"the user's \xff bytes")
    os.chmod(target, 0o600)
    provider = FileProvider()

    created = provider.create(props(target, overwrite=True))
    assert target.read_text() == "hello\n"
    assert created.outs is not None and created.outs["directories"] == []

    provider.delete(created.id, created.outs)

    assert target.read_bytes() == b"the user's \xff bytes"
    assert mode_of(target) == 0o600


def test_an_overwritten_symlink_comes_back_exactly_and_a_second_claim_is_refused(
    tmp_path: Path,
) -> None:
    link = tmp_path / "notes.txt"
    link.symlink_to("dangling/target")
    provider = FileProvider()
    created = provider.create(props(link, overwrite=True))
    assert created.outs is not None
    assert not link.is_symlink() and link.read_text() == "hello\n"

    with pytest.raises(FileConflictError, match="already replaced by another clockwork session"):
        FileProvider().create(props(link, "other", overwrite=True))
    assert link.read_text() == "hello\n"

    provider.delete(created.id, created.outs)
    assert link.is_symlink() and os.readlink(link) == "dangling/target"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_directory_in_the_way_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").mkdir()

    with pytest.raises(FileConflictError, match="is a directory"):
        FileProvider().create(props(tmp_path / "notes.txt", overwrite=True))


def test_diff_rewrites_in_place_for_content_and_replaces_for_another_path(tmp_path: Path) -> None:
    provider = FileProvider()
    created = provider.create(props(tmp_path / "notes.txt"))
    olds = created.outs
    assert olds is not None

    same = provider.diff(created.id, olds, props(tmp_path / "notes.txt", mode=0o640))
    content = provider.diff(created.id, olds, props(tmp_path / "notes.txt", "new"))
    moved = provider.diff(created.id, olds, props(tmp_path / "elsewhere.txt"))
    # An entry rebuilt from the state has only the digest: the file is the same.
    rebuilt = provider.diff(created.id, olds, {**props(tmp_path / "notes.txt"), "content": ""})

    assert not rebuilt.changes
    assert not same.changes
    assert content.changes and not content.replaces
    assert moved.changes and moved.replaces == ["path"]


def test_update_rewrites_and_delete_still_removes_the_directories_create_made(
    tmp_path: Path,
) -> None:
    target = tmp_path / "new" / "notes.txt"
    provider = FileProvider()
    created = provider.create(props(target))
    assert created.outs is not None

    updated = provider.update(created.id, created.outs, props(target, "second", mode=0o600))

    assert target.read_text() == "second"
    assert mode_of(target) == 0o600
    assert updated.outs is not None
    provider.delete(created.id, updated.outs)
    assert not (tmp_path / "new").exists()


def test_delete_of_a_file_already_gone_is_fine(tmp_path: Path) -> None:
    provider = FileProvider()
    created = provider.create(props(tmp_path / "notes.txt"))
    assert created.outs is not None
    (tmp_path / "notes.txt").unlink()

    provider.delete(created.id, created.outs)
    assert provider.read(created.id, created.outs).id is None


def test_a_directory_resource_removes_only_the_directories_it_made(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    provider = DirectoryProvider()

    created = provider.create({"path": str(tmp_path / "data" / "www" / "static")})
    assert created.outs is not None
    assert (tmp_path / "data" / "www" / "static").is_dir()
    assert created.outs["directories"] == [
        str(tmp_path / "data" / "www"),
        str(tmp_path / "data" / "www" / "static"),
    ]

    provider.delete(created.id, created.outs)
    assert (tmp_path / "data").is_dir()
    assert list((tmp_path / "data").iterdir()) == []


# -- git clones: the clone provider ---------------------------------------------------------


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """A bare repository with a ``main`` and a ``feature`` branch."""
    work = tmp_path / "upstream"
    work.mkdir()
    git("init", "--quiet", "--initial-branch=main", cwd=work)
    (work / "README").write_text("main\n")
    git("add", "README", cwd=work)
    git("commit", "--quiet", "-m", "one", cwd=work)
    git("checkout", "--quiet", "-b", "feature", cwd=work)
    (work / "README").write_text("feature\n")
    git("commit", "--quiet", "-am", "two", cwd=work)
    git("checkout", "--quiet", "main", cwd=work)
    bare = tmp_path / "origin.git"
    git("clone", "--quiet", "--bare", str(work), str(bare), cwd=tmp_path)
    shutil.rmtree(work)
    return bare


def clone_props(origin: Path, rootdir: Path, dest: str, branch: str | None = None) -> Any:
    """The provider's inputs, as the program declares them for a GitRepoResource."""
    resource = GitRepoResource(repo_url=str(origin), dest=dest, branch=branch)
    spec = resource.spec(SpecContext(rootdir=rootdir, key="repo"))
    return {
        "key": spec.key,
        "repo_url": spec.repo_url,
        "dest": str(spec.dest),
        "branch": spec.branch,
        "directories": None,
    }


def test_the_clone_provider_clones_and_its_delete_removes_the_clone_and_new_dirs(
    origin: Path, tmp_path: Path
) -> None:
    provider = CloneProvider()

    created = provider.create(clone_props(origin, tmp_path, "work/src/repo", branch="feature"))

    assert (tmp_path / "work" / "src" / "repo" / "README").read_text() == "feature\n"
    assert created.id == str(tmp_path / "work" / "src" / "repo")
    assert created.outs is not None
    assert created.outs["directories"] == [str(tmp_path / "work"), str(tmp_path / "work" / "src")]

    provider.delete(created.id, created.outs)

    assert not (tmp_path / "work").exists()
    assert (tmp_path / "origin.git").is_dir()
    assert provider.read(created.id, created.outs).id is None


def test_the_clone_provider_refuses_a_non_empty_dest_it_did_not_create(
    origin: Path, tmp_path: Path
) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "mine.txt").write_text("keep")

    with pytest.raises(FileConflictError) as caught:
        CloneProvider().create(clone_props(origin, tmp_path, "repo"))

    message = str(caught.value)
    assert "resource 'repo'" in message
    assert str(tmp_path / "repo") in message
    assert "already exists and is not empty, and clockwork did not create it" in message
    assert "choose another dest" in message
    assert caught.value.resource == "repo"
    assert [p.name for p in (tmp_path / "repo").iterdir()] == ["mine.txt"]
    assert (tmp_path / "repo" / "mine.txt").read_text() == "keep"


def test_the_clone_provider_clones_into_an_empty_directory(origin: Path, tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()

    created = CloneProvider().create(clone_props(origin, tmp_path, "repo"))

    assert created.outs is not None and created.outs["directories"] == []
    assert (tmp_path / "repo" / "README").read_text() == "main\n"


def test_the_clone_provider_uses_the_default_branch_without_one(
    origin: Path, tmp_path: Path
) -> None:
    created = CloneProvider().create(clone_props(origin, tmp_path, "repo"))

    assert created.outs is not None and created.outs["directories"] == []
    assert (tmp_path / "repo" / "README").read_text() == "main\n"


def test_a_failed_clone_says_what_to_check_and_leaves_nothing_behind(
    origin: Path, tmp_path: Path
) -> None:
    with pytest.raises(DeploymentError) as caught:
        CloneProvider().create(clone_props(origin, tmp_path, "a/b/repo", branch="no-such"))

    message = str(caught.value)
    assert message.startswith("resource 'repo': git clone --quiet failed")
    assert "(check repo_url and branch)" in message
    assert "no-such" in message  # git's own reason
    assert not (tmp_path / "a").exists()


def test_diff_replaces_the_clone_for_another_repository_dest_or_branch(
    origin: Path, tmp_path: Path
) -> None:
    provider = CloneProvider()
    olds = {**clone_props(origin, tmp_path, "repo"), "directories": []}

    same = provider.diff("repo", olds, clone_props(origin, tmp_path, "repo"))
    branch = provider.diff("repo", olds, clone_props(origin, tmp_path, "repo", branch="feature"))
    moved = provider.diff("repo", olds, clone_props(origin, tmp_path, "elsewhere"))
    other = provider.diff("repo", olds, clone_props(tmp_path / "other.git", tmp_path, "repo"))

    assert not same.changes
    assert branch.changes and branch.replaces == ["branch"]
    assert moved.changes and moved.replaces == ["dest"]
    assert other.changes and other.replaces == ["repo_url"]
