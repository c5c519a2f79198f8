"""Regenerate ``examples/ai-completion/clockwork.lock`` with the real completer.

The example's lock is produced by clockwork's own completion code talking to the fake
OpenAI server (tests/support/fake_openai.py) over HTTP, with the answers below in
place of a real model, so the example runs offline. Run it from the repository root
after changing the example's declarations:

    python tests/support/example_lock.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.fake_openai import FakeOpenAI, prompt_text, serve

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ai-completion"
MODEL = "scripted-example-model"

ANSWERS = {
    "'greeting'": {
        "name": "greeting.txt",
        "content": "Welcome to Crumb & Co: fresh bread every morning!\n",
        "mode": "644",
    },
    "'site.index.html'": {
        "content": (
            "<!doctype html>\n<title>Crumb &amp; Co</title>\n<h1>Crumb &amp; Co</h1>\n"
            '<p>Bread baked every morning. See <a href="menu.html">the menu</a>.</p>\n'
        ),
        "mode": "644",
    },
    "'site.menu.html'": {
        "content": (
            "<!doctype html>\n<title>Menu - Crumb &amp; Co</title>\n<h1>Menu</h1>\n<ul>\n"
            "<li>Sourdough loaf - €4.50</li>\n<li>Rye bread - €3.80</li>\n"
            "<li>Baguette - €2.20</li>\n</ul>\n"
        ),
        "mode": "644",
    },
}


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The scripted answer for the resource the request is about."""
    prompt = prompt_text(request)
    for resource, values in ANSWERS.items():
        if f"Resource {resource}" in prompt:
            return values
    raise LookupError(f"no scripted answer for:\n{prompt}")


def main() -> int:
    """Complete the example's resources again and write its clockwork.lock."""
    (EXAMPLE / "clockwork.lock").unlink(missing_ok=True)
    with serve(FakeOpenAI(fallback=answer)) as fake:
        env = {
            **os.environ,
            "CW_BASE_URL": fake.url,
            "CW_API_KEY": "example",
            "CW_MODEL": MODEL,
            "CW_LOCK": "update",
        }
        env.pop("CI", None)
        command = [sys.executable, "-m", "pytest", str(EXAMPLE), "--clockwork-plan"]
        return subprocess.call([*command, "-p", "no:xdist", "-p", "no:cacheprovider"], env=env)


if __name__ == "__main__":
    raise SystemExit(main())
