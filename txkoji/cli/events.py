"""``txkoji events``: tail the hub's events (:func:`txkoji.watch.feed`),
one line (or JSON object) per event."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from twisted.internet import defer

from txkoji.cli.humanize import task_label
from txkoji.cli.runner import INTERRUPTED
from txkoji.cli.tasklines import resume_command
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
    return json.dumps(record)


async def events(reactor: Any, koji: Any, args: argparse.Namespace) -> int:
    """Print events until interrupted; then say how to resume."""
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
