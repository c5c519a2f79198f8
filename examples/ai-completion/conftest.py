"""AI completion, pinned in clockwork.lock: a small bakery website as files.

Fields left ``None`` on a resource with a ``description`` are completed by a model;
the values are pinned in ``clockwork.lock`` (committed next to this file), so this
example runs offline, with no API key, and deploys the same files every time:

    pytest examples/ai-completion --clockwork-apply
    pytest examples/ai-completion --clockwork-plan     # what you gave, what the model gave

Change a description and run with ``CW_API_KEY`` set to have it completed again
(``--clockwork-refresh`` asks again even when nothing changed); review the change of
``clockwork.lock`` like any other diff. With ``CI`` set the lock is read-only.
"""

from pytest_clockwork import BlankResource, FileResource

# Fully given: nothing to complete, so no entry in the lock.
settings = FileResource(
    name="settings.toml",
    directory="build",
    content='shop = "Crumb & Co"\ncurrency = "EUR"\n',
)

# A description and a directory: the model chooses the file's name, content and mode.
greeting = FileResource(
    description="a one-line plain-text greeting for the customers of the bakery Crumb & Co",
    directory="build",
)

# A composite. Each page is completed seeing the site's description and its sibling
# page; the menu also sees the settings it is connected to (the currency).
site = BlankResource(
    name="site", description="a two-page static website for the bakery Crumb & Co"
).add(
    FileResource(
        name="index.html",
        directory="build/site",
        description="the home page: a heading with the shop's name and a link to menu.html",
    ),
    FileResource(
        name="menu.html",
        directory="build/site",
        description="the menu: a list of three breads with their prices",
    ).connect(settings),
)
