"""Tests that use the Compose services through the project's fixture."""

import httpx


def test_web_serves_the_page_it_was_built_with(app):
    web = app.children["web"]
    assert httpx.get(web.url(80) + "/").text == "built from web/\n"


def test_web_calls_the_api_by_its_service_name(app):
    response = httpx.get(app.children["web"].url(80) + "/cgi-bin/greet")
    assert response.status_code == 200
    assert response.text == 'hello, the api says {"users": 3}\n'


def test_the_seed_completed_before_the_api_started(app):
    assert "seeded" in app.children["seed"].logs()
