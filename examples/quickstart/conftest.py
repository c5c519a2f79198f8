"""The quickstart: a small static site as files, deployed for the session and removed after.

It needs no Docker engine, no API key and no Pulumi. Run it from the repository root:

    pytest examples/quickstart --clockwork-apply
"""

from pytest_clockwork import (
    BlankResource,
    FileContentMatchesAssert,
    FileExistsAssert,
    FileResource,
)

# A single file: the fixture `settings` is the written file (its absolute `path`).
settings = FileResource(
    name="settings.toml",
    directory="build",
    content='title = "Quickstart"\nlanguage = "en"\n',
    # Each assertion is a test item: conftest.py::settings.file_exists, ... (-m assertions)
    assertions=[FileExistsAssert(), FileContentMatchesAssert(pattern=r'title = "\w+"')],
)

# A composite: its files are deployed and destroyed together, after `settings`.
site = (
    BlankResource(name="site", description="the static site")
    .add(
        FileResource(
            name="index.html",
            directory="build/site",
            content="<h1>Quickstart</h1>\n",
            assertions=[FileContentMatchesAssert(contains="<h1>")],
        ),
        FileResource(name="robots.txt", directory="build/site", content="User-agent: *\n"),
        FileResource(name="deploy.sh", directory="build", content="#!/bin/sh\n", mode="755"),
    )
    .connect(settings)
)
