"""The conftest.py source editor of ``clockwork update``: edits keep every other byte.

Each case edits a hand-formatted conftest through :func:`edit_sources` (the same call
the command makes) and compares the new text with the expected one; the result must
still be valid Python that declares the change.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork import DockerResource, FileResource, HealthcheckAssert
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.update.changes import ChangeSet
from pytest_clockwork.update.edits import edit_sources
from pytest_clockwork.update.literals import Call, Unwritable, literal
from pytest_clockwork.update.source import NotEditable, SourceFile

ROOT = Path("/project")


def edit(source: str, roots: dict[str, Resource], **changes: Any) -> tuple[str, list[str]]:
    """The conftest's new text, and what is left to do by hand."""
    path = ROOT / "conftest.py"
    for key, resource in roots.items():
        resource._key = key
    change_set = ChangeSet.model_validate({"summary": "test", **changes})
    edits = edit_sources(ROOT, {path: textwrap.dedent(source).encode()}, roots, change_set)
    text = edits.files[path].render()
    ast.parse(text)
    return text, [str(item) for item in edits.by_hand]


def web(**fields: Any) -> DockerResource:
    return DockerResource(image="app:1", **fields)


def test_a_mapping_is_edited_entry_by_entry_keeping_comments() -> None:
    source = """\
        from pytest_clockwork import DockerResource

        web = DockerResource(
            image="app:1",
            env_vars={
                "A": "1",  # first
                # B is old
                "B": "2",
                "C": "3",
            },
        )
        """
    roots = {"web": web(env_vars={"A": "1", "B": "2", "C": "3"})}

    text, by_hand = edit(
        source,
        roots,
        changes=[{"resource": "web", "field": "env_vars", "value": {"A": "1", "C": "4", "D": "5"}}],
    )

    assert by_hand == []
    assert text == textwrap.dedent(
        """\
        from pytest_clockwork import DockerResource

        web = DockerResource(
            image="app:1",
            env_vars={
                "A": "1",  # first
                # B is old
                "C": "4",
                "D": "5",
            },
        )
        """
    )


def test_a_keyword_is_added_on_the_line_when_it_fits_and_exploded_when_not() -> None:
    source = 'from pytest_clockwork import DockerResource\n\nweb = DockerResource(image="app:1")\n'

    short, _ = edit(
        source, {"web": web()}, changes=[{"resource": "web", "field": "ports", "value": ["80"]}]
    )
    long, _ = edit(
        source,
        {"web": web()},
        changes=[
            {"resource": "web", "field": "ports", "value": ["80"]},
            {
                "resource": "web",
                "field": "command",
                "value": ["httpd", "-f", "-v", "-p", "80", "-h", "/www"],
            },
        ],
    )

    assert short.endswith('web = DockerResource(image="app:1", ports=["80"])\n')
    assert long.endswith(
        "web = DockerResource(\n"
        '    image="app:1",\n'
        '    ports=["80"],\n'
        '    command=["httpd", "-f", "-v", "-p", "80", "-h", "/www"],\n'
        ")\n"
    )


def test_a_one_line_list_that_grows_too_long_is_exploded_one_item_per_line() -> None:
    source = """\
        from pytest_clockwork import DockerResource, HealthcheckAssert

        web = DockerResource(
            image="app:1",
            assertions=[HealthcheckAssert(port=80, path="/")],  # the home page
        )
        """
    roots: dict[str, Resource] = {"web": web(assertions=[HealthcheckAssert(port=80, path="/")])}
    command = ["sh", "-c", 'test "$MODE" = prod']

    text, _ = edit(
        source,
        roots,
        assertions=[
            {"resource": "web", "type": "CommandSucceedsAssert", "arguments": {"command": command}}
        ],
    )

    assert text.endswith(
        "    assertions=[\n"
        '        HealthcheckAssert(port=80, path="/"),\n'
        '        CommandSucceedsAssert(command=["sh", "-c", \'test "$MODE" = prod\']),\n'
        "    ],  # the home page\n"
        ")\n"
    )


def test_single_quotes_stay_single_quotes() -> None:
    source = "from pytest_clockwork import DockerResource\n\nweb = DockerResource(image='app:1')\n"

    text, _ = edit(
        source, {"web": web()}, changes=[{"resource": "web", "field": "image", "value": "app:2"}]
    )

    assert text.endswith("web = DockerResource(image='app:2')\n")


