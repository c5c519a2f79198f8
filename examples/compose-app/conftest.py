"""A Compose file as fixtures: each service is a container, `app.children["web"]`.

Runs on any Docker engine, with no registry: `web` is built FROM the busybox test image
that `.ci/build-test-images` imports locally (from the repository root).

    .ci/build-test-images
    pytest examples/compose-app --clockwork-apply -v
"""

from pytest_clockwork import ComposeResource

# The file is read when this conftest is loaded: a misspelt key, a depends_on cycle or
# bad YAML stops the run there, before anything is deployed. The services deploy in
# depends_on order (seed completes, then api is healthy, then web is built and started),
# and are removed at the end.
app = ComposeResource(file="compose.yaml")
