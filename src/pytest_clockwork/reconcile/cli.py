"""The ``clockwork`` command: ``status``, ``watch``, ``destroy`` and ``update`` for kept
environments.

Each command works on a rootdir (``--rootdir``, default the current directory) and a
stack (``--stack``, default ``CW_STACK`` or ``default``). Arguments after ``--`` go to
the pytest collection that loads the declarations (paths, ``-c``, ``-p``...).

Exit codes: 0 done (and, for ``status`` and ``watch --once``, everything as declared);
1 something drifted, could not be destroyed, or failed; 2 wrong usage.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from pytest_clockwork.errors import ClockworkError

logger = logging.getLogger("pytest_clockwork.reconcile")

Command = Callable[[argparse.Namespace, list[str]], int]


def main(argv: list[str] | None = None) -> int:
    """Run the ``clockwork`` command; return its exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    pytest_args: list[str] = []
    if "--" in words:
        split = words.index("--")
        words, pytest_args = words[:split], words[split + 1 :]
    parser = _parser()
    args = parser.parse_args(words)
    command: Command | None = getattr(args, "run", None)
    if command is None:
        parser.print_help(sys.stderr)
        return 2
    _configure_logging(args.verbose)
    args.rootdir = (args.rootdir or Path.cwd()).resolve()
    if not args.rootdir.is_dir():
        parser.error(f"--rootdir {args.rootdir} is not a directory")
    from pytest_clockwork.settings import SettingError

    try:
        return command(args, pytest_args)
    except SettingError as exc:
        print(f"clockwork: error: {exc}", file=sys.stderr)
        return 2
    except ClockworkError as exc:
        print(f"clockwork: error: {exc}", file=sys.stderr)
        return 1


# -- the commands ------------------------------------------------------------------------


def _status(args: argparse.Namespace, pytest_args: list[str]) -> int:
    from pytest_clockwork.reconcile.evaluate import Evaluator
    from pytest_clockwork.reconcile.loader import Declared, load
    from pytest_clockwork.reconcile.status import stack_status
    from pytest_clockwork.state import StateStore, now

    rootdir: Path = args.rootdir
    stacks = [args.stack] if args.stack else StateStore.stacks(rootdir)
    declared: Declared | None = None
    print(f"clockwork status of {rootdir}")
    if stacks and not args.no_declarations:
        try:
            declared = load(rootdir, args.stack or _default_stack(), pytest_args)
        except ClockworkError as exc:
            first, _, rest = str(exc).partition("\n")
            more = f"\n{rest}" if rest and args.verbose else (" (-v shows more)" if rest else "")
            print(f"declarations: not loaded, so this is the recorded state only: {first}{more}")
        else:
            print(f"declarations: {_plural(len(declared.keys), 'resource')} declared")
    status = stack_status(
        rootdir, stacks, declared, evaluator=Evaluator(assertions=args.assertions), now=now()
    )
    for line in status.lines:
        print(line)
    return 1 if status.drifted else 0


def _watch(args: argparse.Namespace, pytest_args: list[str]) -> int:
    from pytest_clockwork.filesystem import state_directory
    from pytest_clockwork.locks import FileLock, LockTimeout
    from pytest_clockwork.reconcile.alerts import Alerter
    from pytest_clockwork.reconcile.loader import DeclarationSource
    from pytest_clockwork.reconcile.reconciler import Reconciler
    from pytest_clockwork.reconcile.safety import (
        Safety,
        SafetyPolicy,
        duration_text,
        ledger_path,
    )
    from pytest_clockwork.settings import get_settings

    rootdir: Path = args.rootdir
    stack: str = args.stack or _default_stack()
    policy = SafetyPolicy(args.max_corrections, args.window, args.cooldown, args.max_failures)
    ledger = state_directory(rootdir, "reconcile") / ledger_path(rootdir, stack).name
    lock = FileLock(ledger.with_suffix(".watch.lock"))
    try:
        lock.acquire(timeout=0)
    except LockTimeout:
        raise ClockworkError(
            f"another clockwork watch is already watching stack {stack!r} of {rootdir}; "
            "stop it first (one reconciler per stack)"
        ) from None
    try:
        webhook = args.webhook or get_settings().alert_webhook
        reconciler = Reconciler(
            rootdir,
            stack,
            declarations=None
            if args.no_declarations
            else DeclarationSource(rootdir, stack, pytest_args),
            alerter=Alerter(webhook),
            safety=Safety(policy, path=ledger),
            allow_stateful=args.allow_stateful,
            assertions=not args.no_assertions,
        )
        cooldown = duration_text(policy.cooldown) if policy.cooldown else "no"
        logger.info(
            "automatic corrections: at most %d per resource in any %s, %s cooldown after each, "
            "none after %d failures in a row%s; alerts: %s",
            policy.max_corrections,
            duration_text(policy.window),
            cooldown,
            policy.max_failures,
            "; stateful resources too" if args.allow_stateful else "",
            f"log and {webhook}" if webhook else "log only (no webhook)",
        )
        if args.once:
            handled = reconciler.step()
            unsettled = reconciler.outage or any(h.drifts and not h.corrected for h in handled)
            return 1 if unsettled else 0
        stop = threading.Event()
        with _stopping_on_signals(stop):
            reconciler.run(args.interval, stop)
        return 0
    finally:
        lock.release()


