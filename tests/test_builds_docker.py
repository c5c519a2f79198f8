"""Images built from a Dockerfile, on a real Docker engine: built once, not again while the
inputs are unchanged (across sessions), a kept container replaced when its code changes,
a failed build's error, the build's output with ``-v``, and ``clockwork destroy --images``.

Every build here is ``FROM`` the local test image (no registry). Each test puts a token of
its own into what it builds, so no build of another test (or of an earlier run) is found
in the cache.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_clockwork.reconcile.cli import main
from pytest_clockwork.state import StateStore, root_id
from tests.support.engine import reported_image
from tests.support.harness import IMAGE, eventually, run_subprocess

pytestmark = pytest.mark.docker

BUILDING = "clockwork: building the image of {key} from {where} ..."
SERVES_INDEX = """
import httpx
from pathlib import Path

def test_get(api):
    expected = Path("api/index.html").read_text()
    assert httpx.get(api.url(80) + "/index.html").text == expected
"""


def write_api(root: Path, index: str, dockerfile: str | None = None) -> None:
    """An ``api/`` directory: a Dockerfile serving ``index.html``, and an ignored file."""
    (root / "api").mkdir(exist_ok=True)
    (root / "api" / "Dockerfile").write_text(
        dockerfile or f"FROM {IMAGE}\nCOPY index.html /www/index.html\n"
    )
    (root / "api" / "index.html").write_text(index)
    (root / "api" / ".dockerignore").write_text("# not part of the image\nnotes.txt\n")
    if not (root / "api" / "notes.txt").exists():
        (root / "api" / "notes.txt").write_text("notes\n")


def building_lines(result: pytest.RunResult, key: str = "api") -> list[str]:
    return [
        line
        for line in result.outlines
        if line.startswith(f"clockwork: building the image of {key} ")
    ]


def container_id(pytester: pytest.Pytester, key: str = "api") -> str:
    state = StateStore(pytester.path, "default").read()
    (record,) = [r for r in state.records.values() if r.key == key]
    return str(record.outputs["container_id"])


def clockwork(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    """Run ``clockwork args`` in this process; its exit code and printed lines."""
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out.splitlines()


def test_built_once_and_not_again_while_its_inputs_are_unchanged(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, built: Any, token: str
) -> None:
    write_api(pytester.path, f"built {token} v1\n")
    declare('api = DockerResource(build="api", ports=["80"])\n')
    pytester.makepyfile(test_api=SERVES_INDEX)

    first = pytester.runpytest("--clockwork-apply")
    first.assert_outcomes(passed=1)
    # Without -v: one status line says what is building, the build's output is not shown.
    assert building_lines(first) == [BUILDING.format(key="api", where="api/Dockerfile")]
    assert not any(line.startswith("api | ") for line in first.outlines)
    (image,) = built()
    labels = image.labels
    assert labels["clockwork.managed"] == "true"
    assert labels["clockwork.root"] == root_id(pytester.path)
    assert labels["clockwork.resource"] == "api"
    assert labels["clockwork.build.digest"].startswith("sha256:")
    tag = f"clockwork/api:{labels['clockwork.build.digest'][7:19]}"
    assert image.tags == [reported_image(tag)]

    second = pytester.runpytest("--clockwork-apply", "-v")
    second.assert_outcomes(passed=1)
    assert building_lines(second) == []
    second.stdout.fnmatch_lines([f"clockwork: api image {tag} is up to date (built before)"])
    assert [i.id for i in built()] == [image.id]

    (pytester.path / "api" / "notes.txt").write_text("changed, but .dockerignore'd\n")
    third = pytester.runpytest("--clockwork-apply")
    third.assert_outcomes(passed=1)
    assert building_lines(third) == []
    assert [i.id for i in built()] == [image.id]

    write_api(pytester.path, f"built {token} v2\n")  # the test GETs the new content
    fourth = pytester.runpytest("--clockwork-apply")
    fourth.assert_outcomes(passed=1)
    assert len(building_lines(fourth)) == 1
    assert len(built()) == 2  # the first stays as a cache, under its own tag
    assert leftovers() == {"containers": [], "networks": []}


def test_build_options_target_args_and_a_named_image(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    built: Any,
    docker_client: Any,
    token: str,
) -> None:
    (pytester.path / "services" / "api").mkdir(parents=True)
    (pytester.path / "services" / "api" / "Dockerfile.test").write_text(
        f"FROM {IMAGE} AS base\n"
        "ARG GREETING\n"
        'RUN mkdir -p /www && echo "$GREETING from the test stage" > /www/index.html\n'
        "FROM base AS test\n"
        "FROM base AS production\n"
        'RUN echo "the production stage" > /www/index.html\n'
    )
    name = f"clockwork-test/named-{token}:dev"
    declare(
        f"""
        api = DockerResource(
            image={name!r},
            build=Build(context="services/api", dockerfile="Dockerfile.test", target="test",
                        args={{"GREETING": "hello {token}"}}),
            ports=["80"],
        )
        """
    )
    pytester.makepyfile(
        test_api=f"""
        import docker, httpx

        def test_get(api):
            text = httpx.get(api.url(80) + "/index.html").text
            assert text == "hello {token} from the test stage\\n"
            attrs = docker.from_env().containers.get(api.container_id).attrs
            assert attrs["Config"]["Image"] == {reported_image(name)!r}
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1)
    assert building_lines(result) == [BUILDING.format(key="api", where="api/Dockerfile.test")]
    (image,) = built()
    assert reported_image(name) in image.tags
    assert leftovers() == {"containers": [], "networks": []}


