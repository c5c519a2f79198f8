"""Who deploys and who tears down when pytest-xdist spreads tests over workers.

Without xdist a session deploys what its tests need and destroys it at the end. With
xdist and ``--clockwork-share=run`` (the default) all workers share one deployment: the
first worker that needs a resource deploys it under a file lock, the others attach to
it through the state, and the controller destroys it once every worker has finished,
from the recorded state (it may never have imported the deeper conftests). With
``--clockwork-share=worker`` every worker deploys and destroys its own copy.

Only the standard library is imported here.
"""

from __future__ import annotations

import os
from typing import Any, Literal, NamedTuple

import pytest

Role = Literal["single", "controller", "worker"]


class Topology(NamedTuple):
    """This process's part in the run.

    Attributes:
        role: ``single`` (no xdist), ``controller`` or ``worker``.
        run_id: The id of the whole run (the controller's, shared with its workers).
        worker: The xdist worker id (``gw0``), for a worker.
        owner_pid: The process that owns a shared deployment (the controller's pid).
        share: ``run`` or ``worker``.
    """

    role: Role
    run_id: str
    worker: str | None
    owner_pid: int
    share: str

    @classmethod
    def of(cls, config: pytest.Config, run_id: str, share: str) -> Topology:
        """Work out the topology from the config (``workerinput`` on xdist workers)."""
        workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
        if workerinput is not None and "clockwork_run" in workerinput:
            return cls(
                role="worker",
                run_id=str(workerinput["clockwork_run"]),
                worker=str(workerinput.get("workerid")),
                owner_pid=int(workerinput["clockwork_owner"]),
                share=share,
            )
        distributed = getattr(config.option, "dist", "no") != "no" and bool(
            getattr(config.option, "tx", None)
        )
        return cls(
            role="controller" if distributed else "single",
            run_id=run_id,
            worker=None,
            owner_pid=os.getpid(),
            share=share,
        )

    @property
    def session_id(self) -> str:
        """The id in this process's labels, names and records."""
        if self.role == "worker" and self.share == "worker":
            return f"{self.run_id}-{self.worker}"
        return self.run_id

    @property
    def shared(self) -> bool:
        """Whether this process deploys into a deployment shared by all workers."""
        return self.role == "worker" and self.share == "run"

    @property
    def owns_deployment(self) -> bool:
        """Whether this process registers the session and runs its watchdog."""
        return (
            self.role == "single"
            or (self.role == "worker" and self.share == "worker")
            or (self.role == "controller" and self.share == "run")
        )

    @property
    def tears_down(self) -> bool:
        """Whether this process destroys (or keeps) what its session deployed."""
        return self.owns_deployment

    @property
    def description(self) -> str:
        """How resources are shared, for the report header."""
        if self.role != "controller":
            return ""
        if self.share == "run":
            return (
                "xdist: each resource deployed once, shared by all workers (--clockwork-share=run)"
            )
        return "xdist: each worker deploys its own copy (--clockwork-share=worker)"


def new_run_id() -> str:
    """A fresh 8-character id."""
    return os.urandom(4).hex()
