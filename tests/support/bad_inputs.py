"""The machinery of the bad-input table (tests/test_bad_inputs.py): cases, and the checks.

A :class:`Case` is one inner pytest session: a ``pytest.ini``, a conftest, a test module,
arguments, environment and files to pre-create. :func:`run_case` runs it and checks the
four rules every case follows:

1. The exit status: non-zero for a bad input (or the exact status a case names, 0 for
   the inputs that are right to accept, with the outcomes they must have).
2. No ``INTERNALERROR``, no ``Traceback (most recent call last)``, and no traceback
   entry in clockwork's own code (``.../pytest_clockwork/x.py:12: in f``).
3. The error is clear, in its first lines: the *window* is the first
   :data:`FIRST_LINES` lines of the output (stderr, then stdout) once pytest's header,
   progress and separator lines are dropped. In it:

   - the resource is named: ``'web'`` (quoted, as clockwork writes names), or pytest's
     echo of the conftest line that binds it (``web = DockerResource(...)``, the line a
     conftest import error points at);
   - every one of the case's ``says`` substrings (the option, variable, ini key or field,
     and a word of the fix) appears in the message itself: lines that merely echo the
     source the case wrote do not count;
   - no pydantic internal schema path (``lax-or-strict[json-or-python[...]]``) shows.

   Cases where accepting is right check ``says`` in the whole output (a warning).
4. Nothing is left behind: the rootdir holds the same files as before the run (ignoring
   ``.clockwork``, ``__pycache__`` and ``.pytest_cache``), the case's ``gone`` paths do
   not exist, and no container or network is labelled for the rootdir.
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

FIRST_LINES = 25
"""How many lines of the error the clear message must fit in."""

IGNORED = {".clockwork", "__pycache__", ".pytest_cache"}
DIRECTORY = None
"""A ``files`` value: create a directory there."""

FileContent = str | bytes | None | Callable[[Path], str | bytes]

# pytest's own lines around an error: the session header, progress, separators, carets.
_NOISE = re.compile(
    r"^(platform |cachedir: |rootdir: |configfile: |plugins: |collected |collecting |"
    r"clockwork: engine |\S+\.py [.sxXEF]+\s+\[\s*\d+%\]$|[=_-]{3,}( .*)?$|\s*[~^]+\s*$)"
)
# A traceback entry in clockwork's own code, in pytest's or Python's format.
_OWN_FRAME = re.compile(r"pytest_clockwork[\\/][\w\\/]+\.py:\d+: in |File \"[^\"]*pytest_clockwork")
# pydantic's internal schema path (``lax-or-strict[...]``): noise no user can act on.
_SCHEMA_PATH = re.compile(
    r"(lax-or-strict|json-or-python|function-(after|before|wrap|plain)|is-instance|chain)\["
)
# What ``runpytest_subprocess`` itself writes in the rootdir.
_PYTESTER_FILES = re.compile(r"^(stdout|stderr|runpytest-.*)$")
_ENV_CLEARED = ("CI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "PULUMI_CONFIG_PASSPHRASE")


@dataclass(frozen=True)
class Case:
    """One bad (or rightly accepted) input and what pytest must do with it.

    Attributes:
        conftest: The rootdir conftest's body (``from pytest_clockwork import *`` and
            ``IMAGE`` are put before it); ``None`` writes none.
        test: The test module (``test_it.py``).
        args: The inner pytest's arguments.
        env: Environment variables (every ``CW_*`` variable and ``CI`` are cleared first,
            then ``CW_ENGINE=local`` is set: the local engine unless the case says otherwise).
        ini: Lines added to ``pytest.ini`` after ``[pytest]``.
        files: Files to pre-create, by path relative to the rootdir: text, bytes,
            :data:`DIRECTORY`, or a function of the rootdir giving text or bytes. A
            ``conftest.py`` given as text is written like the main one.
        resource: The resource the message must name (its fixture name).
        says: Substrings the message must contain: the field or option, a word of the fix.
        exit: The exit status; ``None``: any non-zero status.
        outcomes: For accepted inputs, the outcomes (``passed=1``).
        gone: Paths (relative to the rootdir) that must not exist after the run.
        docker: Containers may be created: check that none is left (the case is marked
            ``docker``: it needs a container engine).
        subprocess: Run pytest in a subprocess (for what in-process runs cannot show).
        busy_port: Replace ``{BUSY_PORT}`` with a host port that is taken during the run.
        never: Substrings that must appear nowhere in the output (a secret).
    """

    conftest: str | None = None
    test: str = "def test_it(web):\n    pass\n"
    args: tuple[str, ...] = ("--clockwork-apply",)
    env: Mapping[str, str] = field(default_factory=dict)
    ini: tuple[str, ...] = ()
    files: Mapping[str, FileContent] = field(default_factory=dict)
    resource: str | None = None
    says: tuple[str, ...] = ()
    exit: int | None = None
    outcomes: Mapping[str, int] | None = None
    gone: tuple[str, ...] = ()
    docker: bool = False
    subprocess: bool = False
    busy_port: bool = False
    never: tuple[str, ...] = ()


def listing(root: Path) -> set[str]:
    """Every file and directory under ``root`` (relative), but clockwork's, caches and
    what pytester's subprocess runs write."""
    found = set()
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if IGNORED.intersection(relative.parts) or _PYTESTER_FILES.match(relative.parts[0]):
            continue
        found.add(relative.as_posix())
    return found


def error_window(output: str) -> list[str]:
    """The first :data:`FIRST_LINES` lines of the error, pytest's own lines dropped."""
    lines = [line for line in output.splitlines() if line.strip() and not _NOISE.match(line)]
    return lines[:FIRST_LINES]


