"""What a client polling a simulating fake hub sees: listTasks and
listBuilds time filters, getLastEvent, queryHistory over tag_listing, over
real loopback HTTP and from the command line."""

import os
import sys
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import defer, protocol, reactor
from twisted.internet.task import deferLater

from tests.simulation_helpers import call, simulating_hub
from txkoji import Connection
from txkoji.exceptions import (
    ActionNotAllowed,
    AuthError,
    GenericError,
    ParameterError,
    TagError,
)
from txkoji.testing import FakeHub, HubServer
from txkoji.testing.records import BUILD_STATES, TASK_STATES
from txkoji.testing.simulator import dataset_clock

ROOT = Path(__file__).resolve().parent.parent


# queryHistory and getLastEvent


def test_query_history_tag_listing_rows_have_the_hub_fields():
    hub, sim = simulating_hub()
    [row] = call(hub, "queryHistory", tables=["tag_listing"], build=1051)["tag_listing"]
    assert row == {
        "active": True,
        "build.state": BUILD_STATES["COMPLETE"],
        "build_id": 1051,
        "create_event": row["create_event"],
        "create_ts": row["create_ts"],
        "creator_id": 2,
        "creator_name": "alice",
        "epoch": None,
        "name": "rust-serde",
        "release": "1.fc40",
        "revoke_event": None,
        "revoke_ts": None,
        "revoker_id": None,
        "revoker_name": None,
        "tag.name": "f40-candidate",
        "tag_id": 3,
        "version": "1.0.214",
    }
    assert row["create_ts"] > hub.state.builds[1051]["completion_ts"]


def test_tagging_and_untagging_show_in_history_after_an_event():
    hub, sim = simulating_hub()
    since = call(hub, "getLastEvent")["id"]
    assert call(hub, "queryHistory", afterEvent=since) == {"tag_listing": []}
    hub.state.clock.advance(10)
    tagged = sim.tag_build("bash-5.2.26-2.fc40", "f40-candidate", "bob")
    hub.state.clock.advance(10)
    untagged = sim.untag_build(1001, "f40", "kojiadmin")
    assert since < tagged < untagged == call(hub, "getLastEvent")["id"]
    rows = call(hub, "queryHistory", tables=["tag_listing"], afterEvent=since)
    new, old = rows["tag_listing"][-1], rows["tag_listing"][0]
    assert len(rows["tag_listing"]) == 2
    assert (new["create_event"], new["creator_name"], new["tag.name"]) == (
        tagged,
        "bob",
        "f40-candidate",
    )
    assert (new["_created_after_event"], new["_revoked_after_event"]) == (True, None)
    assert new["active"] is True
    assert (old["build_id"], old["revoke_event"], old["revoker_name"]) == (
        1001,
        untagged,
        "kojiadmin",
    )
    assert (old["_created_after_event"], old["_revoked_after_event"]) == (False, True)
    assert old["active"] is None
    assert old["revoke_ts"] == hub.state.clock.seconds()
    # The tag listings follow: now, and as of an event before the untag.
    f40 = [b["build_id"] for b in call(hub, "listTagged", "f40")]
    assert 1001 not in f40
    before = [b["build_id"] for b in call(hub, "listTagged", "f40", event=since)]
    assert 1001 in before
    with pytest.raises(TagError, match="already tagged"):
        sim.tag_build(1002, "f40-candidate")
    with pytest.raises(TagError, match="not in tag"):
        sim.untag_build(1001, "f40")


