"""``txkoji events``: tail the hub's events, one line (or JSON object) per
event: by polling the hub (:func:`txkoji.watch.feed`), or from a message
bus with ``--bus`` (:func:`txkoji.bus.events`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from twisted.internet import defer

from txkoji.bus import events as bus_events
from txkoji.cli.humanize import task_label
from txkoji.cli.runner import INTERRUPTED
from txkoji.cli.tasklines import resume_command
from txkoji.exceptions import KojiBusError
from txkoji.messages import BuildStateChange, TaskStateChange
from txkoji.watch import feed


def event_line(event: Any) -> str:
    """One line telling an event."""
    change = (
        event.new.lower()
        if event.old is None
        else (f"{event.old.lower()} -> {event.new.lower()}")
    )
    if isinstance(event, TaskStateChange):
        return f"task {event.task['id']} {task_label(event.task)}: {change}"
    if isinstance(event, BuildStateChange):
        return f"build {event.build.nvr}: {change}"
    by = f" by {event.user_name}" if event.user_name else ""
    return f"{event.event.lower()} {event.build.nvr} {event.tag}{by}"


def event_json(event: Any) -> str:
    """One JSON object telling an event, with its checkpoint."""
    record: dict[str, Any] = {"event": type(event).__name__}
    if isinstance(event, TaskStateChange):
        task = event.task
        record.update(
            id=task["id"],
            parent=task.get("parent"),
            method=task.get("method"),
            old=event.old,
            new=event.new,
        )
    elif isinstance(event, BuildStateChange):
        record.update(
            id=event.build["id"], nvr=event.build.nvr, old=event.old, new=event.new
        )
    else:
        record.update(
            event=event.event,
            build_id=event.build["id"],
            nvr=event.build.nvr,
            tag=event.tag,
            user=event.user_name,
        )
    record["checkpoint"] = event.checkpoint
    message_id = getattr(event, "message_id", None)
    if message_id is not None:
        record["message_id"] = message_id
    return json.dumps(record)


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
    events_feed = feed(koji, since=args.since, interval=args.interval)
    show = event_json if args.json else event_line
    try:
        async for event in events_feed:
            print(show(event), flush=True)
    except defer.CancelledError:
        checkpoint = events_feed.checkpoint
        if checkpoint is not None:
            resume = resume_command(args.global_args, "events --since", [checkpoint])
            print(f"\nTo resume, run: {resume}", file=sys.stderr, flush=True)
        return INTERRUPTED
    return 0


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
