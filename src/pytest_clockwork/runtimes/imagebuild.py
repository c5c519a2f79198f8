"""Images built from a Dockerfile on the Docker engine: the build cache, the build, its
output, and removing the cache.

A built image carries clockwork's labels (``clockwork.managed``, ``clockwork.root``,
``clockwork.resource``) and :data:`~pytest_clockwork.specs.BUILD_LABEL`, the digest of
its inputs. Before building, an image carrying the digest is looked for: while the
inputs are unchanged (in this session or any later one), nothing is built again. The
images stay as a cache; ``clockwork destroy --images`` removes them.

The build uses the engine's classic builder through the Docker SDK, whose output names
each step (``Step 2/5 : RUN make``): a failure names the failing step. Podman's compatible
build says the same in its own words (``STEP 2/5: RUN make``; ``building at STEP "RUN
make": while running runtime: exit status 2``): they are said in Docker's, so that the
output and the errors read the same on both engines.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
from docker import APIClient

from pytest_clockwork.errors import DeploymentError
from pytest_clockwork.notation import familiar_image, same_image
from pytest_clockwork.runtimes.base import Preparation
from pytest_clockwork.runtimes.podman import is_podman
from pytest_clockwork.specs import BUILD_LABEL, LABEL_PREFIX, BuildSpec, ContainerSpec

OUTPUT_TAIL = 15
"""How many of the last lines of a failed build's output its error shows."""
_STEP = re.compile(r"step \d+/\d+ ?:", re.IGNORECASE)
"""A build step's first line: ``Step 2/5 : RUN make`` (Docker), ``STEP 2/5: RUN make`` (Podman)."""
_PODMAN_STEP = re.compile(r"STEP (\d+/\d+): (.*)")
_PODMAN_RUN_FAILED = re.compile(
    r'building at STEP "(?:RUN )?(.*)": .*exit status (\d+)$', re.DOTALL
)
_locks: dict[str, threading.Lock] = {}
_locks_lock = threading.Lock()


class BuildCancelled(DeploymentError):
    """The session ended while the image was being built."""


def ensure_built(api: APIClient, spec: ContainerSpec, how: Preparation) -> str:
    """Make sure ``spec.image`` is the image its build makes: found in the cache by the
    digest of its inputs, or built now (one build at a time for each digest).

    Args:
        api: The Docker engine's API client.
        spec: The container, with its build.
        how: Labels for the image, where its output and status lines go.

    Returns:
        The image's id.

    Raises:
        DeploymentError: The build failed; the message names the failing step and ends
            with the last lines of the build's output.
    """
    build = spec.build
    assert build is not None
    with _lock_for(build.digest):
        cached = cached_image(api, build.digest)
        if cached is not None:
            _tag(api, cached, spec.image)
            how.output(f"clockwork: {spec.key} image {spec.image} is up to date (built before)")
            return cached
        where = _shown_dockerfile(build)
        how.status(f"clockwork: building the image of {spec.key} from {where} ...")
        started = time.monotonic()
        image_id = _build(api, spec, build, how)
        seconds = time.monotonic() - started
        how.output(f"clockwork: {spec.key} image {spec.image} built in {seconds:.1f}s")
        return image_id


def cached_image(api: APIClient, digest: str) -> str | None:
    """The id of an image clockwork built from inputs of ``digest``, if there is one.

    Podman puts a build's labels on the image of every step too (its layer cache), and a
    later build may reuse those: there, only a tagged image is a build's result.
    """
    found = api.images(filters={"label": f"{BUILD_LABEL}={digest}"})
    if is_podman(api):
        found = [image for image in found if _names(image)]
    if not found:
        return None
    newest = max(found, key=lambda image: image.get("Created", 0))
    return str(newest["Id"])


def _names(image: Mapping[str, Any]) -> list[str]:
    return [tag for tag in image.get("RepoTags") or [] if tag != "<none>:<none>"]


def _remove_leftovers(api: APIClient, digest: str) -> None:
    """Remove the untagged images a failed build of ``digest`` left carrying its labels
    (Podman's images of the steps before the failing one); one in use stays."""
    for image in api.images(all=True, filters={"label": f"{BUILD_LABEL}={digest}"}):
        if not _names(image):
            with contextlib.suppress(docker.errors.APIError):
                api.remove_image(str(image["Id"]))


def remove_built_images(api: APIClient, root_id: str) -> tuple[list[str], list[str]]:
    """Remove the images clockwork built for the rootdir of ``root_id`` (its build cache).

    Only images carrying clockwork's build label and that rootdir's label are touched.
    An image a container uses (a kept one, another session's) is left as it is.

    Returns:
        What was removed, and what was left (with why).
    """
    removed: list[str] = []
    left: list[str] = []
    for image in _built_images(api, root_id):
        image_id = str(image["Id"])
        names = _names(image)
        shown = ", ".join(map(familiar_image, names)) or image_id.removeprefix("sha256:")[:12]
        # The bare id: Podman 4 finds no container for an ancestor given as "sha256:…".
        bare = image_id.removeprefix("sha256:")
        users = api.containers(all=True, filters={"ancestor": bare})
        if users:
            using = ", ".join(sorted(user["Names"][0].lstrip("/") for user in users))
            left.append(f"{shown} (container {using} uses it)")
            continue
        try:
            for name in names:
                api.remove_image(name)
            if _exists(api, image_id):  # it had no tag
                api.remove_image(image_id)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            left.append(f"{shown} ({exc.explanation or exc})")
            continue
        removed.append(shown)
    if is_podman(api):  # the images of its steps, now that no built image needs them
        for image in _built_images(api, root_id, every=True):
            if not _names(image):
                with contextlib.suppress(docker.errors.APIError):
                    api.remove_image(str(image["Id"]))
    return removed, left


