"""Build-time estimates: hub averages, container last builds, batches."""

from datetime import timedelta

import pytest
import pytest_twisted

from tests.fake_connection import FakeConnection, build_record, task_record
from txkoji.estimates import (
    average_build_duration,
    average_build_durations,
    average_duration,
    average_last_builds,
    average_task_duration,
    is_container,
)
from txkoji.exceptions import GenericError

ETCD = {"id": 4, "name": "etcd-container"}
ETCD_BUILDS = [build_record(1031), build_record(1030)]
# Both etcd builds ran 1530.25 - 30.5 = 1499.75 s.
ETCD_AVERAGE = timedelta(seconds=1499.75)


def packages_by_name(name):
    return {"bash": {"id": 1, "name": "bash"}, "etcd-container": ETCD}.get(name)


def hub(**overrides):
    answers = {
        "getAverageBuildDuration": lambda name: {"bash": 600.0}.get(name),
        "getPackage": packages_by_name,
        "listBuilds": lambda **kw: ETCD_BUILDS if kw["packageID"] == 4 else [],
    }
    answers.update(overrides)
    return FakeConnection(answers)


def test_is_container():
    assert is_container("etcd-container")
    assert not is_container("bash")


def test_average_duration_skips_records_without_both_times():
    imported = build_record(1040)
    assert average_duration([imported], "start", "completion") is None
    both = [build_record(1030), imported]
    assert average_duration(both, "start", "completion") == ETCD_AVERAGE


@pytest_twisted.ensureDeferred
async def test_plain_package_asks_the_hub():
    conn = hub()
    assert await average_build_duration(conn, "bash") == timedelta(seconds=600)
    assert conn.methods_called() == ["getAverageBuildDuration"]


@pytest_twisted.ensureDeferred
async def test_container_averages_last_completed_builds():
    conn = hub()
    assert await average_build_duration(conn, "etcd-container") == ETCD_AVERAGE
    method, args, kwargs = conn.calls[-1]
    assert method == "listBuilds"
    assert kwargs == {
        "packageID": 4,
        "state": 1,
        "queryOpts": {"limit": 5, "order": "-completion_time"},
    }


@pytest_twisted.ensureDeferred
async def test_average_last_builds_limit_and_missing_package():
    conn = hub()
    await average_last_builds(conn, "etcd-container", limit=2)
    assert conn.calls[-1][2]["queryOpts"]["limit"] == 2
    assert await average_last_builds(conn, "no-such-container") is None
    assert await average_last_builds(conn, "bash") is None


@pytest_twisted.ensureDeferred
async def test_average_last_builds_takes_a_package_id():
    conn = hub()
    assert await average_last_builds(conn, 4) == ETCD_AVERAGE
    assert conn.methods_called() == ["listBuilds"]


@pytest_twisted.ensureDeferred
async def test_mixed_durations_in_order_in_two_multicalls():
    conn = hub()
    names = ["bash", "etcd-container", "unknown", "no-such-container"]
    result = await average_build_durations(conn, names)
    assert result == [timedelta(seconds=600), ETCD_AVERAGE, None, None]
    assert conn.multicalls == 2
    assert conn.methods_called() == [
        "getAverageBuildDuration",
        "getPackage",
        "getAverageBuildDuration",
        "getPackage",
        "listBuilds",
    ]


@pytest_twisted.ensureDeferred
async def test_plain_packages_need_one_multicall():
    conn = hub()
    result = await average_build_durations(conn, ["bash", "kernel"])
    assert result == [timedelta(seconds=600), None]
    assert conn.multicalls == 1


@pytest_twisted.ensureDeferred
async def test_empty_list_makes_no_call():
    conn = hub()
    assert await average_build_durations(conn, []) == []
    assert conn.multicalls == 0


@pytest_twisted.ensureDeferred
async def test_fault_in_a_batch_fails_the_batch():
    conn = hub(getAverageBuildDuration=GenericError("no"))
    with pytest.raises(GenericError):
        await average_build_durations(conn, ["bash"])


@pytest_twisted.ensureDeferred
async def test_average_task_duration_over_closed_tasks():
    closed = [task_record(50301, request=False), task_record(50302, request=False)]
    conn = FakeConnection({"listTasks": closed})
    average = await average_task_duration(conn, "createrepo", limit=3)
    expected = (
        sum(
            (timedelta(seconds=t["completion_ts"] - t["start_ts"]) for t in closed),
            timedelta(),
        )
        / 2
    )
    assert average == expected
    opts, query = conn.calls[0][1]
    assert opts == {"method": "createrepo", "state": [2]}
    assert query == {"order": "-completion_time", "limit": 3}
