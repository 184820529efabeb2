"""The ``txkoji`` command (``python -m txkoji``)::

    txkoji [-p PROFILE | --server URL] [--topurl URL] [--weburl URL]
           [--interval SECONDS] COMMAND ...

    txkoji watch-task 123 456        # live view, exit 1 unless all closed
    txkoji watch-build bash-5.2.32-1.fc40
    txkoji events --json                 # every line has a checkpoint
    txkoji events --since CHECKPOINT
    txkoji events --bus amqp://broker --transport protonmsg --subscription bot
    txkoji download-task 123 --arch x86_64 --logs
    txkoji download-build bash-5.2.26-2.fc40 --key fd431d51
    txkoji upload foo.src.rpm --dir cli-import/mine
    txkoji build --scratch f40-candidate foo.src.rpm

Global options come before the command.  Without ``-p`` or ``--server``
the profile is ``koji``, as for the official ``koji`` command.  The live
view needs ``rich``
(``pip install txkoji[cli]``); when stdout is not a terminal, or with
``--json``, output is plain lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from txkoji.bus import TRANSPORTS
from txkoji.cli import commands, files
from txkoji.cli.events import events as events_command
from txkoji.cli.runner import run
from txkoji.exceptions import KojiConfigError

#: The profile used without ``-p`` or ``--server`` (the official CLI's
#: default, the name it runs as).
DEFAULT_PROFILE = "koji"


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _task_id(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"a task id is a number, not {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    """The command line parser."""
    top = argparse.ArgumentParser(
        prog="txkoji", description="Watch Koji tasks, builds and events; move files."
    )
    top.add_argument(
        "-p",
        "--profile",
        help=f"koji client profile to use (default: {DEFAULT_PROFILE!r}, "
        "unless --server is given)",
    )
    top.add_argument("--server", help="hub URL, e.g. https://koji.example.com/kojihub")
    top.add_argument("--topurl", help="URL of the hub's files (for log links)")
    top.add_argument("--weburl", help="kojiweb URL")
    top.add_argument(
        "--interval",
        type=_positive_seconds,
        help="seconds between polls (default: the profile's poll_interval)",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    task = sub.add_parser("watch-task", help="watch tasks and their subtasks")
    task.add_argument("task_ids", nargs="+", type=_task_id, metavar="ID")
    build = sub.add_parser("watch-build", help="watch builds until they end")
    build.add_argument("builds", nargs="+", type=commands.build_ref, metavar="NVR")
    events = sub.add_parser("events", help="print the hub's events as they happen")
    events.add_argument("--since", metavar="CHECKPOINT", help="resume after this")
    events.add_argument(
        "--bus",
        metavar="URL",
        help="read a message bus (amqp://, amqps://, stomp:// or stomp+ssl://) "
        "instead of polling",
    )
    events.add_argument(
        "--transport", choices=TRANSPORTS, help="the bus's transport (with --bus)"
    )
    events.add_argument(
        "--topic",
        action="append",
        metavar="TOPIC",
        help="a topic to subscribe to (repeatable; default: every Koji topic)",
    )
    events.add_argument(
        "--subscription",
        metavar="NAME",
        help="a durable subscription: the broker keeps events while away",
    )
    events.add_argument(
        "--allow-insecure-mechs",
        action="store_true",
        help="let protonmsg send the URL's password over plain amqp:// (SASL PLAIN)",
    )
    for each in (task, build, events):
        each.add_argument(
            "--json", action="store_true", help="one JSON object per line"
        )
    files.add_parsers(sub)
    return top


def _global_args(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    for option in ("profile", "server", "topurl", "weburl", "interval"):
        value = getattr(args, option)
        if value is not None:
            out += [f"--{option}", f"{value:g}" if option == "interval" else value]
    return out


#: The commands that poll the hub until something ends.
WATCHES = ("watch-task", "watch-build", "events")


def connect(args: argparse.Namespace, reactor: Any) -> Any:
    """Return the :class:`txkoji.Connection` the global options name."""
    from txkoji import Connection

    options: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("server", "topurl", "weburl")
        if getattr(args, name) is not None
    }
    if args.command in WATCHES:
        # The watches retry failed polls themselves, and say so
        # (txkoji.cli.retries): no silent retries inside one call.
        options["anon_retry"] = False
    return Connection(args.profile, reactor=reactor, **options)


def _watch_task(reactor: Any, koji: Any, args: argparse.Namespace) -> Any:
    return commands.watch_task(
        reactor,
        koji,
        args.task_ids,
        interval=args.interval,
        json_lines=args.json,
        global_args=args.global_args,
    )


COMMANDS = {
    "watch-task": _watch_task,
    "watch-build": commands.watch_build,
    "events": events_command,
    **files.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the
    exit status."""
    args = parser().parse_args(argv)
    args.global_args = _global_args(args)
    implied = args.profile is None and args.server is None
    if implied:
        args.profile = DEFAULT_PROFILE

    from twisted.internet import reactor

    try:
        koji = connect(args, reactor)
    except KojiConfigError as error:
        print(f"txkoji: {error}", file=sys.stderr)
        if implied:
            print(
                f"txkoji: with no -p NAME or --server URL, the profile is "
                f"{DEFAULT_PROFILE!r}; give a profile (-p NAME) or --server URL",
                file=sys.stderr,
            )
        return 2

    async def command(reactor: Any) -> int:
        try:
            return await COMMANDS[args.command](reactor, koji, args)
        finally:
            await koji.close()

    return run(command)


def console_main() -> None:
    """The ``txkoji`` console script."""
    sys.exit(main())
