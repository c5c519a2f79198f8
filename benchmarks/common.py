"""What the benchmarks share: the test image and the environment their children run in."""

from __future__ import annotations

import os
from pathlib import Path

#: The local busybox image (``.ci/build-test-images``): ``httpd -f -p 80 -h /www``.
IMAGE = "clockwork-test/busybox:latest"

# Python caches compiled modules (and pytest its rewritten ones) on a normal machine;
# some sandboxes turn that off with PYTHONDONTWRITEBYTECODE, which would make every run
# compile clockwork from source while the baseline's dependencies come precompiled from
# pip. Measure as users run it: caching on, after a warm-up run.
ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def absolute(text: str) -> Path:
    """A path option, made absolute: the runners' processes start in other directories."""
    return Path(text).resolve()
