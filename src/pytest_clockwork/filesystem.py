"""Filesystem steps both engines take the same way: only what clockwork creates goes.

Directories are created top-down (so each can be recorded before it exists) and removed
deepest first, only once empty; files are written atomically with their mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def missing_directories(directory: str | Path) -> list[Path]:
    """``directory`` and its parents that do not exist yet, outermost first."""
    missing: list[Path] = []
    path = Path(directory)
    while not path.exists():
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


def write_atomically(path: Path, content: str | bytes, mode: int) -> None:
    """Write ``content`` with ``mode``: a temporary file renamed over ``path``."""
    temporary = path.with_name(f".{path.name}.clockwork-{os.getpid()}")
    temporary.write_bytes(content.encode() if isinstance(content, str) else content)
    os.chmod(temporary, mode)
    os.replace(temporary, path)
