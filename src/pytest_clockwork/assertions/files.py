"""Built-in checks of files: it exists, its content matches."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Self

from pydantic import model_validator

from pytest_clockwork.assertions.base import Assertion, AssertionFailed, Pattern
from pytest_clockwork.resources.file import FileResource
from pytest_clockwork.resources.git import GitRepoResource

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource

FILES: tuple[type[Resource], ...] = (FileResource, GitRepoResource)


def _resolve(resource: Resource, path: str | None) -> Path:
    """``path`` relative to the resource (a file's directory, a clone's root)."""
    own = Path(str(resource.outputs["path"]))
    if path is None:
        return own
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    base = own if own.is_dir() or isinstance(resource, GitRepoResource) else own.parent
    return base / candidate


class FileExistsAssert(Assertion):
    """A file exists.

    Attributes:
        path: Defaults to the resource's own file; a relative path is relative to the
            resource (a file's directory, a repository clone's root).
    """

    resource_types = FILES
    path: str | None = None

    def check(self, resource: Resource) -> None:
        """Fail unless the path exists."""
        target = _resolve(resource, self.path)
        if not target.exists():
            raise AssertionFailed(f"resource {resource.key!r}: {target} does not exist")


class FileContentMatchesAssert(Assertion):
    """A file's content matches a regular expression, or contains a text.

    Attributes:
        pattern: A regular expression searched in the content.
        contains: A text that must appear in the content.
        path: As for :class:`FileExistsAssert`.
    """

    resource_types = FILES
    pattern: Pattern | None = None
    contains: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _one_expectation(self) -> Self:
        if (self.pattern is None) == (self.contains is None):
            raise ValueError("give FileContentMatchesAssert either pattern=... or contains=...")
        return self

    def check(self, resource: Resource) -> None:
        """Fail when the file is missing or its content does not match."""
        target = _resolve(resource, self.path)
        try:
            content = target.read_text(errors="replace")
        except OSError as exc:
            raise AssertionFailed(
                f"resource {resource.key!r}: cannot read {target}: {exc}"
            ) from None
        if self.pattern is not None and not re.search(self.pattern, content, re.MULTILINE):
            expected = f"pattern {self.pattern!r}"
        elif self.contains is not None and self.contains not in content:
            expected = f"text {self.contains!r}"
        else:
            return
        shown = content if len(content) <= 200 else content[:200] + "..."
        raise AssertionFailed(
            f"resource {resource.key!r}: {target} does not contain {expected}; it contains "
            f"{shown!r}"
        )
