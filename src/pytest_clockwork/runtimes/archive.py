"""The tar archive that puts a container's ``files=`` into it before it starts."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterable

from pytest_clockwork.specs import ContainerFileSpec


def files_archive(files: Iterable[ContainerFileSpec]) -> bytes:
    """A tar of ``files``, to extract at ``/`` (Docker's ``put_archive``).

    Each file is owned by root with its mode. Only files are in it: Docker makes the
    missing parent directories (``0755``) and leaves those that exist as they are.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for item in files:
            data = item.content.encode()
            info = tarfile.TarInfo(item.path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), item.mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
