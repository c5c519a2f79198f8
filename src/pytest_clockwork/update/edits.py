"""A change set as edits of the project's ``conftest.py`` sources, and their diff.

Field changes edit the keyword arguments of the declaration (a mapping entry by entry, so
the other entries and their comments stay), assertions go into its ``assertions=[...]``,
new resources are appended as module-level declarations, removed ones are deleted. What
cannot be edited safely (a resource built in a loop or by a function, a mapping spread
from another) is a :class:`ByHand`: the reason and the code to add by hand.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_clockwork.resources.base import Resource

from .changes import AssertionChange, ChangeSet, FieldChange, NewResource
from .literals import Call, Unwritable, literal, string
from .source import NotEditable, Render, SourceFile


@dataclass(frozen=True)
class ByHand:
    """A change that is not written: why, and the code to add by hand.

    Attributes:
        key: The resource.
        where: The conftest it is declared in (as shown), or ``""`` when unknown.
        reason: Why it is not edited.
        code: What to add to the declaration.
    """

    key: str
    where: str
    reason: str
    code: str

    def __str__(self) -> str:
        place = f" in {self.where}" if self.where else ""
        return f"{self.key}{place}: {self.reason}; add by hand:\n    {self.code}"


@dataclass
class Edits:
    """The edited conftests and what is left to do by hand.

    Attributes:
        files: Every conftest read, by path (edited or not).
        by_hand: The changes that are not written.
    """

    files: dict[Path, SourceFile]
    by_hand: list[ByHand] = field(default_factory=list)

    @property
    def changed(self) -> list[SourceFile]:
        """The files whose text changes."""
        return [f for f in self.files.values() if f.changed and f.render().encode() != f.original]

    def diff(self) -> str:
        """The unified diff of every changed file (``a/`` and ``b/`` paths, as git shows)."""
        parts: list[str] = []
        for source in self.changed:
            before = source.original.decode().splitlines(keepends=True)
            after = source.render().splitlines(keepends=True)
            parts += difflib.unified_diff(
                before,
                after,
                fromfile=f"a/{source.shown}" if source.original else "/dev/null",
                tofile=f"b/{source.shown}",
            )
        return "".join(line if line.endswith("\n") else line + "\n" for line in parts)


def edit_sources(
    rootdir: Path,
    conftests: Mapping[Path, bytes],
    roots: Mapping[str, Resource],
    changes: ChangeSet,
) -> Edits:
    """The edits that carry out ``changes`` in ``conftests``.

    Args:
        rootdir: pytest's rootdir (new resources go to its conftest.py by default).
        conftests: The project's conftest.py files and their content as read.
        roots: The declared module-level resources by key.
        changes: An accepted change set (see :func:`~.evolve.evolve`).

    Raises:
        NotEditable: A conftest is not valid Python.
    """
    files = {
        path: SourceFile(path, data, path.relative_to(rootdir).as_posix())
        for path, data in sorted(conftests.items())
    }
    top = rootdir / "conftest.py"
    if top not in files and not files:
        files[top] = SourceFile(top, b"", "conftest.py")
    edits = Edits(files)
    editor = _Editor(edits, roots)
    by_field: dict[str, list[FieldChange]] = {}
    for change in changes.changes:
        by_field.setdefault(change.resource, []).append(change)
    checks: dict[str, list[AssertionChange]] = {}
    for check in changes.assertions:
        checks.setdefault(check.resource, []).append(check)
    for key, field_changes in by_field.items():
        editor.fields(key, field_changes)
    for key, key_checks in checks.items():
        if key in roots:
            editor.assertions(key, key_checks)
    for new in changes.new_resources:
        editor.create(new, checks.get(new.name, []), top)
    for key in changes.removals:
        editor.remove(key)
    return edits


class _Editor:
    def __init__(self, edits: Edits, roots: Mapping[str, Resource]) -> None:
        self.edits = edits
        self.roots = roots

    def source_of(self, key: str) -> SourceFile | None:
        """The conftest that binds ``key`` at module level (or anywhere in it)."""
        return next((f for f in self.edits.files.values() if key in f.bound_names()), None)

    def fields(self, key: str, changes: Sequence[FieldChange]) -> None:
        resource = self.roots[key]
        source = self.source_of(key)
        try:
            if source is None:
                raise NotEditable(f"{key} is not bound by name in a conftest.py")
            call = source.constructor(key, type(resource).__name__)
            for change in changes:
                self._field(source, call, resource, change)
        except (NotEditable, Unwritable) as exc:
            code = ", ".join(f"{c.field}={_code(c.value)}" for c in changes)
            self._by_hand(key, source, str(exc), code)

    def _field(
        self, source: SourceFile, call: ast.Call, resource: Resource, change: FieldChange
    ) -> None:
        info = type(resource).model_fields.get(change.field)
        names = [change.field, info.alias] if info is not None and info.alias else [change.field]
        existing = source.keyword(call, names)
        if existing is None:
            if change.value is None:
                return
            source.takes_keyword(call)
            name = change.field
            value = change.value
            quote = source.quote
            source.add_item(
                call,
                lambda indent, column: (
                    f"{name}="
                    + literal(value, quote=quote, indent=indent, column=column + len(name) + 1)
                ),
            )
            return
        node = existing.value
        before = resource.context().get(existing.arg or change.field)  # secrets as references
        if isinstance(node, ast.Dict) and isinstance(change.value, Mapping):
            self._mapping(source, node, change.value, before)
            return
        if change.value not in (before, _literal_value(node)):
            self._replace(source, node, change.value)

    def _mapping(
        self, source: SourceFile, node: ast.Dict, value: Mapping[str, Any], before: Any
    ) -> None:
        """Edit a mapping literal entry by entry: the others, and their comments, stay;
        so does an entry given back as it was shown (a secret, as its reference)."""
        shown = before if isinstance(before, Mapping) else {}
        keys = []
        for key in node.keys:
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise NotEditable(
                    f"the mapping on line {node.lineno} has keys that are not plain strings"
                )
            keys.append(key.value)
        for index, name in enumerate(keys):
            if name not in value:
                source.remove_entry(node, index)
            elif value[name] not in (_literal_value(node.values[index]), shown.get(name)):
                self._replace(source, node.values[index], value[name])
        for name, item in value.items():
            if name not in keys:
                source.add_item(node, _entry(name, item, source.quote))

    def _replace(self, source: SourceFile, node: ast.expr, value: Any) -> None:
        start, _ = source.span(node)
        column = start - source.line_of(start)[0]
        text = literal(value, quote=source.quote, indent=source.indent_at(start), column=column)
        source.replace(node, text)

    def assertions(self, key: str, checks: Sequence[AssertionChange]) -> None:
        resource = self.roots[key]
        source = self.source_of(key)
        try:
            if source is None:
                raise NotEditable(f"{key} is not bound by name in a conftest.py")
            call = source.constructor(key, type(resource).__name__)
            existing = source.keyword(call, ["assertions"])
            if existing is None:
                source.takes_keyword(call)
                values = [self._check(source, c) for c in checks]
                quote = source.quote
                source.add_item(
                    call,
                    lambda indent, column: (
                        "assertions="
                        + literal(values, quote=quote, indent=indent, column=column + 11)
                    ),
                )
                return
            listed = existing.value
            if not isinstance(listed, ast.List) or len(listed.elts) != len(resource.assertions):
                raise NotEditable(
                    f"its assertions (line {existing.value.lineno}) are not a list of the "
                    "checks themselves"
                )
            for check in checks:
                self._add_check(source, listed, check)
        except (NotEditable, Unwritable) as exc:
            code = "assertions=[..., " + ", ".join(_code(self._call(c, c.type)) for c in checks)
            self._by_hand(key, source, str(exc), code + "]")

    def _add_check(self, source: SourceFile, listed: ast.List, check: AssertionChange) -> None:
        value = self._check(source, check)
        if check.replaces is not None:
            self._replace(source, listed.elts[check.replaces - 1], value)
            return
        quote = source.quote
        source.add_item(
            listed,
            lambda indent, column: literal(value, quote=quote, indent=indent, column=column),
        )

    def _check(self, source: SourceFile, check: AssertionChange) -> Call:
        return self._call(check, source.imported(check.type))

    @staticmethod
    def _call(check: AssertionChange, name: str) -> Call:
        return Call(name, tuple(check.arguments.items()))

    def create(self, new: NewResource, checks: Sequence[AssertionChange], top: Path) -> None:
        source = self._place(new, top)
        arguments: list[tuple[str, Any]] = list(new.fields.items())
        if checks:
            arguments.append(("assertions", [self._check(source, c) for c in checks]))
        call = Call(source.imported(new.type), tuple(arguments))
        head = f"{new.name} = "
        text = head + literal(call, quote=source.quote, column=len(head))
        if new.connect:
            text += f".connect({', '.join(new.connect)})"
        source.append(text)

    def _place(self, new: NewResource, top: Path) -> SourceFile:
        files = self.edits.files
        if new.conftest:
            wanted = next((f for f in files.values() if f.shown == new.conftest), None)
            if wanted is not None:
                return wanted
        for key in new.connect:
            found = self.source_of(key)
            if found is not None:
                return found
        if top in files:
            return files[top]
        return min(files.values(), key=lambda f: (len(Path(f.shown).parts), f.shown))

    def remove(self, key: str) -> None:
        source = self.source_of(key)
        try:
            if source is None:
                raise NotEditable(f"{key} is not bound by name in a conftest.py")
            statement = source.binding(key)
            used = source.references(key, statement)
            if used:
                lines = ", ".join(str(line) for line in used)
                raise NotEditable(f"{key} is used on line {lines} of {source.shown}")
            source.remove_statement(statement)
        except NotEditable as exc:
            self._by_hand(key, source, str(exc), f"remove the declaration of {key}")

    def _by_hand(self, key: str, source: SourceFile | None, reason: str, code: str) -> None:
        where = source.shown if source is not None else ""
        self.edits.by_hand.append(ByHand(key, where, reason, code))


def _entry(name: str, value: Any, quote: str) -> Render:
    """A mapping entry's source, as :meth:`SourceFile.add_item` asks for it."""

    def render(indent: str, column: int) -> str:
        key = string(name, quote)
        return f"{key}: " + literal(value, quote=quote, indent=indent, column=column + len(key) + 2)

    return render


def _literal_value(node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _Unknown()
    return list(value) if isinstance(value, tuple) else value


class _Unknown:
    """A value that is not a literal: never equal to a proposed one."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


def _code(value: Any) -> str:
    try:
        return literal(value)
    except Unwritable:
        return repr(value)
