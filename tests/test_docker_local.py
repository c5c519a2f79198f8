"""The local engine on a real Docker engine: containers, ports, networks, failures, logs."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.docker


def test_container_fixture_serves_http_on_a_free_port(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare('web = DockerResource(image=IMAGE, ports=["80"])\n')
    pytester.makepyfile(
        test_web="""
        import httpx

        def test_get(web):
            assert web.host == "127.0.0.1"
            assert web.host_port(80) > 1024
            assert web.url(80).startswith("http://127.0.0.1:")
            assert httpx.get(web.url(80) + "/").text == "hello\\n"
            assert web.container_id and web.container_name.startswith("web-")

        def test_same_container(web, request):
            assert request.session.testscollected == 2
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["clockwork: web ready in *s", "deployed web: 127.0.0.1:* → 80/tcp, ready in *s"]
    )
    assert leftovers() == {"containers": [], "networks": []}


def test_labels_env_command_and_pinned_ports(
    pytester: pytest.Pytester, declare: Any, leftovers: Any, docker_client: Any
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        pinned = probe.getsockname()[1]
    declare(
        f"""
        web = DockerResource(
            image=IMAGE,
            ports=["127.0.0.1:{pinned}:8080"],
            env_vars={{"GREETING": "hi", "COUNT": 3}},
            command="httpd -f -p 8080 -h /www",
            labels={{"team": "qa"}},
        )
        """
    )
    pytester.makepyfile(
        test_web=f"""
        import docker, httpx

        def test_it(web):
            assert web.host_port(8080) == {pinned}
            assert httpx.get(web.url(8080)).status_code == 200
            attrs = docker.from_env().containers.get(web.container_id).attrs
            labels = attrs["Config"]["Labels"]
            assert labels["team"] == "qa"
            assert labels["clockwork.managed"] == "true"
            assert labels["clockwork.stack"] == "default"
            assert labels["clockwork.resource"] == "web"
            assert len(labels["clockwork.session"]) == 8
            assert "GREETING=hi" in attrs["Config"]["Env"]
            assert "COUNT=3" in attrs["Config"]["Env"]
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert leftovers()["containers"] == []


def test_connected_containers_reach_each_other_by_name(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        backend = DockerResource(image=IMAGE)
        probe = DockerResource(
            image=IMAGE,
            command=["sh", "-c",
                     "wget -q -O /www/fetched http://backend/ && httpd -f -p 80 -h /www"],
            ports=["80"],
        ).connect(backend)
        """
    )
    pytester.makepyfile(
        test_net="""
        import httpx
        from tenacity import retry, stop_after_delay, wait_fixed

        @retry(stop=stop_after_delay(10), wait=wait_fixed(0.1), reraise=True)
        def fetched(url):
            response = httpx.get(url)
            assert response.status_code == 200
            return response.text

        def test_probe_fetched_from_backend(probe):
            assert fetched(probe.url(80) + "/fetched") == "hello\\n"
        """
    )
    result = pytester.runpytest("--clockwork-apply", "-v")
    result.assert_outcomes(passed=1)
    lines = [line for line in result.outlines if line.startswith("clockwork: ")]
    assert [line.split()[1] for line in lines if "ready" in line] == ["backend", "probe"]
    assert leftovers() == {"containers": [], "networks": []}


def test_declared_networks_are_created_and_removed(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        a = DockerResource(image=IMAGE, networks=["backend"])
        b = DockerResource(
            image=IMAGE,
            networks=["backend"],
            command=["sh", "-c", "until wget -q -O- http://a/; do sleep 0.1; done; sleep 600"],
        )
        """
    )
    pytester.makepyfile(
        test_net="""
        import docker

        def test_it(a, b):
            client = docker.from_env()
            network = a.outputs["networks"]["backend"]
            assert network.startswith("backend-")
            attached = client.networks.get(network).attrs["Containers"]
            assert len(attached) == 2
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert leftovers() == {"containers": [], "networks": []}


def test_an_image_that_cannot_be_had_is_named(pytester: pytest.Pytester, declare: Any) -> None:
    declare('web = DockerResource(image="clockwork-test/does-not-exist:1.0")\n')
    pytester.makepyfile(test_x="def test_x(web): pass")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'web': image 'clockwork-test/does-not-exist:1.0' is not on this machine "
            "and could not be pulled*"
        ]
    )