def _destroy(args: argparse.Namespace, pytest_args: list[str]) -> int:
    from pytest_clockwork.engines.base import SessionInfo
    from pytest_clockwork.expiry import destroy_expired_everywhere
    from pytest_clockwork.reconcile.safety import ledger_path
    from pytest_clockwork.state import StateStore, root_id
    from pytest_clockwork.teardown import destroy_stack

    rootdir: Path = args.rootdir
    session_id = f"cli-{os.getpid()}"
    if args.expired:
        outcomes = destroy_expired_everywhere(rootdir, session_id)
    else:
        stack = args.stack or _default_stack()
        store = StateStore(rootdir, stack)
        if not store.path.exists():
            print(f"stack {stack!r} had nothing to destroy")
            if args.images:
                _destroy_images(rootdir)
            return 0
        session = SessionInfo(id=session_id, stack=stack, rootdir=rootdir, root_id=root_id(rootdir))
        outcome = destroy_stack(store, session)
        left = [r.key for r in store.read().records.values()]
        if left:
            print(f"left alone (their pytest session is running): {', '.join(left)}")
        if not store.read().records:
            ledger_path(rootdir, stack).unlink(missing_ok=True)
        outcomes = {stack: outcome}
    failed = False
    for stack, outcome in outcomes.items():
        where = "expired, destroyed" if args.expired else "destroyed"
        if outcome.destroyed:
            print(f"{where} in stack {stack!r}: {', '.join(outcome.destroyed)}")
        elif not args.expired:
            print(f"stack {stack!r} had nothing to destroy")
        for record_id, error in outcome.failures.items():
            failed = True
            print(f"could not destroy {record_id}: {error}")
    if args.expired and not any(outcome.destroyed for outcome in outcomes.values()):
        print("nothing had expired")
    if args.images:
        _destroy_images(rootdir)
    return 1 if failed else 0


def _destroy_images(rootdir: Path) -> None:
    """Remove the images clockwork built for ``rootdir`` (its build cache); an image a
    container still uses is left, and said so."""
    from pytest_clockwork.runtimes.dockerd import client
    from pytest_clockwork.runtimes.imagebuild import remove_built_images
    from pytest_clockwork.state import root_id

    removed, left = remove_built_images(client().api, root_id(rootdir))
    print(f"removed built images: {', '.join(removed)}" if removed else "no built images to remove")
    if left:
        print(f"built images left (in use): {'; '.join(left)}")


def _update(args: argparse.Namespace, pytest_args: list[str]) -> int:
    from pytest_clockwork.update.command import Request, read_intent, run

    try:
        intent = read_intent(args.intent, args.intent_file)
    except ValueError as exc:
        print(f"clockwork update: error: {exc}", file=sys.stderr)
        return 2
    request = Request(
        intent=intent,
        rootdir=args.rootdir,
        stack=args.stack or _default_stack(),
        write=args.write or args.apply,
        apply=args.apply,
        pytest_args=tuple(pytest_args),
    )
    return run(request)


