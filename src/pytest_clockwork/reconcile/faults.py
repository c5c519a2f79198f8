"""Telling a container runtime being away (the Docker daemon) from a resource's own fault.

What counts as "away" is each runtime's to say (:meth:`~pytest_clockwork.runtimes.base.
ContainerRuntime.unreachable`); this module asks the runtime of a record.
"""

from __future__ import annotations

from pytest_clockwork.state import ResourceRecord


def uses_docker(record: ResourceRecord) -> bool:
    """Whether checking ``record`` needs a runtime that can be away (a daemon)."""
    if record.kind != "container":
        return False
    from pytest_clockwork.runtimes import runtime_for

    return runtime_for(str(record.outputs.get("runtime", "docker"))).serves_remotely


def engine_fault(exc: BaseException, record: ResourceRecord | None = None) -> bool:
    """Whether ``exc`` says the runtime (of ``record``, or any) cannot be reached."""
    from pytest_clockwork.runtimes import loaded, runtime_for

    if record is not None and record.kind == "container":
        return runtime_for(str(record.outputs.get("runtime", "docker"))).unreachable(exc)
    return any(runtime.unreachable(exc) for runtime in loaded()) or isinstance(exc, ConnectionError)


def reset_docker() -> None:
    """Forget the runtimes' connections, so the next call connects afresh."""
    from pytest_clockwork.runtimes import loaded

    for runtime in loaded():
        runtime.reconnect()
