"""``${VAR}`` in a Compose file, and the ``.env`` files its variables come from.

The forms are Compose's: ``$VAR``, ``${VAR}``, ``${VAR:-default}`` (unset or empty),
``${VAR-default}`` (unset), ``${VAR:?message}`` / ``${VAR?message}`` (an error),
``${VAR:+other}`` / ``${VAR+other}`` (the other text when set), and ``$$`` for a literal
``$``. Defaults may hold further substitutions (``${A:-${B}}``). A variable that is not
set and has no default becomes empty text, and is reported (as Compose warns).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pytest_clockwork.compose.errors import ComposeFileError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([^=\s]+)\s*=\s*(.*?)\s*$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class InterpolationError(ValueError):
    """A ``${...}`` that cannot be substituted; the message says which and why."""


@dataclass
class Variables:
    """Where ``${VAR}`` looks: the environment first, then the ``.env`` file's values.

    Attributes:
        environ: The process environment (it wins, as with Compose).
        dotenv: The values of the ``.env`` file.
        unset: Names used without a value or a default, in order (reported once).
    """

    environ: Mapping[str, str]
    dotenv: Mapping[str, str] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """The value of ``name``, or ``None`` when it is not set."""
        if name in self.environ:
            return self.environ[name]
        return self.dotenv.get(name)

    def interpolate(self, text: str) -> str:
        """``text`` with its substitutions made.

        Raises:
            InterpolationError: A malformed ``$``, or ``${VAR:?message}`` with ``VAR``
                unset; the message says which.
        """
        out: list[str] = []
        index = 0
        while index < len(text):
            dollar = text.find("$", index)
            if dollar < 0:
                out.append(text[index:])
                break
            out.append(text[index:dollar])
            following = text[dollar + 1 : dollar + 2]
            if following == "$":
                out.append("$")
                index = dollar + 2
            elif following == "{":
                end = _closing(text, dollar + 2)
                out.append(self._braced(text[dollar + 2 : end], text))
                index = end + 1
            else:
                named = _NAME.match(text, dollar + 1)
                if named is None:
                    raise InterpolationError(
                        f"{text!r} has a '$' that starts no variable: write $$ for a literal "
                        "'$', or ${NAME} / $NAME"
                    )
                out.append(self._value(named.group()))
                index = named.end()
        return "".join(out)

    def _value(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            if name not in self.unset:
                self.unset.append(name)
            return ""
        return value

    def _braced(self, body: str, text: str) -> str:
        named = _NAME.match(body)
        if named is None:
            raise InterpolationError(
                f"{text!r}: '${{{body}}}' names no variable: write ${{NAME}}, "
                "${NAME:-default} or ${NAME:?message}"
            )
        name, rest = named.group(), body[named.end() :]
        if not rest:
            return self._value(name)
        operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
        if operator is None:
            raise InterpolationError(
                f"{text!r}: '${{{body}}}' is not a substitution Compose knows: write "
                "${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message} or ${NAME:+other}"
            )
        word = rest[len(operator) :]
        value = self.get(name)
        present = value is not None and (value != "" or not operator.startswith(":"))
        if operator.endswith("-"):
            return value if present and value is not None else self.interpolate(word)
        if operator.endswith("+"):
            return self.interpolate(word) if present else ""
        if present and value is not None:
            return value
        message = self.interpolate(word) or ("is empty" if value == "" else "is not set")
        raise InterpolationError(f"variable {name} is required: {message}")


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` that closes the ``${`` whose body starts at ``start``."""
    depth, index = 0, start
    while index < len(text):
        if text.startswith("$$", index):
            index += 2
            continue
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    raise InterpolationError(f"{text!r} has a '${{' that is never closed with '}}'")


def read_env_file(path: Path, shown: str, variables: Variables | None = None) -> dict[str, str]:
    """The variables of an env file (``NAME=value`` lines), as Compose reads them.

    Blank lines and ``#`` comments are skipped, ``export`` in front is allowed. A value in
    single quotes is taken as it is; in double quotes, ``\\n`` and the like are escapes;
    unquoted, a `` #`` starts a comment. Values that are not in single quotes may use
    ``${VAR}``: the names given earlier in the file, then ``variables``.

    Raises:
        ComposeFileError: It cannot be read, or a line is not ``NAME=value``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ComposeFileError(f"{shown} cannot be read ({reason})") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        matched = _ENV_LINE.match(line)
        if matched is None or not _NAME.fullmatch(matched.group(1)):
            raise ComposeFileError(
                f"{shown}, line {number}: {line.strip()!r} is not NAME=value; write one "
                "variable per line, e.g. DB_PASSWORD=secret"
            )
        name, raw = matched.groups()
        lookup = Variables(
            environ=variables.environ if variables else {},
            dotenv={**(variables.dotenv if variables else {}), **values},
        )
        try:
            values[name] = _env_value(raw, lookup)
        except InterpolationError as exc:
            raise ComposeFileError(f"{shown}, line {number}: {exc}") from None
    return values


def _env_value(raw: str, variables: Variables) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        body = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), raw[1:-1])
        return variables.interpolate(body)
    comment = re.search(r"\s#", raw)
    return variables.interpolate(raw[: comment.start()] if comment else raw).strip()
