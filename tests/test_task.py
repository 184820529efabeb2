"""Task: request parameters, times, descendents and completion estimates."""

import xmlrpc.client
from datetime import datetime, timedelta, timezone

import pytest
import pytest_twisted

from tests.fake_connection import (
    NOW,
    FakeConnection,
    dataset,
    descendents_of,
    task_record,
)
from txkoji import task_states
from txkoji.channel import Channel
from txkoji.task import SLEEPTIME, TAG_BUILD_TIME, NoDescendentsError, Task
from txkoji.task_params import SIGNATURES, TaskParamsError
from txkoji.testing.records import at
from txkoji.timestamps import from_ts


def make_task(record, connection=None):
    task = Task(record)
    task.connection = connection or FakeConnection()
    return task


def data_task(task_id, connection=None, request=True):
    return make_task(task_record(task_id, request), connection)


# --- request parameters -------------------------------------------------


def test_params_from_a_list_request():
    task = data_task(50012)
    assert task.params == [
        "tasks/11/50011/bash-5.2.26-2.fc40.src.rpm",
        2,
        "x86_64",
        True,
        {"repo_id": 7},
    ]


def test_params_from_raw_methodcall_xml_as_listtasks_sends_it():
    record = task_record(50012)
    raw = xmlrpc.client.dumps(tuple(record["request"]), "buildArch", allow_none=True)
    record["request"] = raw
    assert make_task(record).params == task_record(50012)["request"]


def test_params_from_raw_params_document_of_older_hubs():
    record = task_record(50001)
    record["request"] = xmlrpc.client.dumps(tuple(record["request"]), allow_none=True)
    task = make_task(record)
    assert task.params[1] == "f40-candidate"
    assert task.target == "f40-candidate"


def test_params_none_without_request():
    task = data_task(50012, request=False)
    assert task.params is None
    assert task.package is None and task.arches == []
    assert task.arch == "x86_64"  # the hub's own field
    assert task.is_scratch is False


@pytest.mark.parametrize(
    "raw",
    [
        "<params><param><value><int>1</int>",
        "not xml at all",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><params/>',
    ],
)
def test_unreadable_raw_request_is_a_clear_error(raw):
    record = task_record(50012)
    record["request"] = raw
    with pytest.raises(TaskParamsError):
        _ = make_task(record).params


def test_task_params_error_is_a_value_error_as_in_010():
    assert issubclass(TaskParamsError, ValueError)


# --- what each method's parameters say -----------------------------------

TARGET = {"id": 3, "name": "f40-image", "build_tag": 6}
IMAGE_SUB = ["cloud", "40", "1", "x86_64", TARGET, 6, {"id": 7}, "url", {}]
MEDIA = ["cloud", "40", ["x86_64", "aarch64"], "f40-image", "ks", {}]
SINGLE = ["cloud", "40", "ppc64le", "f40-image", "ks", {}]
SCM = "git+https://src.example.com/rpms/bash.git#abc123"

