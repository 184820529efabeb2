"""States, timestamps, and the smaller records: Package, Channel, Tag,
Target, User, Host."""

import json
from datetime import datetime, timezone

import pytest
import pytest_twisted

from tests.fake_connection import WEBURL, FakeConnection, dataset
from txkoji import build_states, repo_states, task_states
from txkoji.channel import Channel
from txkoji.host import Host
from txkoji.package import Package
from txkoji.results import result_type
from txkoji.tag import Tag
from txkoji.target import Target
from txkoji.timestamps import now, parse_time, record_time
from txkoji.user import User, UserType


@pytest.mark.parametrize(
    "module, enum, names",
    [
        (build_states, build_states.BuildState, "BUILDING COMPLETE DELETED FAILED"),
        (task_states, task_states.TaskState, "FREE OPEN CLOSED CANCELED ASSIGNED"),
        (repo_states, repo_states.RepoState, "INIT READY EXPIRED DELETED PROBLEM"),
    ],
)
def test_state_modules(module, enum, names):
    for number, name in enumerate(names.split()):
        assert getattr(module, name) == number
        assert type(getattr(module, name)) is int
        assert module.to_str(number) == name
        assert enum(number).name == name
    assert module.to_str(99) == "(unknown state 99)"


def test_task_state_groups():
    assert set(task_states.ACTIVE_GROUP) == {0, 1, 4}
    assert set(task_states.DONE_GROUP) == {2, 3, 5}


def test_record_time_prefers_ts_and_falls_back_to_string():
    stamp = datetime(2026, 11, 20, 10, 31, 2, 123456, timezone.utc)
    record = {"start_ts": stamp.timestamp(), "start_time": "1999-01-01 00:00:00"}
    assert record_time(record, "start") == stamp
    assert record_time({"start_time": "2026-11-20 10:31:02.123456+00:00"}, "start") == (
        stamp
    )
    assert record_time({"start_time": "2026-11-20 10:31:02.123456"}, "start") == stamp
    assert record_time({"start_ts": None, "start_time": None}, "start") is None


def test_parse_time_converts_offsets_and_rejects_junk():
    assert parse_time("2026-11-20 12:31:02+02:00") == datetime(
        2026, 11, 20, 10, 31, 2, tzinfo=timezone.utc
    )
    assert parse_time("yesterday") is None


def test_now_reads_the_clock():
    clock = FakeConnection(now=86400.0).reactor
    assert now(clock) == datetime(1970, 1, 2, tzinfo=timezone.utc)
    assert now().tzinfo == timezone.utc


REGISTRY = {
    "getPackage": (Package, "one"),
    "listPackages": (Package, "list"),
    "getChannel": (Channel, "one"),
    "listChannels": (Channel, "list"),
    "getTag": (Tag, "one"),
    "listTags": (Tag, "list"),
    "getBuildTarget": (Target, "one"),
    "getBuildTargets": (Target, "list"),
    "getUser": (User, "one"),
    "listUsers": (User, "list"),
    "getLoggedInUser": (User, "one"),
    "getHost": (Host, "one"),
    "listHosts": (Host, "list"),
}


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_registered(method):
    rtype = result_type(method)
    assert (rtype.record_class, rtype.shape) == REGISTRY[method]


def record(cls, data, **answers):
    obj = cls(data)
    obj.connection = FakeConnection(answers)
    return obj


@pytest.mark.parametrize(
    "cls, data, url",
    [
        (Package, {"id": 1, "name": "bash"}, "packageinfo?packageID=1"),
        (Package, {"package_id": 4, "tag_id": 5}, "packageinfo?packageID=4"),
        (Channel, {"id": 4}, "channelinfo?channelID=4"),
        (Tag, {"id": 2, "name": "f40-build"}, "taginfo?tagID=2"),
        (Target, {"id": 3}, "buildtargetinfo?targetID=3"),
        (User, {"id": 2}, "userinfo?userID=2"),
        (Host, {"id": 1}, "hostinfo?hostID=1"),
    ],
)
def test_urls(cls, data, url):
    obj = record(cls, data)
    assert obj.url == f"{WEBURL}/{url}"
    assert "connection" not in obj and json.loads(json.dumps(obj)) == data
    obj.connection = None
    assert obj.url is None


