"""A conftest.py edited as source: the user's formatting and comments stay as they are.

The file is parsed with :mod:`ast`, whose nodes carry their exact positions; an edit
replaces or inserts text at those positions and leaves every other byte alone (the
regions between items, where commas and comments are, are read with :mod:`tokenize`).
A declaration is found only where editing it is safe: a single module-level
``name = Type(...)`` (possibly chained with ``.connect(...)`` / ``.add(...)``); anything
else (built in a loop, by a function, assigned twice) is reported with the reason, and
its change is left to be made by hand.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .literals import INDENT, LINE_LENGTH

CHAIN_METHODS = ("connect", "add")
PACKAGE = "pytest_clockwork"

Render = Callable[[str, int], str]
"""Gives an item's source from its indentation and the column it starts at."""


class NotEditable(Exception):
    """A declaration (or part of one) that cannot be edited safely; the message says why."""


@dataclass
class _Edit:
    start: int
    end: int
    text: str
    order: int


@dataclass
class _Insertion:
    """Items to add to a call, mapping or list, written when the file is rendered."""

    node: ast.expr
    items: list[Render] = field(default_factory=list)


class SourceFile:
    """One conftest.py, its edits, and its new text.

    Args:
        path: The file.
        original: Its content as read (empty when it does not exist yet).
        shown: Its path as messages show it (relative to the rootdir).

    Raises:
        NotEditable: It is not valid Python.
    """

    def __init__(self, path: Path, original: bytes, shown: str) -> None:
        self.path = path
        self.original = original
        self.shown = shown
        self.data = original
        try:
            self.tree = ast.parse(original, filename=shown)
        except (SyntaxError, ValueError) as exc:
            raise NotEditable(f"{shown} cannot be parsed: {exc}") from None
        self._starts = [0]
        for index, byte in enumerate(original):
            if byte == 0x0A:
                self._starts.append(index + 1)
        self._edits: list[_Edit] = []
        self._insertions: dict[int, _Insertion] = {}
        self._appended: list[str] = []
        self._imported: set[str] = set()
        self.quote = _preferred_quote(original)

    # -- positions -----------------------------------------------------------------------

    def offset(self, line: int, column: int) -> int:
        """The byte offset of ``column`` (UTF-8 bytes, as :mod:`ast` counts) on ``line``."""
        return self._starts[line - 1] + column

    def span(self, node: ast.AST) -> tuple[int, int]:
        """Where ``node`` starts and ends, as byte offsets."""
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def text_of(self, node: ast.AST) -> str:
        """The source of ``node`` as it is in the file."""
        start, end = self.span(node)
        return self.data[start:end].decode()

    def line_of(self, offset: int) -> tuple[int, int]:
        """The start and end (before its newline) of the line holding ``offset``."""
        start = self.data.rfind(b"\n", 0, offset) + 1
        end = self.data.find(b"\n", offset)
        return start, len(self.data) if end < 0 else end

    def indent_at(self, offset: int) -> str:
        """The indentation of the line holding ``offset``."""
        start, end = self.line_of(offset)
        line = self.data[start:end].decode()
        return line[: len(line) - len(line.lstrip())]

    def starts_line(self, offset: int) -> bool:
        """Whether only whitespace comes before ``offset`` on its line."""
        start, _ = self.line_of(offset)
        return not self.data[start:offset].strip()

    # -- finding declarations ------------------------------------------------------------

    def binding(self, name: str) -> ast.Assign | ast.AnnAssign:
        """The one module-level statement that binds ``name``.

        Raises:
            NotEditable: It is bound elsewhere too, in a block, or not by an assignment.
        """
        simple: list[ast.Assign | ast.AnnAssign] = []
        elsewhere: list[str] = []
        for statement in self.tree.body:
            if (
                _binds(statement, name)
                and isinstance(statement, ast.Assign | ast.AnnAssign)
                and _plain_target(statement, name)
            ):
                simple.append(statement)
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and node.id == name and _stores(node):
                    elsewhere.append(_where(statement))
                    break
        if len(simple) == 1 and not elsewhere:
            return simple[0]
        if len(simple) > 1 or (simple and elsewhere):
            lines = ", ".join(str(s.lineno) for s in simple)
            raise NotEditable(f"{name} is bound more than once in {self.shown} (lines {lines})")
        if elsewhere:
            raise NotEditable(f"{name} is bound {elsewhere[0]} in {self.shown}")
        raise NotEditable(
            f"{name} is not bound by a plain `{name} = ...` at module level in {self.shown} "
            "(built in a loop, by a function, or imported)"
        )

    def constructor(self, name: str, type_name: str, child: Sequence[str] = ()) -> ast.Call:
        """The ``Type(...)`` call that builds the resource bound to ``name`` (or its child
        along ``child``, a path of child names in the ``.add(...)`` calls).

        Raises:
            NotEditable: It is not built by such a call here.
        """
        statement = self.binding(name)
        expression = statement.value
        assert expression is not None
        for part in child:
            expression = self._child(expression, part, name)
        call = _unchained(expression)
        if call is None:
            raise NotEditable(
                f"{name} is bound to `{_short(ast.unparse(expression))}` in {self.shown} "
                f"(line {expression.lineno}), not to a resource built there"
            )
        callee = _callee(call)
        if callee != type_name:
            raise NotEditable(
                f"{name} is built by `{callee or _short(ast.unparse(call.func))}(...)` in "
                f"{self.shown} (line {call.lineno}), not by {type_name}(...)"
            )
        return call

    def _child(self, expression: ast.expr, name: str, binding: str) -> ast.expr:
        """The expression that builds the child ``name`` in ``expression``'s ``.add(...)``."""
        for method in _chain(expression):
            if _method(method) != "add":
                continue
            for argument in method.args:
                built: ast.expr | None = argument
                if isinstance(argument, ast.Name):
                    try:
                        built = self.binding(argument.id).value
                    except NotEditable:
                        built = None
                call = _unchained(built) if built is not None else None
                if call is not None and built is not None and _keyword_text(call, "name") == name:
                    return built
        raise NotEditable(
            f"the child {name!r} of {binding} is not built in its .add(...) in {self.shown}"
        )

    def references(self, name: str, statement: ast.stmt) -> list[int]:
        """The lines outside ``statement`` where ``name`` is used."""
        found = []
        for other in self.tree.body:
            if other is statement:
                continue
            for node in ast.walk(other):
                if isinstance(node, ast.Name) and node.id == name:
                    found.append(node.lineno)
        return sorted(set(found))

    def bound_names(self) -> set[str]:
        """Every name bound at module level (assignments, imports, functions, classes)."""
        names: set[str] = set()
        pending: list[ast.AST] = list(self.tree.body)
        while pending:
            node = pending.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
                continue
            if isinstance(node, ast.Lambda | ast.comprehension):
                continue
            if isinstance(node, ast.Name) and _stores(node):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
            pending.extend(ast.iter_child_nodes(node))
        return names

    # -- editing -------------------------------------------------------------------------

    def replace(self, node: ast.AST, text: str) -> None:
        """Replace ``node``'s source with ``text``."""
        start, end = self.span(node)
        self._edit(start, end, text)

    def keyword(self, call: ast.Call, names: Sequence[str]) -> ast.keyword | None:
        """The keyword argument of ``call`` given under one of ``names``."""
        return next((k for k in call.keywords if k.arg in names), None)

    def takes_keyword(self, call: ast.Call) -> None:
        """Check that a keyword can be added to ``call``.

        Raises:
            NotEditable: It has ``**arguments``, which may give the keyword already.
        """
        if any(k.arg is None for k in call.keywords):
            raise NotEditable(
                f"`{_short(ast.unparse(call))}` (line {call.lineno}) takes **arguments, which "
                "may give it already"
            )

    def add_item(self, node: ast.expr, render: Render) -> None:
        """Add an item (a keyword argument, a mapping entry, a list element) at the end of
        the call, mapping or list ``node``."""
        self._insertions.setdefault(id(node), _Insertion(node)).items.append(render)

    def remove_entry(self, mapping: ast.Dict, index: int) -> None:
        """Remove entry ``index`` of a mapping literal, its comma and its own line."""
        key = mapping.keys[index]
        assert key is not None
        start = self.span(key)[0]
        end = self.span(mapping.values[index])[1]
        after = _after_item(self.data, end)
        if self.starts_line(start) and after.line_ends:
            line_start, _ = self.line_of(start)
            self._edit(line_start, after.next_line, "")
        elif index + 1 < len(mapping.keys):
            following = mapping.keys[index + 1]
            assert following is not None
            self._edit(start, self.span(following)[0], "")
        elif index > 0:
            self._edit(self.span(mapping.values[index - 1])[1], end, "")
        else:
            self._edit(start, after.comma_end or end, "")

    def remove_statement(self, statement: ast.stmt) -> None:
        """Remove a module-level statement with the comment lines right above it."""
        start, _ = self.line_of(self.span(statement)[0])
        end_line_end = self.line_of(self.span(statement)[1])[1]
        end = min(end_line_end + 1, len(self.data))
        while start > 0:
            previous, _ = self.line_of(start - 1)
            if not self.data[previous:start].strip().startswith(b"#"):
                break
            start = previous
        blank_before = start == 0 or not self.data[self.line_of(start - 1)[0] : start].strip()
        if blank_before and end < len(self.data):
            next_start, next_end = self.line_of(end)
            if not self.data[next_start:next_end].strip():
                end = min(next_end + 1, len(self.data))
        self._edit(start, end, "")

    def append(self, text: str) -> None:
        """Add a module-level statement at the end of the file."""
        self._appended.append(text)

    def imported(self, name: str) -> str:
        """How this file refers to pytest_clockwork's ``name``, importing it when needed."""
        star = False
        module_alias = None
        target: ast.ImportFrom | None = None
        for statement in self.tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module == PACKAGE:
                if any(alias.name == "*" for alias in statement.names):
                    star = True
                target = target or statement
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.name == PACKAGE:
                        module_alias = alias.asname or alias.name
        if star or name in self._imported or name in self.bound_names():
            return name
        if module_alias is not None:
            return f"{module_alias}.{name}"
        if target is not None:
            self._import_into(target, name)
        else:
            self._import_line(name)
        self._imported.add(name)
        return name

    def _import_into(self, statement: ast.ImportFrom, name: str) -> None:
        names = statement.names
        later = [alias for alias in names if alias.name > name]
        ordered = [alias.name for alias in names] == sorted(alias.name for alias in names)
        if ordered and later:
            before = self.span(later[0])[0]
            if self.starts_line(before):
                line_start, _ = self.line_of(before)
                self._edit(line_start, line_start, f"{self.indent_at(before)}{name},\n")
            else:
                self._edit(before, before, f"{name}, ")
            return
        last_end = self.span(names[-1])[1]
        statement_end = self.span(statement)[1]
        if self.data[statement_end - 1 : statement_end] != b")":
            self._edit(last_end, last_end, f", {name}")
            return
        spans = [self.span(alias) for alias in names]
        self._insert(spans, statement_end - 1, [lambda indent, column: name], self._edits)

    def _import_line(self, name: str) -> None:
        after = 0
        for statement in self.tree.body:
            docstring = (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
                and statement is self.tree.body[0]
            )
            if isinstance(statement, ast.Import | ast.ImportFrom) or docstring:
                after = self.line_of(self.span(statement)[1])[1] + 1
            else:
                break
        line = f"from {PACKAGE} import {name}\n"
        if after == 0 and self.data.strip():
            line += "\n"
        if after > len(self.data):  # the last import ends the file, without a newline
            line = "\n" + line.rstrip("\n")
        where = min(after, len(self.data))
        self._edit(where, where, line)

    # -- the result ----------------------------------------------------------------------

    def render(self) -> str:
        """The file's new text."""
        edits = list(self._edits)
        for insertion in self._ordered_insertions():
            self._flush(insertion, edits)
        data = _apply(self.data, edits, 0, len(self.data))
        text = data.decode()
        for statement in self._appended:
            if text and not text.endswith("\n"):
                text += "\n"
            if text.strip():
                text += "\n"
            text += statement.rstrip("\n") + "\n"
        return text

    @property
    def changed(self) -> bool:
        """Whether anything is edited."""
        return bool(self._edits or self._insertions or self._appended)

    def _edit(self, start: int, end: int, text: str) -> None:
        for other in self._edits:
            if start < other.end and other.start < end:
                raise NotEditable(f"two changes overlap in {self.shown}")
        self._edits.append(_Edit(start, end, text, _next(self._edits)))

    def _ordered_insertions(self) -> list[_Insertion]:
        """Innermost first: an outer call rewritten on several lines carries them along."""

        def size(insertion: _Insertion) -> int:
            start, end = self.span(insertion.node)
            return end - start

        return sorted(self._insertions.values(), key=size)

    def _flush(self, insertion: _Insertion, edits: list[_Edit]) -> None:
        """Write the items added to one call, mapping or list into ``edits``."""
        node = insertion.node
        start, end = self.span(node)
        closing = end - 1
        spans = self._item_spans(node)
        if not spans:
            column = closing - self.line_of(closing)[0]
            texts = [render(self.indent_at(start), column) for render in insertion.items]
            edits.append(_Edit(closing, closing, ", ".join(texts), _next(edits)))
            return
        before = len(edits)
        self._insert(spans, closing, insertion.items, edits)
        added = edits[before:]
        exploded = any("\n" in edit.text for edit in added)  # an item too long for the line
        if not self._on_one_line(start, end) or (not exploded and self._fits(start, end, edits)):
            return
        # The line grew too long: one item per line, as black writes it.
        del edits[before:]
        indent = self.indent_at(start)
        inner = indent + INDENT
        parts = []
        for item_start, item_end in spans:
            inside = [edit for edit in edits if item_start <= edit.start and edit.end <= item_end]
            for edit in inside:
                edits.remove(edit)
            parts.append(_apply(self.data, inside, item_start, item_end).decode())
        parts += [render(inner, len(inner)) for render in insertion.items]
        body = "\n" + "".join(f"{inner}{part},\n" for part in parts) + indent
        edits.append(_Edit(self._opening(node) + 1, closing, body, _next(edits)))

    def _insert(
        self,
        spans: list[tuple[int, int]],
        closing: int,
        renders: Sequence[Render],
        edits: list[_Edit],
    ) -> None:
        """Add items after the last of ``spans``, before ``closing``, as the others are laid
        out: on the same line, or each on its own line with the first one's indentation."""
        first_start, _ = spans[0]
        _, last_end = spans[-1]
        after = _after_item(self.data, last_end, closing)
        if self.line_of(last_end)[0] == self.line_of(closing)[0]:
            column = closing - self.line_of(closing)[0] + 2
            texts = [render(self.indent_at(last_end), column) for render in renders]
            if after.comma_end is not None:
                text = "".join(f" {t}," for t in texts)
                edits.append(_Edit(after.comma_end, after.comma_end, text, _next(edits)))
            else:
                text = "".join(f", {t}" for t in texts)
                edits.append(_Edit(last_end, last_end, text, _next(edits)))
            return
        indent = (
            self.indent_at(first_start)
            if self.starts_line(first_start)
            else self.indent_at(last_end) + INDENT
        )
        texts = [render(indent, len(indent)) for render in renders]
        if after.comma_end is None:
            edits.append(_Edit(last_end, last_end, ",", _next(edits)))
        line_end = self.line_of(after.comma_end or last_end)[1]
        text = "".join(f"\n{indent}{t}," for t in texts)
        edits.append(_Edit(line_end, line_end, text, _next(edits)))

    def _item_spans(self, node: ast.expr) -> list[tuple[int, int]]:
        """Where each item of a call, mapping or list starts and ends, in order."""
        spans: list[tuple[int, int]] = []
        if isinstance(node, ast.Call):
            spans = [self.span(item) for item in [*node.args, *node.keywords]]
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                value_start, value_end = self.span(value)
                key_start = self.span(key)[0] if key is not None else value_start - 2
                spans.append((key_start, value_end))
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            spans = [self.span(item) for item in node.elts]
        else:
            raise NotEditable(f"cannot add to `{_short(ast.unparse(node))}`")
        return sorted(spans)

    def _opening(self, node: ast.expr) -> int:
        """Where the bracket that opens a call's arguments (or a literal) is."""
        if not isinstance(node, ast.Call):
            return self.span(node)[0]
        position = self.span(node.func)[1]
        while position < len(self.data):
            char = self.data[position : position + 1]
            if char == b"(":
                return position
            if char == b"#":
                position = self.line_of(position)[1]
            position += 1
        raise NotEditable(f"`{_short(ast.unparse(node))}` has no opening parenthesis")

    def _fits(self, start: int, end: int, edits: list[_Edit]) -> bool:
        line_start, _ = self.line_of(start)
        _, line_end = self.line_of(end)
        inside = [edit for edit in edits if line_start <= edit.start and edit.end <= line_end]
        text = _apply(self.data, inside, line_start, line_end).decode()
        return all(len(line) <= LINE_LENGTH for line in text.splitlines())

    def _on_one_line(self, start: int, end: int) -> bool:
        return self.line_of(start)[0] == self.line_of(end - 1)[0]