# method: (params, {property: expected})
CASES = {
    "build": ([SCM, "f40-candidate", {}], {"target": "f40-candidate"}),
    "buildArch": (
        ["tasks/1/1/bash-5.2-1.fc40.src.rpm", 2, "aarch64", False, {}],
        {"tag": 2, "arch": "aarch64", "package": "bash", "arches": ["aarch64"]},
    ),
    "buildSRPMFromSCM": ([SCM, 2, {}], {"tag": 2, "package": "bash"}),
    "rebuildSRPM": (["cli-build/x/bash-1-2.src.rpm", 2, {}], {"package": "bash"}),
    "tagBuild": ([3, 1002, False, None, True], {"tag": 3, "build_id": 1002}),
    "tagNotification": (
        [["a@example.com"], True, 3, None, 1002, 2],
        {"tag": 3, "build_id": 1002},
    ),
    "buildNotification": (
        [["a@example.com"], {"id": 1002, "name": "bash"}, TARGET, "https://w"],
        {"package": "bash", "target": "f40-image", "build_id": 1002},
    ),
    "newRepo": (["f40-build", None, False, False, False], {"tag": "f40-build"}),
    "createrepo": ([8, "x86_64", None], {"arch": "x86_64", "tag": None}),
    "distRepo": (
        ["f40", 9, ["abc"], {"arch": ["x86_64", "s390x"]}],
        {"tag": "f40", "arches": ["x86_64", "s390x"]},
    ),
    "createdistrepo": (["f40", 9, "s390x", ["abc"], {}], {"arch": "s390x"}),
    "waitrepo": (["f40-build", None, ["bash-1-1"]], {"tag": "f40-build"}),
    "chainbuild": ([[[SCM]], "f40-candidate", {}], {"target": "f40-candidate"}),
    "maven": (["git://src.example.com/jx.git#1", "f40-maven", {}], {"package": "jx"}),
    "buildMaven": (
        ["git://src.example.com/jx.git#1", {"name": "f40-maven-build"}, {}],
        {"tag": "f40-maven-build", "package": "jx"},
    ),
    "chainmaven": ([{"jx": {}}, "f40-maven", {}], {"target": "f40-maven"}),
    "wrapperRPM": (
        ["git://src.example.com/w.git#1", {"name": "f40-candidate"}, None, None, {}],
        {"target": "f40-candidate", "package": "w"},
    ),
    "image": (
        ["cloud", "40", ["x86_64"], "f40-image", "url", {}],
        {"package": "cloud", "arches": ["x86_64"], "target": "f40-image"},
    ),
    "createImage": (
        IMAGE_SUB,
        {"package": "cloud", "arch": "x86_64", "target": "f40-image", "tag": 6},
    ),
    "livecd": (SINGLE, {"arch": "ppc64le", "target": "f40-image"}),
    "createLiveCD": (IMAGE_SUB, {"arch": "x86_64", "target": "f40-image"}),
    "livemedia": (MEDIA, {"arches": ["x86_64", "aarch64"], "package": "cloud"}),
    "createLiveMedia": (IMAGE_SUB, {"tag": 6, "target": "f40-image"}),
    "appliance": (SINGLE, {"arch": "ppc64le", "package": "cloud"}),
    "createAppliance": (IMAGE_SUB, {"arch": "x86_64", "package": "cloud"}),
    "indirectionimage": (
        [{"arch": "x86_64", "target": "f40-image", "name": "base"}],
        {"arch": "x86_64", "target": "f40-image", "package": "base"},
    ),
    "runroot": (
        ["f40-build", "x86_64", "uname", False, [], [], 7, False],
        {"tag": "f40-build", "arch": "x86_64", "package": None},
    ),
    "winbuild": (
        ["vm", "git://src.example.com/w.git#1", "f40-win", {}],
        {"target": "f40-win", "source": "git://src.example.com/w.git#1"},
    ),
    "vmExec": (["win-2022", {"id": 1}, {}], {"package": "win-2022", "arch": None}),
    "buildContainer": (
        ["git://src.example.com/containers/etcd#50", "f40-cc", {}],
        {"package": "etcd-container", "target": "f40-cc"},
    ),
}


def test_every_documented_method_has_a_case():
    assert set(CASES) == set(SIGNATURES)


@pytest.mark.parametrize("method", sorted(CASES))
def test_method_parameters(method):
    params, expected = CASES[method]
    task = make_task({"id": 1, "method": method, "state": 1, "request": params})
    for name, value in expected.items():
        assert getattr(task, name) == value, name


def test_unknown_method_has_no_parameters_to_read():
    task = make_task({"id": 1, "method": "frobnicate", "request": [1, 2, 3]})
    assert (task.arch, task.tag, task.target, task.package) == (None,) * 4


def test_short_request_gives_none_not_index_error():
    task = make_task({"id": 1, "method": "createImage", "request": ["cloud"]})
    assert task.arch is None and task.target is None


def test_unparseable_source_raises_value_error_as_in_010():
    task = make_task({"id": 1, "method": "build", "request": ["bash", "t", {}]})
    with pytest.raises(ValueError, match="could not parse source"):
        _ = task.package


def test_data_set_tasks():
    assert data_task(50001).package == "bash"
    assert data_task(50001).source.startswith("git+https://")
    assert data_task(50080).package == "etcd-container"
    assert data_task(50501).target == "f40-image"
    assert data_task(50600).arch == "x86_64"
    assert data_task(50014).build_id == 1002


def test_is_scratch():
    assert data_task(50200).is_scratch is True
    assert data_task(50001).is_scratch is False