# -- plumbing ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--rootdir", type=Path, help="the project's pytest rootdir (default: the current one)"
    )
    common.add_argument(
        "--stack",
        type=_stack_name,
        help="the stack (default: CW_STACK, or 'default'; status: every stack)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="say more")
    parser = argparse.ArgumentParser(
        prog="clockwork",
        description="Look after the environments that pytest --clockwork-keep left running.",
        epilog="Arguments after -- go to the pytest collection that loads the declarations.",
    )
    commands = parser.add_subparsers(title="commands", metavar="{status,watch,destroy,update}")

    status = commands.add_parser(
        "status", parents=[common], help="stacks, resources, health, expiry"
    )
    status.add_argument("--assertions", action="store_true", help="also run the assertions")
    status.add_argument(
        "--no-declarations", action="store_true", help="use the recorded state only"
    )
    status.set_defaults(run=_status)

    watch = commands.add_parser(
        "watch", parents=[common], help="evaluate every interval; correct drift, alert"
    )
    watch.add_argument(
        "--interval", type=_positive, default=60.0, help="seconds between steps (or 30s, 5m)"
    )
    watch.add_argument("--once", action="store_true", help="one step, then exit (1: drift left)")
    watch.add_argument("--webhook", help="URL alerts are POSTed to (default: CW_ALERT_WEBHOOK)")
    watch.add_argument(
        "--allow-stateful",
        action="store_true",
        help="also recreate stateful=True resources (that destroys what they hold)",
    )
    watch.add_argument(
        "--max-corrections", type=_count, default=2, help="per resource and window (default 2)"
    )
    watch.add_argument(
        "--window", type=_positive, default=3600.0, help="the rate limit window (default 1h)"
    )
    watch.add_argument(
        "--cooldown", type=_duration, default=600.0, help="after each correction (default 10m)"
    )
    watch.add_argument(
        "--max-failures",
        type=_count,
        default=3,
        help="failed corrections in a row before giving up on a resource (default 3)",
    )
    watch.add_argument("--no-assertions", action="store_true", help="do not run assertions")
    watch.add_argument("--no-declarations", action="store_true", help="the recorded state only")
    watch.set_defaults(run=_watch)

    destroy = commands.add_parser("destroy", parents=[common], help="destroy what a stack has")
    destroy.add_argument(
        "--expired", action="store_true", help="destroy what has expired, in every stack"
    )
    destroy.add_argument(
        "--images",
        action="store_true",
        help="also remove the images clockwork built for this rootdir (its build cache)",
    )
    destroy.set_defaults(run=_destroy)

    update = commands.add_parser(
        "update",
        parents=[common],
        help="change the declarations (and the kept stack) to carry out an intent",
    )
    update.add_argument("intent", nargs="?", metavar="INTENT", help="what to change, in words")
    update.add_argument("--intent-file", type=Path, help="read the intent from this file")
    update.add_argument("--write", action="store_true", help="write the edited conftest.py files")
    update.add_argument(
        "--apply",
        action="store_true",
        help="write, deploy onto the kept stack and run the assertions (implies --write)",
    )
    update.set_defaults(run=_update)
    return parser


def _duration(text: str) -> float:
    from pytest_clockwork.notation import parse_duration

    if text.strip() in ("0", "0s"):
        return 0.0
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> float:
    value = _duration(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number, at least 1")
    return value


def _stack_name(text: str) -> str:
    from pytest_clockwork.settings import check_stack

    try:
        return check_stack(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _default_stack() -> str:
    from pytest_clockwork.settings import get_settings

    return get_settings().stack or "default"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class _Stderr(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a line is logged."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _configure_logging(verbose: bool) -> None:
    if not any(isinstance(handler, _Stderr) for handler in logger.handlers):
        handler = _Stderr(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s clockwork: %(message)s", "%Y-%m-%d %H:%M:%S")
        )
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)


class _stopping_on_signals:
    """Set ``stop`` on SIGTERM and SIGINT (the current step finishes), then restore."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.saved: list[tuple[int, object]] = []

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.stop.is_set():
            logger.info("%s: stopping after the current step", signal.Signals(signum).name)
        self.stop.set()

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self.saved.append((signum, signal.signal(signum, self._handle)))

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.saved:
            signal.signal(signum, handler)  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
