"""Containers talking over HTTP: a backend, and a frontend that calls it by name.

Runs on any Docker engine, with no registry: the image is busybox (httpd, wget, sh)
imported locally by `.ci/build-test-images` from the repository root. Where images can
be pulled, any web server image works the same way.

    .ci/build-test-images
    pytest examples/docker-web --clockwork-apply -v
"""

import os

from pytest_clockwork import (
    ContainerRunningAssert,
    DockerResource,
    FileResource,
    HealthcheckAssert,
)

IMAGE = os.environ.get("DOCKER_WEB_IMAGE", "clockwork-test/busybox:latest")

GREET = """#!/bin/sh
echo "Content-Type: text/plain"
echo ""
echo "frontend says: $(wget -q -O- http://backend/index.html)"
"""

# The backend serves static files. "80" publishes it on a free host port.
backend = DockerResource(
    image=IMAGE,
    ports=["80"],
    assertions=[ContainerRunningAssert(), HealthcheckAssert(port=80)],
)

# A CGI script, written for the session and mounted into the frontend.
greet = FileResource(name="greet", directory="build/www/cgi-bin", mode="755", content=GREET)

# The frontend answers /cgi-bin/greet by calling the backend by its name: connected
# containers share a network on which each is reachable by its resource name.
frontend = DockerResource(
    image=IMAGE,
    ports=["80"],
    volumes=["./build/www:/www:ro"],
    command="httpd -f -p 80 -h /www",
    wait_for=[HealthcheckAssert(port=80, path="/cgi-bin/greet")],
    assertions=[HealthcheckAssert(port=80, path="/cgi-bin/greet")],
).connect(backend, greet)
