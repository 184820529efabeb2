"""``txkoji events``: tail the hub's events, one line (or JSON object) per
event: by polling the hub (:func:`txkoji.watch.feed`), or from a message
bus with ``--bus`` (:func:`txkoji.bus.events`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from twisted.internet import defer

from txkoji.bus import events as bus_events
from txkoji.cli.eventlines import event_json, event_line
from txkoji.cli.retries import GaveUp, poll_retries, say
from txkoji.cli.runner import INTERRUPTED
from txkoji.cli.tasklines import resume_command
from txkoji.exceptions import KojiBusError
from txkoji.watch import BadCheckpoint, feed

#: The topics ``--bus`` subscribes to by default: every Koji message.
DEFAULT_TOPICS = {
    "protonmsg": ["/topic/koji.#"],
    "fedora": ["org.fedoraproject.*.buildsys.#"],
    "stomp": ["/topic/VirtualTopic.eng.brew.>"],
}


async def events(reactor: Any, koji: Any, args: argparse.Namespace) -> int:
    """Print events until interrupted; then say how to resume."""
    if args.bus is not None:
        return await _from_bus(koji, args)
    try:
        events_feed = feed(koji, since=args.since, interval=args.interval)
    except BadCheckpoint as error:
        print(f"txkoji events: {error}", file=sys.stderr)
        return 2
    events_feed.failures = poll_retries(koji, "polling events", say)
    show = event_json if args.json else event_line
    try:
        async for event in events_feed:
            print(show(event), flush=True)
    except defer.CancelledError:
        _resume_hint(events_feed, args)
        return INTERRUPTED
    except GaveUp as error:
        print(f"txkoji: {error}", file=sys.stderr)
        _resume_hint(events_feed, args)
        return 1
    return 0


def _resume_hint(events_feed: Any, args: argparse.Namespace) -> None:
    """Say on stderr how to go on from where ``events_feed`` stands."""
    checkpoint = events_feed.checkpoint
    if checkpoint is not None:
        resume = resume_command(args.global_args, "events --since", [checkpoint])
        print(f"\nTo resume, run: {resume}", file=sys.stderr, flush=True)


async def _from_bus(koji: Any, args: argparse.Namespace) -> int:
    """Print the events of a bus subscription until interrupted."""
    problem = None
    if args.transport is None:
        problem = "--bus needs --transport (protonmsg, fedora or stomp)"
    elif args.since is not None:
        problem = (
            "--since resumes the polling feed; a bus subscription resumes "
            "by its --subscription name"
        )
    if problem is not None:
        print(f"txkoji events: {problem}", file=sys.stderr)
        return 2
    stream = bus_events(
        koji,
        args.bus,
        transport=args.transport,
        topics=args.topic or DEFAULT_TOPICS[args.transport],
        subscription=args.subscription,
        allow_insecure_mechs=args.allow_insecure_mechs,
    )
    show = event_json if args.json else event_line
    try:
        async for event in stream:
            print(show(event), flush=True)
    except defer.CancelledError:
        await stream.stop()
        if args.subscription:
            print(
                f"\nThe broker keeps new events for subscription "
                f"{args.subscription}: run the same command to resume.",
                file=sys.stderr,
                flush=True,
            )
        return INTERRUPTED
    except KojiBusError as error:
        print(f"txkoji events: {error}", file=sys.stderr)
        return 1
    return 0
