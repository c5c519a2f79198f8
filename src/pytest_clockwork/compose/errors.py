"""What goes wrong reading a Compose file."""

from __future__ import annotations


class ComposeFileError(ValueError):
    """The Compose file cannot be used as it is.

    The message says where (the file, and the line when known), what, and the fix; the
    :class:`~pytest_clockwork.ComposeResource` that reads the file puts its own name in
    front (a ``DeclarationError``).
    """
