"""Reading a Compose file's YAML as Compose reads it, with line numbers for errors.

Compose parses YAML 1.2: ``no``, ``on`` and ``yes`` are text and ``22:22`` is not a
number written in base 60, as PyYAML (YAML 1.1) would have them. The loader here resolves
plain scalars by YAML 1.2's core schema instead, refuses a key given twice in one mapping
(as Compose does), keeps merge keys (``<<: *defaults``), and remembers the line of every
key, so that an error can say where it is.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pytest_clockwork.compose.errors import ComposeFileError


class Located(dict[Any, Any]):
    """A mapping read from the file, with the line (1-based) of the mapping and its keys."""

    line: int = 0
    lines: dict[Any, int]

    def __init__(self) -> None:
        super().__init__()
        self.lines = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key`` (the mapping's own line when unknown)."""
        return self.lines.get(key, self.line)


_CORE = {
    "null": (re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
    "bool": (re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
    "int": (re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")),
    "float": (
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    ),
    "merge": (re.compile(r"^(?:<<)$"), ["<"]),
}


def _loader() -> type[Any]:
    """A SafeLoader subclass with YAML 1.2's core scalars, line numbers and no duplicate
    keys (built on first use: PyYAML is imported only when a Compose file is read)."""
    import yaml

    class Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type hints
        yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}  # YAML 1.2's, added below

        def construct_mapping(self, node: Any, deep: bool = False) -> Located:
            if not isinstance(node, yaml.MappingNode):
                raise yaml.constructor.ConstructorError(
                    None, None, f"expected a mapping, found {node.id}", node.start_mark
                )
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                    key_node, yaml.ScalarNode
                ):
                    continue
                key = self.construct_object(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        f"in the mapping on line {node.start_mark.line + 1}",
                        None,
                        f"the key {key!r} is given twice (first on line {seen[key]}); keep one",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
            self.flatten_mapping(node)
            mapping = Located()
            mapping.line = node.start_mark.line + 1
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a key must be plain text", key_node.start_mark
                    )
                mapping[key] = self.construct_object(value_node, deep=deep)
                mapping.lines[key] = key_node.start_mark.line + 1
            return mapping

        def construct_map(self, node: Any) -> Any:
            data = Located()
            yield data
            built = self.construct_mapping(node)
            data.update(built)
            data.line, data.lines = built.line, built.lines

        def construct_int(self, node: Any) -> int:
            text = str(self.construct_scalar(node))
            sign = -1 if text.startswith("-") else 1
            digits = text.lstrip("+-")
            if digits.startswith("0o"):
                return sign * int(digits[2:], 8)
            if digits.startswith("0x"):
                return sign * int(digits[2:], 16)
            return sign * int(digits, 10)

        def construct_float(self, node: Any) -> float:
            text = str(self.construct_scalar(node)).lower()
            if text.lstrip("+-") == ".inf":
                return float("-inf") if text.startswith("-") else float("inf")
            if text == ".nan":
                return float("nan")
            return float(text)

    for tag, (pattern, first) in _CORE.items():
        Loader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", pattern, first)
    Loader.add_constructor("tag:yaml.org,2002:map", Loader.construct_map)
    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_int)
    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_float)
    return Loader


_LOADER: type[Any] | None = None


def load_yaml(text: str, shown: str) -> Any:
    """Parse ``text``, the content of the file shown as ``shown`` in errors.

    Raises:
        ComposeFileError: It is not valid YAML; the message says the line and column.
    """
    global _LOADER
    import yaml

    # Made again when ``yaml`` was imported again (pytest's in-process sessions restore
    # ``sys.modules``): a loader of the old module raises errors the new one's
    # ``except`` clauses do not catch.
    if _LOADER is None or not issubclass(_LOADER, yaml.SafeLoader):
        _LOADER = _loader()
    try:
        return yaml.load(text, Loader=_LOADER)  # a SafeLoader: plain data only
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}, line {mark.line + 1}, column {mark.column + 1}" if mark else shown
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise ComposeFileError(f"{where}: not valid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise ComposeFileError(f"{shown}: not valid YAML: {exc}") from None
