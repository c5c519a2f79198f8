"""The public names: one table for run time, the same names for type checkers."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import pytest_clockwork


def _type_checking_imports() -> dict[str, str]:
    """What ``if TYPE_CHECKING:`` in ``__init__.py`` imports: name -> module."""
    tree = ast.parse(Path(pytest_clockwork.__file__).read_text())
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1
    imported: dict[str, str] = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom) and node.module is not None
        for alias in node.names:
            # "X as X": a re-export, which strict type checkers require of a public name
            assert alias.asname == alias.name, f"import {alias.name} as {alias.name}"
            assert alias.name not in imported, f"{alias.name} imported twice"
            imported[alias.name] = node.module
    return imported


def test_type_checkers_see_exactly_the_names_loaded_at_run_time() -> None:
    assert _type_checking_imports() == pytest_clockwork._EXPORTS
    assert pytest_clockwork.__all__ == sorted(pytest_clockwork._EXPORTS)


@pytest.mark.parametrize("name", pytest_clockwork.__all__)
def test_each_public_name_loads_from_its_module(name: str) -> None:
    value = getattr(pytest_clockwork, name)

    assert value.__name__ == name
    assert value is getattr(importlib.import_module(pytest_clockwork._EXPORTS[name]), name)
    assert name in dir(pytest_clockwork)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        pytest_clockwork.Nope  # noqa: B018
    with pytest.raises(ImportError):
        from pytest_clockwork import Nope  # noqa: F401
