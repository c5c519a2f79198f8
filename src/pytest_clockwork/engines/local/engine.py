"""The local engine: drives Docker (through its SDK) and the filesystem directly."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pytest_clockwork.engines.base import Engine, Task
from pytest_clockwork.engines.local.files import FileDriver
from pytest_clockwork.errors import DeploymentError
from pytest_clockwork.specs import ContainerSpec, CustomSpec, SpecContext, spec_from_json
from pytest_clockwork.state import ResourceRecord

if TYPE_CHECKING:
    from pytest_clockwork.engines.local.containers import ContainerDriver
    from pytest_clockwork.resources.base import Resource


class LocalEngine(Engine):
    """Deploys containers on the local Docker engine and files on the local disk."""

    name: ClassVar[str] = "local"

    @cached_property
    def containers(self) -> ContainerDriver:
        """The container driver (imports the Docker SDK on first use)."""
        from pytest_clockwork.engines.local.containers import ContainerDriver

        return ContainerDriver(self)

    @cached_property
    def files(self) -> FileDriver:
        """The file and clone driver."""
        return FileDriver(self)

    def create(self, task: Task) -> dict[str, Any]:
        """Create one resource according to its spec's kind."""
        kind = task.spec.kind
        if kind == "container":
            return self.containers.create(task)
        if kind == "file":
            return self.files.create_file(task)
        if kind == "git":
            return self.files.create_clone(task)
        if kind == "custom":
            spec = task.spec
            assert isinstance(spec, CustomSpec) and spec.resource is not None
            context = SpecContext(rootdir=self.session.rootdir, key=spec.key)
            return _created(spec.resource, context)
        return {}

    def planned(self, task: Task) -> dict[str, list[str]]:
        """A container's name is known up front: record it with the others at once."""
        if isinstance(task.spec, ContainerSpec):
            return {"containers": [task.spec.container_name(self.session.suffix(task.instance))]}
        return {}

    def destroy(self, record: ResourceRecord) -> None:
        """Remove what the record created."""
        if record.kind == "container":
            self.containers.destroy(record)
        elif record.kind == "custom":
            _custom_resource(record).delete(record.outputs)
        self.files.destroy(record)

    def finish(self, records: list[ResourceRecord]) -> None:
        """Remove shared networks, volumes and directories once nothing uses them."""
        if any(
            record.created.get("networks") or record.created.get("volumes") for record in records
        ):
            self.containers.finish(records)
        self.files.finish(records)

    def recreate(self, record: ResourceRecord, task: Task) -> dict[str, Any]:
        """Rewrite a file in place; otherwise remove what is there and create it again."""
        if record.kind == "file" and task.spec.kind == "file":
            return self.files.rewrite(task)
        self.destroy(record)
        if record.kind == "container":
            self.containers.wait_gone(record)
        return self.create(task)

    def reuse(self, task: Task) -> None:
        """Adopt a kept resource: its networks; pull a clone that asks for it."""
        if task.spec.kind == "container":
            self.containers.reuse(task)
        elif task.spec.kind == "git":
            self.files.pull(task)


def _created(resource: Resource, context: SpecContext) -> dict[str, Any]:
    """What a custom resource's ``create()`` returned, or an error that points at it."""
    name = f"{type(resource).__name__}.create()"
    try:
        outputs = resource.create(context)
    except NotImplementedError:
        raise
    except Exception as exc:
        where = _user_frame(exc)
        raise DeploymentError(
            f"resource {context.key!r}: {name} raised {type(exc).__name__}: {exc}{where}; "
            "fix create() (the resource's outputs are what it returns)",
            resource=context.key,
        ) from exc
    if not isinstance(outputs, Mapping):
        raise DeploymentError(
            f"resource {context.key!r}: {name} returned {outputs!r}, not a dict of outputs: "
            'return one, e.g. {"url": ...} (an empty dict when there is nothing to give)',
            resource=context.key,
        )
    return dict(outputs)


def _user_frame(exc: BaseException) -> str:
    """`` (at conftest.py:12)``: the innermost frame of the user's code, if any."""
    import traceback

    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if "pytest_clockwork" not in Path(frame.filename).parts
    ]
    return f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def _custom_resource(record: ResourceRecord) -> Resource:
    """Rebuild a custom resource from its record, to call its ``delete``."""
    spec = spec_from_json(record.spec)
    if not isinstance(spec, CustomSpec) or spec.resource is None:
        raise DeploymentError(
            f"resource {record.key!r}: cannot rebuild it from its record to delete it",
            resource=record.key,
        )
    return spec.resource
