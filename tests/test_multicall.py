"""MultiCall against the fake hub over loopback HTTP: typed results,
per-call exceptions, handles, batching, strict mode, the empty case."""

from __future__ import annotations

import pytest
import pytest_twisted

from txkoji.build import Build
from txkoji.connection import Connection
from txkoji.exceptions import GenericError, ParameterError, ServerOffline
from txkoji.multicall import KojiMultiCallIterator, MultiCallNotRun
from txkoji.task import Task


@pytest_twisted.async_yield_fixture()
async def koji(hub_server):
    """An anonymous connection to the fake hub."""
    connection = Connection(server=hub_server.url)
    yield connection
    await connection.close()


def requests_made(server) -> int:
    """How many multicall requests the hub has answered."""
    return server.hub.calls.count("system.multicall")


@pytest_twisted.ensureDeferred
async def test_results_are_typed_by_the_same_registry_as_single_calls(koji):
    mc = koji.MultiCall()
    mc.getBuild(1001)
    mc.getTaskInfo(50001)
    mc.getAPIVersion()
    results = await mc()
    assert isinstance(results, KojiMultiCallIterator)
    build, task, version = results
    single = await koji.getBuild(1001)
    assert type(build) is type(single) is Build
    assert build == single and build.connection is koji
    assert isinstance(task, Task) and task.id == 50001
    assert version == 1


@pytest_twisted.ensureDeferred
async def test_iterating_raises_each_failed_calls_own_exception(koji, hub_server):
    mc = koji.MultiCall()
    mc.getBuild(1001)
    mc.noSuchMethod()
    mc.getBuild(1001, unknown_option=True)
    mc.getBuild(1002)
    results = await mc()
    assert len(results) == 4
    assert results[0].nvr == "bash-5.2.26-1.fc40"
    with pytest.raises(GenericError, match="noSuchMethod") as first:
        results[1]
    assert type(first.value) is GenericError
    with pytest.raises(ParameterError) as second:
        results[2]
    assert second.value.method == "getBuild"
    assert results[3].nvr == "bash-5.2.26-2.fc40"
    with pytest.raises(GenericError):
        list(results)
    with pytest.raises(ParameterError):
        await koji.getBuild(1001, unknown_option=True)
    assert requests_made(hub_server) == 1


@pytest_twisted.ensureDeferred
async def test_handles_hold_each_calls_result_after_the_run(koji):
    mc = koji.MultiCall()
    build = mc.getBuild(1001)
    missing = mc.getBuild(1001, strict=True, unknown_option=1)
    with pytest.raises(MultiCallNotRun):
        _ = build.result
    with pytest.raises(MultiCallNotRun):
        _ = missing.result
    await mc()
    assert isinstance(build.result, Build) and build.result.id == 1001
    with pytest.raises(ParameterError):
        _ = missing.result


@pytest_twisted.ensureDeferred
async def test_batch_splits_the_calls_into_several_requests(koji, hub_server):
    mc = koji.MultiCall(batch=2)
    handles = [mc.getBuild(build_id) for build_id in (1001, 1002, 1003, 1010, 1011)]
    results = await mc()
    assert requests_made(hub_server) == 3
    assert [build.id for build in results] == [1001, 1002, 1003, 1010, 1011]
    assert [handle.result.id for handle in handles] == [1001, 1002, 1003, 1010, 1011]


@pytest_twisted.ensureDeferred
async def test_without_batch_all_calls_go_in_one_request(koji, hub_server):
    mc = koji.MultiCall()
    for build_id in (1001, 1002, 1003, 1010, 1011):
        mc.getBuild(build_id)
    await mc()
    assert requests_made(hub_server) == 1


@pytest_twisted.ensureDeferred
async def test_strict_raises_the_first_fault(koji):
    mc = koji.MultiCall(strict=True)
    ok = mc.getBuild(1001)
    mc.getBuild(1001, unknown_option=True)
    mc.noSuchMethod()
    with pytest.raises(ParameterError):
        await mc()
    assert ok.result.id == 1001


@pytest_twisted.ensureDeferred
async def test_strict_without_faults_returns_the_results(koji):
    mc = koji.MultiCall(strict=True)
    mc.getBuild(1001)
    results = await mc()
    assert [build.id for build in results] == [1001]


@pytest_twisted.ensureDeferred
async def test_empty_multicall_sends_nothing(koji, hub_server):
    results = await koji.MultiCall()()
    assert len(results) == 0 and list(results) == []
    assert hub_server.hub.calls == []
    assert hub_server.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_batches_after_a_failed_request_are_not_sent(koji, hub_server):
    mc = koji.MultiCall(batch=1)
    first = mc.getBuild(1001)
    mc.getBuild(1002)
    hub_server.hub.faults.add("system.multicall", offline=True)
    with pytest.raises(ServerOffline):
        await mc()
    assert hub_server.hub.calls == []
    with pytest.raises(MultiCallNotRun):
        _ = first.result
    assert len(hub_server.hub.faults) == 0


@pytest_twisted.ensureDeferred
async def test_a_multicall_is_retried_whole_with_anon_retry(hub_server):
    hub_server.hub.faults.add("system.multicall", drop=True)
    koji = Connection(server=hub_server.url, anon_retry=True)
    try:
        mc = koji.MultiCall()
        mc.getBuild(1001)
        mc.getBuild(1002)
        results = await mc()
    finally:
        await koji.close()
    assert [build.id for build in results] == [1001, 1002]
    assert requests_made(hub_server) == 2
