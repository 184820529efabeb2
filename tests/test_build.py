"""Build: times, links, container task ids, estimates and helpers."""

import json
from datetime import datetime, timedelta, timezone

import pytest_twisted

from tests.fake_connection import (
    NOW,
    FakeConnection,
    build_record,
    hub_connection,
    task_record,
)
from txkoji import build_states
from txkoji.build import Build
from txkoji.results import result_type
from txkoji.tag import Tag
from txkoji.task import Task
from txkoji.timestamps import from_ts


def data_build(build_id, connection=None):
    build = Build(build_record(build_id))
    build.connection = connection or FakeConnection()
    return build


def test_registered_for_build_methods():
    for method, shape in (
        ("getBuild", "one"),
        ("listBuilds", "list"),
        ("listTagged", "list"),
        ("getLatestBuilds", "list"),
    ):
        assert result_type(method).record_class is Build
        assert result_type(method).shape == shape


def test_times_are_utc_datetimes():
    build = data_build(1001)
    assert build.started.tzinfo == timezone.utc
    assert build.completed > build.started > datetime(2026, 10, 1, tzinfo=timezone.utc)
    assert build.created == build.started


def test_duration_complete_building_and_imported():
    assert (
        data_build(1001).duration
        == data_build(1001).completed - data_build(1001).started
    )
    building = data_build(1004)
    assert building.completed is None
    assert building.duration == from_ts(NOW) - building.started
    assert data_build(1040).duration is None


def test_duration_follows_the_connection_clock():
    building = data_build(1004)
    before = building.duration
    building.connection.reactor.advance(60)
    assert building.duration - before == timedelta(seconds=60)


def test_state_name_and_url():
    build = data_build(1003)
    assert build.state_name == "FAILED"
    assert build.url == "https://koji.example.com/koji/buildinfo?buildID=1003"
    assert data_build(1003, FakeConnection(weburl=None)).url is None


def test_gitbuildhash():
    assert data_build(1001).gitbuildhash == "03e9c0ffee50001"
    assert data_build(1040).gitbuildhash is None


def test_task_id_falls_back_to_container_extra():
    assert data_build(1001).task_id == 50001
    assert data_build(1030).task_id == 50080
    assert data_build(1030)["task_id"] is None
    assert data_build(1040).task_id is None


def test_connection_is_not_data():
    build = data_build(1001)
    assert "connection" not in build
    assert json.loads(json.dumps(build)) == build_record(1001)


@pytest_twisted.ensureDeferred
async def test_estimate_completion_of_finished_build_is_exact():
    conn, hub = hub_connection()
    build = data_build(1001, conn)
    assert await build.estimate_completion() == build.completed
    assert await data_build(1022, conn).estimate_completion() is not None
    assert hub.calls == []


@pytest_twisted.ensureDeferred
async def test_estimate_completion_of_building_build():
    conn = FakeConnection({"getAverageBuildDuration": 750.0})
    build = data_build(1004, conn)
    assert build["state"] == build_states.BUILDING
    expected = build.started + timedelta(seconds=750)
    assert await build.estimate_completion() == expected
    assert conn.calls == [("getAverageBuildDuration", ("bash",), {})]


@pytest_twisted.ensureDeferred
async def test_estimate_completion_without_history_is_none():
    conn = FakeConnection({"getAverageBuildDuration": None})
    assert await data_build(1004, conn).estimate_completion() is None


@pytest_twisted.ensureDeferred
async def test_estimate_completion_of_a_building_container_uses_last_builds():
    record = build_record(1031)
    record.update(state=0, completion_ts=None, completion_time=None)
    conn = FakeConnection(
        {
            "getPackage": {"id": 4, "name": "etcd-container"},
            "listBuilds": [build_record(1030), build_record(1031)],
        }
    )
    build = Build(record)
    build.connection = conn
    assert await build.estimate_completion() == build.started + timedelta(
        seconds=1499.75
    )


@pytest_twisted.ensureDeferred
async def test_tags_task_and_target():
    conn, hub = hub_connection()
    build = data_build(1030, conn)
    found = await build.tags()
    assert found and all(type(t) is Tag for t in found)
    assert {t.name for t in found} == {
        tag["name"] for tag in await conn.listTags(build=1030)
    }
    task = await build.task()
    assert isinstance(task, Task) and task.id == 50080
    assert task.connection is conn
    # Fetched with its request parameters (request=True).
    assert task["request"] == task_record(50080)["request"]
    assert await build.target() == "f40-container-candidate"


@pytest_twisted.ensureDeferred
async def test_task_and_target_of_an_import_are_none():
    conn, hub = hub_connection()
    build = data_build(1040, conn)
    assert await build.task() is None
    assert await build.target() is None
    assert hub.calls == []
