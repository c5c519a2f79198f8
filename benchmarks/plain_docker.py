"""The baseline: what a careful user writes by hand with the Docker SDK.

Start N busybox httpd containers at once (free host ports on 127.0.0.1), wait until
each runs, GET each one (retrying while the server comes up), remove them all.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import docker
import httpx

IMAGE = "clockwork-test/busybox:latest"


def get(url: str) -> str:
    for _ in range(200):
        try:
            return httpx.get(url).text
        except httpx.TransportError:
            continue
    raise RuntimeError(f"{url} never answered")


def main(count: int) -> None:
    client = docker.from_env()

    def start(index: int) -> docker.models.containers.Container:
        container = client.containers.run(
            IMAGE,
            detach=True,
            name=f"plain-{index}-{id(client)}",
            ports={"80/tcp": ("127.0.0.1", None)},
        )
        container.reload()
        while container.status != "running":
            container.reload()
        return container

    with ThreadPoolExecutor(max_workers=8) as pool:
        containers = list(pool.map(start, range(count)))
        try:
            for container in containers:
                port = container.ports["80/tcp"][0]["HostPort"]
                assert get(f"http://127.0.0.1:{port}/") == "hello\n"
        finally:
            list(pool.map(lambda c: c.remove(force=True), containers))


if __name__ == "__main__":
    main(int(sys.argv[1]))
