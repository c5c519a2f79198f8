"""The :class:`Assertion` base: a check of a deployed resource, polled until it passes."""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

if TYPE_CHECKING:
    from pytest_clockwork.resources.base import Resource


def _regular_expression(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(
            f"{text!r} is not a regular expression ({exc}); escape special characters with "
            "re.escape(...) to match the text as it is"
        ) from None
    return text


Pattern = Annotated[str, AfterValidator(_regular_expression)]
"""A regular expression, checked when the assertion is declared."""


class AssertionFailed(AssertionError):
    """An assertion saw something other than what it expected.

    The message is shown as it is, without a traceback: say what was expected, what
    was seen, and where (the resource, its endpoint).
    """


class Assertion(BaseModel):
    """A check of a deployed resource; each one on a resource becomes a test item.

    Subclass it and implement :meth:`check`: raise :class:`AssertionFailed` (or fail a
    plain ``assert``) with a message a person can act on. The check is retried with
    backoff until it passes or ``timeout`` seconds have gone by, so readiness-style
    checks need no sleeps.

    Attributes:
        description: What is checked, in words; it also names the test item.
        timeout: Seconds to keep retrying before the failure is reported.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)

    resource_types: ClassVar[tuple[type[Resource], ...]] = ()
    """The resource classes (or their bases) this check fits; empty fits all."""

    description: str | None = None
    timeout: float = Field(default=10.0, gt=0)

    _deadline: float | None = PrivateAttr(default=None)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        names = [kind for kind in cls.resource_types if not isinstance(kind, type)]
        if names:
            raise TypeError(
                f"{cls.__name__}.resource_types: give the resource classes it fits "
                f"(FileResource, ...), not their names {names!r}"
            )

    @model_validator(mode="before")
    @classmethod
    def _check_arguments(cls, data: Any) -> Any:
        from pytest_clockwork.validation import check_arguments

        return check_arguments(cls, data)

    @model_validator(mode="after")
    def _has_a_check(self) -> Self:
        if type(self).check is Assertion.check:
            raise ValueError(
                f"{type(self).__name__} has no check(): define check(self, resource), which "
                "raises AssertionFailed (or fails an assert) when the resource is not right"
            )
        return self

    def check(self, resource: Resource) -> None:
        """Check the deployed ``resource`` once.

        Raises:
            AssertionFailed: What was expected and what was seen.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement check()")

    def verify(self, resource: Resource, *, cancel: threading.Event | None = None) -> None:
        """Run :meth:`check` until it passes or the timeout runs out.

        Args:
            resource: The deployed resource.
            cancel: Stop retrying as soon as this is set (Ctrl-C during deployment).

        Raises:
            AssertionFailed: The last failure, once the timeout has run out.
        """
        from tenacity import (
            Retrying,
            retry_if_exception_type,
            stop_after_delay,
            stop_when_event_set,
            wait_exponential,
        )

        stop = stop_after_delay(self.timeout)
        retrying = Retrying(
            stop=stop | stop_when_event_set(cancel) if cancel is not None else stop,
            wait=wait_exponential(multiplier=0.05, min=0.05, max=1.0),
            retry=retry_if_exception_type(AssertionError),
            reraise=True,
        )
        self._deadline = time.monotonic() + self.timeout
        for attempt in retrying:
            with attempt:
                self.check(resource)

    def attempt_timeout(self, cap: float = 2.0) -> float:
        """Seconds one attempt may take so that :meth:`verify` ends near its timeout."""
        deadline = self._deadline or time.monotonic() + self.timeout
        remaining = deadline - time.monotonic()
        return max(0.1, min(cap, remaining))

    def fits(self, resource: Resource) -> bool:
        """Whether this check can be applied to ``resource``."""
        return not self.resource_types or isinstance(resource, self.resource_types)

    def misfit(self, resource: Resource) -> str | None:
        """Why this check cannot be applied to ``resource`` (``None`` when it can).

        The reason completes "<check> does not fit <resource>: ...".
        """
        return None if self.fits(resource) else f"it checks {self.checks()}"

    def checks(self) -> str:
        """What kind of resource this check is for, in words (``"containers"``)."""
        names = [_in_words(cls) for cls in self.resource_types]
        return " and ".join(names) if names else "resources"

    @property
    def label(self) -> str:
        """The short name used in test item names (``running``, ``healthcheck``)."""
        if self.description:
            return re.sub(r"[^a-zA-Z0-9_-]+", "_", self.description).strip("_").lower()
        name = type(self).__name__.removesuffix("Assert").removesuffix("Assertion")
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() or "check"


def _in_words(cls: type[Resource]) -> str:
    """How a message names the resources of ``cls``: what the class itself says
    (``"containers"``), else its class name."""
    words = vars(cls).get("in_words")
    return words if isinstance(words, str) else cls.__name__
