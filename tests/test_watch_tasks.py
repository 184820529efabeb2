"""Watching tasks against the fake hub: transitions, adoption of children,
hub cost per cycle, estimates, errors, cancellation, and the Clock."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from tests.loopback import until
from tests.watch_helpers import (
    Recorder,
    add_child,
    multicalls,
    record_args,
    set_task,
)
from txkoji import Connection
from txkoji.exceptions import KojiNotFound
from txkoji.messages import TaskStateChange
from txkoji.watch import TaskWatcher, watch_tasks

#: Task 50100 (a bash build, OPEN): 50101 CLOSED, 50102 OPEN, 50103 ASSIGNED.
ROOT = 50100
LATER = 1795172000.0


@pytest_twisted.ensureDeferred
async def test_first_cycle_reports_every_task_once_with_no_old_state(koji, hub_server):
    seen = Recorder()
    watcher = TaskWatcher(koji, [ROOT], on_event=seen, interval=1)
    await watcher.poll()
    assert seen.transitions() == [
        (50100, None, "OPEN"),
        (50101, None, "CLOSED"),
        (50102, None, "OPEN"),
        (50103, None, "ASSIGNED"),
    ]
    assert all(isinstance(e, TaskStateChange) for e in seen.events)
    assert seen.events[0].task.package == "bash"
    assert [n.depth for n in watcher.walk()] == [0, 1, 1, 1]
    assert multicalls(hub_server.hub) == 1


@pytest_twisted.ensureDeferred
async def test_changes_between_polls_give_one_event_each(koji, hub_server):
    hub = hub_server.hub
    seen = Recorder()
    watcher = TaskWatcher(koji, [ROOT], on_event=seen, interval=1)
    await watcher.poll()
    seen.clear()
    await watcher.poll()
    assert seen.events == []
    # 50103 goes ASSIGNED -> OPEN -> CLOSED between two polls; a new child
    # appears and finishes in the same gap.
    set_task(hub, 50103, "OPEN", LATER)
    set_task(hub, 50103, "CLOSED", LATER + 1)
    add_child(hub, ROOT, 50104, like=50102, state="CLOSED", at=LATER + 2)
    await watcher.poll()
    assert seen.transitions() == [
        (50103, "ASSIGNED", "CLOSED"),
        (50104, None, "CLOSED"),
    ]
    assert [n.id for n in watcher.get(ROOT).children] == [50101, 50102, 50103, 50104]


@pytest_twisted.ensureDeferred
async def test_finished_tasks_are_not_polled_and_children_only_under_open_ones(
    koji, hub_server
):
    hub = hub_server.hub
    infos = record_args(hub, "getTaskInfo")
    listings = record_args(hub, "listTasks")
    watcher = TaskWatcher(koji, [ROOT], interval=1)

    def parents():
        return [args[0]["parent"] for args, _ in listings if "parent" in args[0]]

    await watcher.poll()
    await watcher.poll()
    assert infos[-1][0][0] == [50100, 50102, 50103]  # 50101 is CLOSED
    # 50101 came finished in its parent's listing: its children are looked
    # for once, then never again.
    assert parents()[-1] == [50100, 50101, 50102, 50103]
    await watcher.poll()
    assert parents()[-1] == [50100, 50102, 50103]
    set_task(hub, 50102, "CLOSED", LATER)
    await watcher.poll()
    await watcher.poll()
    assert infos[-1][0][0] == [50100, 50103]
    assert parents()[-1] == [50100, 50103]
    for task_id in (50103, ROOT):
        set_task(hub, task_id, "CLOSED", LATER)
    await watcher.poll()
    assert watcher.done
    asked = len(hub.calls)
    await watcher.poll()
    assert len(hub.calls) == asked  # nothing left to ask


@pytest_twisted.ensureDeferred
async def test_cycle_cost_is_one_request_per_batch(koji, hub_server):
    roots = [50100, 50110, 50310, 50500]
    watcher = TaskWatcher(koji, roots, interval=1, batch=2)
    await watcher.poll()
    assert multicalls(hub_server.hub) == 2  # 4 tasks, 2 per request
    before = multicalls(hub_server.hub)
    polled = [n for n in watcher.walk() if not (n.finished and n.children_listed)]
    await watcher.poll()
    assert multicalls(hub_server.hub) - before <= -(-len(polled) // 2)
    methods = set(hub_server.hub.calls) - {"system.multicall", "multiCall"}
    assert methods <= {
        "getTaskInfo",
        "listTasks",
        "getAverageBuildDuration",
        "listBuilds",
    }


@pytest_twisted.ensureDeferred
async def test_unknown_task_fails_with_koji_not_found(koji):
    with pytest.raises(KojiNotFound) as info:
        await watch_tasks(koji, [ROOT, 99999], interval=1)
    assert info.value.missing == [99999]
    assert "99999" in str(info.value)


@pytest.mark.parametrize(
    ("ids", "options"),
    [
        ([], {}),
        (["50100"], {}),
        ([True], {}),
        ([1], {"batch": 0}),
        ([1], {"interval": 0}),
    ],
)
def test_bad_arguments_are_refused_at_once(ids, options):
    connection = Connection(server="http://127.0.0.1:9/kojihub")
    with pytest.raises(ValueError):
        watch_tasks(connection, ids, **options)


@pytest_twisted.ensureDeferred
async def test_estimates_come_from_history_and_progress_grows(hub_server):
    clock = Clock()
    clock.advance(1795171000.0)  # 338 s after 50100 started
    koji = Connection(server=hub_server.url, clock=clock)
    try:
        watcher = TaskWatcher(koji, [ROOT, 50600], interval=1)
        await watcher.poll()
        root = watcher.get(ROOT)
        assert root.eta is None and root.progress is None  # not fetched yet
        await watcher.poll()
        average = await koji.getAverageBuildDuration("bash")
        assert root.eta == root.task.started + average
        first = root.progress
        assert 0 < first < 1
        # Children of a build share its build-level estimate.
        assert watcher.get(50102).estimate == root.estimate
        # A finished task is at its real end.
        assert watcher.get(50101).progress == 1.0
        clock.advance(60)
        await watcher.poll()
        assert root.progress > first
        assert root.remaining(watcher.now()) < average
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_no_history_means_no_estimate(koji, hub_server):
    hub = hub_server.hub
    # A method no closed task has: no history at all.
    hub.state.tasks[50600]["method"] = "neverRanBefore"
    hub.state.tasks[50600]["state"] = 1
    watcher = TaskWatcher(koji, [50600], interval=1)
    await watcher.poll()
    await watcher.poll()
    node = watcher.get(50600)
    assert node.eta is None and node.progress is None


@pytest_twisted.ensureDeferred
async def test_event_status_has_eta_and_progress(koji, hub_server):
    seen = Recorder()
    watcher = TaskWatcher(koji, [ROOT], on_event=seen, interval=1)
    await watcher.poll()
    await watcher.poll()
    set_task(hub_server.hub, 50102, "CLOSED", LATER)
    await watcher.poll()
    event = seen.events[-1]
    assert (event.task["id"], event.old, event.new) == (50102, "OPEN", "CLOSED")
    status = watcher.get(event.task["id"])
    assert status.progress == 1.0
    assert status.eta == event.task.completed


@pytest_twisted.ensureDeferred
async def test_watch_runs_on_the_clock_to_the_final_tree(hub_server):
    hub = hub_server.hub
    clock = Clock()
    koji = Connection(server=hub_server.url, clock=clock)
    seen = Recorder()
    try:
        d = watch_tasks(koji, [ROOT], on_event=seen, interval=5)
        await until(lambda: len(seen.events) == 4)
        assert not d.called
        for task_id in (50102, 50103):
            set_task(hub, task_id, "CLOSED", LATER)
        set_task(hub, ROOT, "CLOSED", LATER + 1)
        clock.advance(4.9)
        assert multicalls(hub) == 1
        clock.advance(0.1)
        trees = await d
    finally:
        await koji.close()
    assert [t.task["id"] for t in trees] == [ROOT]
    assert [c.task["state"] for c in trees[0].children] == [2, 2, 2, 2][:3]
    assert seen.transitions()[-3:] == [
        (50100, "OPEN", "CLOSED"),
        (50102, "OPEN", "CLOSED"),
        (50103, "ASSIGNED", "CLOSED"),
    ]
    assert clock.getDelayedCalls() == []


@pytest_twisted.ensureDeferred
async def test_interval_defaults_to_the_profile_poll_interval(hub_server):
    koji = Connection(server=hub_server.url, poll_interval=17)
    try:
        assert TaskWatcher(koji, [ROOT]).interval == 17
        assert TaskWatcher(koji, [ROOT], interval=2.5).interval == 2.5
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_cancelling_stops_polling_and_leaves_no_delayed_call(hub_server):
    clock = Clock()
    koji = Connection(server=hub_server.url)
    cycles: list = []
    try:
        watcher = TaskWatcher(
            koji, [ROOT], interval=5, on_cycle=cycles.append, clock=clock
        )
        d = watcher.run()
        await until(lambda: cycles != [])
        assert len(clock.getDelayedCalls()) == 1  # the wait for the next cycle
        d.cancel()
        with pytest.raises(defer.CancelledError):
            await d
        assert clock.getDelayedCalls() == []
        asked = multicalls(hub_server.hub)
        clock.advance(60)
        assert multicalls(hub_server.hub) == asked
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_cancelling_during_a_request_cancels_it(hub_server):
    clock = Clock()
    koji = Connection(server=hub_server.url)
    hub_server.hub.faults.add(drop=True)
    try:
        d = watch_tasks(koji, [ROOT], interval=5, clock=clock)
        await until(lambda: hub_server.hub.calls != [])
        d.cancel()
        with pytest.raises(defer.CancelledError):
            await d
        assert clock.getDelayedCalls() == []
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_hub_errors_are_retried_next_cycle_and_logged_once(hub_server):
    from twisted.logger import globalLogPublisher

    clock = Clock()
    koji = Connection(server=hub_server.url, max_retries=0)
    warnings: list = []

    def observe(event):
        if event.get("log_namespace", "").startswith("txkoji.watch"):
            warnings.append(event)

    globalLogPublisher.addObserver(observe)
    seen = Recorder()
    try:
        hub_server.hub.faults.add(http_status=503, times=3)
        d = watch_tasks(koji, [ROOT], on_event=seen, interval=5, clock=clock)
        for _ in range(3):
            await until(lambda: len(clock.getDelayedCalls()) == 1)
            clock.advance(5)
        await until(lambda: len(seen.events) == 4)
        assert not d.called
        d.cancel()
        with pytest.raises(defer.CancelledError):
            await d
    finally:
        globalLogPublisher.removeObserver(observe)
        await koji.close()
    levels = [e["log_level"].name for e in warnings]
    assert levels == ["warn", "info"]
