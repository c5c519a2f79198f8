"""The watchdog: a small process that cleans up after a session that died.

A deploying session starts one (``python -m pytest_clockwork.watchdog``) with the read
end of a pipe as its standard input; the session holds the write end. When the session
ends, however it ends (normally, SIGTERM, SIGKILL, out of memory), the kernel closes
the write end and the watchdog reads end-of-file at once: no polling. It then destroys
whatever that session still owns and did not keep, from the stack's state. A session
that ends normally has already removed everything, so the watchdog finds nothing.

When the session kept resources with a lifetime (``--clockwork-ttl``, ``max_duration``),
it says so before closing the pipe; the watchdog then stays, detached, and destroys each
kept resource of that session when it expires.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO


class Watchdog:
    """The session's side: starts the watchdog process and holds the pipe.

    Args:
        process: The watchdog process.
        pipe: The write end of its standard input.
    """

    def __init__(self, process: subprocess.Popen[bytes], pipe: int) -> None:
        self.process = process
        self._pipe: int | None = pipe

    @property
    def pid(self) -> int:
        """The watchdog's process id."""
        return self.process.pid

    @classmethod
    def start(cls, rootdir: Path, stack: str, session: str) -> Watchdog:
        """Start a watchdog for ``session``; it lives in its own process group."""
        from pytest_clockwork.filesystem import state_directory

        log = state_directory(rootdir) / "watchdog.log"
        read_end, write_end = os.pipe()
        descriptor = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with open(descriptor, "ab") as log_file:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pytest_clockwork.watchdog",
                    "--rootdir",
                    str(rootdir),
                    "--stack",
                    stack,
                    "--session",
                    session,
                ],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                start_new_session=True,
                close_fds=True,
            )
        os.close(read_end)
        return cls(process, write_end)

    def release(self, *, clean: bool, expiring: bool = False) -> None:
        """Tell the watchdog the session ended normally.

        Args:
            clean: Teardown removed everything it had to; nothing is left to check.
            expiring: The session kept resources with a lifetime: wait and destroy them
                when they expire.
        """
        if self._pipe is None:
            return
        try:
            os.write(self._pipe, f"done {int(expiring)} {int(clean)}\n".encode())
        except OSError:
            pass
        finally:
            os.close(self._pipe)
            self._pipe = None


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} watchdog[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def watch(rootdir: Path, stack: str, session: str, stdin: IO[bytes]) -> None:
    """Wait for the session to end, then clean up what it left."""
    message = stdin.read().decode(errors="replace").split()
    ended_normally = len(message) == 3 and message[0] == "done"
    expiring = ended_normally and message[1] == "1"
    if ended_normally and message[2] == "1" and not expiring:
        return
    from pytest_clockwork.engines.base import SessionInfo
    from pytest_clockwork.state import StateStore, root_id
    from pytest_clockwork.teardown import reap

    info = SessionInfo(id=session, stack=stack, rootdir=rootdir, root_id=root_id(rootdir))
    store = StateStore(rootdir, stack)
    outcome = reap(store, info, [session])
    if outcome.destroyed:
        how = "ended" if ended_normally else "died"
        _log(f"session {session} {how}; destroyed what it left: {', '.join(outcome.destroyed)}")
    for record_id, error in outcome.failures.items():
        _log(f"could not destroy {record_id}: {error}")
    if expiring:
        from pytest_clockwork.expiry import destroy_when_expired

        destroy_when_expired(store, info, log=_log)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m pytest_clockwork.watchdog``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rootdir", required=True, type=Path)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--session", required=True)
    args = parser.parse_args(argv)
    try:
        watch(args.rootdir, args.stack, args.session, sys.stdin.buffer)
    except Exception as exc:  # the watchdog must not die with a traceback unlogged
        _log(f"failed: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