# -- helpers ---------------------------------------------------------------------------


@dataclass
class _After:
    comma_end: int | None
    line_ends: bool
    next_line: int


def _after_item(data: bytes, end: int, limit: int | None = None) -> _After:
    """What follows an item up to ``limit`` (or the end of its line): a comma, a comment."""
    stop = len(data) if limit is None else limit
    comma_end = None
    position = end
    line_ends = False
    while position < stop:
        char = data[position : position + 1]
        if char == b"," and comma_end is None:
            comma_end = position + 1
        elif char == b"#":
            newline = data.find(b"\n", position)
            position = len(data) if newline < 0 else newline
            continue
        elif char == b"\n":
            line_ends = True
            position += 1
            break
        elif not char.isspace():
            break
        position += 1
    return _After(comma_end, line_ends, position)


def _apply(data: bytes, edits: list[_Edit], start: int, end: int) -> bytes:
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end, edit.order))
    out = []
    position = start
    for edit in ordered:
        if edit.start < position:
            raise NotEditable("two changes overlap")
        out.append(data[position : edit.start])
        out.append(edit.text.encode())
        position = edit.end
    out.append(data[position:end])
    return b"".join(out)


def _next(edits: list[_Edit]) -> int:
    return max((edit.order for edit in edits), default=-1) + 1


