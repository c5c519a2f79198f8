"""Tests that use the containers as fixtures."""

import httpx


def test_backend_serves_its_page(backend):
    assert httpx.get(backend.url(80) + "/").text == "hello\n"


def test_frontend_calls_the_backend(frontend):
    response = httpx.get(frontend.url(80) + "/cgi-bin/greet")
    assert response.status_code == 200
    assert response.text.strip() == "frontend says: hello"


def test_ports_are_free_host_ports(backend, frontend):
    assert backend.host_port(80) != frontend.host_port(80)