def test_a_kept_container_is_reused_while_its_code_is_unchanged_and_replaced_when_it_changes(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    built: Any,
    docker_client: Any,
    token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_api(pytester.path, f"kept {token} v1\n")
    declare('api = DockerResource(build="api", ports=["80"])\n')
    pytester.makepyfile(test_api=SERVES_INDEX)
    root = str(pytester.path)

    pytester.runpytest("--clockwork-apply", "--clockwork-keep").assert_outcomes(passed=1)
    first = container_id(pytester)
    # The container runs the built image under the name its spec has: no drift.
    code, lines = clockwork(capsys, "status", "--rootdir", root)
    assert code == 0, lines
    pytest.LineMatcher(lines).fnmatch_lines(["  api * container  kept   ok *"])
    # The image of a running container stays, even when its build cache is removed.
    code, lines = clockwork(capsys, "destroy", "--rootdir", root, "--stack", "other", "--images")
    assert code == 0, lines
    pytest.LineMatcher(lines).fnmatch_lines(
        ["built images left (in use): clockwork/api:* (container api-* uses it)"]
    )
    assert len(built()) == 1 and built()[0].tags

    (pytester.path / "api" / "notes.txt").write_text("ignored by the build\n")
    again = pytester.runpytest("--clockwork-apply", "--clockwork-keep", "-v")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["clockwork: api ready in *s (reused)"])
    assert container_id(pytester) == first

    write_api(pytester.path, f"kept {token} v2\n")
    code, lines = clockwork(capsys, "status", "--rootdir", root)
    assert code == 1
    pytest.LineMatcher(lines).fnmatch_lines(
        ["*the declaration changed since it was deployed: build (the image's code*"]
    )
    changed = pytester.runpytest("--clockwork-apply", "--clockwork-keep")
    changed.assert_outcomes(passed=1)  # the test GETs v2
    assert len(building_lines(changed)) == 1
    second = container_id(pytester)
    assert second != first
    assert first not in [c["Id"] for c in docker_client.api.containers(all=True)]

    # destroy --images: the stack, then the images clockwork built here; nothing else.
    unlabelled, _ = docker_client.images.build(
        fileobj=__import__("io").BytesIO(f"FROM {IMAGE}\nENV TOKEN={token}\n".encode()),
        tag=f"clockwork-test/unlabelled-{token}:1",
        rm=True,
    )
    try:
        assert len(built()) == 2
        code, lines = clockwork(capsys, "destroy", "--rootdir", root, "--images")
        assert code == 0, lines
        assert lines[0] == "destroyed in stack 'default': api"
        assert lines[1].startswith("removed built images: clockwork/api:")
        assert built() == []
        assert leftovers() == {"containers": [], "networks": []}
        assert docker_client.images.get(f"clockwork-test/unlabelled-{token}:1").id == unlabelled.id
        assert clockwork(capsys, "destroy", "--rootdir", root, "--images") == (
            0,
            ["stack 'default' had nothing to destroy", "no built images to remove"],
        )
    finally:
        docker_client.images.remove(unlabelled.id, force=True)


