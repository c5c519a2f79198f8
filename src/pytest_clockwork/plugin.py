"""The pytest plugin, registered through the ``pytest11`` entry point as ``clockwork``.

Disable it with ``-p no:clockwork``. Loading it imports only pytest and the standard
library; everything else loads when a conftest declares resources.
"""

from __future__ import annotations

import pytest

from pytest_clockwork.options import add_options, normalise_keep, resolve
from pytest_clockwork.session import ClockworkSession
from pytest_clockwork.settings import get_settings

SESSION_KEY = pytest.StashKey[ClockworkSession]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``clockwork`` option group and ini keys."""
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Let ``--clockwork-keep`` be given bare, before paths."""
    normalise_keep(args)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers and the run's :class:`ClockworkSession`."""
    config.addinivalue_line(
        "markers", "assertions: a clockwork assertion item (select with -m assertions)"
    )
    config.addinivalue_line("markers", "clockwork: an item collected by pytest-clockwork")
    get_settings.cache_clear()  # each run reads the CW_* environment afresh
    session = ClockworkSession(config, resolve(config))
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "clockwork-session")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Unregister the run's :class:`ClockworkSession`."""
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        config.pluginmanager.unregister(session)
        del config.stash[SESSION_KEY]