def _built_images(api: APIClient, root_id: str, *, every: bool = False) -> list[dict[str, Any]]:
    """The images carrying clockwork's build label and the rootdir's labels (with
    ``every``, those of the build steps too). Asked by one label, checked for the others:
    Podman 4 finds no image for several label filters."""
    found = api.images(all=every, filters={"label": f"{LABEL_PREFIX}root={root_id}"})
    return [
        dict(image)
        for image in found
        if (image.get("Labels") or {}).get(f"{LABEL_PREFIX}managed") == "true"
        and BUILD_LABEL in (image.get("Labels") or {})
    ]


# -- building -----------------------------------------------------------------------------


@dataclass
class BuildOutput:
    """What a build said: its steps, its last lines, its error and the image it made."""

    key: str
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=OUTPUT_TAIL))
    step: str | None = None
    error: str | None = None
    image_id: str | None = None
    _partial: str = ""

    def read(self, chunks: Iterable[Mapping[str, Any]], how: Preparation) -> None:
        """Take the build's decoded output chunks, sending each full line to ``how.output``
        (prefixed with the resource's key) as it comes.

        Raises:
            BuildCancelled: ``how.cancelled`` was set meanwhile.
        """
        for chunk in chunks:
            if how.cancelled is not None and how.cancelled.is_set():
                raise BuildCancelled(
                    f"resource {self.key!r}: its image build was stopped: the session is ending",
                    resource=self.key,
                )
            if "stream" in chunk:
                self._take(str(chunk["stream"]), how)
            elif "status" in chunk:
                self._take(f"{chunk['status']} {chunk.get('progress') or ''}".rstrip() + "\n", how)
            if "error" in chunk or "errorDetail" in chunk:
                detail = chunk.get("errorDetail") or {}
                self.error = docker_words(
                    str(detail.get("message") or chunk.get("error") or "").strip()
                )
            aux = chunk.get("aux")
            if isinstance(aux, Mapping) and aux.get("ID"):
                self.image_id = str(aux["ID"])
        self._take("\n", how)

    def _take(self, text: str, how: Preparation) -> None:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            line = docker_words(line.rstrip("\r"))
            if not line.strip():
                continue
            if _STEP.match(line):
                self.step = line.strip()
            self.tail.append(line)
            how.output(f"{self.key} | {line}")

    def failure(self, build: BuildSpec, error: str) -> DeploymentError:
        """The error of a failed build: the resource, the failing step, the last lines."""
        where = (
            f"at {self.step}"
            if self.step
            else f"before its first step ({_shown_dockerfile(build)})"
        )
        lines = "\n".join(f"  {line}" for line in self.tail)
        shown = f"\nthe last lines of the build's output:\n{lines}" if lines else ""
        return DeploymentError(
            f"resource {self.key!r}: the image build failed {where}: {error}. Fix "
            f"{_shown_dockerfile(build)} (or the context), then run again; -v shows the "
            f"build's output as it happens.{shown}",
            resource=self.key,
            logs="\n".join(self.tail),
        )


def _build(api: APIClient, spec: ContainerSpec, build: BuildSpec, how: Preparation) -> str:
    output = BuildOutput(spec.key)
    labels = {**how.labels, BUILD_LABEL: build.digest}
    try:
        chunks = api.build(
            path=build.context,
            dockerfile=build.dockerfile,
            tag=spec.image,
            target=build.target,
            buildargs=dict(build.args),
            labels=labels,
            rm=True,
            forcerm=True,  # no intermediate container stays, even when a step fails
            decode=True,
            timeout=None,  # a quiet step may take long: no read timeout
        )
        output.read(chunks, how)
    except docker.errors.APIError as exc:
        _remove_leftovers(api, build.digest)
        raise output.failure(build, docker_words(str(exc.explanation or exc))) from None
    if output.error is not None:
        _remove_leftovers(api, build.digest)
        raise output.failure(build, output.error)
    return output.image_id or str(api.inspect_image(spec.image)["Id"])


def docker_words(text: str) -> str:
    """A line of Podman's build output, or its error, as Docker says it (other text as
    it is): ``Step 2/5 : RUN make``; ``The command 'make' returned a non-zero code: 2``."""
    step = _PODMAN_STEP.fullmatch(text)
    if step:
        return f"Step {step[1]} : {step[2]}"
    failed = _PODMAN_RUN_FAILED.fullmatch(text)
    if failed:
        return f"The command '{failed[1]}' returned a non-zero code: {failed[2]}"
    return text


def _tag(api: APIClient, image_id: str, name: str) -> None:
    """Make ``name`` refer to ``image_id`` (a cached image under the name the spec wants)."""
    tags = api.inspect_image(image_id).get("RepoTags") or []
    if any(same_image(tag, name) for tag in tags):
        return
    repository, tag = _repository_and_tag(name)
    api.tag(image_id, repository, tag)


def _repository_and_tag(name: str) -> tuple[str, str]:
    repository, _, tag = name.rpartition(":")
    if repository and "/" not in tag:
        return repository, tag
    return name, "latest"


def _exists(api: APIClient, image_id: str) -> bool:
    try:
        api.inspect_image(image_id)
    except docker.errors.NotFound:
        return False
    return True


def _lock_for(digest: str) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(digest, threading.Lock())


def _shown_dockerfile(build: BuildSpec) -> str:
    """``api/Dockerfile``: the Dockerfile, under its context's directory name."""
    return str(Path(Path(build.context).name) / build.dockerfile)
