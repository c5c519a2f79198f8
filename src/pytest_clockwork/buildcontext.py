"""What an image build reads, and the digest that says whether it changed.

A build sends its context: the files under the context directory that ``.dockerignore``
does not exclude, matched exactly as the Docker SDK matches them when it makes the
context (:func:`docker.utils.build.exclude_paths`), so the digest covers what the build
sees and nothing else. The digest also covers the Dockerfile, the target and the build
arguments: equal digests build the same image.

A session digests each set of inputs once (it computes specs several times: the
catalog hands the same ``memo`` to each), and only for the resources it plans.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


def ignore_patterns(context: Path) -> list[str]:
    """The patterns of the context's ``.dockerignore``, read as the Docker SDK reads them."""
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text(errors="replace").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def context_files(context: Path, dockerfile: str) -> list[str]:
    """The paths (relative to ``context``, sorted) a build of ``context`` sends."""
    from docker.utils.build import exclude_paths

    return sorted(exclude_paths(str(context), ignore_patterns(context), dockerfile=dockerfile))


def stages(dockerfile_text: str) -> list[str]:
    """The named stages of a Dockerfile (``FROM image AS name``), lowercase as Docker has them."""
    return [name.lower() for name in _FROM.findall(dockerfile_text)]


def build_digest(
    context: Path,
    dockerfile: str,
    target: str | None,
    args: Mapping[str, str],
    memo: MutableMapping[Any, Any] | None = None,
) -> str:
    """``sha256:<hex>`` of a build's inputs.

    Args:
        context: The context directory (absolute).
        dockerfile: The Dockerfile, relative to the context.
        target: The stage built.
        args: The build arguments.
        memo: Digests computed before (by this session): the inputs are read only
            when ``memo`` has none for them yet.

    Raises:
        OSError: A file the build would send cannot be read.
    """
    key = ("build-digest", str(context), dockerfile, target, tuple(sorted(args.items())))
    if memo is not None and key in memo:
        return str(memo[key])
    digest = _compute(context, dockerfile, target, args)
    if memo is not None:
        memo.setdefault(key, digest)
    return digest


def _compute(context: Path, dockerfile: str, target: str | None, args: Mapping[str, str]) -> str:
    total = hashlib.sha256()

    def add(*parts: str) -> None:
        for part in parts:
            data = part.encode(errors="surrogateescape")
            total.update(len(data).to_bytes(8, "big") + data)

    add("dockerfile", dockerfile, _file_digest(context / dockerfile))
    add("target", target or "")
    for name, value in sorted(args.items()):
        add("arg", name, value)
    for relative in context_files(context, dockerfile):
        path = context / relative
        info = os.lstat(path)
        mode = oct(stat.S_IMODE(info.st_mode))
        if stat.S_ISLNK(info.st_mode):
            add("link", relative, os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            add("directory", relative, mode)
        elif stat.S_ISREG(info.st_mode):
            add("file", relative, mode, _file_digest(path))
    return "sha256:" + total.hexdigest()


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
