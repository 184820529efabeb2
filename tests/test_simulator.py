"""The simulating fake hub: builds and tasks move on the hub's clock as on
a real hub, driven by a Clock in these tests."""

from itertools import pairwise

import pytest
from twisted.internet.task import Clock

from tests.simulation_helpers import call, simulating_hub
from txkoji.exceptions import BuildError, GenericError, ParameterError
from txkoji.testing import FakeHub
from txkoji.testing.records import BUILD_STATES, TASK_STATES
from txkoji.testing.simulator import HubSimulator
from txkoji.testing.simulator.history import BuildHistory

NAMES = {number: name for name, number in TASK_STATES.items()}
FINISHED = {TASK_STATES[n] for n in ("CLOSED", "FAILED", "CANCELED")}


class Recorder:
    """Runs the simulator change by change, recording each task's states
    and each event, as a client polling after every change would see."""

    def __init__(self, hub, sim):
        self.hub, self.sim = hub, sim
        self.states = {}
        self.events = []
        self.snapshots = []

    def observe(self):
        for task in self.hub.state.tasks.values():
            seen = self.states.setdefault(task["id"], [])
            if not seen or seen[-1] != task["state"]:
                seen.append(task["state"])
        self.events.append(dict(self.hub.state.last_event))
        self.snapshots.append({tid: dict(t) for tid, t in self.hub.state.tasks.items()})

    def run_until(self, done, limit=1000):
        self.observe()
        for _ in range(limit):
            if done():
                return
            ahead = self.sim.pending()
            assert ahead is not None, "nothing scheduled, yet not done"
            self.hub.state.clock.advance(ahead)
            self.observe()
        raise AssertionError("the simulation did not get there")

    def names(self, task_id):
        return [NAMES[s] for s in self.states[task_id]]


def tree(hub, root_id):
    """The root task record and its children by method."""
    tasks = hub.state.tasks
    children = [t for t in tasks.values() if t["parent"] == root_id]
    by_method = {}
    for child in sorted(children, key=lambda t: t["id"]):
        by_method.setdefault(child["method"], []).append(child)
    return tasks[root_id], by_method


def build_of(hub, root_id):
    found = [b for b in hub.state.builds.values() if b["task_id"] == root_id]
    assert len(found) <= 1
    return found[0] if found else None


def finished(hub, task_id):
    return lambda: hub.state.tasks[task_id]["state"] in FINISHED


def recorded_build(seed, package, **options):
    """Run a build to its end change by change: the hub, its recorder, the
    build task id, the task and its children by method."""
    hub, sim = simulating_hub(seed=seed)
    task_id = sim.start_build(package, **options)
    rec = Recorder(hub, sim)
    rec.run_until(finished(hub, task_id))
    return (hub, rec, task_id, *tree(hub, task_id))


# A complete build


def test_submitting_makes_a_free_build_task_at_hub_time():
    hub, sim = simulating_hub()
    before = dict(hub.state.last_event)
    now = hub.state.clock.seconds()
    task_id = sim.start_build("bash")
    task = call(hub, "getTaskInfo", task_id, request=True)
    assert task_id > max(t for t in hub.state.tasks if t != task_id)
    assert task["state"] == TASK_STATES["FREE"]
    assert (task["method"], task["arch"], task["parent"]) == ("build", "noarch", None)
    assert task["create_ts"] == now
    assert task["create_time"].startswith("2026-11-20 10:45:00.5")
    assert task["start_ts"] is task["completion_ts"] is task["host_id"] is None
    assert task["owner"] == 2  # alice owns bash in f40's package list
    src, target, opts = task["request"]
    assert src.startswith("git+https://src.example.com/rpms/bash.git#")
    assert (target, opts) == ("f40-candidate", {})
    assert task["priority"] == 20
    assert hub.state.last_event == {"id": before["id"] + 1, "ts": now}