# --- times, state, url, channel -------------------------------------------


def test_times_are_utc_datetimes():
    task = data_task(50001)
    assert task.created == datetime(2026, 10, 1, 9, 0, 0, 250000, timezone.utc)
    assert task.started.tzinfo == timezone.utc
    assert task.completed - task.created == timedelta(minutes=12.5)


def test_times_fall_back_to_strings():
    record = task_record(50001)
    expected = data_task(50001).started
    del record["start_ts"]
    assert make_task(record).started == expected


def test_duration_of_finished_and_running_tasks():
    assert data_task(50001).duration == timedelta(minutes=12.5) - timedelta(
        seconds=0.75
    )
    running = data_task(50102)
    assert running.duration == from_ts(NOW) - running.started
    assert data_task(50103).duration is None


def test_state_name_and_url():
    task = data_task(50103)
    assert task.state_name == "ASSIGNED"
    assert task.url == "https://koji.example.com/koji/taskinfo?taskID=50103"
    assert make_task(task_record(1 + 50000), FakeConnection(weburl=None)).url is None


def test_channel_is_a_channel_on_the_same_connection():
    task = data_task(50080)
    assert isinstance(task.channel, Channel)
    assert task.channel.id == 4
    assert task.channel.connection is task.connection
    assert "connection" not in task.channel


# --- descendents ------------------------------------------------------------


def descendents_connection(**answers):
    return FakeConnection(
        {"getTaskDescendents": lambda tid, request=False: descendents_of(tid, request)}
        | answers
    )


@pytest_twisted.ensureDeferred
async def test_descendents_all_and_filtered():
    conn = descendents_connection()
    task = data_task(50100, conn)
    everything = await task.descendents()
    assert [t.id for t in everything] == [50101, 50102, 50103]
    assert all(isinstance(t, Task) for t in everything)
    arch = await task.descendents(method="buildArch", state=task_states.OPEN)
    assert [t.id for t in arch] == [50102]


@pytest_twisted.ensureDeferred
async def test_descendents_filter_on_free_state_zero():
    task = data_task(50110, descendents_connection())
    free = await task.descendents(state=task_states.FREE)
    assert [t.id for t in free] == [50112]
    several = await task.descendents(state=[task_states.FREE, task_states.CLOSED])
    assert [t.id for t in several] == [50111, 50112]


# --- estimates ----------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_finished_task_estimates_are_exact():
    task = data_task(50001, FakeConnection())
    assert await task.estimate_completion() == task.completed
    assert await task.estimate_duration() == task.duration


@pytest_twisted.ensureDeferred
async def test_open_build_arch_estimate_is_start_plus_package_average():
    conn = FakeConnection({"getAverageBuildDuration": 900.0})
    task = data_task(50102, conn)
    assert await task.estimate_completion() == task.started + timedelta(seconds=900)
    assert conn.calls == [("getAverageBuildDuration", ("bash",), {})]


@pytest_twisted.ensureDeferred
async def test_tag_build_estimate_needs_no_rpc():
    record = task_record(50014)
    record.update(state=1, completion_ts=None, completion_time=None)
    conn = FakeConnection()
    task = make_task(record, conn)
    assert await task.estimate_duration() == TAG_BUILD_TIME
    assert conn.calls == []


@pytest_twisted.ensureDeferred
async def test_assigned_task_starts_now():
    conn = FakeConnection({"getAverageBuildDuration": 600.0})
    task = data_task(50103, conn)
    expected = from_ts(NOW) + timedelta(seconds=600)
    assert await task.estimate_completion() == expected


@pytest_twisted.ensureDeferred
async def test_build_estimate_comes_from_the_latest_worker():
    conn = descendents_connection(getAverageBuildDuration=900.0)
    task = data_task(50100, conn)
    open_arch = data_task(50102)
    # 50102 OPEN: start + 900 s; 50103 ASSIGNED: now + 900 s (later).
    estimate = await task.estimate_completion()
    assert estimate == from_ts(NOW) + timedelta(seconds=900)
    assert estimate > open_arch.started + timedelta(seconds=900)


@pytest_twisted.ensureDeferred
async def test_no_active_worker_is_no_descendents_error():
    conn = descendents_connection()
    record = task_record(50010)
    record.update(state=1, completion_ts=None, completion_time=None)
    task = make_task(record, conn)
    with pytest.raises(NoDescendentsError, match="no active buildArch"):
        await task.estimate_descendents()


