"""A tiny OpenAI-compatible chat-completions server for tests, on 127.0.0.1.

It answers ``POST /v1/chat/completions`` from a script: each entry is the reply to
one request, either the arguments of a ``final_result`` tool call, an HTTP error, or
a function of the request that returns one of those. Every request body is kept in
:attr:`FakeOpenAI.requests` so that tests can read the prompts the model was sent.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class HttpError:
    """An error reply: a status, and an optional ``Retry-After`` header."""

    status: int
    retry_after: str | None = None
    message: str = "simulated failure"


Reply = dict[str, Any] | HttpError
Step = Reply | Callable[[dict[str, Any]], Reply]


def tool_call_reply(arguments: dict[str, Any], model: str = "fake-model") -> dict[str, Any]:
    """A chat-completions reply calling the ``final_result`` tool with ``arguments``."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call-fake",
                            "type": "function",
                            "function": {
                                "name": "final_result",
                                "arguments": json.dumps(arguments),
                            },
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def prompt_text(request: dict[str, Any]) -> str:
    """Every message of a chat-completions request (and tool results), as one text."""
    parts = []
    for message in request.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(str(item.get("text", item)) for item in content)
        if content:
            parts.append(str(content))
    return "\n".join(parts)


@dataclass
class FakeOpenAI:
    """The server's script and what it received.

    Attributes:
        script: Replies still to give, in order; when empty, :attr:`fallback` answers.
        fallback: The reply when the script is used up (a 500 by default).
        requests: Every request body received, in order.
        headers: The headers of each request.
        url: The base URL to give clients (``http://127.0.0.1:PORT/v1``).
    """

    script: list[Step] = field(default_factory=list)
    fallback: Step = field(default_factory=lambda: HttpError(500, message="script used up"))
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_reply(self, request: dict[str, Any]) -> Reply:
        """Record ``request`` and pick its reply."""
        with self._lock:
            self.requests.append(request)
            step = self.script.pop(0) if self.script else self.fallback
        reply = step(request) if callable(step) else step
        if isinstance(reply, HttpError):
            return reply
        return reply if "choices" in reply else tool_call_reply(reply)

    @property
    def prompts(self) -> list[str]:
        """The text of each request's messages."""
        return [prompt_text(request) for request in self.requests]


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            reply = fake.next_reply(body)
            if isinstance(reply, HttpError):
                headers = {"Retry-After": reply.retry_after} if reply.retry_after else {}
                error = {"message": reply.message, "type": "fake", "code": str(reply.status)}
                self._send(reply.status, {"error": error}, headers)
            else:
                self._send(200, reply)

        def _send(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


@contextlib.contextmanager
def serve(fake: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """Run ``fake`` on a free port of 127.0.0.1 for the duration of the generator."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-openai", daemon=True
    )
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