def test_a_complete_build_runs_as_on_a_real_hub():
    hub, rec, task_id, root, children = recorded_build(7, "bash")
    (srpm,), arches, (tag_task,) = (
        children["buildSRPMFromSCM"],
        children["buildArch"],
        children["tagBuild"],
    )
    assert [a["arch"] for a in arches] == ["x86_64", "aarch64"]
    for task in [root, srpm, *arches, tag_task]:
        assert rec.names(task["id"]) == ["FREE", "ASSIGNED", "OPEN", "CLOSED"]
        assert task["create_ts"] <= task["start_ts"] <= task["completion_ts"]
        assert task["start_time"] is not None and task["completion_time"] is not None
    # The parent creates its children while it runs, one phase at a time.
    assert root["start_ts"] < srpm["create_ts"]
    assert srpm["completion_ts"] <= min(a["create_ts"] for a in arches)
    assert max(a["completion_ts"] for a in arches) <= tag_task["create_ts"]
    assert tag_task["completion_ts"] <= root["completion_ts"]
    # Hosts by arch, labels, priorities, weights.
    assert [a["host_id"] for a in arches] == [1, 2]
    assert (srpm["label"], tag_task["label"]) == ("srpm", "tag")
    assert [a["label"] for a in arches] == ["x86_64", "aarch64"]
    assert {c["priority"] for c in [srpm, *arches, tag_task]} == {19}
    assert (root["weight"], srpm["weight"], arches[0]["weight"]) == (0.2, 1.0, 1.5)
    # Wait bookkeeping: finished, the parent waits no more, nothing awaited.
    assert root["waiting"] is False
    assert {c["awaited"] for c in [srpm, *arches, tag_task]} == {False}
    # Results: buildArch lists its files; build and tagBuild return nil.
    assert arches[0]["result"]["rpms"][0].endswith(".x86_64.rpm")
    assert arches[0]["result"]["srpms"] == [srpm["result"]["srpm"]]
    assert root["result"] is None and tag_task["result"] is None
    assert call(hub, "getTaskResult", arches[1]["id"])["srpms"] == []


def test_the_parent_waits_on_its_children_while_they_run():
    hub, sim = simulating_hub(seed=3)
    task_id = sim.start_build("python-requests")
    rec = Recorder(hub, sim)
    rec.run_until(finished(hub, task_id))
    waiting_seen = []
    for snap in rec.snapshots:
        root = snap[task_id]
        kids = [t for t in snap.values() if t["parent"] == task_id]
        running = [k for k in kids if k["state"] not in FINISHED]
        if running and root["state"] == TASK_STATES["OPEN"]:
            waiting_seen.append(root["waiting"])
            assert all(k["awaited"] for k in running)
    assert waiting_seen and all(waiting_seen)
    # A noarch package builds once, on noarch.
    _, children = tree(hub, task_id)
    assert [a["arch"] for a in children["buildArch"]] == ["noarch"]


def test_the_build_record_is_made_after_the_srpm_and_completed_then_tagged():
    hub, sim = simulating_hub(seed=11)
    events_before = hub.state.last_event["id"]
    task_id = sim.start_build("bash")
    rec = Recorder(hub, sim)
    rec.run_until(lambda: build_of(hub, task_id) is not None)
    build = call(hub, "getBuild", build_of(hub, task_id)["id"])
    root, children = tree(hub, task_id)
    assert build["state"] == BUILD_STATES["BUILDING"]
    assert build["nvr"] == "bash-5.2.32-2.fc40"  # after 5.2.32-1, still building
    assert build["task_id"] == task_id and build["owner_name"] == "alice"
    assert build["creation_event_id"] > events_before
    assert (
        build["creation_ts"]
        == build["start_ts"]
        >= (children["buildSRPMFromSCM"][0]["completion_ts"])
    )
    assert build["completion_ts"] is None and build["completion_time"] is None
    assert build["source"] == root["request"][0]
    rec.run_until(finished(hub, task_id))
    root, children = tree(hub, task_id)
    build = call(hub, "getBuild", build["id"])
    assert build["state"] == BUILD_STATES["COMPLETE"]
    arches_done = max(a["completion_ts"] for a in children["buildArch"])
    assert arches_done <= build["completion_ts"] <= root["completion_ts"]
    tagged = call(hub, "listTagged", "f40-candidate")
    assert tagged[0]["nvr"] == build["nvr"]
    assert tagged[0]["create_event"] > build["creation_event_id"]
    assert [t["name"] for t in call(hub, "listTags", build["nvr"])] == ["f40-candidate"]


def test_every_change_makes_a_new_event_at_hub_time():
    hub, sim = simulating_hub(seed=5)
    task_id = sim.start_build("bash")
    rec = Recorder(hub, sim)
    rec.run_until(finished(hub, task_id))
    ids = [e["id"] for e in rec.events]
    times = [e["ts"] for e in rec.events]
    assert all(later > earlier for earlier, later in pairwise(ids))
    assert times == sorted(times)
    assert times[-1] == hub.state.clock.seconds()


