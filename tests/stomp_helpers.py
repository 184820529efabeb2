"""Helpers shared by the STOMP transport tests: what a message is about
(the publisher cannot know the broker's ``message-id``), and a
subscription on the stomp transport."""

from __future__ import annotations

from typing import Any

from tests.bus_helpers import Recorder
from txkoji.bus import subscribe
from txkoji.messages import BuildStateChange, TaskStateChange, parse_message


def content_key(event: Any) -> tuple:
    """What an event is about: a task's or build's state, or a tagging."""
    if isinstance(event, TaskStateChange):
        return ("task", event.task["id"], event.new)
    if isinstance(event, BuildStateChange):
        return ("build", event.build["id"], event.new)
    return (event.event, event.build["id"], event.tag)


def message_keys(messages: list[tuple]) -> list[tuple]:
    """The :func:`content_key` of each hub message ``(address, properties,
    body)``."""
    return [
        content_key(parse_message({"properties": props, "body": body}, None))
        for _, props, body in messages
    ]


def handled_keys(recorder: Recorder) -> set[tuple]:
    """The content keys of the events ``recorder`` handled."""
    return {
        content_key(event)
        for message_id, event in recorder.seen
        if message_id in recorder.handled
    }


async def start_stomp(
    koji: Any, url: str, topics: list[str], handler: Any, **options: Any
) -> Any:
    """Subscribe with the stomp transport."""
    return await subscribe(
        koji, url, transport="stomp", topics=topics, handler=handler, **options
    )


def duplicates(recorder: Recorder) -> tuple[int, int]:
    """How many handler calls repeated a message: ``(redelivered,
    republished)``, the broker's redeliveries (a ``message-id`` seen
    before, or RabbitMQ's ``redelivered`` header) and the rest (a
    publisher sending again what the broker had not confirmed)."""
    ids: set[str] = set()
    keys: set[tuple] = set()
    redelivered = republished = 0
    for message_id, event in recorder.seen:
        key = content_key(event)
        again = message_id in ids or event.frame.headers.get("redelivered") == "true"
        if key in keys:
            if again:
                redelivered += 1
            else:
                republished += 1
        ids.add(message_id)
        keys.add(key)
    return redelivered, republished
