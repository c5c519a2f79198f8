"""The instructions and the prompt of one completion."""

from __future__ import annotations

import json
from typing import Any

from .request import CompletionRequest

INSTRUCTIONS = """\
You complete declarations of test infrastructure for pytest-clockwork. A developer \
declared a resource for their tests with a description and left some fields empty. \
Call the final_result tool with a value for each requested field, and for nothing else: \
the fields the developer gave are fixed.

Make the values work with everything shown to you: a container connected to a database \
gets the environment variables to reach it (for example DATABASE_URL built from the \
database's host name, port and credentials); the files of a composite fit its other \
parts.

Rules (a value that breaks one is sent back to you with the reason):
- File directories are relative paths inside the project, e.g. "config" or ".".
- File modes are octal strings such as "644" or "755"; never world-writable.
- Publish container ports as "80": a free host port is chosen when it is deployed. \
Never pin a host port below 1024.
- Container images are small, well-known images with a tag, e.g. "postgres:16-alpine".
- Environment variable values are strings.
- Connected containers reach each other by their "hostname" at the container port.
- Secret values are hidden from you and shown as references such as \
"${secret:db.env_vars.POSTGRES_PASSWORD}". To use one, write that reference where the value \
goes, e.g. "postgresql://app:${secret:db.env_vars.POSTGRES_PASSWORD}@db:5432/app"; \
clockwork puts the value in when it deploys. Use only references you were shown.
"""


def render(request: CompletionRequest, field_docs: dict[str, str]) -> str:
    """The user prompt for ``request``, with each requested field's documentation."""
    lines = [
        f"Resource {request.key!r} ({request.kind}).",
        f"Description: {request.description}",
        "",
        "Fill in these fields:",
    ]
    lines += [f"- {name}: {field_docs.get(name, '')}".rstrip(": ") for name in request.fields]
    lines += ["", "Given by the developer (fixed):", _json(request.given or {})]
    if request.parent is not None:
        lines += [
            "",
            f"It is part of the composite {request.parent['key']!r}, already completed:",
            _json(request.parent),
        ]
    if request.siblings:
        lines += ["", "The other parts of that composite, as declared:", _json(request.siblings)]
    if request.children:
        lines += [
            "",
            "Its parts (completed after it, each seeing what you choose), as declared:",
            _json(request.children),
        ]
    if request.connections:
        lines += [
            "",
            "It is connected to (deployed before it, reachable from it):",
            _json(request.connections),
        ]
    return "\n".join(lines) + "\n"


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
