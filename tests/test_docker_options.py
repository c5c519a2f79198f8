"""Docker's run options and ``files=`` on a real Docker engine, each checked with
``docker inspect`` and from inside the container."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.engine import on_podman, reported_capabilities, reported_tmpfs

pytestmark = pytest.mark.docker

MIB = 1024 * 1024


def test_every_run_option_reaches_docker_and_takes_effect(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        import docker

        ARCH = docker.from_env().images.get(IMAGE).attrs["Architecture"]
        web = DockerResource(
            image=IMAGE,
            tmpfs=["/scratch", "/fast:size=64m,mode=700"],
            mem_limit="256m",
            cpus=1.5,
            shm_size="128m",
            cap_add=["NET_ADMIN"],
            cap_drop=["chown"],
            extra_hosts={"db.test": "10.1.2.3", "host.docker.internal": "host-gateway"},
            platform=f"linux/{ARCH}",
            pull="never",
        )
        """
    )
    tmpfs = {"/scratch": reported_tmpfs(""), "/fast": reported_tmpfs("size=64m,mode=700")}
    cap_add = reported_capabilities(["NET_ADMIN"])
    cap_drop = reported_capabilities(["CHOWN"], dropped=True)
    pytester.makepyfile(
        test_run_options=f"""
        import docker

        def test_inspect(web):
            attrs = docker.from_env().api.inspect_container(web.container_id)
            host = attrs["HostConfig"]
            assert host["Tmpfs"] == {tmpfs!r}
            assert host["Memory"] == 256 * {MIB}
            assert host["NanoCpus"] == 1_500_000_000
            assert host["ShmSize"] == 128 * {MIB}
            assert host["CapAdd"] == {cap_add!r}
            assert host["CapDrop"] == {cap_drop!r}
            # Podman writes the address host-gateway stands for: the container's gateway.
            gateway = attrs["NetworkSettings"]["Gateway"] if {on_podman()!r} else "host-gateway"
            assert sorted(host["ExtraHosts"]) == [
                "db.test:10.1.2.3", "host.docker.internal:" + gateway
            ]
            image = docker.from_env().images.get(attrs["Image"])
            assert web.platform == "linux/" + image.attrs["Architecture"]

        def test_inside(web):
            mounts = web.exec("cat /proc/mounts").output.splitlines()
            fields = [line.split() for line in mounts]
            tmpfs = {{field[1]: field[3] for field in fields if field[2] == "tmpfs"}}
            assert "/scratch" in tmpfs
            assert "size=65536k" in tmpfs["/fast"] and "mode=700" in tmpfs["/fast"]
            assert "size=131072k" in tmpfs["/dev/shm"]
            hosts = web.exec("cat /etc/hosts").output
            assert "10.1.2.3\\tdb.test" in hosts
            assert "\\thost.docker.internal" in hosts
            # The capability set of its processes: NET_ADMIN (bit 12) in, CHOWN (bit 0) out.
            caps = web.exec("grep CapEff /proc/self/status").output.split()[1]
            assert int(caps, 16) & (1 << 12) and not int(caps, 16) & 1
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=2)
    assert leftovers() == {"containers": [], "networks": []}


def test_files_are_in_the_container_before_it_starts(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        web = DockerResource(
            image=IMAGE,
            ports=["80"],
            init=True,
            # What the files hold is read as the container starts.
            command=["sh", "-c", "cat /etc/app.conf /opt/app/conf/app.ini > /www/seen "
                     "&& exec httpd -f -p 80 -h /www"],
            files={
                "/etc/app.conf": "mode=test\\n",
                "/opt/app/conf/app.ini": FileResource(content="[app]\\n", mode="600"),
                "/usr/local/bin/hello": FileResource(
                    content="#!/bin/sh\\necho hi $1\\n", mode="755"
                ),
            },
        )
        """
    )
    pytester.makepyfile(
        test_files="""
        import httpx

        def test_read_at_start(web):
            assert httpx.get(web.url(80) + "/seen").text == "mode=test\\n[app]\\n"

        def test_modes_owner_and_parents(web):
            listed = web.exec("ls -ln /etc/app.conf /opt/app/conf/app.ini /usr/local/bin/hello")
            modes = {line.split()[-1]: line.split()[:4] for line in listed.output.splitlines()}
            assert modes["/etc/app.conf"] == ["-rw-r--r--", "1", "0", "0"]
            assert modes["/opt/app/conf/app.ini"] == ["-rw-------", "1", "0", "0"]
            assert modes["/usr/local/bin/hello"][0] == "-rwxr-xr-x"
            assert web.exec(["/usr/local/bin/hello", "there"]).output == "hi there\\n"
            # Parent directories were made; those that existed kept their mode.
            dirs = web.exec("ls -ldn /opt/app /opt/app/conf /etc").output.splitlines()
            assert all(line.startswith("drwxr-xr-x") for line in dirs)
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=2)
    assert leftovers() == {"containers": [], "networks": []}


def test_extra_hosts_host_gateway_reaches_a_server_of_the_test_process(
    pytester: pytest.Pytester, declare: Any, leftovers: Any
) -> None:
    declare(
        """
        app = DockerResource(
            image=IMAGE, extra_hosts={"host.docker.internal": "host-gateway"}
        )
        """
    )
    pytester.makepyfile(
        test_callback="""
        import http.server
        import threading

        class Hook(http.server.BaseHTTPRequestHandler):
            calls = []

            def do_GET(self):
                Hook.calls.append(self.path)
                body = b"called back"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def test_the_container_calls_the_test_process(app):
            server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Hook)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            try:
                port = server.server_address[1]
                request = "GET /webhook HTTP/1.0\\\\r\\\\n\\\\r\\\\n"
                result = app.exec(f"printf '{request}' | nc host.docker.internal {port}")
            finally:
                server.shutdown()
            assert result.exit_code == 0, result.output
            assert result.output.endswith("called back")
            assert Hook.calls == ["/webhook"]
        """
    )
    pytester.runpytest("--clockwork-apply").assert_outcomes(passed=1)
    assert leftovers() == {"containers": [], "networks": []}
