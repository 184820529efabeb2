"""The feed's checkpoint: a fixed size whatever the event rate, and on
resume every event reported is skipped and every one not reported (late
commits included) is reported."""

from __future__ import annotations

import random

import pytest

from txkoji.watch.checkpoint import BadCheckpoint, Position
from txkoji.watch.feed import OVERLAP, TAG_STREAMS, TASK_STREAMS

STREAMS = TASK_STREAMS + TAG_STREAMS
START = 1_733_500_000.0


def busy_position(count: int, seed: int = 1) -> tuple[Position, list[tuple]]:
    """A position after ``count`` events in each stream, all within the
    overlap window, in the feed's order; and the events as (stream,
    order)."""
    rng = random.Random(seed)
    position = Position.starting(STREAMS, START)
    events = []
    for stream in STREAMS:
        times = sorted(START + rng.uniform(0, OVERLAP - 1) for _ in range(count))
        for index, when in enumerate(times):
            ident = 50_000 + rng.randrange(10**6)
            key = f"{ident}:{stream}:{index}"
            position.record(stream, key, when, OVERLAP, ident)
            events.append((stream, (when, ident, key)))
    return position, events


def resumed(checkpoint: str, rows: dict[str, list[tuple]]) -> Position:
    position = Position.decode(checkpoint, STREAMS)
    for stream in STREAMS:
        position.settle(stream, rows.get(stream, []))
    return position


def by_stream(events: list[tuple]) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {}
    for stream, order in events:
        rows.setdefault(stream, []).append(order)
    return rows


def test_a_thousand_events_in_the_overlap_make_a_few_hundred_bytes():
    small, _ = busy_position(1)
    big, _ = busy_position(1000)
    assert all(len(big.seen[s]) == 1000 for s in STREAMS)  # all in the window
    assert len(big.encode()) < 700
    assert len(big.encode()) - len(small.encode()) < 60


def test_resume_after_a_thousand_events_repeats_none():
    position, events = busy_position(1000)
    again = resumed(position.encode(), by_stream(events))
    assert not any(again.is_new(stream, order[2]) for stream, order in events)


def test_resume_reports_what_came_after_the_last_event():
    position, events = busy_position(1000)
    rows = by_stream(events)
    newer = (START + OVERLAP + 5, 1, "1:task-created:new")
    rows["task-created"].append(newer)
    again = resumed(position.encode(), rows)
    assert again.is_new("task-created", newer[2])


def test_resume_reports_one_event_committed_late_inside_the_window():
    position, events = busy_position(1000)
    rows = by_stream(events)
    late = (START + 10.5, 77, "77:task-finished:late")  # before the last one
    rows["task-finished"].append(late)
    again = resumed(position.encode(), rows)
    assert again.is_new("task-finished", late[2])
    others = [order for stream, order in events if stream == "task-finished"]
    assert not any(again.is_new("task-finished", order[2]) for order in others)


def test_two_late_events_in_one_stream_are_skipped_never_repeated():
    position, events = busy_position(50)
    rows = by_stream(events)
    lates = [(START + 1.5, 7, "7:late"), (START + 2.5, 8, "8:late")]
    rows["task-started"] += lates
    again = resumed(position.encode(), rows)
    # The digest cannot tell two late ones apart: nothing is repeated.
    assert not any(
        again.is_new("task-started", order[2]) for order in rows["task-started"]
    )


def test_checkpoint_of_a_resumed_feed_before_its_first_poll_is_the_same():
    position, _ = busy_position(20)
    checkpoint = position.encode()
    assert Position.decode(checkpoint, STREAMS).encode() == checkpoint


def test_a_checkpoint_of_other_streams_is_refused():
    position, _ = busy_position(3)
    with pytest.raises(BadCheckpoint):
        Position.decode(position.encode(), TASK_STREAMS)
