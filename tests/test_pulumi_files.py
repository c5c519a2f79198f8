"""Files, directories and clones of the Pulumi engine, against real files in tmp_path.

The dynamic providers are called directly (Pulumi does not run them under mocks); the
clone's create and delete scripts are run with ``sh`` the way pulumi-command runs them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork import GitRepoResource, SpecContext
from pytest_clockwork.engines.pulumi.args import git_command
from pytest_clockwork.engines.pulumi.files import DirectoryProvider, FileProvider
from pytest_clockwork.errors import FileConflictError
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


# -- git clones: the create and delete scripts of the Command ----------------------------


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    repo.mkdir()
    git("init", "--quiet", "--initial-branch=main", cwd=repo)
    (repo / "README").write_text("main\n")
    git("add", "README", cwd=repo)
    git("commit", "--quiet", "-m", "one", cwd=repo)
    git("checkout", "--quiet", "-b", "feature", cwd=repo)
    (repo / "README").write_text("feature\n")
    git("commit", "--quiet", "-am", "two", cwd=repo)
    git("checkout", "--quiet", "main", cwd=repo)
    return repo


def run_script(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # pulumi-command runs a Command's scripts with /bin/sh -c and its environment.
    return subprocess.run(
        ["/bin/sh", "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def clone_command(origin: Path, rootdir: Path, dest: str, branch: str | None = None) -> Any:
    resource = GitRepoResource(repo_url=str(origin), dest=dest, branch=branch)
    return git_command(resource.spec(SpecContext(rootdir=rootdir, key="repo")))


def test_the_clone_command_clones_and_its_delete_removes_the_clone_and_new_dirs(
    origin: Path, tmp_path: Path
) -> None:
    command = clone_command(origin, tmp_path, "work/src/repo", branch="feature")

    created = run_script(command["create"], command["environment"])
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "work" / "src" / "repo" / "README").read_text() == "feature\n"

    stdout = created.stdout.strip()  # pulumi-command keeps stdout trimmed
    deleted = run_script(
        command["delete"], {**command["environment"], "PULUMI_COMMAND_STDOUT": stdout}
    )
    assert deleted.returncode == 0, deleted.stderr
    assert not (tmp_path / "work").exists()
    assert (tmp_path / "origin").is_dir()


def test_the_clone_command_refuses_a_non_empty_dest_it_did_not_create(
    origin: Path, tmp_path: Path
) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "mine.txt").write_text("keep")
    command = clone_command(origin, tmp_path, "repo")

    created = run_script(command["create"], command["environment"])

    assert created.returncode != 0
    assert "already exists and is not empty, and clockwork did not create it" in created.stderr
    assert (tmp_path / "repo" / "mine.txt").read_text() == "keep"


def test_the_clone_command_uses_the_default_branch_without_one(
    origin: Path, tmp_path: Path
) -> None:
    command = clone_command(origin, tmp_path, "repo")

    created = run_script(command["create"], command["environment"])

    assert created.returncode == 0, created.stderr
    assert created.stdout == ""
    assert (tmp_path / "repo" / "README").read_text() == "main\n"
