"""Repository-level conftest: our own tests drive inner pytest sessions with pytester."""

pytest_plugins = ["pytester"]