def test_durations_come_from_the_package_history():
    hub, sim = simulating_hub(seed=2)
    history = BuildHistory(hub.state).build_seconds(1)
    expected = call(hub, "getAverageBuildDuration", "bash")
    task_id = sim.start_build("bash")
    sim.advance(3 * 3600)
    build = build_of(hub, task_id)
    took = build["completion_ts"] - build["start_ts"]
    assert min(history) * 0.85 < took < max(history) * 1.15
    assert abs(took - expected) < 0.5 * expected


# Failed and canceled builds


def test_a_failed_build_fails_one_arch_cancels_the_others_and_fails_the_build():
    hub, rec, task_id, root, children = recorded_build(4, "bash", outcome="failed")
    first, second = children["buildArch"]
    assert "tagBuild" not in children
    assert rec.names(first["id"])[-1] == "FAILED"
    assert rec.names(second["id"])[-1] == "CANCELED"
    assert rec.names(task_id) == ["FREE", "ASSIGNED", "OPEN", "FAILED"]
    assert first["result"]["faultCode"] == 1005
    assert root["result"] == first["result"]
    assert second["completion_ts"] >= first["completion_ts"]
    with pytest.raises(BuildError, match="arch x86_64"):
        call(hub, "getTaskResult", task_id)
    build = build_of(hub, task_id)
    assert build["state"] == BUILD_STATES["FAILED"]
    assert build["completion_ts"] <= root["completion_ts"]
    assert call(hub, "listTags", build["id"]) == []


def test_a_canceled_build_cancels_the_tree_and_the_build():
    hub, rec, task_id, root, children = recorded_build(9, "kernel", outcome="canceled")
    assert rec.names(task_id)[-1] == "CANCELED"
    assert root["result"] is None
    kids = [c for group in children.values() for c in group]
    assert all(k["state"] in FINISHED for k in kids)
    assert any(k["state"] == TASK_STATES["CANCELED"] for k in kids)
    assert all(
        k["completion_ts"] <= root["completion_ts"]
        for k in kids
        if k["state"] != TASK_STATES["CANCELED"]
    )
    build = build_of(hub, task_id)
    if build is not None:
        assert build["state"] == BUILD_STATES["CANCELED"]
        assert build["completion_ts"] == root["completion_ts"]
    assert rec.sim.pending() is None  # nothing left running


def test_cancel_task_midway():
    hub, sim = simulating_hub(seed=1)
    task_id = sim.start_build("bash")
    opened = TASK_STATES["OPEN"]
    Recorder(hub, sim).run_until(
        lambda: any(
            (t["parent"], t["method"], t["state"]) == (task_id, "buildArch", opened)
            for t in hub.state.tasks.values()
        )
    )
    canceled = sim.cancel_task(task_id)
    root, children = tree(hub, task_id)
    assert canceled[0] == task_id and len(canceled) == 1 + len(children["buildArch"])
    assert root["state"] == TASK_STATES["CANCELED"]
    assert build_of(hub, task_id)["state"] == BUILD_STATES["CANCELED"]
    assert sim.pending() is None
    assert sim.cancel_task(task_id) == []  # already finished
    with pytest.raises(GenericError, match="No such task"):
        sim.cancel_task(1)


def test_a_scratch_build_makes_no_build_and_no_tagging():
    hub, sim = simulating_hub()
    builds = len(hub.state.builds)
    task_id = sim.start_build("rust-serde", scratch=True, arches=["x86_64"])
    sim.run(task_id)
    root, children = tree(hub, task_id)
    assert root["state"] == TASK_STATES["CLOSED"]
    assert root["request"][2] == {"scratch": True, "arch_override": "x86_64"}
    assert sorted(children) == ["buildArch", "buildSRPMFromSCM"]
    assert len(hub.state.builds) == builds


# Determinism, speed, clock


def run_two_builds(seed):
    hub, sim = simulating_hub(seed=seed)
    first = sim.start_build("bash")
    second = sim.start_build("kernel", outcome="failed")
    sim.advance(4 * 3600)
    assert hub.state.tasks[first]["state"] == TASK_STATES["CLOSED"]
    assert hub.state.tasks[second]["state"] == TASK_STATES["FAILED"]
    return hub.state.tasks, hub.state.builds, hub.state.last_event


def test_the_same_seed_gives_the_same_records():
    assert run_two_builds(42) == run_two_builds(42)
    assert run_two_builds(42) != run_two_builds(43)


