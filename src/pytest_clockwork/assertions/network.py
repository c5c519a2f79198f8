"""Built-in checks over the network: an HTTP endpoint, a TCP port."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from pydantic import Field, model_validator

from pytest_clockwork.assertions.base import Assertion, AssertionFailed
from pytest_clockwork.resources.container import ContainerResource

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource


class HealthcheckAssert(Assertion):
    """An HTTP GET answers with the expected status.

    Give either ``url`` (checked as it is) or ``port``: a container port, mapped to its
    host port when the check runs, so it works with free host ports.

    Attributes:
        url: A full URL.
        port: The container port (the resource must publish it).
        path: The path requested on ``port``.
        expected_status: The status code that passes.

    Example:
        ``HealthcheckAssert(port=8000, path="/health")``
    """

    url: str | None = None
    port: int | None = Field(default=None, gt=0, lt=65536)
    path: str = "/"
    expected_status: int = 200

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.url is None) == (self.port is None):
            raise ValueError("give HealthcheckAssert either url=... or port=..., not both")
        if not self.path.startswith("/"):
            raise ValueError(f"path {self.path!r} must start with '/'")
        return self

    def fits(self, resource: Resource) -> bool:
        """A URL fits any resource; a port needs a container."""
        return self.url is not None or isinstance(resource, ContainerResource)

    def misfit(self, resource: Resource) -> str | None:
        """Also: the container must publish the port."""
        return super().misfit(resource) or _unpublished(resource, self.port, self.url)

    def target(self, resource: Resource) -> str:
        """The URL checked for ``resource``."""
        if self.url is not None:
            return self.url
        return resource.url(self.port) + self.path  # type: ignore[attr-defined,no-any-return]

    def check(self, resource: Resource) -> None:
        """GET the URL; fail on another status or when nothing answers."""
        import httpx

        url = self.target(resource)
        try:
            response = httpx.get(url, timeout=self.attempt_timeout(), follow_redirects=False)
        except httpx.HTTPError as exc:
            raise AssertionFailed(
                f"resource {resource.key!r}: GET {url} failed ({type(exc).__name__}: {exc}), "
                f"expected status {self.expected_status}"
            ) from None
        if response.status_code != self.expected_status:
            raise AssertionFailed(
                f"resource {resource.key!r}: GET {url} returned {response.status_code}, "
                f"expected {self.expected_status}"
            )


class PortAccessibleAssert(Assertion):
    """A TCP port accepts connections.

    Without ``host`` the port is a container port, mapped to its host port when the check
    runs. Docker's port proxy accepts connections even when nothing listens in the
    container; the check tells that apart (the proxy closes such a connection at once).

    Attributes:
        port: The port (a container port unless ``host`` is given).
        host: Connect to this host and port directly.
    """

    port: int = Field(gt=0, lt=65536)
    host: str | None = None

    def fits(self, resource: Resource) -> bool:
        """A host and port fit any resource; a container port needs a container."""
        return self.host is not None or isinstance(resource, ContainerResource)

    def misfit(self, resource: Resource) -> str | None:
        """Also: the container must publish the port."""
        return super().misfit(resource) or _unpublished(resource, self.port, self.host)

    def check(self, resource: Resource) -> None:
        """Connect; fail when refused, timed out, or closed at once."""
        if self.host is not None:
            host, port = self.host, self.port
        else:
            host, port = resource.host, resource.host_port(self.port)  # type: ignore[attr-defined]
        where = f"resource {resource.key!r}: port {host}:{port}"
        if self.host is None:
            where += f" (container port {self.port})"
        from pytest_clockwork.runtimes.ports import probe_tcp

        problem = probe_tcp(host, port, timeout=self.attempt_timeout(), settle=0.2)
        if problem is not None:
            raise AssertionFailed(f"{where} {problem}")


def _unpublished(resource: Resource, port: int | None, elsewhere: str | None) -> str | None:
    """Why a container port check cannot work: the resource does not publish the port."""
    from pytest_clockwork.notation import parse_port

    declared: list[str] | None = getattr(resource, "ports", None)
    if port is None or elsewhere is not None or declared is None:
        return None
    if f"{port}/tcp" in {parse_port(text).key for text in declared}:
        return None
    return f'it checks container port {port}, which is not published: add "{port}" to ports=[...]'