def own_frames(output: str) -> list[str]:
    """Traceback lines in clockwork's own code (or Python's traceback header)."""
    return [
        line
        for line in output.splitlines()
        if "Traceback (most recent call last)" in line or _OWN_FRAME.search(line)
    ]


def names_resource(window: list[str], name: str, echoed: set[str]) -> bool:
    """Whether the window names resource ``name``: quoted, or its binding line echoed."""
    if any(f"'{name}'" in line or f'"{name}"' in line for line in window):
        return True
    return any(
        line.strip() in echoed and re.match(rf"{re.escape(name)}\s*=", line.strip())
        for line in window
    )


@contextmanager
def busy_port() -> Iterator[int]:
    """A host port on 127.0.0.1 that something listens on while the block runs."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def lock_entry(
    values: Mapping[str, Any], description: str = "a note", **given: Any
) -> dict[str, Any]:
    """A ``clockwork.lock`` entry for ``notes = FileResource(description=..., **given)``,
    with the fingerprint clockwork computes for it."""
    from pytest_clockwork.completion.request import build_request
    from pytest_clockwork.resources.file import FileResource

    resource = FileResource(description=description, **given)
    resource._key = "notes"
    request = build_request(resource, {})
    return {
        "fingerprint": request.fingerprint,
        "seen": request.seen(),
        "values": dict(values),
        "model": "a-test-model",
    }


def lock_file(resources: Any, version: Any = 1) -> Callable[[Path], str]:
    """A ``clockwork.lock`` (made when the case runs): ``resources`` may be a function."""

    def make(root: Path) -> str:
        body = resources() if callable(resources) else resources
        return json.dumps({"version": version, "resources": body}, indent=2)

    return make


def run_case(
    case: Case,
    pytester: pytest.Pytester,
    declare: Any,
    monkeypatch: pytest.MonkeyPatch,
    leftovers: Any,
) -> None:
    """Run ``case`` in an inner pytest session and check the four rules."""
    root = pytester.path
    for name in list(os.environ):
        if name.startswith("CW_") or name in _ENV_CLEARED:
            monkeypatch.delenv(name)
    monkeypatch.setenv("CW_ENGINE", "local")  # not whatever a pulumi on PATH would make it
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    with busy_port() as port:
        says = [text.replace("{BUSY_PORT}", str(port)) for text in case.says]
        written = _write(case, pytester, declare, port)
        echoed = {line.strip() for text in written for line in text.splitlines() if line.strip()}
        before = listing(root)
        args = ("-p", "no:cacheprovider", *case.args)
        if case.subprocess:
            result = pytester.runpytest_subprocess(*args)
        else:
            result = pytester.runpytest(*args)
    output = result.stderr.str() + "\n" + result.stdout.str()
    problems = _problems(case, result.ret, output, says, echoed)
    if case.outcomes is not None:
        try:
            result.assert_outcomes(**case.outcomes)
        except AssertionError as exc:
            problems.append(f"outcomes: {exc}")
    # 4. nothing left behind
    if listing(root) != before:
        problems.append(f"files left behind or removed: {sorted(listing(root) ^ before)}")
    problems += [f"{path} was left behind" for path in case.gone if os.path.lexists(root / path)]
    if leftovers is not None and leftovers() != {"containers": [], "networks": []}:
        problems.append(f"Docker objects left behind: {leftovers()}")
    assert not problems, "\n".join(problems) + f"\n\nexit status {result.ret}; output:\n{output}"


def _problems(case: Case, status: int, output: str, says: list[str], echoed: set[str]) -> list[str]:
    """What breaks rules 1 to 3 (exit status, tracebacks, a clear message)."""
    problems = []
    # 1. the exit status
    if case.exit is None and status == 0:
        problems.append("a bad input was accepted (exit status 0)")
    elif case.exit is not None and status != case.exit:
        problems.append(f"exit status {status}, expected {case.exit}")
    # 2. no INTERNALERROR, no traceback of clockwork's code
    if "INTERNALERROR" in output:
        problems.append("an INTERNALERROR")
    if own_frames(output):
        problems.append(f"a traceback of clockwork's code: {own_frames(output)}")
    problems += [f"{secret!r} is shown" for secret in case.never if secret in output]
    # 3. a clear message in the first lines
    window = error_window(output)
    clear = "\n".join(window)
    message = [line for line in window if line.strip() not in echoed]
    seen = output.splitlines() if case.exit == 0 else message
    if case.resource is not None and not names_resource(window, case.resource, echoed):
        problems.append(f"the first lines do not name resource {case.resource!r}")
    if _SCHEMA_PATH.search(clear):
        problems.append("pydantic's schema internals are shown")
    problems += [
        f"the first lines of the message do not say {text!r}"
        for text in says
        if not any(text in line for line in seen)
    ]
    if problems:
        problems.append(f"the first lines:\n{clear}")
    return problems


def _write(case: Case, pytester: pytest.Pytester, declare: Any, port: int) -> list[str]:
    """Write the case's files; return the texts written (their lines are 'echoes')."""
    root = pytester.path

    def fill(text: str) -> str:
        return text.replace("{BUSY_PORT}", str(port)) if case.busy_port else text

    written = []
    (root / "pytest.ini").write_text("\n".join(["[pytest]", *case.ini]) + "\n")
    if case.conftest is not None:
        written.append(declare(fill(case.conftest)).read_text())
    (root / "test_it.py").write_text(fill(case.test))
    written.append(fill(case.test))
    for relative, content in case.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content = content(root)
        if content is DIRECTORY:
            path.mkdir(exist_ok=True)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif path.name == "conftest.py":
            written.append(declare(fill(content), relative).read_text())
        else:
            path.write_text(fill(content))
            written.append(content)
    return written