def test_query_history_filters():
    hub, sim = simulating_hub()
    since = call(hub, "getLastEvent")["id"]
    hub.state.clock.advance(60)
    sim.tag_build(1010, "f40-updates", "bob")
    sim.untag_build(1002, "f40-updates", "bob")
    history = call(hub, "queryHistory", tag="f40-updates", afterEvent=since)
    assert [r["build_id"] for r in history["tag_listing"]] == [1002, 1010]
    assert call(hub, "queryHistory", active=False)["tag_listing"][0]["build_id"] == 1002
    assert len(call(hub, "queryHistory", active=True)["tag_listing"]) == 11
    mine = call(hub, "queryHistory", editor="bob")["tag_listing"]
    assert {(r["_created_by"], r["_revoked_by"]) for r in mine} == {
        (True, None),
        (False, True),
    }
    assert [
        r["build_id"]
        for r in call(hub, "queryHistory", package="kernel")["tag_listing"]
    ] == [1020, 1021]
    until = call(hub, "queryHistory", beforeEvent=since + 1, build=1002)
    assert until["tag_listing"][0]["_created_before_event"] is True
    after_time = call(hub, "queryHistory", after=hub.state.clock.seconds() - 1)
    assert len(after_time["tag_listing"]) == 2
    with pytest.raises(GenericError, match="No such history table: nope"):
        call(hub, "queryHistory", tables=["nope"])
    with pytest.raises(GenericError, match="no history of tag_config"):
        call(hub, "queryHistory", tables=["tag_config"])
    with pytest.raises(ParameterError, match="afterEvent"):
        call(hub, "queryHistory", afterEvent="soon")
    with pytest.raises(ParameterError):
        call(hub, "queryHistory", channel="default")


def test_get_last_event_before_a_time():
    hub, sim = simulating_hub()
    start = call(hub, "getLastEvent")
    hub.state.clock.advance(30)
    first = sim.tag_build(1010, "f40-updates")
    hub.state.clock.advance(30)
    second = sim.untag_build(1010, "f40-updates")
    now = hub.state.clock.seconds()
    assert call(hub, "getLastEvent", before=now + 1)["id"] == second
    assert call(hub, "getLastEvent", before=now)["id"] == first
    assert call(hub, "getLastEvent", before=now - 30) == start
    earlier = call(hub, "getLastEvent", before="2026-11-01 00:00:00")
    assert earlier["id"] < start["id"] and earlier["ts"] < start["ts"]
    with pytest.raises(ParameterError, match="before"):
        call(hub, "getLastEvent", before=[1])


# listTasks and listBuilds follow the simulation


def test_list_tasks_time_filters_track_the_simulation():
    hub, sim = simulating_hub(seed=3)
    t0 = hub.state.clock.seconds()
    task_id = sim.start_build("python-requests")
    created = call(hub, "listTasks", {"createdAfter": t0 - 0.001})
    assert [t["id"] for t in created] == [task_id]
    assert call(hub, "listTasks", {"startedAfter": t0}) == []
    sim.advance(30)
    started = call(hub, "listTasks", {"startedAfter": t0, "parent": None})
    assert [(t["id"], t["state"]) for t in started] == [(task_id, TASK_STATES["OPEN"])]
    sim.run(task_id)
    done = call(
        hub,
        "listTasks",
        {"completeAfter": t0, "decode": True},
        {"order": "-completion_ts"},
    )
    assert done[0]["id"] == task_id and done[0]["result"] == [None]
    assert {t["method"] for t in done} == {
        "build",
        "buildSRPMFromSCM",
        "buildArch",
        "tagBuild",
    }
    children = call(hub, "listTasks", {"parent": task_id})
    assert [t["id"] for t in children] == [task_id + 1, task_id + 2, task_id + 3]
    assert (
        call(hub, "listTasks", {"parent": task_id, "method": "tagBuild"})[0]["label"]
        == "tag"
    )
    assert call(hub, "listTasks", {"parent": task_id}, {"countOnly": True}) == 3
    not_arches = call(hub, "listTasks", {"parent": task_id, "not_arch": ["noarch"]})
    assert not_arches == []
    before = call(hub, "listTasks", {"createdBefore": t0, "completeAfter": t0})
    assert before == []
    with pytest.raises(ParameterError, match="startedAfter"):
        call(hub, "listTasks", {"startedAfter": "yesterday"})


