"""Asking a model, through pydantic-ai, for the change set that carries out an intent.

The model and its settings are the completion's (``CW_MODEL``, ``CW_BASE_URL``,
``CW_API_KEY``, ``CW_COMPLETION_MAX_RETRIES``), and so are the transient-failure retries
and the endpoint errors. Every proposal is applied in memory by :func:`~.evolve.evolve`
(the resource classes' validation and the completion's safety policy); a rejected one
goes back to the model with the reasons, within the retry budget. Importing this module
imports pydantic-ai: :mod:`.command` imports it only when a model is asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic_ai import Agent, ModelRetry
from pydantic_ai.exceptions import ModelAPIError, UnexpectedModelBehavior
from pydantic_ai.models import Model
from pydantic_ai.settings import ModelSettings

from pytest_clockwork.completion.agent import REQUEST_TIMEOUT, endpoint_error, run_agent
from pytest_clockwork.completion.policy import Rejection
from pytest_clockwork.errors import ClockworkError

from .changes import ASSERTION_TYPES, RESOURCE_TYPES, ChangeSet
from .context import Context
from .evolve import Evolution

INSTRUCTIONS = f"""\
You evolve the test infrastructure of a pytest-clockwork project. Its resources are \
declared in conftest.py files; a kept stack may run them. You are shown the declarations, \
what is deployed and observed now, and a developer's intent, often vague. Call the \
final_result tool with the smallest change set that carries the intent out:

- changes: a field of a declared resource set to its whole new value (for env_vars, every \
entry, the unchanged ones too).
- new_resources: resources of the built-in types ({", ".join(RESOURCE_TYPES)}), with every \
field they need.
- removals: keys of declared resources to remove.
- assertions: checks that show the intent holds once deployed, of the types \
{", ".join(ASSERTION_TYPES)}; every changed or new resource needs at least one. To change \
a check, give `replaces` with its number as shown.

Rules (a change set that breaks one is sent back to you with the reason):
- File directories are relative paths inside the project; never outside it.
- File modes are octal strings such as "644"; never world-writable.
- Publish container ports as "80"; never pin a host port below 1024.
- Never set privileged.
- Environment variable values are strings.
- Secret values are shown as references such as "${{secret:db.env_vars.PASSWORD}}"; keep \
them as they are.
- Change only what the intent needs; keep every other field as it is.
"""


class UpdateRejected(ClockworkError):
    """The model's change sets kept being rejected until the retries ran out.

    Attributes:
        last: The reasons the last one was rejected.
        attempts: How many change sets were proposed.
    """

    def __init__(self, message: str, last: list[Rejection], attempts: int) -> None:
        super().__init__(message)
        self.last = last
        self.attempts = attempts


@dataclass(frozen=True)
class Proposal:
    """An accepted change set, what it does to the declarations, and who proposed it.

    Attributes:
        changes: The change set.
        evolution: The declarations after it.
        model: The model's name.
        rejected: The reasons earlier proposals were sent back, one list per proposal.
    """

    changes: ChangeSet
    evolution: Evolution
    model: str
    rejected: list[list[Rejection]]


Check = Callable[[ChangeSet], Evolution]


class Proposer:
    """Asks one model for change sets.

    Args:
        model: The pydantic-ai model (see :meth:`for_settings`, or a test model).
        label: Its name, as recorded in ``clockwork.lock``.
        endpoint: Where it is reached (for messages).
        max_retries: Rejected change sets sent back before giving up.
    """

    def __init__(self, model: Model, *, label: str, endpoint: str, max_retries: int) -> None:
        self.model = model
        self.label = label
        self.endpoint = endpoint
        self.max_retries = max_retries

    @classmethod
    def for_endpoint(
        cls, *, model_name: str, base_url: str, api_key: str, max_retries: int
    ) -> Proposer:
        """A proposer for an OpenAI-compatible chat-completions endpoint."""
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        provider = OpenAIProvider(base_url=base_url, api_key=api_key)
        model = OpenAIChatModel(model_name, provider=provider)
        return cls(model, label=model_name, endpoint=base_url, max_retries=max_retries)

    def propose(self, intent: str, context: Context, check: Check) -> Proposal:
        """The first change set for ``intent`` that ``check`` accepts.

        Raises:
            UpdateRejected: The retries ran out.
            ClockworkError: The endpoint failed in a way retrying does not fix.
        """
        from pytest_clockwork.completion.service import _run

        rejected: list[list[Rejection]] = []
        accepted: list[Evolution] = []
        settings: ModelSettings = {"max_retries": 0, "timeout": REQUEST_TIMEOUT}
        agent: Agent[None, ChangeSet] = Agent(
            self.model,
            output_type=ChangeSet,
            instructions=INSTRUCTIONS,
            retries={"output": self.max_retries},
            model_settings=settings,
        )

        @agent.output_validator
        def validate(output: ChangeSet) -> ChangeSet:
            evolution = check(output)
            if evolution.rejections:
                rejected.append(evolution.rejections)
                raise ModelRetry(
                    "Rejected: "
                    + "; ".join(str(r) for r in evolution.rejections)
                    + ". Propose the change set again, following the rules."
                )
            accepted.append(evolution)
            return output

        async def ask() -> Any:
            async with self.model:
                return await run_agent(agent, render(intent, context))

        try:
            result = _run(ask())
        except UnexpectedModelBehavior as exc:
            last = rejected[-1] if rejected else []
            shown = "; ".join(str(r) for r in last) or str(exc)
            raise UpdateRejected(
                f"the model {self.label} proposed no usable change after "
                f"{len(rejected) or self.max_retries + 1} attempts (1 + "
                f"CW_COMPLETION_MAX_RETRIES); the last was rejected: {shown}. Make the intent "
                "more precise, or try another model (CW_MODEL).",
                last,
                len(rejected),
            ) from None
        except ModelAPIError as exc:
            error = endpoint_error(exc)
            raise ClockworkError(
                f"the model {self.label} at {self.endpoint} failed: {error} ({error.hint})"
            ) from None
        return Proposal(result.output, accepted[-1], self.label, rejected)


def render(intent: str, context: Context) -> str:
    """The prompt: the intent, the declarations, what is deployed now."""
    lines = [
        f"Intent: {intent.strip()}",
        "",
        f"Declared resources (conftest.py files under the project {context.rootdir}):",
        _json(context.declarations()),
    ]
    deployed = context.deployed()
    if deployed:
        lines += ["", f"Deployed in the kept stack {context.stack!r}, as observed now:"]
        lines.append(_json(deployed))
    else:
        lines += ["", f"Nothing is deployed in stack {context.stack!r}."]
    return "\n".join(lines) + "\n"


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