def test_speed_makes_everything_faster_history_included():
    slow_hub, slow = simulating_hub(seed=8)
    fast_hub, fast = simulating_hub(seed=8, speed=60)
    assert call(fast_hub, "getAverageBuildDuration", "bash") == pytest.approx(
        call(slow_hub, "getAverageBuildDuration", "bash") / 60
    )
    slow_id, fast_id = slow.start_build("bash"), fast.start_build("bash")
    slow.run(slow_id)
    fast.run(fast_id)
    slow_build, fast_build = build_of(slow_hub, slow_id), build_of(fast_hub, fast_id)

    def took(build):
        return build["completion_ts"] - build["start_ts"]

    assert took(fast_build) == pytest.approx(took(slow_build) / 60)


def test_step_and_run_go_ahead_of_the_clock():
    hub, sim = simulating_hub()
    clock_before = hub.state.clock.seconds()
    task_id = sim.start_build("bash")
    assert sim.pending() > 0
    assert sim.step() is True
    assert hub.state.tasks[task_id]["state"] == TASK_STATES["ASSIGNED"]
    record = sim.run(task_id)
    assert record["state"] == TASK_STATES["CLOSED"]
    assert hub.state.clock.seconds() == clock_before
    assert sim.step() is False


def test_spontaneous_builds_come_with_activity_and_stop_leaves_no_timer():
    hub, sim = simulating_hub(seed=6, activity=120)
    roots_before = {t for t, r in hub.state.tasks.items() if r["method"] == "build"}
    sim.advance(1200)  # not started: nothing happens yet
    assert hub.state.clock.getDelayedCalls() == []
    sim.start()
    sim.advance(3600)
    roots = {t for t, r in hub.state.tasks.items() if r["method"] == "build"}
    assert len(roots - roots_before) >= 5
    sim.stop()
    assert hub.state.clock.getDelayedCalls() == []
    with pytest.raises(GenericError, match="stopped"):
        sim.start_build("bash")


def test_bad_arguments_are_refused():
    hub, sim = simulating_hub()
    with pytest.raises(ParameterError, match="outcome"):
        sim.start_build("bash", outcome="exploded")
    with pytest.raises(GenericError, match="No such package"):
        sim.start_build("no-such-package")
    with pytest.raises(GenericError, match="No such build target"):
        sim.start_build("bash", target="nowhere")
    with pytest.raises(ParameterError, match="arch"):
        sim.start_build("bash", arches=[])
    with pytest.raises(GenericError, match="no host can run ppc64le"):
        sim.start_build("bash", arches=["ppc64le"])
    with pytest.raises(ParameterError, match="speed"):
        HubSimulator(hub.state, speed=0)
    with pytest.raises(ParameterError, match="activity"):
        HubSimulator(hub.state, activity=-1)
    with pytest.raises(GenericError, match="already"):
        hub.simulate()
    with pytest.raises(ParameterError, match="Clock"):
        FakeHub(object()).simulate().advance(1)


def test_advance_without_anything_scheduled_just_moves_the_clock():
    clock = Clock()
    hub = FakeHub(clock)
    sim = hub.simulate()
    sim.advance(30)
    assert clock.seconds() == 30


def test_start_carries_on_with_the_builds_in_flight():
    hub, sim = simulating_hub(seed=10)
    tasks, builds = hub.state.tasks, hub.state.builds
    assert (tasks[50102]["state"], tasks[50103]["state"]) == (1, 4)  # OPEN, ASSIGNED
    sim.advance(3600)
    assert tasks[50100]["state"] == TASK_STATES["OPEN"]  # not started: still
    started_at = hub.state.clock.seconds()
    sim.start()
    sim.start()  # once is enough
    Recorder(hub, sim).run_until(
        lambda: tasks[50100]["state"] in FINISHED and tasks[50110]["state"] in FINISHED
    )
    for root, build_id, dest in (
        (50100, 1004, "f40-candidate"),
        (50110, 1012, "f40-candidate"),
    ):
        _, children = tree(hub, root)
        assert all(c["state"] == TASK_STATES["CLOSED"] for c in children["buildArch"])
        assert tasks[root]["state"] == TASK_STATES["CLOSED"]
        assert tasks[root]["waiting"] is False
        assert builds[build_id]["state"] == BUILD_STATES["COMPLETE"]
        assert builds[build_id]["completion_ts"] <= tasks[root]["completion_ts"]
        assert builds[build_id]["nvr"] in [
            b["nvr"] for b in call(hub, "listTagged", dest)
        ]
    # The open buildArch had run before the hub started: it ends first.
    assert tasks[50102]["completion_ts"] < tasks[50103]["completion_ts"]
    # The assigned and the free one start once the hub runs.
    assert tasks[50103]["start_ts"] >= started_at
    assert tasks[50112]["start_ts"] >= started_at and tasks[50112]["host_id"] == 1