def test_list_builds_created_and_completed_after():
    hub, sim = simulating_hub(seed=12)
    t0 = hub.state.clock.seconds()
    task_id = sim.start_build("bash")
    assert call(hub, "listBuilds", createdAfter=t0) == []
    sim.advance(600)
    [building] = call(hub, "listBuilds", createdAfter=t0)
    assert building["state"] == BUILD_STATES["BUILDING"]
    assert call(hub, "listBuilds", completeAfter=t0) == []
    sim.run(task_id)
    [complete] = call(
        hub, "listBuilds", completeAfter=t0, queryOpts={"order": "-build_id"}
    )
    assert complete["build_id"] == building["build_id"]
    assert complete["state"] == BUILD_STATES["COMPLETE"]
    created_iso = "2026-11-20 10:45:00"
    assert len(call(hub, "listBuilds", createdAfter=created_iso)) == 1


# Over loopback HTTP, through a Connection


@pytest_twisted.ensureDeferred
async def test_a_client_watches_a_simulated_build_over_http():
    clock = dataset_clock()
    server = HubServer(clock=clock, simulate=True, seed=21)
    await server.start()
    koji = Connection(server=server.url)
    try:
        sim = server.hub.simulator
        since = (await koji.getLastEvent())["id"]
        task_id = sim.start_build("bash")
        seen = []
        for _ in range(200):
            info = await koji.call("getTaskInfo", task_id)
            if not seen or seen[-1] != info["state"]:
                seen.append(info["state"])
            if info["state"] == TASK_STATES["CLOSED"]:
                break
            sim.advance(sim.pending())
        assert [TASK_STATES_BY_NUMBER[s] for s in seen] == [
            "FREE",
            "ASSIGNED",
            "OPEN",
            "CLOSED",
        ]
        children = await koji.call("getTaskChildren", task_id)
        assert [c["method"] for c in children] == [
            "buildSRPMFromSCM",
            "buildArch",
            "buildArch",
            "tagBuild",
        ]
        history = await koji.call(
            "queryHistory", tables=["tag_listing"], afterEvent=since
        )
        builds = [
            await koji.call("getBuild", r["build_id"]) for r in history["tag_listing"]
        ]
        # The data set's builds in flight were tagged too, once the hub started.
        assert sorted(b["task_id"] for b in builds) == [50100, 50110, task_id]
        row = history["tag_listing"][[b["task_id"] for b in builds].index(task_id)]
        assert (row["tag.name"], row["name"]) == ("f40-candidate", "bash")
        last = await koji.getLastEvent()
        assert last["id"] > row["create_event"] > since
        assert last["ts"] == clock.seconds()
    finally:
        await koji.close()
        await server.stop()
    assert clock.getDelayedCalls() == []


TASK_STATES_BY_NUMBER = {number: name for name, number in TASK_STATES.items()}


# The command line


class _Lines(protocol.ProcessProtocol):
    def __init__(self):
        self.lines = []
        self.ended = defer.Deferred()
        self._buffer = b""

    def outReceived(self, data):
        self._buffer += data
        *done, self._buffer = self._buffer.split(b"\n")
        self.lines += [line.decode() for line in done]

    def errReceived(self, data):
        self.lines.append(data.decode())

    def processEnded(self, reason):
        self.ended.callback(reason.value.exitCode)


async def wait_for(condition, seconds=60.0):
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await deferLater(reactor, 0.05, lambda: None)
    raise AssertionError(f"{condition} did not come true in {seconds} s")


def spawn_hub(*args):
    reader = _Lines()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
    process = reactor.spawnProcess(
        reader,
        sys.executable,
        [sys.executable, "-m", "txkoji.testing", "--port", "0", *args],
        env=env,
        path=str(ROOT),
    )
    return process, reader


@pytest_twisted.ensureDeferred
async def test_cli_simulates_a_build_to_completion():
    process, reader = spawn_hub(
        "--simulate", "--speed", "500", "--activity", "0", "--build", "bash"
    )
    koji = None
    try:
        await wait_for(lambda: len(reader.lines) >= 2)
        assert reader.lines[0].startswith("serving http://127.0.0.1:")
        word, task_id, what, package = reader.lines[1].split()
        assert (word, what, package) == ("task", "build", "bash")
        koji = Connection(server=reader.lines[0].split()[1])
        for _ in range(1200):
            info = await koji.call("getTaskInfo", int(task_id))
            if info["state"] == TASK_STATES["CLOSED"]:
                break
            await deferLater(reactor, 0.05, lambda: None)
        assert info["state"] == TASK_STATES["CLOSED"]
        assert len(await koji.call("getTaskChildren", int(task_id))) == 4
    finally:
        if koji is not None:
            await koji.close()
        process.signalProcess("TERM")
        code = await reader.ended.addTimeout(30, reactor)
    assert code == 0