@pytest_twisted.ensureDeferred
async def test_channel_helpers_with_data_set_hosts():
    hosts = [h for h in dataset()["hosts"] if h["id"] in (1, 3)]

    def list_hosts(channelID, enabled=None):
        return [h for h in hosts if enabled is None or h["enabled"] == enabled]

    channel = record(Channel, {"id": 1}, listHosts=list_hosts, listTasks=[])
    found = await channel.hosts()
    assert [type(h) for h in found] == [Host, Host]
    await channel.tasks(state=[task_states.OPEN])
    assert await channel.total_capacity() == 16.0  # host 3 is disabled
    assert channel.connection.calls == [
        ("listHosts", (), {"channelID": 1}),
        (
            "listTasks",
            ({"state": [1], "channel_id": 1}, {"order": "priority,create_time"}),
            {},
        ),
        ("listHosts", (), {"channelID": 1, "enabled": True}),
    ]


@pytest_twisted.ensureDeferred
async def test_package_helpers():
    package = record(
        Package, {"id": 1, "name": "bash"}, listBuilds=[], getAverageBuildDuration=60.0
    )
    assert await package.builds(state=1) == []
    assert package.connection.calls[-1] == (
        "listBuilds",
        (),
        {"packageID": 1, "state": 1},
    )
    assert (await package.average_build_duration()).total_seconds() == 60.0
    entry = Package({"package_id": 4, "package_name": "etcd-container", "tag_id": 5})
    assert (entry.package_id, entry.package_name) == (4, "etcd-container")


@pytest_twisted.ensureDeferred
async def test_tag_helpers():
    data = dataset()["tags"][1]
    tag = record(
        Tag, data, listTagged=[], listPackages=[], getInheritanceData=[], getRepo=None
    )
    assert tag.arch_list == ["x86_64", "aarch64"]
    await tag.tagged_builds(latest=True)
    await tag.packages()
    await tag.inheritance()
    assert await tag.repo() is None
    assert tag.connection.calls == [
        ("listTagged", (2,), {"latest": True}),
        ("listPackages", (), {"tagID": 2}),
        ("getInheritanceData", (2,), {}),
        ("getRepo", (2,), {}),
    ]


@pytest_twisted.ensureDeferred
async def test_target_tags():
    data = dataset()["targets"][0]
    target = record(Target, data, getTag=lambda tid: dataset()["tags"][tid - 1])
    build_tag, dest_tag = await target.build_tag(), await target.dest_tag()
    assert isinstance(build_tag, Tag)
    assert (build_tag.name, dest_tag.name) == ("f40-build", "f40-candidate")


@pytest_twisted.ensureDeferred
async def test_user_and_host_helpers():
    users = dataset()["users"]
    host_user = record(User, users[3], listBuilds=[], listTasks=[])
    assert host_user.user_type is UserType.HOST
    assert not host_user.is_blocked and User(users[7]).is_blocked
    await host_user.builds()
    await host_user.tasks(state=[1])
    assert host_user.connection.calls == [
        ("listBuilds", (), {"userID": 4}),
        ("listTasks", ({"state": [1], "owner": 4}, {"order": "id"}), {}),
    ]
    host = record(
        Host, dataset()["hosts"][0], getUser=users[3], listChannels=[], listTasks=[]
    )
    assert host.arch_list == ["x86_64", "i686"]
    assert host.spare_capacity == 12.5
    assert (await host.user()).name == "x86-01.example.com"
    await host.channels()
    await host.tasks()
    assert host.connection.calls[1:] == [
        ("listChannels", (), {"hostID": 1}),
        ("listTasks", ({"host_id": 1}, {"order": "id"}), {}),
    ]
