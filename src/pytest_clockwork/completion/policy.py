"""The safety rules every value a model proposes must pass (and every value read back
from ``clockwork.lock``, which could have been edited by hand).

Only completed values are judged: what the user declared is the user's choice. A
rejected value goes back to the model with the reason, so it can propose another.

- Files and clones stay inside the rootdir (and out of ``.git`` and ``.clockwork``).
- File modes are plain permissions: not world-writable, no setuid, setgid or sticky bit.
- No privileged containers: ``privileged`` is never completed, and a proposal that
  tries to set it is rejected.
- Host volume mounts stay inside the rootdir.
- No host ports below 1024 (the user may pin them; a model may not).
- Secrets only by the references the completion was shown, never a masked value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_clockwork.notation import parse_mode, parse_port, parse_volume, resolve_path
from pytest_clockwork.resources import secrets
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.resources.container import ContainerResource
from pytest_clockwork.resources.file import FileResource
from pytest_clockwork.resources.git import GitRepoResource
from pytest_clockwork.specs import default_name
from pytest_clockwork.state import STATE_DIR

from .request import NEVER_COMPLETED

_KEPT_OUT = (".git", STATE_DIR)


@dataclass(frozen=True)
class Rejection:
    """A proposed value that was refused.

    Attributes:
        field: The field it was proposed for.
        value: The proposed value.
        reason: Why it was refused, phrased for the model and for the user.
    """

    field: str
    value: Any
    reason: str

    def __str__(self) -> str:
        return f"{self.field} = {self.value!r}: {self.reason}"


def review(
    candidate: Resource,
    proposed: Mapping[str, Any],
    *,
    rootdir: Path,
    references: Iterable[str] = (),
) -> list[Rejection]:
    """The rejections of ``proposed`` (empty when every value is acceptable).

    Args:
        candidate: The resource rebuilt with the proposed values (already validated).
        proposed: The proposed values by field, as JSON.
        rootdir: pytest's rootdir, which files and mounts must stay inside.
        references: The secret references the completion was shown; only those may be used.
    """
    return [
        *_references(proposed, set(references)),
        *_review(candidate, proposed, rootdir.resolve()),
    ]


def _references(proposed: Mapping[str, Any], allowed: set[str]) -> Iterator[Rejection]:
    for name, value in proposed.items():
        unknown = sorted(secrets.references(value) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed)) or "none were shown"
            yield Rejection(
                name,
                value,
                f"{', '.join(unknown)} is not a secret you were shown; use only these "
                f"references: {known}",
            )
        if secrets.MASK in json.dumps(value):
            yield Rejection(
                name,
                value,
                f"{secrets.MASK} stands for a hidden value; use its ${{secret:...}} reference",
            )


def _review(candidate: Resource, proposed: Mapping[str, Any], root: Path) -> Iterator[Rejection]:
    for name in sorted(NEVER_COMPLETED.intersection(proposed)):
        yield Rejection(
            name,
            proposed[name],
            "clockwork never lets a model set this; only the declaration may",
        )
    if isinstance(candidate, FileResource):
        yield from _file(candidate, proposed, root)
    if isinstance(candidate, ContainerResource):
        yield from _container(candidate, proposed, root)
    if isinstance(candidate, GitRepoResource):
        yield from _git(candidate, proposed, root)


def _file(candidate: FileResource, proposed: Mapping[str, Any], root: Path) -> Iterator[Rejection]:
    if candidate.path is None and ("directory" in proposed or "name" in proposed):
        directory = resolve_path(candidate.directory or ".", root)
        target = directory / (candidate.name or default_name(candidate.key))
        problem = _outside(target, root)
        if problem:
            field = "directory" if "directory" in proposed else "name"
            yield Rejection(field, proposed[field], f"the file would be {target}, {problem}")
    if "mode" in proposed and candidate.mode is not None:
        mode = parse_mode(candidate.mode)
        if mode & 0o002:
            yield Rejection(
                "mode", proposed["mode"], "world-writable files are refused; use e.g. '644'"
            )
        if mode & 0o7000:
            yield Rejection(
                "mode",
                proposed["mode"],
                f"mode {mode:04o} sets the setuid, setgid or sticky bit; give plain "
                "permissions as an octal string, e.g. '644' or '755'",
            )


def _container(
    candidate: ContainerResource, proposed: Mapping[str, Any], root: Path
) -> Iterator[Rejection]:
    if "ports" in proposed:
        for text in candidate.ports or []:
            port = parse_port(text)
            if port.host_port is not None and port.host_port < 1024:
                yield Rejection(
                    "ports",
                    proposed["ports"],
                    f"{text!r} pins host port {port.host_port}, below 1024; publish "
                    f'"{port.container_port}" and a free host port is chosen at deploy',
                )
    if "volumes" in proposed:
        for text in candidate.volumes or []:
            mount = parse_volume(text)
            if mount.is_bind:
                problem = _outside(resolve_path(mount.source, root), root)
                if problem:
                    yield Rejection(
                        "volumes", proposed["volumes"], f"{text!r} mounts a path {problem}"
                    )


def _git(
    candidate: GitRepoResource, proposed: Mapping[str, Any], root: Path
) -> Iterator[Rejection]:
    if "dest" in proposed and candidate.dest is not None:
        problem = _outside(resolve_path(candidate.dest, root), root)
        if problem:
            yield Rejection("dest", proposed["dest"], f"the clone would be {problem}")
    url = candidate.repo_url
    if "repo_url" in proposed and url is not None:
        local = url.removeprefix("file://") if url.startswith("file://") else None
        if local is None and "://" not in url and "@" not in url.split("/")[0]:
            local = url
        problem = _outside(resolve_path(local, root), root) if local is not None else None
        if problem:
            yield Rejection("repo_url", url, f"the local repository {local} is {problem}")


def _outside(path: Path, root: Path) -> str | None:
    """Why ``path`` is not an acceptable place to write, or ``None`` when it is."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        return f"outside the rootdir {root}"
    parts = resolved.relative_to(root).parts
    if parts and parts[0] in _KEPT_OUT:
        return f"inside {parts[0]}/, where git and clockwork keep their state"
    return None
