"""Compose files on a real Docker engine: dependencies honoured as readiness, one-shot
services, interpolation, services reaching each other by name, errors before anything
runs, and nothing left behind."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from tests.support.engine import reported_image

pytestmark = pytest.mark.docker

# db serves a page once it is healthy; migrate writes into a volume and exits; web starts
# only after both, reads the page from db by its service name and what migrate wrote, and
# serves them with the variables it was given.
PROJECT = """
services:
  web:
    image: clockwork-test/busybox:latest
    ports: ["80"]
    environment:
      GREETING: ${GREETING:-unset}
      FROM_DOTENV: ${FROM_DOTENV}
      LITERAL: $$HOME
    volumes: ["shared:/shared"]
    command:
      - sh
      - -c
      - >-
        wget -q -O /www/from-db.txt http://db/ &&
        cp /shared/migrated /www/migrated.txt &&
        echo "$$GREETING $$FROM_DOTENV $$LITERAL" > /www/env.txt &&
        exec httpd -f -p 80 -h /www
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  db:
    image: clockwork-test/busybox:latest
    init: true
    healthcheck:
      test: wget -q -O /dev/null http://localhost/
      interval: 100ms
  migrate:
    image: clockwork-test/busybox:latest
    volumes: ["shared:/shared"]
    command: ["sh", "-c", "echo migrated > /shared/migrated && echo migration done"]
  unused:
    image: clockwork-test/nowhere:latest
volumes:
  shared:
