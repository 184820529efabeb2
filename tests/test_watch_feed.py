"""The polling event feed against a simulating fake hub whose clock is not
the client's: every event once, in order, one request per cycle, resume
from checkpoints, the same events as the message-bus parsers make."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, utils
from twisted.internet.task import Clock

from tests.loopback import until
from tests.watch_helpers import multicalls
from txkoji import Connection, build_states
from txkoji.messages import (
    BuildStateChange,
    TagUntag,
    TaskStateChange,
    parse_message,
)
from txkoji.testing import FakeHub, HubServer
from txkoji.testing.simulator import dataset_clock
from txkoji.watch import BadCheckpoint, feed

#: The client's clock is seven minutes behind the hub's.
SKEW = 7 * 60


@pytest_twisted.async_yield_fixture()
async def sim_hub():
    """A fake hub on its own Clock, simulating, served over loopback."""
    hub = FakeHub(dataset_clock())
    server = HubServer(hub=hub)
    await server.start()
    sim = hub.simulate(seed=7)
    yield server
    sim.stop()
    await server.stop()


@pytest_twisted.async_yield_fixture()
async def koji(sim_hub):
    connection = Connection(server=sim_hub.url)
    yield connection
    await connection.close()


def client_clock(hub: FakeHub) -> Clock:
    clock = Clock()
    clock.advance(hub.clock.seconds() - SKEW)
    return clock


def key(event) -> tuple:
    """What identifies an event."""
    if isinstance(event, TaskStateChange):
        return ("task", event.task["id"], event.new)
    if isinstance(event, BuildStateChange):
        return ("build", event.build["id"], event.new)
    return (event.event, event.build["id"], event.tag)


async def run_build(server, events_feed, outcome="complete") -> tuple[int, list]:
    """Start a bash build, move the hub along in steps, polling after each
    one; return the task id and the events seen."""
    hub = server.hub
    sim = hub.simulator
    hub.clock.advance(1)  # after the feed's start, not at the same instant
    task_id = sim.start_build("bash", outcome=outcome)
    seen = []
    for _ in range(200):
        hub.clock.advance(17)
        await events_feed.poll()
        while events_feed._queue:
            seen.append(events_feed._queue.popleft())
        if hub.state.tasks[task_id]["state"] in (2, 3, 5) and sim.pending() is None:
            break
    await events_feed.poll()
    while events_feed._queue:
        seen.append(events_feed._queue.popleft())
    return task_id, seen


@pytest_twisted.ensureDeferred
async def test_every_change_once_in_hub_time_order(sim_hub, koji):
    hub = sim_hub.hub
    events_feed = feed(koji, interval=5, clock=client_clock(hub))
    await events_feed.poll()  # where the hub stands: no event yet
    assert events_feed.checkpoint is not None
    task_id, seen = await run_build(sim_hub, events_feed)
    keys = [key(e) for e in seen]
    assert len(keys) == len(set(keys)), "an event was reported twice"
    tree = [t for t in hub.state.tasks.values() if t["id"] >= task_id]
    for task in tree:
        states = [k[2] for k in keys if k[:2] == ("task", task["id"])]
        assert states[0] == "FREE"
        assert states[-1] == "CLOSED"
        assert "OPEN" in states
    build = next(b for b in hub.state.builds.values() if b["task_id"] == task_id)
    assert [k[2] for k in keys if k[:2] == ("build", build["id"])] == [
        "BUILDING",
        "COMPLETE",
    ]
    tags = [e for e in seen if isinstance(e, TagUntag)]
    assert [(e.event, e.build["id"]) for e in tags] == [("Tag", build["id"])]
    assert tags[0].build.nvr == build["nvr"]
    # Old states are the ones this feed reported before.
    root = [
        e for e in seen if isinstance(e, TaskStateChange) and e.task["id"] == task_id
    ]
    assert [(e.old, e.new) for e in root] == [
        (None, "FREE"),
        ("FREE", "OPEN"),
        ("OPEN", "CLOSED"),
    ]
    assert all(e.checkpoint for e in seen)


@pytest_twisted.ensureDeferred
async def test_one_request_per_cycle_whatever_the_activity(sim_hub, koji):
    hub = sim_hub.hub
    events_feed = feed(koji, interval=5, clock=client_clock(hub))
    await events_feed.poll()
    hub.clock.advance(1)
    before = multicalls(hub)
    for package in ("bash", "python-requests", "kernel"):
        hub.simulator.start_build(package)
    for _ in range(20):
        hub.clock.advance(15)
    assert await events_feed.poll() > 5
    await events_feed.poll()  # nothing new
    assert multicalls(hub) - before == 2


@pytest_twisted.ensureDeferred
async def test_resuming_from_any_checkpoint_repeats_and_misses_nothing(sim_hub, koji):
    hub = sim_hub.hub
    events_feed = feed(koji, interval=5, clock=client_clock(hub))
    await events_feed.poll()
    _, seen = await run_build(sim_hub, events_feed)
    for index in (0, len(seen) // 2, len(seen) - 2):
        resumed = feed(koji, since=seen[index].checkpoint, interval=5)
        await resumed.poll()
        again = list(resumed._queue)
        assert [key(e) for e in again] == [key(e) for e in seen[index + 1 :]]


@pytest.mark.parametrize("since", ["", "nonsense", "eyJ2IjogOX0", 5])
def test_bad_checkpoint_is_refused(since):
    connection = Connection(server="http://127.0.0.1:9/kojihub")
    with pytest.raises(BadCheckpoint):
        feed(connection, since=since)


def test_a_feed_of_nothing_is_refused():
    connection = Connection(server="http://127.0.0.1:9/kojihub")
    with pytest.raises(ValueError):
        feed(connection, builds=False, tasks=False, tags=False)


def bus_message(event, hub) -> dict:
    """The protonmsg message a hub's bus plugin sends for the change
    ``event`` reports, made from the hub's own records (section 16)."""
    if isinstance(event, TaskStateChange):
        task = dict(hub.state.tasks[event.task["id"]])
        info = {k: v for k, v in task.items() if k != "result"}
        props = {
            "type": "TaskStateChange",
            "id": task["id"],
            "parent": task["parent"],
            "method": task["method"],
            "attribute": "state",
            "old": event.old,
            "new": event.new,
        }
        body = {"attribute": "state", "old": event.old, "new": event.new, "info": info}
    elif isinstance(event, BuildStateChange):
        build = dict(hub.state.builds[event.build["id"]])
        props = {
            "type": "BuildStateChange",
            "name": build["name"],
            "version": build["version"],
            "release": build["release"],
            "attribute": "state",
            "old": event.old,
            "new": event.new,
        }
        number = getattr(build_states, event.new)
        old = None if event.old is None else getattr(build_states, event.old)
        body = {"attribute": "state", "old": old, "new": number, "info": build}
    else:
        build = dict(hub.state.builds[event.build["id"]])
        tag = next(t for t in hub.state.tags.values() if t["name"] == event.tag)
        user = next(u for u in hub.state.users.values() if u["name"] == event.user_name)
        props = {
            "type": event.event,
            "tag": tag["name"],
            "name": build["name"],
            "version": build["version"],
            "release": build["release"],
            "user": user["name"],
        }
        body = {"tag": tag, "build": build, "user": user, "force": False}
    return {"properties": props, "body": json.dumps(body)}


