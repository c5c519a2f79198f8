"""GitRepoResource: a clone of a git repository."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

from pydantic import model_validator

from pytest_clockwork.errors import DeclarationError
from pytest_clockwork.notation import resolve_path
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.specs import GitSpec, SpecContext


class GitRepoResource(Resource):
    """A git clone, made at deploy and removed at teardown.

    Attributes:
        repo_url: What to clone: a URL, or a local path (relative to rootdir).
        dest: Where to clone it, relative to rootdir (default: the fixture name).
        branch: The branch (or tag) to check out.
        pull: When the clone already exists from a kept session, pull before use.
    """

    completable: ClassVar[tuple[str, ...]] = ("repo_url", "branch", "dest")
    in_words: ClassVar[str | None] = "repositories"

    repo_url: str | None = None
    dest: Path | None = None
    branch: str | None = None
    pull: bool = False

    @model_validator(mode="after")
    def _needs_url(self) -> Self:
        if self.repo_url is None and self.description is None:
            raise ValueError(
                "a GitRepoResource needs repo_url=..., or a description=... for the AI "
                "to choose one"
            )
        for field in ("repo_url", "branch"):
            value = getattr(self, field)
            if value is not None and (not value.strip() or value.startswith("-")):
                raise ValueError(
                    f"{field}={value!r}: give a repository URL or path and a branch name; "
                    "neither may be empty or start with '-' (git would read it as an option)"
                )
        if self.branch is not None and (
            ".." in self.branch or any(c.isspace() for c in self.branch)
        ):
            raise ValueError(f"branch={self.branch!r} is not a valid git branch or tag name")
        return self

    def spec(self, context: SpecContext) -> GitSpec:
        """The repository and the absolute destination."""
        if self.repo_url is None:
            raise DeclarationError(
                f"resource {context.key!r} has no repo_url: give repo_url=... or complete "
                "it (see clockwork.lock)",
                resource=context.key,
            )
        url = self.repo_url
        if "://" not in url and "@" not in url.split("/")[0]:
            url = str(resolve_path(url, context.rootdir))
        return GitSpec(
            key=context.key,
            repo_url=url,
            dest=resolve_path(self.dest or (self.name or context.name), context.rootdir),
            branch=self.branch,
            pull=self.pull,
        )

    @property
    def path(self) -> Path:
        """The deployed clone's absolute path."""
        return Path(self.outputs["path"])