@pytest_twisted.ensureDeferred
async def test_estimate_descendents_none_for_methods_without_workers():
    assert await data_task(50600).estimate_descendents() is None


@pytest_twisted.ensureDeferred
async def test_packageless_task_averages_recent_tasks_of_its_method():
    closed = [task_record(50301, request=False), task_record(50302, request=False)]
    conn = FakeConnection({"listTasks": closed})
    task = data_task(50311, conn)
    expected_avg = sum((data_task(t["id"]).duration for t in closed), timedelta()) / 2
    assert await task.estimate_completion() == task.started + expected_avg
    method, (opts, query), _ = conn.calls[0]
    assert opts == {"method": "createrepo", "state": [2], "arch": ["x86_64"]}
    assert query["order"] == "-completion_time"


def free_task_connection(open_tasks, capacities=(16.0, 8.0), average=600.0):
    hosts = [{"id": i, "capacity": c} for i, c in enumerate(capacities, 1)]
    return FakeConnection(
        {
            "listHosts": hosts,
            "listTasks": open_tasks,
            "getAverageBuildDuration": average,
            "getTaskDescendents": {},
        }
    )


def open_task(task_id, weight, started, method="buildArch"):
    record = task_record(50102)
    record.update(id=task_id, weight=weight, start_ts=started, state=1, method=method)
    return record


@pytest_twisted.ensureDeferred
async def test_free_task_with_room_starts_within_sleeptime():
    conn = free_task_connection([open_task(1, 2.0, NOW - 60)])
    record = task_record(50112)
    record["create_ts"] = NOW - 17
    task = make_task(record, conn)
    # Created 17 s before "now": the builder picks it up by created + 45 s.
    expected = task.created + SLEEPTIME + timedelta(seconds=600)
    assert await task.estimate_completion() == expected
    assert ("listHosts", (), {"channelID": 1, "enabled": True}) in conn.calls


@pytest_twisted.ensureDeferred
async def test_long_free_task_with_room_starts_no_earlier_than_now():
    conn = free_task_connection([])
    record = task_record(50112)
    record.update(create_ts=NOW - 3600)
    task = make_task(record, conn)
    assert await task.estimate_completion() == from_ts(NOW) + timedelta(seconds=600)


@pytest_twisted.ensureDeferred
async def test_free_task_in_a_full_channel_waits_for_open_tasks():
    # Capacity 4; open weights 1.5 + 1.5 + 1.0 = 4.0; the task needs 1.5.
    # Ends (start + 600 s): A at now+100, B at now+300, C at now+500.
    tasks = [
        open_task(1, 1.5, NOW - 200),
        open_task(2, 1.0, NOW - 500),
        open_task(3, 1.5, NOW - 300),
    ]
    conn = free_task_connection(tasks, capacities=(4.0,))
    task = data_task(50112, conn)
    # Freeing 1.5 needs task 2 (1.0, ends now+100) and task 3 (1.5, ends
    # now+300): room at now+300, start within SLEEPTIME, then 600 s.
    expected = from_ts(NOW + 300) + SLEEPTIME + timedelta(seconds=600)
    assert await task.estimate_completion() == expected


@pytest_twisted.ensureDeferred
async def test_free_task_heavier_than_the_channel_has_no_estimate():
    conn = free_task_connection([open_task(1, 1.0, NOW)], capacities=(1.0,))
    record = task_record(50112)
    record["weight"] = 5.0
    assert await make_task(record, conn).estimate_completion() is None


@pytest_twisted.ensureDeferred
async def test_full_channel_with_unestimable_tasks_has_no_estimate():
    # A parent "build" task with no workers cannot be estimated.
    blocked = open_task(1, 4.0, NOW, method="build")
    conn = free_task_connection([blocked], capacities=(4.0,))
    assert await data_task(50112, conn).estimate_completion() is None


def test_no_descendents_error_is_a_koji_exception():
    from txkoji.exceptions import KojiException

    assert issubclass(NoDescendentsError, KojiException)
    assert at("2026-11-20 10:45:00.5") == NOW
    assert len(dataset()["tasks"]) > 40
