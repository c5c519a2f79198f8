"""Tests that use the completed resources as fixtures."""

import stat


def test_settings_are_as_given(settings):
    assert 'currency = "EUR"' in settings.read_text()


def test_the_greeting_is_one_line_in_build(greeting):
    text = greeting.read_text()
    assert text.strip() and len(text.strip().splitlines()) == 1
    assert greeting.path.parent.name == "build"


def test_the_home_page_links_to_the_menu(site):
    index = site.children["index.html"].read_text()
    assert "Crumb &amp; Co" in index
    assert 'href="menu.html"' in index


def test_the_menu_lists_three_breads_in_euros(site):
    menu = site.children["menu.html"].read_text()
    assert menu.count("<li>") == 3
    assert menu.count("€") == 3


def test_no_page_is_world_writable(site):
    for page in site.children.values():
        assert not page.path.stat().st_mode & stat.S_IWOTH
