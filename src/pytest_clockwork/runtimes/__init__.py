"""Container runtimes: Docker (through its SDK) and Apple's ``container`` command.

Both modules offer the same functions (``start``, ``observe``, ``logs``, ``execute``,
``remove_container``); :func:`runtime_for` picks one by a spec's ``runtime``.
"""

from __future__ import annotations

from types import ModuleType


def runtime_for(name: str) -> ModuleType:
    """The runtime module for ``"docker"`` or ``"apple"``, imported on first use."""
    if name == "apple":
        from pytest_clockwork.runtimes import apple

        return apple
    from pytest_clockwork.runtimes import dockerd

    return dockerd
