"""Watching the children of listed tasks by their changes only
(``txkoji.watch.task_delta``) gives the same events as fetching every
record: two watchers, one each way, poll one simulating hub at the same
instants of its clock."""

from __future__ import annotations

import random

import pytest
import pytest_twisted

from tests.watch_helpers import Recorder, record_args
from txkoji import Connection
from txkoji.testing import FakeHub
from txkoji.testing.memory import memory_transport
from txkoji.testing.simulator import dataset_clock
from txkoji.watch import TaskWatcher
from txkoji.watch.task_delta import ChildDelta

PACKAGES = ("bash", "python-requests", "kernel")
OUTCOMES = ("complete", "failed", "canceled")


def connection(hub: FakeHub) -> Connection:
    """A connection to ``hub`` in memory, on the hub's clock."""
    return Connection(
        server="https://koji.example.com/kojihub",
        transport=memory_transport(hub),
        clock=hub.clock,
    )


class AheadClock:
    """A client clock an hour ahead of the hub's: the time filters then
    start too late to see the changes."""

    def __init__(self, hub_clock) -> None:
        self.hub_clock = hub_clock

    def seconds(self) -> float:
        return self.hub_clock.seconds() + 3600


def snapshot(recorder: Recorder) -> list[tuple]:
    """Each event's transition and the record it carries."""
    return [
        (event.task["id"], event.old, event.new, dict(event.task))
        for event in recorder.events
    ]


async def watch_both(seed: int) -> tuple[list, list, list, list[int]]:
    """Run builds on a simulating hub, watched by a watcher fetching every
    record and one asking for changes only; return both event streams and
    the listTasks calls made, and each watcher's requests."""
    rng = random.Random(seed)
    hub = FakeHub(dataset_clock())
    sim = hub.simulate(seed=seed)
    listings = record_args(hub, "listTasks")
    roots = [
        sim.start_build(rng.choice(PACKAGES), outcome=rng.choice(OUTCOMES))
        for _ in range(6)
    ]
    full, delta, ahead = Recorder(), Recorder(), Recorder()
    koji = connection(hub)
    try:
        watchers = [
            TaskWatcher(koji, roots, on_event=full, interval=5),
            TaskWatcher(koji, roots, on_event=delta, interval=5),
            TaskWatcher(
                koji, roots, on_event=ahead, interval=5, clock=AheadClock(hub.clock)
            ),
        ]
        watchers[0].delta_from = 10**9  # never: every record, every cycle
        watchers[1].delta_from = 1  # always, however small the request
        watchers[2].delta_from = 1
        for _ in range(400):
            for watcher in watchers:
                await watcher.poll()
            if all(watcher.done for watcher in watchers):
                break
            hub.clock.advance(rng.choice((1, 5, 30, 120, 600)))
        assert all(watcher.done for watcher in watchers)
    finally:
        sim.stop()
        await koji.close()
    requests = [watcher.requests for watcher in watchers]
    assert snapshot(ahead) == snapshot(full)
    return snapshot(full), snapshot(delta), listings, requests


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest_twisted.ensureDeferred
async def test_changes_only_gives_the_same_events_as_every_record(seed):
    full, delta, listings, requests = await watch_both(seed)
    assert len(full) > 20
    assert delta == full
    # On one clock the time filters miss nothing: no second listing; an
    # hour ahead they miss changes, the counts tell, and the listing that
    # follows finds them (the same events, at a second request's cost).
    assert requests[1] == requests[0] < requests[2]
    # The change queries were used (with their counts), not only listings.
    counts = [kw for args, kw in listings if kw.get("queryOpts")]
    assert counts


def test_counts_refuse_a_change_no_row_shows():
    class Node:
        def __init__(self, task_id: int, state: int) -> None:
            self.id = task_id
            self.task = {"id": task_id, "state": state}

    # 11 OPEN, 12 FREE (known); the hub now has 11 CLOSED, unseen by the
    # time filters, and 12 still FREE.
    delta = ChildDelta([10], [Node(11, 1), Node(12, 0)], "2026-01-01")
    waiting = [{"id": 12, "state": 0}]
    assert delta.rows([waiting, [], [], 0, 2], {}) is None
    # Seen by the completion filter: proven.
    closed = [{"id": 11, "state": 2}]
    rows = delta.rows([waiting, [], closed, 0, 2], {})
    assert rows is not None and rows[11]["state"] == 2
    # A new child no filter shows: the total tells.
    assert delta.rows([waiting, [], closed, 0, 3], {}) is None
    # A known FREE task gone from the waiting rows and shown nowhere.
    assert delta.rows([[], [], closed, 0, 2], {}) is None