"""


def write(pytester: pytest.Pytester, text: str, name: str = "compose.yaml") -> None:
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_a_compose_project_deploys_in_dependency_order_and_leaves_nothing(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    docker_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GREETING", "hello-from-env")
    write(pytester, PROJECT)
    (pytester.path / ".env").write_text("FROM_DOTENV=from-dotenv\nGREETING=loses\n")
    declare('shop = ComposeResource(file="compose.yaml", services=["web"])\n')
    pytester.makepyfile(
        test_shop="""
        import docker, httpx

        def test_web(shop):
            assert sorted(shop.children) == ["db", "migrate", "web"]
            web = shop.children["web"]
            get = lambda path: httpx.get(web.url(80) + path).text
            assert get("/from-db.txt") == "hello\\n"  # db, reached by its service name
            assert get("/migrated.txt") == "migrated\\n"  # migrate completed before web
            assert get("/env.txt") == "hello-from-env from-dotenv $HOME\\n"
            assert "migration done" in shop.children["migrate"].logs()
            assert web.container_name.startswith("shop.web-")
            client = docker.from_env()
            attrs = client.containers.get(web.container_id).attrs
            network, = attrs["NetworkSettings"]["Networks"]
            assert network.startswith("shop-default-")
            assert client.volumes.get("shop-shared")
            migrate = client.containers.get(shop.children["migrate"].container_id)
            assert migrate.attrs["State"]["ExitCode"] == 0
        """
    )

    result = pytester.runpytest("--clockwork-apply", "-v")

    result.assert_outcomes(passed=1)
    ready = [
        line.split()[1] for line in result.outlines if line.endswith("s") and " ready in " in line
    ]
    assert ready.index("shop.web") > max(ready.index("shop.db"), ready.index("shop.migrate"))
    assert leftovers() == {"containers": [], "networks": []}
    assert not docker_client.volumes.list(filters={"name": "shop-shared"})


def test_a_one_shot_that_fails_stops_what_depends_on_it_with_its_logs(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    write(
        pytester,
        """
        services:
          web:
            image: clockwork-test/busybox:latest
            depends_on:
              migrate: {condition: service_completed_successfully}
          migrate:
            image: clockwork-test/busybox:latest
            command: ["sh", "-c", "echo 'migration failed: no table users' && exit 3"]
        """,
    )
    declare('broken = ComposeResource(file="compose.yaml")\n')
    pytester.makepyfile(test_it="def test_it(broken):\n    pass\n")

    result = pytester.runpytest("--clockwork-apply")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'broken.migrate': the one-shot container (image "
            "clockwork-test/busybox:latest) exited with code 3*",
            "*migration failed: no table users*",
            "failed broken.web: resource 'broken.web' was not deployed because "
            "'broken.migrate', which it needs, failed*",
        ]
    )
    assert leftovers() == {"containers": [], "networks": []}


def test_a_misspelt_key_stops_the_run_before_anything_is_deployed(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    write(
        pytester,
        """
        services:
          db:
            image: clockwork-test/busybox:latest
          web:
            image: clockwork-test/busybox:latest
            dependson: [db]
        """,
    )
    declare('app = ComposeResource(file="compose.yaml")\n')
    pytester.makepyfile(test_it="def test_it(app):\n    pass\n")

    result = pytester.runpytest("--clockwork-apply")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: clockwork: conftest.py: resource 'app': compose.yaml, line 7: service "
            "'web': unknown key 'dependson': did you mean 'depends_on'?"
        ]
    )
    assert leftovers() == {"containers": [], "networks": []}


def test_an_unset_variable_is_a_warning_and_the_run_goes_on(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOCKWORK_NEVER_SET", raising=False)
    write(
        pytester,
        """
        services:
          job:
            image: clockwork-test/busybox:latest
            command: ["sh", "-c", "echo [${CLOCKWORK_NEVER_SET}] && sleep 30"]
            init: true
        """,
    )
    declare('app = ComposeResource(file="compose.yaml")\n')
    pytester.makepyfile(
        test_it="def test_it(app):\n    assert '[]' in app.children['job'].logs()\n"
    )

    result = pytester.runpytest("--clockwork-apply")

    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*resource 'app': compose.yaml uses CLOCKWORK_NEVER_SET, not set in the environment*"]
    )
    assert leftovers() == {"containers": [], "networks": []}


def test_a_service_built_from_a_dockerfile_with_target_and_args(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    built: Any,
    monkeypatch: pytest.MonkeyPatch,
    token: str,
) -> None:
    monkeypatch.setenv("RELEASE", "1.2.3")
    # The token in each build: two suites on one engine building the same Dockerfile at
    # the same moment can get one image between them, labelled for one root.
    write(
        pytester,
        f"""
        FROM clockwork-test/busybox:latest AS base
        ENV RUN={token}
        ARG RELEASE
        RUN echo "release $RELEASE" > /www/release.txt
        FROM base AS test
        RUN echo test > /www/stage.txt
        FROM base AS prod
        RUN echo prod > /www/stage.txt
        """,
        "api/Dockerfile.test",
    )
    # The file is in deploy/: its relative paths are relative to deploy/, as in Compose.
    write(
        pytester,
        """
        services:
          api:
            build:
              context: ../api
              dockerfile: Dockerfile.test
              target: test
              args:
                RELEASE: ${RELEASE}
            ports: ["80"]
          probe:
            build: ../api/probe
            depends_on: [api]
            command: ["sh", "-c", "wget -q -O- http://api/stage.txt && sleep 60"]
            init: true
        """,
        "deploy/compose.yaml",
    )
    write(
        pytester, f"FROM clockwork-test/busybox:latest\nENV RUN={token}\n", "api/probe/Dockerfile"
    )
    declare('app = ComposeResource(file="deploy/compose.yaml")\n')
    pytester.makepyfile(
        test_api="""
        import httpx

        def test_api(app):
            api = app.children["api"]
            assert httpx.get(api.url(80) + "/release.txt").text == "release 1.2.3\\n"
            assert httpx.get(api.url(80) + "/stage.txt").text == "test\\n"
            assert "test" in app.children["probe"].logs()  # it reached api by name
        """
    )

    result = pytester.runpytest("--clockwork-apply")

    result.assert_outcomes(passed=1)
    assert sorted(tag.split(":")[0] for image in built() for tag in image.tags) == [
        reported_image("clockwork/api"),
        reported_image("clockwork/probe"),
    ]
    assert leftovers() == {"containers": [], "networks": []}
