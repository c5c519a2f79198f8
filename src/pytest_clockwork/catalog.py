"""The model side of a session: what is declared, how it is completed, its specs.

A :class:`Catalog` holds the resources bound in the conftests, their dependency graph,
their completed declarations (from ``clockwork.lock`` or a model) and the notes of how
each was completed, and turns a completed resource into the spec engines read. It
deploys nothing and knows no engine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_clockwork.graph import ResourceGraph, load_all
from pytest_clockwork.options import Options
from pytest_clockwork.resources.base import Resource
from pytest_clockwork.specs import Spec, SpecContext


class Catalog:
    """The declared resources of a session, completed and normalised on demand.

    Args:
        rootdir: pytest's rootdir.
        options: The session's options (completion reads the lock mode, refresh...).
    """

    def __init__(self, rootdir: Path, options: Options) -> None:
        self.rootdir = rootdir
        self.options = options
        self.roots: dict[str, Resource] = {}
        self.completed: dict[str, Resource] = {}
        self.notes: dict[str, list[str]] = {}
        """What completion did, per key (shown by ``--clockwork-plan``); written by
        :func:`~pytest_clockwork.completion.service.complete_resources`."""
        self._graph: ResourceGraph | None = None
        self._memo: dict[Any, Any] = {}
        """Kept between the specs of this session (see :attr:`SpecContext.memo`)."""
        self._lock = threading.RLock()
        """Completion and specs are asked for from the background deployment and from
        the fixtures of narrower scopes at once: one at a time, each completed once."""

    def declare(self, resource: Resource) -> None:
        """Add a root declaration (a resource bound in a conftest).

        Raises:
            DeclarationError: It cannot load what it refers to (see :meth:`Resource.load`).
        """
        key = resource.key
        if self.roots.get(key) is not resource:
            load_all([resource], self.rootdir)  # done already when its conftest was scanned
            self.roots[key] = resource
            self._graph = None

    @property
    def graph(self) -> ResourceGraph:
        """The dependency graph of everything declared so far."""
        with self._lock:
            if self._graph is None:
                self._graph = ResourceGraph.build(self.roots.values())
            return self._graph

    def complete(self, keys: Iterable[str]) -> dict[str, Resource]:
        """The completed declaration of each key (from the lock, or a model)."""
        keys = list(keys)
        with self._lock:
            wanted = [key for key in keys if key not in self.completed]
            for key in wanted:  # nothing to complete: the declaration as it is
                if not self.graph.nodes[key].missing_fields():
                    self.completed[key] = self.graph.nodes[key]
            wanted = [key for key in wanted if key not in self.completed]
            if wanted:
                from pytest_clockwork.completion.service import complete_resources

                self.completed.update(complete_resources(self, wanted))
            return {key: self.completed[key] for key in keys}

    def spec_of(self, key: str) -> Spec:
        """The normalised view of a completed resource."""
        context = SpecContext(
            rootdir=self.rootdir, key=key, secret=self.secret_value, memo=self._memo
        )
        with self._lock:
            return self.complete([key])[key].spec(context)

    def secret_value(self, name: str, _seen: tuple[str, ...] = ()) -> str:
        """The value a ``${secret:<key>.<field>[.<name>]}`` reference names (its own
        references expanded).

        Raises:
            ValueError: No declared resource, or no text, is there; or references loop.
        """
        from pytest_clockwork.resources.secrets import expand, lookup_in

        reference = "${secret:" + name + "}"
        if name in _seen:
            raise ValueError(f"{reference} refers to itself through {', '.join(_seen)}")
        keys = [key for key in self.graph.nodes if name.startswith(key + ".")]
        if not keys:
            raise ValueError(
                f"{reference} names no declared resource: write "
                "${secret:<resource>.<field>.<name>}, e.g. ${secret:db.env_vars.POSTGRES_PASSWORD}"
            )
        key = max(keys, key=len)
        value = lookup_in(self.complete([key])[key], name[len(key) + 1 :], reference)
        return expand(value, lambda inner: self.secret_value(inner, (*_seen, name)), reference)[0]

    def details(self, key: str) -> list[str]:
        """Extra plan lines for ``key``: how it was completed, its assertions."""
        from pytest_clockwork.items import item_names

        names = [name for name, _ in item_names(self.graph.nodes[key])]
        return [*self.notes.get(key, []), *(["assertions: " + ", ".join(names)] if names else [])]