def test_a_failed_build_names_the_step_and_its_last_lines_and_leaves_nothing(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    built: Any,
    docker_client: Any,
    token: str,
) -> None:
    write_api(
        pytester.path,
        "unused\n",
        f"FROM {IMAGE}\n"
        "COPY index.html /www/index.html\n"
        f'RUN echo "compiling {token}" && echo "error: widget.c:3: it broke" && exit 2\n',
    )
    declare(
        """
        api = DockerResource(build="api", ports=["80"])
        web = DockerResource(image=IMAGE, ports=["80"]).connect(api)
        """
    )
    pytester.makepyfile(test_api="def test_web(web):\n    pass\n")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'web' was not deployed because 'api', which it needs, failed: resource "
            "'api': the image build failed at Step 3/* : RUN echo \"compiling*returned a "
            "non-zero code: 2. Fix api/Dockerfile*",
            "*the last lines of the build's output:",
            "*Step 3/* : RUN echo*",
            f"  compiling {token}",
            "  error: widget.c:3: it broke",
        ]
    )
    assert leftovers() == {"containers": [], "networks": []}
    assert built() == []
    # Not even the build's intermediate container of the failed step is left.
    commands = [c["Command"] or "" for c in docker_client.api.containers(all=True)]
    assert not any(token in command for command in commands)


def test_verbose_streams_each_build_prefixed_with_its_resource(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, built: Any, token: str
) -> None:
    for key in ("api", "worker"):
        (pytester.path / key).mkdir()
        (pytester.path / key / "Dockerfile").write_text(
            f'FROM {IMAGE}\nRUN echo "{key} says {token}" > /www/index.html\n'
        )
    declare(
        """
        api = DockerResource(build="api", ports=["80"])
        worker = DockerResource(build="worker", ports=["80"])
        """
    )
    pytester.makepyfile(
        test_both="""
        import httpx

        def test_both(api, worker):
            assert "api says" in httpx.get(api.url(80) + "/index.html").text
            assert "worker says" in httpx.get(worker.url(80) + "/index.html").text
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=1)
    for key in ("api", "worker"):
        assert building_lines(result, key) == [BUILDING.format(key=key, where=f"{key}/Dockerfile")]
        mine = [line for line in result.outlines if line.startswith(f"{key} | ")]
        pytest.LineMatcher(mine).fnmatch_lines(
            [
                f"{key} | Step 1/* : FROM {IMAGE}",
                f"{key} | Step 2/* : RUN echo*",
                f"{key} | Successfully tagged clockwork/{key}:*",
            ]
        )
        other = "worker" if key == "api" else "api"
        assert not any(f"{other} says" in line for line in mine)
    assert len(built()) == 2
    assert leftovers() == {"containers": [], "networks": []}


def test_ctrl_c_during_a_build_stops_it_and_leaves_nothing(
    pytester: pytest.Pytester,
    declare: Any,
    leftovers: Any,
    built: Any,
    docker_client: Any,
    token: str,
) -> None:
    write_api(
        pytester.path,
        "unused\n",
        f'FROM {IMAGE}\nRUN for i in $(seq 600); do echo "tick {token} $i"; sleep 0.1; done\n',
    )
    declare('api = DockerResource(build="api", ports=["80"])\n')
    pytester.makepyfile(test_api="def test_api(api):\n    pass\n")
    process = run_subprocess(pytester, "--clockwork-apply", "-v")
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # the build streams a line every 0.1 s
        seen.append(line)
        if f"api | tick {token} 5" in line:
            break
    else:
        pytest.fail("the build's output never came:\n" + "".join(seen))
    started = time.monotonic()
    os.kill(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert time.monotonic() - started < 10  # not the minute the build would take
    assert f"api | tick {token} 100" not in output

    def build_gone() -> bool:
        containers = docker_client.api.containers(all=True)
        return not any(token in (c["Command"] or "") for c in containers)

    eventually(build_gone, message="the build's container is still there")
    assert built() == []
    assert leftovers() == {"containers": [], "networks": []}
