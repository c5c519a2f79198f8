"""Tests that use the quickstart's resources as fixtures."""

import os
import tomllib


def test_settings_are_written(settings):
    assert tomllib.loads(settings.read_text())["title"] == "Quickstart"
    assert settings.path.is_absolute()


def test_the_site_has_its_pages(site):
    index = site.children["index.html"]
    assert "<h1>Quickstart</h1>" in index.read_text()
    assert index.path.parent.name == "site"


def test_scripts_are_executable(site):
    assert os.access(site.children["deploy.sh"].path, os.X_OK)