def test_a_container_that_exits_reports_its_logs(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        broken = DockerResource(image=IMAGE, ports=["80"],
                                command=["sh", "-c", "echo config missing: /etc/app.toml; exit 3"])
        """
    )
    pytester.makepyfile(test_x="def test_x(broken): pass")
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'broken': the container (image clockwork-test/busybox:latest) exited with "
            "code 3 instead of running; check its command*",
            "*config missing: /etc/app.toml*",
        ]
    )
    assert leftovers()["containers"] == []


def test_published_ports_are_waited_for(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        late = DockerResource(image=IMAGE, ports=["80"],
                              command=["sh", "-c", "sleep 1; exec httpd -f -p 80 -h /www"])
        deaf = DockerResource(image=IMAGE, ports=["81"], start_timeout=2)
        """
    )
    pytester.makepyfile(
        test_x="""
        import httpx

        def test_late(late):
            assert httpx.get(late.url(80)).status_code == 200  # no retry needed

        def test_deaf(deaf):
            pass
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*resource 'deaf': the container * ran but nothing listened on its published port(s) "
            "81/tcp within 2s; set wait_for_ports=False*"
        ]
    )
    assert leftovers()["containers"] == []


def test_healthcheck_is_waited_for(pytester: pytest.Pytester, declare: Any, leftovers: Any) -> None:
    declare(
        """
        slow = DockerResource(
            image=IMAGE,
            command=["sh", "-c", "sleep 1; touch /tmp/ready; httpd -f -p 80 -h /www"],
            healthcheck=Healthcheck(test="test -f /tmp/ready", interval="0.2s", retries=30),
            ports=["80"],
        )
        never = DockerResource(
            image=IMAGE,
            healthcheck=Healthcheck(test="false", interval="0.2s", retries=1),
            start_timeout=2,
        )
        """
    )
    pytester.makepyfile(
        test_x="""
        import httpx

        def test_slow(slow):
            assert httpx.get(slow.url(80)).status_code == 200

        def test_never(never):
            pass
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*resource 'never': the container * was not healthy after *s (health: unhealthy)*"]
    )
    assert leftovers()["containers"] == []


def test_failed_test_gets_the_container_logs(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        chatty = DockerResource(
            image=IMAGE,
            command=["sh", "-c", "echo starting chatty service; echo listening on 80; sleep 600"],
        )
        """
    )
    pytester.makepyfile(
        test_x="""
        def test_fails(chatty):
            assert False, "the service misbehaved"

        def test_passes(chatty):
            pass
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- clockwork: logs of chatty (last 50 lines) -*",
            "starting chatty service",
            "listening on 80",
        ]
    )
    assert result.stdout.str().count("logs of chatty") == 1


def test_a_wait_for_check_must_pass_before_tests_start(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        from pytest_clockwork import Assertion, AssertionFailed

        class HasFile(Assertion):
            path: str

            def check(self, resource):
                code, _ = resource_exec(resource, ["test", "-f", self.path])
                if code != 0:
                    raise AssertionFailed(f"{self.path} is not there yet")

        def resource_exec(resource, command):
            from pytest_clockwork.runtimes import dockerd
            return dockerd.execute(resource.container_id, command)

        late = DockerResource(
            image=IMAGE,
            command=["sh", "-c", "sleep 1; touch /tmp/done; sleep 600"],
            wait_for=[HasFile(path="/tmp/done", timeout=10)],
        )
        """
    )
    pytester.makepyfile(
        test_x="""
        from pytest_clockwork.runtimes import dockerd

        def test_it(late):
            assert dockerd.execute(late.container_id, ["test", "-f", "/tmp/done"])[0] == 0
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert leftovers()["containers"] == []


def test_one_failure_does_not_take_down_other_resources(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        good = DockerResource(image=IMAGE)
        bad = DockerResource(image="clockwork-test/missing:0")
        dependent = DockerResource(image=IMAGE).connect(bad)
        """
    )
    pytester.makepyfile(
        test_x="""
        def test_good(good): pass
        def test_bad(bad): pass
        def test_dependent(dependent): pass
        """
    )
    result = pytester.runpytest("--clockwork-apply")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        ["*resource 'dependent' was not deployed because 'bad', which it needs, failed*"]
    )
    assert leftovers()["containers"] == []