def _binds(statement: ast.stmt, name: str) -> bool:
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    return any(isinstance(t, ast.Name) and t.id == name for t in targets)


def _plain_target(statement: ast.Assign | ast.AnnAssign, name: str) -> bool:
    if isinstance(statement, ast.AnnAssign):
        return statement.value is not None
    return len(statement.targets) == 1


def _stores(node: ast.Name) -> bool:
    return isinstance(node.ctx, ast.Store | ast.Del)


def _where(statement: ast.stmt) -> str:
    kinds = {
        ast.For: "in a loop",
        ast.AsyncFor: "in a loop",
        ast.While: "in a loop",
        ast.If: "inside an if",
        ast.Try: "inside a try",
        ast.With: "inside a with",
        ast.FunctionDef: "in a function",
    }
    kind = next(
        (text for cls, text in kinds.items() if isinstance(statement, cls)),
        "by another kind of statement",
    )
    return f"{kind} (line {statement.lineno})"


def _method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _chain(value: ast.expr) -> list[ast.Call]:
    """The ``.connect(...)`` / ``.add(...)`` calls chained on a constructor, outermost first."""
    found = []
    while isinstance(value, ast.Call) and _method(value) in CHAIN_METHODS:
        found.append(value)
        assert isinstance(value.func, ast.Attribute)
        value = value.func.value
    return found


def _unchained(value: ast.expr) -> ast.Call | None:
    """The constructor call under ``X(...).connect(...).add(...)``."""
    while isinstance(value, ast.Call) and _method(value) in CHAIN_METHODS:
        assert isinstance(value.func, ast.Attribute)
        value = value.func.value
    return value if isinstance(value, ast.Call) else None


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _keyword_text(call: ast.Call, name: str) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            return value if isinstance(value, str) else None
    return None


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _preferred_quote(data: bytes) -> str:
    counts = {'"': 0, "'": 0}
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type == tokenize.STRING:
                body = token.string.lstrip("rRbBuUfF")
                if body[:1] in counts and not body.startswith(("'''", '"""')):
                    counts[body[0]] += 1
    except (tokenize.TokenError, SyntaxError):
        pass
    return "'" if counts["'"] > counts['"'] else '"'
