"""FileResource: a file written with its content and mode."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import SecretStr, field_validator, model_validator

from pytest_clockwork.errors import DeclarationError
from pytest_clockwork.notation import check_filename, parse_mode, resolve_path
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.resources.resets import check_file_reset, restore_file
from pytest_clockwork.resources.secrets import expand
from pytest_clockwork.resources.types import FileMode, Text
from pytest_clockwork.specs import FileSpec, SpecContext


class FileResource(Resource):
    """A file: written at deploy, removed at teardown.

    Attributes:
        name: The file's name. Defaults to the fixture name (or the AI's choice when a
            description is given).
        content: The text to write.
        directory: Where the file goes; relative to pytest's rootdir (default: rootdir).
        mode: Permissions as an octal string, e.g. ``"644"`` (default) or ``"755"``.
        path: The whole path; overrides ``directory`` and ``name``. In the fixture value
            this is the absolute path of the written file.
        overwrite: Replace a file that clockwork did not create (it is restored at
            teardown). Without it, an existing file is an error.
        reset: Write the declared content and mode again before each test that uses the
            fixture, whatever an earlier test did to the file.

    Example:
        ``notes = FileResource(name="notes.txt", content="hello", directory="scratch")``
    """

    completable: ClassVar[tuple[str, ...]] = ("name", "content", "directory", "mode")
    in_words: ClassVar[str | None] = "files"
    free_text: ClassVar[tuple[str, ...]] = ("description", "content")

    content: Text | None = None
    directory: Path | None = None
    mode: FileMode | None = None
    path: Path | None = None
    overwrite: bool = False
    reset: bool = False

    @field_validator("reset", mode="before")
    @classmethod
    def _check_reset(cls, value: Any) -> Any:
        return check_file_reset(value)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return None if value is None else check_filename(value)

    @model_validator(mode="after")
    def _needs_content(self) -> Self:
        if self.content is None and self.description is None:
            raise ValueError(
                "a FileResource needs content=..., or a description=... for the AI to write it"
            )
        return self

    def spec(self, context: SpecContext) -> FileSpec:
        """The file's absolute path, content and mode."""
        if self.path is not None:
            path = resolve_path(self.path, context.rootdir)
        else:
            directory = resolve_path(self.directory or ".", context.rootdir)
            path = directory / (self.name or context.name)
        if self.content is None:
            raise DeclarationError(
                f"resource {context.key!r} has no content: give content=... or complete it "
                "(see clockwork.lock)",
                resource=context.key,
            )
        text = self.content
        if isinstance(text, SecretStr):
            text = text.get_secret_value()
        try:
            content, _ = expand(text, context.secret, "content")
        except ValueError as exc:
            raise DeclarationError(
                f"resource {context.key!r}: {exc}", resource=context.key
            ) from None
        return FileSpec(
            key=context.key,
            path=path,
            content=content,
            mode=parse_mode(self.mode or "644"),
            overwrite=self.overwrite,
        )

    def _output_fields(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"path": Path(outputs["path"])}

    @property
    def resets(self) -> bool:
        """Whether the file is written again before each test (``reset=True``)."""
        return self.reset

    def reset_now(self) -> None:
        """Write the declared content and mode again, as before each test.

        Raises:
            ResetError: The file cannot be written.
        """
        restore_file(self)

    def read_text(self, encoding: str = "utf-8") -> str:
        """The deployed file's current text."""
        return Path(self.outputs["path"]).read_text(encoding=encoding)
