"""Container runtimes behind one interface (:class:`~.base.ContainerRuntime`).

:func:`runtime_for` gives the runtime a spec names (``ContainerSpec.runtime``); each is
imported on first use (Docker's SDK only when a Docker container is handled).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_clockwork.runtimes.base import ContainerRuntime

_RUNTIMES: dict[str, ContainerRuntime] = {}


def runtime_for(name: str) -> ContainerRuntime:
    """The runtime called ``name`` (``"docker"``, ``"apple"``).

    Raises:
        ValueError: No runtime has that name.
    """
    if name not in _RUNTIMES or _reimported(_RUNTIMES[name]):
        if name == "docker":
            from pytest_clockwork.runtimes.dockerd import DockerRuntime

            _RUNTIMES[name] = DockerRuntime()
        elif name == "apple":
            from pytest_clockwork.runtimes.apple import AppleRuntime

            _RUNTIMES[name] = AppleRuntime()
        else:
            raise ValueError(f"no container runtime is called {name!r}")
    return _RUNTIMES[name]


def _reimported(runtime: ContainerRuntime) -> bool:
    """Whether a built-in runtime's module was imported again since it was made (pytest's
    in-process sessions, ``pytester``, restore ``sys.modules`` after each run): the old
    one's module-level SDK and the SDK imported since would not know each other's errors."""
    kind = type(runtime)
    if not kind.__module__.startswith(f"{__name__}."):
        return False  # a test's stand-in (use_runtime)
    module = sys.modules.get(kind.__module__)
    return module is None or getattr(module, kind.__name__, None) is not kind


def loaded() -> list[ContainerRuntime]:
    """The runtimes used so far in this process."""
    return list(_RUNTIMES.values())


@contextlib.contextmanager
def use_runtime(runtime: ContainerRuntime) -> Iterator[ContainerRuntime]:
    """Within the block, :func:`runtime_for` gives ``runtime`` for its name (a test's
    stand-in); the one used before comes back after."""
    previous = _RUNTIMES.get(runtime.name)
    _RUNTIMES[runtime.name] = runtime
    try:
        yield runtime
    finally:
        if previous is None:
            _RUNTIMES.pop(runtime.name, None)
        else:
            _RUNTIMES[runtime.name] = previous