def test_an_assertion_is_added_to_the_list_and_imported_where_the_names_are() -> None:
    source = """\
        from pytest_clockwork import (
            DockerResource,
            HealthcheckAssert,
        )

        web = DockerResource(
            image="app:1",
            assertions=[
                HealthcheckAssert(port=80),  # the home page
            ],
        )
        """
    roots: dict[str, Resource] = {"web": web(assertions=[HealthcheckAssert(port=80)])}

    text, by_hand = edit(
        source,
        roots,
        assertions=[{"resource": "web", "type": "ContainerRunningAssert"}],
    )

    assert by_hand == []
    assert text == textwrap.dedent(
        """\
        from pytest_clockwork import (
            ContainerRunningAssert,
            DockerResource,
            HealthcheckAssert,
        )

        web = DockerResource(
            image="app:1",
            assertions=[
                HealthcheckAssert(port=80),  # the home page
                ContainerRunningAssert(),
            ],
        )
        """
    )


def test_a_module_import_is_used_as_it_is() -> None:
    source = 'import pytest_clockwork as cw\n\nnotes = cw.FileResource(name="n", content="a")\n'
    roots = {"notes": FileResource(name="n", content="a")}

    text, _ = edit(
        source,
        roots,
        new_resources=[{"name": "more", "type": "FileResource", "fields": {"content": "b"}}],
        assertions=[{"resource": "more", "type": "FileExistsAssert"}],
    )

    assert text.endswith(
        'notes = cw.FileResource(name="n", content="a")\n\n'
        'more = cw.FileResource(content="b", assertions=[cw.FileExistsAssert()])\n'
    )


def test_a_removed_declaration_goes_with_its_comment() -> None:
    source = """\
        from pytest_clockwork import FileResource

        keep = FileResource(name="k", content="k")

        # scratch space, no longer needed
        old = FileResource(name="o", content="o")

        last = FileResource(name="l", content="l")
        """
    roots = {key: FileResource(name=key[0], content=key[0]) for key in ("keep", "old", "last")}

    text, _ = edit(source, roots, removals=["old"])

    assert text == textwrap.dedent(
        """\
        from pytest_clockwork import FileResource

        keep = FileResource(name="k", content="k")

        last = FileResource(name="l", content="l")
        """
    )


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (
            "from pytest_clockwork import FileResource\n\n"
            "def make():\n    return FileResource(content='a')\n\nnotes = make()\n",
            "notes is built by `make(...)` in conftest.py (line 6), not by FileResource(...)",
        ),
        (
            "from pytest_clockwork import FileResource\n\n"
            "notes = FileResource(content='a')\nnotes = FileResource(content='b')\n",
            "notes is bound more than once in conftest.py (lines 3, 4)",
        ),
        (
            "from pytest_clockwork import FileResource\n\n"
            "if True:\n    notes = FileResource(content='a')\n",
            "notes is bound inside an if (line 3) in conftest.py",
        ),
        (
            "from pytest_clockwork import FileResource\n\n"
            "BASE = {'content': 'a'}\nnotes = FileResource(**BASE)\n",
            "takes **arguments, which may give it already",
        ),
    ],
)
def test_what_cannot_be_edited_safely_is_named_with_the_code_to_add(
    source: str, reason: str
) -> None:
    roots = {"notes": FileResource(content="a")}

    text, by_hand = edit(
        source,
        roots,
        changes=[{"resource": "notes", "field": "mode", "value": "600"}],
    )

    assert text == source
    (item,) = by_hand
    assert reason in item
    assert item.endswith('add by hand:\n    mode="600"')


def test_literals_explode_when_long_and_never_write_secrets() -> None:
    from pydantic import SecretStr

    value = Call("DockerResource", (("env_vars", {f"VARIABLE_{n}": "x" * 10 for n in range(5)}),))

    text = literal(value)

    assert text.startswith('DockerResource(\n    env_vars={\n        "VARIABLE_0": ')
    assert text.endswith('        "VARIABLE_4": "xxxxxxxxxx",\n    },\n)')
    with pytest.raises(Unwritable, match="secret"):
        literal({"PASSWORD": SecretStr("hunter2")})


def test_a_file_that_is_not_python_is_not_editable() -> None:
    with pytest.raises(NotEditable, match="conftest.py cannot be parsed"):
        SourceFile(ROOT / "conftest.py", b"web = (\n", "conftest.py")
