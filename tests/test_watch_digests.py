"""The watcher leaves the records of its open tasks undecoded when their
bytes did not change (``Connection.multicall_digests``), and reports the
same events as a watcher decoding every one: both poll one simulating hub
at the same instants of its clock."""

from __future__ import annotations

import random

import pytest
import pytest_twisted

from tests.test_watch_delta import OUTCOMES, PACKAGES, connection, snapshot
from tests.watch_helpers import Recorder, set_task
from txkoji.entry_digests import UNCHANGED
from txkoji.exceptions import GenericError
from txkoji.testing import FakeHub
from txkoji.testing.simulator import dataset_clock
from txkoji.watch import TaskWatcher


class EveryEntry:
    """A connection without ``multicall_digests``: every entry decoded."""

    def __init__(self, koji) -> None:
        self._koji = koji

    def __getattr__(self, name):
        if name == "multicall_digests":
            raise AttributeError(name)
        return getattr(self._koji, name)


class Counting:
    """A connection counting the entries it left undecoded."""

    def __init__(self, koji) -> None:
        self._koji = koji
        self.unchanged = 0
        #: Fail the next answer's listTasks entries, as a hub fault would.
        self.fail_listings = False

    def __getattr__(self, name):
        return getattr(self._koji, name)

    def multicall_digests(self, calls, known):
        def count(answer):
            outcomes, digests = answer
            self.unchanged += sum(1 for o in outcomes if o is UNCHANGED)
            if self.fail_listings:
                self.fail_listings = False
                outcomes = [
                    GenericError("database went away")
                    if call[0] == "listTasks"
                    else outcome
                    for call, outcome in zip(calls, outcomes, strict=True)
                ]
            return outcomes, digests

        return self._koji.multicall_digests(calls, known).addCallback(count)


@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("delta_from", [1, 10**9])
@pytest_twisted.ensureDeferred
async def test_skipping_unchanged_records_gives_the_same_events(seed, delta_from):
    rng = random.Random(seed)
    hub = FakeHub(dataset_clock())
    sim = hub.simulate(seed=seed)
    roots = [
        sim.start_build(rng.choice(PACKAGES), outcome=rng.choice(OUTCOMES))
        for _ in range(6)
    ]
    decoded, skipping = Recorder(), Recorder()
    koji = connection(hub)
    counting = Counting(koji)
    try:
        watchers = [
            TaskWatcher(EveryEntry(koji), roots, on_event=decoded, interval=5),
            TaskWatcher(counting, roots, on_event=skipping, interval=5),
        ]
        for watcher in watchers:
            watcher.delta_from = delta_from
        for _ in range(400):
            for watcher in watchers:
                await watcher.poll()
            assert [n.task for n in watchers[1].walk()] == [
                n.task for n in watchers[0].walk()
            ]
            if all(watcher.done for watcher in watchers):
                break
            # Often a short wait: nothing changed, the records are skipped.
            hub.clock.advance(rng.choice((1, 1, 1, 5, 30, 120, 600)))
        assert all(watcher.done for watcher in watchers)
    finally:
        sim.stop()
        await koji.close()
    assert len(snapshot(decoded)) > 20
    assert snapshot(skipping) == snapshot(decoded)
    assert watchers[1].requests == watchers[0].requests
    assert counting.unchanged > 0


@pytest_twisted.ensureDeferred
async def test_records_not_applied_keep_no_digest(koji, hub_server):
    hub = hub_server.hub
    seen = Recorder()
    counting = Counting(koji)
    watcher = TaskWatcher(counting, [50102], on_event=seen, interval=1)
    await watcher.poll()
    await watcher.poll()
    await watcher.poll()
    assert counting.unchanged == 1  # the third poll skipped the record
    seen.clear()
    # The record changes, but another call of the request fails: the
    # changed record is not applied, so its bytes must be decoded again.
    set_task(hub, 50102, "CLOSED", 1795172000.0)
    counting.fail_listings = True
    with pytest.raises(GenericError, match="database went away"):
        await watcher.poll()
    assert seen.events == []
    await watcher.poll()
    assert seen.transitions() == [(50102, "OPEN", "CLOSED")]
