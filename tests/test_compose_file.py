"""Compose files read into DockerResource children, without Docker: the YAML as Compose
reads it, interpolation, every supported key, and the errors for everything else."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork import ComposeResource, DeclarationError, DockerResource
from pytest_clockwork.compose.errors import ComposeFileError
from pytest_clockwork.compose.interpolation import InterpolationError, Variables, read_env_file
from pytest_clockwork.compose.project import Project, read_project
from pytest_clockwork.graph import ResourceGraph
from pytest_clockwork.specs import SpecContext

IMAGE = "clockwork-test/busybox:latest"


def compose(
    tmp_path: Path,
    text: str,
    *,
    environ: dict[str, str] | None = None,
    dotenv: str | None = None,
    services: list[str] | None = None,
    project: str = "app",
) -> Project:
    """Read ``text`` as ``tmp_path/compose.yaml`` (with a ``.env`` beside it)."""
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    if dotenv is not None:
        (tmp_path / ".env").write_text(textwrap.dedent(dotenv))
    return read_project(
        tmp_path / "compose.yaml",
        project=project,
        project_dir=tmp_path,
        environ=environ or {},
        services=services,
        show=lambda path: path.relative_to(tmp_path).as_posix(),
    )


def arguments(tmp_path: Path, service: str, text: str, **how: Any) -> dict[str, Any]:
    """The DockerResource arguments of ``service``."""
    return compose(tmp_path, text, **how).services[service].arguments


def refused(tmp_path: Path, text: str, **how: Any) -> str:
    """The message reading ``text`` fails with."""
    with pytest.raises(ComposeFileError) as caught:
        compose(tmp_path, text, **how)
    return str(caught.value)


# -- interpolation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "value"),
        ("$SET/x", "value/x"),
        ("${EMPTY}", ""),
        ("${UNSET:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""),
        ("${UNSET-fallback}", "fallback"),
        ("${SET:-fallback}", "value"),
        ("${SET:+other}", "other"),
        ("${EMPTY:+other}", ""),
        ("${EMPTY+other}", "other"),
        ("${UNSET+other}", ""),
        ("${UNSET:-${SET}-nested}", "value-nested"),
        ("${UNSET:-{braces\\}}", "{braces\\}"),
        ("$$SET and $${SET}", "$SET and ${SET}"),
        ("cost: $$5", "cost: $5"),
        ("no dollar", "no dollar"),
    ],
)
def test_interpolation_forms(text: str, expected: str) -> None:
    variables = Variables(environ={"SET": "value", "EMPTY": ""})
    assert variables.interpolate(text) == expected


def test_an_unset_variable_becomes_empty_and_is_reported_once() -> None:
    variables = Variables(environ={})
    assert variables.interpolate("a${NOPE}b$NOPE") == "ab"
    assert variables.unset == ["NOPE"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("${NEEDED:?set NEEDED to the API's URL}", "variable NEEDED is required: set NEEDED"),
        ("${EMPTY:?}", "variable EMPTY is required: is empty"),
        ("${NEEDED?}", "variable NEEDED is required: is not set"),
        ("price $5", "write $$ for a literal '$'"),
        ("trailing $", "write $$ for a literal '$'"),
        ("${UNCLOSED", "never closed"),
        ("${}", "names no variable"),
        ("${A B}", "not a substitution Compose knows"),
    ],
)
def test_interpolation_errors_say_what_to_write(text: str, says: str) -> None:
    with pytest.raises(InterpolationError, match=None) as caught:
        Variables(environ={"EMPTY": ""}).interpolate(text)
    assert says in str(caught.value)


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    found = arguments(
        tmp_path,
        "web",
        """
        services:
          web:
            image: ${IMAGE}
            environment:
              FROM_ENV: ${BOTH}
              FROM_FILE: ${ONLY_FILE}
        """,
        environ={"BOTH": "environment", "IMAGE": IMAGE},
        dotenv="BOTH=file\nONLY_FILE=file\n",
    )
    assert found["image"] == IMAGE
    assert found["env_vars"] == {"FROM_ENV": "environment", "FROM_FILE": "file"}


def test_env_files_are_read_as_compose_reads_them(tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text(
        textwrap.dedent(
            """
            # a comment
            export PLAIN=plain value   # trailing comment
            SINGLE='kept ${AS} is #'
            DOUBLE="line\\nbreak"
            DERIVED=${PLAIN}-derived
            FROM_ENV=${HOME_DIR}
            EMPTY=
            """
        )
    )
    values = read_env_file(tmp_path / "app.env", "app.env", Variables(environ={"HOME_DIR": "/h"}))
    assert values == {
        "PLAIN": "plain value",
        "SINGLE": "kept ${AS} is #",
        "DOUBLE": "line\nbreak",
        "DERIVED": "plain value-derived",
        "FROM_ENV": "/h",
        "EMPTY": "",
    }


def test_a_bad_env_file_line_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GOOD=1\nthis is not a variable\n")
    message = refused(tmp_path, f"services:\n  web:\n    image: {IMAGE}\n")
    assert message.startswith(".env, line 2: 'this is not a variable' is not NAME=value")


# -- YAML as Compose reads it ---------------------------------------------------------------


def test_yaml_1_2_scalars_and_merge_keys(tmp_path: Path) -> None:
    found = arguments(
        tmp_path,
        "web",
        f"""
        x-defaults: &defaults
          restart: no
          labels:
            team: qa
        services:
          web:
            <<: *defaults
            image: {IMAGE}
            ports:
              - 22:22
              - 8080:80
            environment:
              ANSWER: yes
              COUNT: 010
              ON: on
        """,
    )
    # YAML 1.1 (PyYAML's default) would read 22:22 as 1342, "no" as False, 010 as 8
    assert found["ports"] == ["22:22", "8080:80"]
    assert found["restart"] == "no"
    assert found["labels"] == {"team": "qa"}
    assert found["env_vars"] == {"ANSWER": "yes", "COUNT": "10", "ON": "on"}


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    message = refused(tmp_path, f"services:\n  web:\n    image: {IMAGE}\n    image: other\n")
    assert "compose.yaml, line 4" in message
    assert "the key 'image' is given twice (first on line 3); keep one" in message


def test_bad_yaml_says_the_line(tmp_path: Path) -> None:
    message = refused(tmp_path, "services:\n  web:\n    image: [unclosed\n    ports: x\n")
    assert message.startswith("compose.yaml, line 4, column ")
    assert "not valid YAML" in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "compose.yaml is empty"),
        ("- web\n", "compose.yaml is not a mapping"),
        ("services: {}\n", "the file declares no services"),
        ("volumes: {}\n", "the file declares no services"),
    ],
)
def test_a_file_without_services_is_refused(tmp_path: Path, text: str, says: str) -> None:
    assert says in refused(tmp_path, text)


# -- keys ---------------------------------------------------------------------------------------


def test_a_misspelt_key_names_the_file_line_service_and_the_key_meant(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        f"""
        services:
          web:
            image: {IMAGE}
            enviroment:
              A: "1"
        """,
    )
    assert message == (
        "compose.yaml, line 5: service 'web': unknown key 'enviroment': did you mean 'environment'?"
    )


def test_a_compose_key_clockwork_does_not_map_is_named_with_the_fix(tmp_path: Path) -> None:
    message = refused(tmp_path, f"services:\n  web:\n    image: {IMAGE}\n    container_name: w\n")
    assert message.startswith(
        "compose.yaml, line 4: service 'web': the key 'container_name' is not supported by "
        "clockwork; clockwork names each container for its session"
    )
    assert "supported here: image, build, ports" in message


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("secrets: {}\nservices: {web: {image: x}}\n", "the top level: the key 'secrets'"),
        ("servics: {web: {image: x}}\n", "unknown key 'servics': did you mean 'services'?"),
        (
            "services:\n  web:\n    build:\n      context: .\n      dockerfle: D\n",
            "service 'web': build: unknown key 'dockerfle': did you mean 'dockerfile'?",
        ),
        (
            "services:\n  web:\n    image: x\n    healthcheck:\n      test: 'true'\n"
            "      intervl: 1s\n",
            "line 6: service 'web': healthcheck: unknown key 'intervl': did you mean 'interval'?",
        ),
        (
            "services:\n  web:\n    image: x\n    ports:\n      - target: 80\n"
            "        publised: 8080\n",
            "line 6: service 'web': ports: a port mapping: unknown key 'publised'",
        ),
        (
            "services:\n  web:\n    image: x\n    networks:\n      default:\n"
            "        aliases: [w]\n",
            "network 'default': the key 'aliases' is not supported by clockwork",
        ),
        (
            "services:\n  web:\n    image: x\nnetworks:\n  back:\n    ipam: {}\n",
            "network 'back': the key 'ipam' is not supported",
        ),
        (
            "services:\n  web:\n    image: x\n    depends_on:\n      db:\n"
            "        condition: service_started\n        restart: true\n  db:\n    image: x\n",
            "the dependency on 'db': the key 'restart' is not supported",
        ),
    ],
)
def test_keys_are_checked_at_every_level(tmp_path: Path, text: str, says: str) -> None:
    assert says in refused(tmp_path, text)


def test_extension_fields_are_ignored_everywhere(tmp_path: Path) -> None:
    project = compose(
        tmp_path,
        f"""
        x-anything: {{whatever: [1, 2]}}
        version: "3.9"
        services:
          x-not-a-service: {{foo: bar}}
          web:
            image: {IMAGE}
            x-team: qa
            x-unset: ${{NOT_INTERPOLATED}}
            healthcheck:
              test: "true"
              x-note: ignored
        networks:
          x-nope: 1
        """,
    )
    assert list(project.services) == ["web"]
    assert project.unset == []


# -- the mapping of each key ---------------------------------------------------------------


def test_each_supported_key_becomes_its_docker_resource_argument(tmp_path: Path) -> None:
    (tmp_path / "web.env").write_text("FROM_FILE=1\nOVERRIDDEN=file\n")
    found = arguments(
        tmp_path,
        "web",
        f"""
        services:
          web:
            image: {IMAGE}
            ports: ["80", 8081, "127.0.0.1:8082:82/udp",
                    {{target: 83, published: "8083", host_ip: 127.0.0.1, protocol: tcp}},
                    {{target: 84}}]
            expose: ["9000", 9001]
            env_file: web.env
            environment: [OVERRIDDEN=list, "WITH_EQUALS=a=b", FROM_SHELL, NOT_IN_SHELL]
            command: httpd -f -p 80 -h /www
            entrypoint: ["/bin/sh", "-c"]
            volumes:
              - ./www:/www:ro
              - data:/data
              - {{type: bind, source: ./conf, target: /conf, read_only: true}}
              - {{type: volume, source: data, target: /more}}
            healthcheck:
              test: ["CMD", "wget", "-q", "http://localhost/"]
              interval: 1m30s
              timeout: 500ms
              retries: 5
              start_period: 2s
            networks: [front, back]
            working_dir: /www
            user: 1000
            restart: unless-stopped
            tmpfs: /scratch
            cap_add: [NET_ADMIN]
            cap_drop: [ALL]
            extra_hosts: ["host.docker.internal:host-gateway", "v6=::1"]
            mem_limit: 256m
            shm_size: 134217728
            init: true
            labels: [team=qa, tier=web]
            privileged: false
            cpus: 1.5
            platform: linux/amd64
            pull_policy: if_not_present
        volumes:
          data:
        networks:
          front:
          back:
            name: my-back
        """,
        environ={"FROM_SHELL": "shell"},
    )
    assert found == {
        "name": "web",
        "image": IMAGE,
        "ports": [
            "80",
            "8081",
            "127.0.0.1:8082:82/udp",
            "127.0.0.1:8083:83/tcp",
            "84",
        ],
        "env_vars": {
            "FROM_FILE": "1",
            "OVERRIDDEN": "list",
            "WITH_EQUALS": "a=b",
            "FROM_SHELL": "shell",
        },
        "command": "httpd -f -p 80 -h /www",
        "entrypoint": ["/bin/sh", "-c"],
        "volumes": [
            f"{tmp_path}/www:/www:ro",
            "app-data:/data",
            f"{tmp_path}/conf:/conf:ro",
            "app-data:/more",
        ],
        "healthcheck": {
            "test": ["CMD", "wget", "-q", "http://localhost/"],
            "interval": 90.0,
            "timeout": 0.5,
            "retries": 5,
            "start_period": 2.0,
        },
        "networks": ["app-front", "my-back"],
        "working_dir": "/www",
        "user": "1000",
        "restart": "unless-stopped",
        "tmpfs": ["/scratch"],
        "cap_add": ["NET_ADMIN"],
        "cap_drop": ["ALL"],
        "extra_hosts": {"host.docker.internal": "host-gateway", "v6": "::1"},
        "mem_limit": "256m",
        "shm_size": "134217728",
        "init": True,
        "labels": {"team": "qa", "tier": "web"},
        "privileged": False,
        "cpus": 1.5,
        "platform": "linux/amd64",
        "pull": "missing",
    }


def test_a_service_without_networks_joins_the_project_default(tmp_path: Path) -> None:
    project = compose(
        tmp_path,
        f"""
        services:
          a: {{image: {IMAGE}}}
          b: {{image: {IMAGE}, networks: [default, shared]}}
        networks:
          shared: {{external: true}}
        """,
        project="shop",
    )
    assert project.services["a"].arguments["networks"] == ["shop-default"]
    assert project.services["b"].arguments["networks"] == ["shop-default", "shared"]


def test_named_volumes_are_named_after_the_project_unless_named_or_external(
    tmp_path: Path,
) -> None:
    found = arguments(
        tmp_path,
        "db",
        f"""
        services:
          db:
            image: {IMAGE}
            volumes: ["data:/a", "named:/b", "theirs:/c"]
        volumes:
          data: {{}}
          named: {{name: exactly-this}}
          theirs: {{external: true}}
        """,
    )
    assert found["volumes"] == ["app-data:/a", "exactly-this:/b", "theirs:/c"]


def test_relative_paths_are_relative_to_the_project_directory(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "compose.yaml").write_text(
        "services:\n  api:\n    build: ../api\n    volumes: ['./conf:/conf', '~/x:/x']\n"
    )
    project = read_project(
        tmp_path / "deploy" / "compose.yaml",
        project="app",
        project_dir=tmp_path / "deploy",
        environ={},
    )
    found = project.services["api"].arguments
    assert found["build"] == str(tmp_path / "api")
    assert found["volumes"] == [f"{tmp_path}/deploy/conf:/conf", f"{Path.home()}/x:/x"]


def test_build_as_a_mapping(tmp_path: Path) -> None:
    found = arguments(
        tmp_path,
        "api",
        """
        services:
          api:
            image: myapi:test
            build:
              context: ./api
              dockerfile: Dockerfile.test
              target: test
              args: {VERSION: 1.2, DEBUG: "true"}
        """,
    )
    assert found["image"] == "myapi:test"
    assert found["build"] == {
        "context": str(tmp_path / "api"),
        "dockerfile": "Dockerfile.test",
        "target": "test",
        "args": {"VERSION": "1.2", "DEBUG": "true"},
    }


@pytest.mark.parametrize(
    ("healthcheck", "expected"),
    [
        ("{test: 'pg_isready'}", {"test": "pg_isready"}),
        ("{test: [CMD-SHELL, 'pg_isready -U x']}", {"test": ["CMD-SHELL", "pg_isready -U x"]}),
        ("{test: [NONE]}", None),
        ("{test: 'true', disable: true}", None),
        (
            "{test: 'true', interval: 1h2m3.5s, retries: '4'}",
            {"test": "true", "interval": 3723.5, "retries": 4},
        ),
        ("{test: 'true', timeout: 250us}", {"test": "true", "timeout": 0.00025}),
    ],
)
def test_healthcheck_forms_and_durations(
    tmp_path: Path, healthcheck: str, expected: dict[str, Any] | None
) -> None:
    text = f"services:\n  db:\n    image: {IMAGE}\n    healthcheck: {healthcheck}\n"
    assert arguments(tmp_path, "db", text).get("healthcheck") == expected


@pytest.mark.parametrize(
    ("service", "says"),
    [
        ("ports: [80]\n", "service 'web': it has neither image: nor build:"),
        ("image: x\n    ports: '80'\n", "ports: expected a list, got str '80'"),
        ("image: x\n    init: yes\n", "init: expected true or false, got str 'yes'"),
        ("image: x\n    volumes: [/data]\n", "'/data' is an anonymous volume"),
        ("image: x\n    volumes: ['cache:/c']\n", "'cache' is neither a host path"),
        ("image: x\n    volumes: ['./a:/a:z']\n", "the option 'z' is not supported"),
        ("image: x\n    networks: [back]\n", "'back' is not declared under the top-level"),
        ("image: x\n    healthcheck: {interval: 1s}\n", "give test: too"),
        (
            "image: x\n    healthcheck: {test: 'true', interval: 10}\n",
            "interval: 10 is not a duration",
        ),
        ("image: x\n    restart: on-failure:3\n", "a retry count is not supported"),
        ("image: x\n    env_file: missing.env\n", "missing.env does not exist"),
        ("image: x\n    extra_hosts: [nocolon]\n", "expected host:address"),
        ("build: https://github.com/x/y.git\n", "a remote build context is not supported"),
        ("image: x\n  web.api:\n    image: x\n", "a '.' in a service name is not supported"),
        ("image: x\n    expose: [http]\n", "'http' is not a port"),
        ("image: x\n    pull_policy: daily\n", "pull_policy: 'daily' is not supported"),
        ("image: x\n    pull_policy: build\n", "pull_policy: build needs a build: section"),
    ],
)
def test_values_of_the_wrong_shape_are_named(tmp_path: Path, service: str, says: str) -> None:
    assert says in refused(tmp_path, f"services:\n  web:\n    {service}")


def test_an_optional_env_file_may_be_missing(tmp_path: Path) -> None:
    text = f"services:\n  web:\n    image: {IMAGE}\n"
    text += "    env_file: [{path: gone.env, required: false}]\n"
    assert "env_vars" not in arguments(tmp_path, "web", text)


# -- depends_on and services=[...] -------------------------------------------------------------


DEPENDENCIES = f"""
services:
  web:
    image: {IMAGE}
    depends_on:
      db: {{condition: service_healthy}}
      migrate: {{condition: service_completed_successfully}}
      cache:
  db:
    image: {IMAGE}
    healthcheck: {{test: "true"}}
  migrate:
    image: {IMAGE}
    depends_on: [db]
  cache:
    image: {IMAGE}
  other:
    image: {IMAGE}
