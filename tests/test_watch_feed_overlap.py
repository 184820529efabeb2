"""The feed's task streams fetch only records newer than the newest
reported and count the overlap; a record committed late into the overlap
is still reported (a cycle later), once.  And the simulating hub's
``rate`` option."""

from __future__ import annotations

import copy

import pytest
import pytest_twisted

from tests.watch_helpers import record_args
from txkoji import Connection
from txkoji.exceptions import ParameterError
from txkoji.testing import FakeHub, memory_transport
from txkoji.testing.records import time_pair
from txkoji.testing.simulator import dataset_clock
from txkoji.testing.simulator.simulation import CHANGES_PER_BUILD
from txkoji.watch import feed


def connection(hub: FakeHub) -> Connection:
    return Connection(
        server="http://koji.test/kojihub",
        transport=memory_transport(hub),
        clock=hub.clock,
    )


def drain(events_feed) -> list[tuple]:
    out = []
    while events_feed._queue:
        event = events_feed._queue.popleft()
        out.append((event.task["id"], event.new))
    return out


@pytest_twisted.ensureDeferred
async def test_a_record_committed_late_into_the_overlap_is_reported_once():
    hub = FakeHub(dataset_clock())
    sim = hub.simulate(seed=3)
    koji = connection(hub)
    listings = record_args(hub, "listTasks")
    try:
        events_feed = feed(koji, builds=False, tags=False, interval=5)
        await events_feed.poll()
        hub.clock.advance(1)
        sim.start_build("bash")
        seen = []
        for _ in range(8):
            hub.clock.advance(20)
            await events_feed.poll()
            seen += drain(events_feed)
        assert len(seen) > 3
        newest = max(o[0] for o in events_feed.position.seen["task-created"].values())
        # Later polls ask for created tasks from a second before the newest
        # reported; the overlap before it is only counted.
        created = [
            args[0]["createdAfter"]
            for args, kw in listings
            if "createdAfter" in args[0] and not kw.get("queryOpts")
        ]
        assert created[-1] > created[0]
        # A task whose transaction began in the overlap commits now.
        late_id = max(hub.state.tasks) + 100
        late = copy.deepcopy(hub.state.tasks[min(hub.state.tasks)])
        late.update(id=late_id, parent=None, state=0, result=None)
        late["create_time"], late["create_ts"] = time_pair(newest - 60)
        late["start_time"], late["start_ts"] = time_pair(None)
        late["completion_time"], late["completion_ts"] = time_pair(None)
        hub.state.tasks[late_id] = late
        found = []
        for _ in range(3):
            await events_feed.poll()
            found += drain(events_feed)
        assert found.count((late_id, "FREE")) == 1
        assert len(found) == len(set(found))
    finally:
        sim.stop()
        await koji.close()


def test_rate_sets_the_activity():
    sim = FakeHub(dataset_clock()).simulate(rate=50)
    assert sim.activity == pytest.approx(CHANGES_PER_BUILD / 50)


@pytest.mark.parametrize(
    "options", [{"rate": 0}, {"rate": "fast"}, {"rate": 5, "activity": 10}]
)
def test_bad_rates_are_refused(options):
    with pytest.raises(ParameterError):
        FakeHub(dataset_clock()).simulate(**options)