@pytest_twisted.ensureDeferred
async def test_same_events_as_the_message_bus_parsers(sim_hub, koji):
    hub = sim_hub.hub
    events_feed = feed(koji, interval=5, clock=client_clock(hub))
    await events_feed.poll()
    _, seen = await run_build(sim_hub, events_feed)
    assert seen
    for event in seen:
        parsed = parse_message(bus_message(event, hub), koji)
        assert type(parsed) is type(event)
        assert (parsed.event, getattr(parsed, "old", None)) == (
            event.event,
            getattr(event, "old", None),
        )
        if isinstance(event, TaskStateChange):
            assert parsed.task["id"] == event.task["id"]
            assert parsed.task["method"] == event.task["method"]
            assert parsed.task["parent"] == event.task["parent"]
        else:
            assert parsed.build["id"] == event.build["id"]
            assert parsed.build.nvr == event.build.nvr
        if isinstance(event, TagUntag):
            assert (parsed.tag, parsed.user_name) == (event.tag, event.user_name)
        assert parsed.checkpoint is None


@pytest_twisted.ensureDeferred
async def test_async_for_in_twisted_waits_on_the_clock(sim_hub, koji):
    hub = sim_hub.hub
    clock = client_clock(hub)
    events_feed = feed(
        koji, tasks=True, builds=False, tags=False, interval=5, clock=clock
    )
    await events_feed.poll()
    hub.clock.advance(1)
    task_id = hub.simulator.start_build("bash")
    got = []

    async def consume():
        async for event in events_feed:
            got.append(event)
            if len(got) == 2:
                break

    d = defer.Deferred.fromCoroutine(consume())
    for _ in range(20):
        await until(lambda: d.called or clock.getDelayedCalls() != [])
        if d.called:
            break
        hub.clock.advance(15)
        clock.advance(5)
    await d
    assert [(e.task["id"], e.new) for e in got][0] == (task_id, "FREE")
    events_feed.close()


@pytest_twisted.ensureDeferred
async def test_callback_form_runs_until_cancelled(sim_hub, koji):
    hub = sim_hub.hub
    clock = client_clock(hub)
    got = []
    since = feed(koji, interval=5, clock=clock)
    await since.poll()
    hub.clock.advance(1)
    hub.simulator.start_build("bash")
    hub.clock.advance(60)
    d = feed(koji, since=since.checkpoint, interval=5, clock=clock).run(got.append)
    await until(lambda: got != [])
    d.cancel()
    with pytest.raises(defer.CancelledError):
        await d
    assert clock.getDelayedCalls() == []
    assert got[0].new == "FREE"


@pytest_twisted.ensureDeferred
async def test_async_for_in_an_asyncio_task():
    root = Path(__file__).resolve().parent.parent
    out, err, code = await utils.getProcessOutputAndValue(
        sys.executable,
        [str(root / "tests" / "asyncio_feed_script.py")],
        env=dict(os.environ, PYTHONPATH=str(root)),
        path=str(root),
    )
    assert code == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 3
    assert all(
        line.split()[0] in {"TaskStateChange", "BuildStateChange"} for line in lines
    )