"""


def test_depends_on_conditions(tmp_path: Path) -> None:
    project = compose(tmp_path, DEPENDENCIES)
    assert project.services["web"].depends_on == {
        "db": "service_healthy",
        "migrate": "service_completed_successfully",
        "cache": "service_started",
    }
    assert project.services["migrate"].depends_on == {"db": "service_started"}
    assert project.services["migrate"].arguments["must_complete"] is True
    assert "must_complete" not in project.services["db"].arguments


def test_a_subset_takes_what_it_depends_on(tmp_path: Path) -> None:
    assert compose(tmp_path, DEPENDENCIES, services=["migrate"]).taken == ["db", "migrate"]
    assert compose(tmp_path, DEPENDENCIES, services=["web"]).taken == [
        "web",
        "db",
        "migrate",
        "cache",
    ]
    assert compose(tmp_path, DEPENDENCIES).taken == ["web", "db", "migrate", "cache", "other"]


def test_a_service_not_taken_is_checked_all_the_same(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="service 'other': ports: invalid port 'x'"):
        loaded(
            tmp_path,
            f"services:\n  web:\n    image: {IMAGE}\n  other:\n    image: {IMAGE}\n"
            "    ports: ['x']\n",
            services=["web"],
        )


def test_a_subset_naming_no_service_suggests_one(tmp_path: Path) -> None:
    message = refused(tmp_path, DEPENDENCIES, services=["wbe"])
    assert message == (
        "services=[...] names 'wbe', which is not a service of compose.yaml: did you mean 'web'?"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n"
            "    depends_on: [c]\n  c:\n    image: x\n    depends_on: [a]\n",
            "compose.yaml, line 4: service 'a': depends_on makes a cycle: a → b → c → a",
        ),
        (
            "services:\n  a:\n    image: x\n    depends_on: [dbb]\n  db:\n    image: x\n",
            "service 'a': depends_on names 'dbb', which is not a service of the file: did you "
            "mean 'db'?",
        ),
        (
            "services:\n  a:\n    image: x\n    depends_on: [a]\n",
            "depends_on names the service itself",
        ),
        (
            "services:\n  a:\n    image: x\n    depends_on: {b: {condition: service_healthy}}\n"
            "  b:\n    image: x\n",
            "it waits for 'b' to be healthy (condition: service_healthy), but 'b' has no "
            "healthcheck",
        ),
        (
            "services:\n  a:\n    image: x\n    depends_on: {b: {condition: healthy}}\n"
            "  b:\n    image: x\n",
            "condition 'healthy' is not one of service_started, service_healthy, "
            "service_completed_successfully",
        ),
    ],
)
def test_dependency_errors(tmp_path: Path, text: str, says: str) -> None:
    assert says in refused(tmp_path, text)


# -- ComposeResource -------------------------------------------------------------------------


def loaded(tmp_path: Path, text: str, **fields: Any) -> ComposeResource:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(text))
    fields.setdefault("file", "compose.yaml")
    app = ComposeResource(**fields)
    app._key = "app"
    app.load(tmp_path)
    return app


def test_each_service_becomes_a_docker_resource_child(tmp_path: Path) -> None:
    app = loaded(tmp_path, DEPENDENCIES, services=["web"])

    assert list(app.children) == ["web", "db", "migrate", "cache"]
    web = app.children["web"]
    assert isinstance(web, DockerResource)
    assert web.key == "app.web"
    assert [other.key for other in web.connections] == ["app.db", "app.migrate", "app.cache"]
    graph = ResourceGraph.build([app])
    assert graph.levels() == [["app.db", "app.cache"], ["app.migrate"], ["app.web"], ["app"]]
    spec = web.spec(SpecContext(rootdir=tmp_path, key="app.web"))
    # the container is named after the project too; other services reach it as "web"
    assert spec.name == "app.web"
    assert "web" in spec.aliases()
    assert spec.networks == ("app-default",)
    migrate = app.children["migrate"].spec(SpecContext(rootdir=tmp_path, key="app.migrate"))
    assert migrate.must_complete and not migrate.must_run


def test_loading_twice_adds_nothing(tmp_path: Path) -> None:
    app = loaded(tmp_path, DEPENDENCIES)
    app.load(tmp_path)
    assert len(app.children) == 5


def test_a_value_docker_resource_refuses_names_the_compose_key(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError) as caught:
        loaded(
            tmp_path,
            "services:\n  web:\n    image: x\n    environment:\n      'A=B': x\n",
        )
    message = str(caught.value)
    assert message.startswith(
        "resource 'app': compose.yaml, line 4: service 'web': environment: invalid environment "
        "variable name 'A=B'"
    )
    assert caught.value.resource == "app"


def test_an_invalid_image_names_the_service_and_line(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError) as caught:
        loaded(tmp_path, "services:\n  web:\n    ports: ['80']\n    image: Not Valid\n")
    assert str(caught.value).startswith(
        "resource 'app': compose.yaml, line 4: service 'web': image: invalid image 'Not Valid'"
    )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"file": "nope.yaml"}, "file='nope.yaml': nope.yaml does not exist"),
        ({"file": "."}, "file='.': . is not a file"),
        ({"env_file": "gone.env"}, "env_file='gone.env': gone.env does not exist"),
        ({"project_dir": "compose.yaml"}, "project_dir='compose.yaml': compose.yaml is not a "),
    ],
)
def test_paths_that_are_not_there_name_the_field(
    tmp_path: Path, fields: dict[str, str], says: str
) -> None:
    with pytest.raises(DeclarationError) as caught:
        loaded(tmp_path, f"services:\n  web:\n    image: {IMAGE}\n", **fields)
    assert says in str(caught.value)
    assert "relative to pytest's rootdir" in str(caught.value)


def test_paths_may_be_given_as_path_objects(tmp_path: Path) -> None:
    app = loaded(
        tmp_path, f"services:\n  web:\n    image: {IMAGE}\n", file=tmp_path / "compose.yaml"
    )
    assert app.file == str(tmp_path / "compose.yaml")
    assert list(app.children) == ["web"]


def test_env_file_and_project_dir_are_relative_to_the_rootdir(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "test.env").write_text("TAG=latest\n")
    (tmp_path / "srv").mkdir()
    app = loaded(
        tmp_path,
        "services:\n  web:\n    image: clockwork-test/busybox:${TAG}\n    volumes: [./d:/d]\n",
        env_file="ci/test.env",
        project_dir="srv",
    )
    web = app.children["web"]
    assert isinstance(web, DockerResource)
    assert web.image == IMAGE
    assert web.volumes == [f"{tmp_path}/srv/d:/d"]


def test_an_unset_variable_is_a_warning_naming_it(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"uses NOPE, not set .* \$\{NOPE:-value\}"):
        loaded(tmp_path, f"services:\n  web:\n    image: {IMAGE}\n    command: echo $NOPE\n")


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"file": " "}, "file is empty"),
        ({"file": "c.yaml", "services": []}, "services=[] takes no service"),
        ({"file": "c.yaml", "services": ["a", "a"]}, "services names 'a' twice"),
        ({"file": "c.yaml", "servces": ["a"]}, "did you mean services=...?"),
    ],
)
def test_declaration_errors(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        ComposeResource(**fields)
    assert says in str(caught.value)


def test_only_a_one_shot_records_must_complete_so_other_fingerprints_stay() -> None:
    context = SpecContext(rootdir=Path("/r"), key="job")
    assert "must_complete" not in DockerResource(image=IMAGE).spec(context).to_json()
    one_shot = DockerResource(image=IMAGE, must_complete=True).spec(context)
    assert one_shot.to_json()["must_complete"] is True
    assert one_shot.must_run is False  # it is meant to exit: no drift when it has


def test_must_complete_contradictions_are_refused() -> None:
    with pytest.raises(ValueError, match="must_run=True and must_complete=True contradict"):
        DockerResource(image=IMAGE, must_complete=True, must_run=True)
    with pytest.raises(ValueError, match="restart='always'.* never completes"):
        DockerResource(image=IMAGE, must_complete=True, restart="always")


def test_in_a_deeper_conftest_an_error_is_a_collection_error_there(
    pytester: pytest.Pytester, declare: Any
) -> None:
    (pytester.path / "sub").mkdir()
    (pytester.path / "sub" / "compose.yaml").write_text(
        "services:\n  web:\n    image: x\n    portz: ['80']\n"
    )
    declare('app = ComposeResource(file="sub/compose.yaml")\n', "sub/conftest.py")
    pytester.makepyfile(
        **{"sub/test_x.py": "def test_x(app): pass", "test_ok.py": "def test_ok(): pass"}
    )

    result = pytester.runpytest("--clockwork-apply")

    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error: no test runs
    result.stdout.fnmatch_lines(
        [
            "*clockwork: sub/conftest.py: resource 'sub/app': sub/compose.yaml, line 4: "
            "service 'web': unknown key 'portz': did you mean 'ports'?",
            "*Interrupted: 1 error during collection*",
        ]
    )


def test_clockwork_watch_reloads_the_declarations_when_the_compose_file_changes(
    pytester: pytest.Pytester, declare: Any
) -> None:
    import os

    from pytest_clockwork.reconcile.loader import load

    compose_file = pytester.path / "compose.yaml"
    compose_file.write_text("services:\n  web:\n    image: clockwork-test/busybox:${TAG}\n")
    (pytester.path / ".env").write_text("TAG=latest\n")
    declare('app = ComposeResource(file="compose.yaml")\n')

    declared = load(pytester.path, "default")

    assert declared.keys == {"app", "app.web"}
    assert {compose_file, pytester.path / ".env"} <= set(declared.files)
    assert not declared.stale()
    later = compose_file.stat().st_mtime + 10
    os.utime(compose_file, (later, later))
    assert declared.stale()


def test_docker_run_options_reach_the_container_spec(tmp_path: Path) -> None:
    app = loaded(
        tmp_path,
        f"""
        services:
          web:
            image: {IMAGE}
            tmpfs: ["/scratch", "/cache:size=64m"]
            mem_limit: 256m
            shm_size: 67108864
            cpus: "0.5"
            cap_add: [net_admin]
            cap_drop: [ALL]
            extra_hosts: ["host.docker.internal:host-gateway"]
            platform: linux/amd64
            pull_policy: never
            restart: on-failure
        """,
    )
    spec = app.children["web"].spec(SpecContext(rootdir=tmp_path, key="app.web"))
    assert dict(spec.tmpfs) == {"/scratch": "", "/cache": "size=64m"}
    assert (spec.mem_limit, spec.shm_size, spec.cpus) == (256 * 2**20, 64 * 2**20, 0.5)
    assert (spec.cap_add, spec.cap_drop) == (("CAP_NET_ADMIN",), ("ALL",))
    assert dict(spec.extra_hosts) == {"host.docker.internal": "host-gateway"}
    assert (spec.platform, spec.pull, spec.restart) == ("linux/amd64", "never", "on-failure")


def test_a_run_option_docker_refuses_names_the_compose_key(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError) as caught:
        loaded(tmp_path, f"services:\n  web:\n    image: {IMAGE}\n    cap_add: [NET_ADMN]\n")
    assert str(caught.value).startswith(
        "resource 'app': compose.yaml, line 4: service 'web': cap_add: unknown capability "
        "'NET_ADMN': did you mean 'NET_ADMIN'?"
    )


def test_bad_yaml_is_an_error_after_yaml_was_imported_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pytest's in-process sessions (pytester) restore ``sys.modules``: a file read
    before ``yaml`` was imported again is still reported as bad YAML, not a traceback."""
    import sys

    from pytest_clockwork.compose.yamlfile import load_yaml

    assert load_yaml("a: 1\n", "compose.yaml") == {"a": 1}
    for name in [name for name in sys.modules if name == "yaml" or name.startswith("yaml.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ComposeFileError, match=r"compose.yaml, line 2, column 1: not valid YAML"):
        load_yaml("a: [1, 2\n", "compose.yaml")
