"""Command-line plumbing shared by the example scripts.

Every example takes ``--profile NAME`` (a koji client profile) or
``--server URL`` (a hub URL, with optional ``--weburl`` and ``--serverca``),
then its own arguments.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable

from twisted.internet import defer, task

from txkoji import Connection


def parse(description: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    """Return the parsed command line: the connection options plus the
    example's own arguments."""
    parser = argparse.ArgumentParser(description=description)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--profile", help="koji client profile to use")
    where.add_argument(
        "--server", help="hub URL, e.g. https://koji.example.com/kojihub"
    )
    parser.add_argument("--weburl", help="kojiweb URL (with --server)")
    parser.add_argument(
        "--serverca", help="CA file to trust the hub with (with --server)"
    )
    add_arguments(parser)
    return parser.parse_args()


def connect(args: argparse.Namespace) -> Connection:
    """Return a :class:`Connection` for the parsed ``--profile`` or
    ``--server`` options."""
    if args.profile:
        return Connection(args.profile)
    options = {"server": args.server}
    if args.weburl:
        options["weburl"] = args.weburl
    if args.serverca:
        options["serverca"] = args.serverca
    return Connection(**options)


def run(
    main: Callable[[Connection, argparse.Namespace], Awaitable[None]], args
) -> None:
    """Run ``main(connection, args)`` under the reactor, close the
    connection, and exit with a non-zero status if it failed."""

    async def body(reactor) -> None:
        koji = connect(args)
        try:
            await main(koji, args)
        finally:
            await koji.close()

    task.react(lambda reactor: defer.ensureDeferred(body(reactor)))