@pytest_twisted.ensureDeferred
async def test_cli_refuses_simulation_options_without_simulate():
    process, reader = spawn_hub("--build", "bash")
    assert await reader.ended.addTimeout(30, reactor) == 2
    assert "need --simulate" in "".join(reader.lines)


@pytest_twisted.ensureDeferred
async def test_cli_refuses_an_unknown_package_to_build():
    process, reader = spawn_hub("--simulate", "--build", "no-such-package")
    assert await reader.ended.addTimeout(30, reactor) == 2
    assert "no such package: no-such-package" in "".join(reader.lines)


# build and cancelTask


def logged_in(hub, user_id):
    answer = hub.sessions.create(hub.state.users[user_id], "ssl")
    return hub.sessions.sessions[answer["session-id"]]


def write_call(hub, session, method, *args, **kwargs):
    return call(hub, method, *args, session=session, **kwargs)


def test_build_without_a_simulator_stays_free_as_without_builders():
    hub = FakeHub(dataset_clock())
    src = "git+https://src.example.com/rpms/bash.git#0123abcd"
    with pytest.raises(AuthError, match="Not logged in"):
        write_call(hub, None, "build", src, "f40-candidate")
    alice = logged_in(hub, 2)
    task_id = write_call(hub, alice, "build", src, "f40-candidate", {"scratch": True})
    task = call(hub, "getTaskInfo", task_id, request=True)
    assert task["state"] == TASK_STATES["FREE"] and task["owner"] == 2
    assert task["request"] == [src, "f40-candidate", {"scratch": True}]
    assert task["priority"] == 20
    with pytest.raises(ActionNotAllowed, match="not owner"):
        write_call(hub, logged_in(hub, 3), "cancelTask", task_id)
    write_call(hub, alice, "cancelTask", task_id)
    assert call(hub, "getTaskInfo", task_id)["state"] == TASK_STATES["CANCELED"]
    with pytest.raises(GenericError, match="No such task id"):
        write_call(hub, alice, "cancelTask", 1)


def test_build_on_a_simulating_hub_runs_and_cancel_task_stops_it():
    hub, sim = simulating_hub(seed=4)
    alice = logged_in(hub, 2)
    src = "git+https://src.example.com/rpms/rust-serde.git#feedbeef"
    task_id = write_call(
        hub, alice, "build", src, "f40-candidate", {"arch_override": "x86_64"}, 5
    )
    task = call(hub, "getTaskInfo", task_id, request=True)
    assert task["request"] == [src, "f40-candidate", {"arch_override": "x86_64"}]
    assert task["priority"] == 25
    sim.run(task_id)
    [arch] = call(hub, "listTasks", {"parent": task_id, "method": "buildArch"})
    assert arch["arch"] == "x86_64" and arch["priority"] == 24
    assert hub.state.builds[max(hub.state.builds)]["source"] == src
    second = write_call(hub, alice, "build", src.replace("feedbeef", "f00d"), 1)
    sim.advance(300)
    write_call(hub, alice, "cancelTask", second, recurse=False)
    children = call(hub, "getTaskChildren", second)
    assert call(hub, "getTaskInfo", second)["state"] == TASK_STATES["CANCELED"]
    assert any(c["state"] not in (2, 3, 5) for c in children)
    with pytest.raises(ActionNotAllowed, match="high-priority"):
        write_call(hub, alice, "build", src, "f40-candidate", None, -5)
    with pytest.raises(GenericError, match="Invalid source"):
        write_call(hub, alice, "build", "bash.src.rpm", "f40-candidate")
    with pytest.raises(GenericError, match="No such package"):
        write_call(hub, alice, "build", src.replace("rust-serde", "nope"), 1)
    with pytest.raises(GenericError, match="No such build target"):
        write_call(hub, alice, "build", src, "nowhere")
