"""Watching builds against the fake hub: by id or NVR, transitions,
estimates, cost per cycle, unknown builds, the Clock."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from tests.loopback import until
from tests.watch_helpers import Recorder, multicalls, set_build
from txkoji import Connection
from txkoji.build import Build
from txkoji.exceptions import KojiNotFound
from txkoji.messages import BuildStateChange
from txkoji.watch import BuildWatcher, watch_builds

LATER = 1795172000.0


@pytest_twisted.ensureDeferred
async def test_builds_by_id_and_nvr_until_they_end(koji, hub_server):
    hub = hub_server.hub
    clock = Clock()
    seen = Recorder()
    d = watch_builds(
        koji,
        [1004, "python-requests-2.32.3-1.fc40", 1001],
        on_event=seen,
        interval=3,
        clock=clock,
    )
    await until(lambda: len(seen.events) == 3)
    assert seen.transitions() == [
        (1004, None, "BUILDING"),
        (1012, None, "BUILDING"),
        (1001, None, "COMPLETE"),
    ]
    assert all(isinstance(e, BuildStateChange) for e in seen.events)
    set_build(hub, 1004, "COMPLETE", LATER)
    set_build(hub, 1012, "FAILED", LATER)
    clock.advance(3)
    builds = await d
    assert [b["id"] for b in builds] == [1004, 1012, 1001]
    assert all(isinstance(b, Build) for b in builds)
    assert seen.transitions()[3:] == [
        (1004, "BUILDING", "COMPLETE"),
        (1012, "BUILDING", "FAILED"),
    ]
    assert clock.getDelayedCalls() == []


@pytest_twisted.ensureDeferred
async def test_ended_builds_are_not_polled_and_cost_is_per_batch(koji, hub_server):
    watcher = BuildWatcher(koji, [1004, 1012, 1001], interval=1, batch=2)
    await watcher.poll()
    assert multicalls(hub_server.hub) == 2
    hub_server.hub.calls.clear()
    await watcher.poll()
    assert multicalls(hub_server.hub) == 1  # 1001 has ended: two left
    assert hub_server.hub.calls.count("getBuild") == 2


@pytest_twisted.ensureDeferred
async def test_build_estimate_from_the_package_history(hub_server):

    clock = Clock()
    clock.advance(1795171000.0)
    koji = Connection(server=hub_server.url, clock=clock)
    try:
        watcher = BuildWatcher(koji, [1004], interval=1)
        await watcher.poll()
        watched = watcher.watched[0]
        assert watched.eta is None
        await watcher.poll()
        average = await koji.getAverageBuildDuration("bash")
        assert watched.eta == watched.build.started + average
        assert 0 < watched.progress < 1
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_unknown_build_fails_with_koji_not_found(koji):
    with pytest.raises(KojiNotFound) as info:
        await watch_builds(koji, ["no-such-1-1"], interval=1)
    assert info.value.missing == ["no-such-1-1"]


@pytest.mark.parametrize("builds", [[], [None], [True], [""], [1.5]])
def test_bad_builds_are_refused_at_once(builds):
    connection = Connection(server="http://127.0.0.1:9/kojihub")
    with pytest.raises(ValueError):
        watch_builds(connection, builds)


@pytest_twisted.ensureDeferred
async def test_unchanged_build_records_are_not_decoded_again(koji, hub_server):
    from tests.test_watch_digests import Counting, EveryEntry

    hub = hub_server.hub
    decoded, skipping = Recorder(), Recorder()
    counting = Counting(koji)
    refs = [1004, "python-requests-2.32.3-1.fc40", 1001]
    watchers = [
        BuildWatcher(EveryEntry(koji), refs, on_event=decoded, interval=1, batch=2),
        BuildWatcher(counting, refs, on_event=skipping, interval=1, batch=2),
    ]

    async def poll_both():
        for watcher in watchers:
            await watcher.poll()
        assert [w.build for w in watchers[1].watched] == [
            w.build for w in watchers[0].watched
        ]

    await poll_both()
    first = [w.build for w in watchers[1].watched]
    await poll_both()
    # 1004 and 1012 are still building, unchanged: kept, not decoded.
    assert counting.unchanged == 2
    kept = [w.build for w in watchers[1].watched]
    assert kept[0] is first[0] and kept[1] is first[1]
    set_build(hub, 1004, "COMPLETE", LATER)
    await poll_both()
    assert counting.unchanged == 3  # only 1012 this time
    assert watchers[1].watched[0].build is not first[0]
    assert watchers[1].watched[0].build["state"] == 1
    set_build(hub, 1012, "FAILED", LATER)
    await poll_both()
    assert all(watcher.done for watcher in watchers)
    assert skipping.transitions() == decoded.transitions()
    assert len(decoded.transitions()) == 5
    assert watchers[1].requests == watchers[0].requests
