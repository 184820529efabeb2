"""Concurrency limits against the fake hub over loopback: calls beyond
``max_concurrency`` wait in order, bounded sockets for 2,000 calls, and
cancellation of waiting and running calls."""

from __future__ import annotations

import resource

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from tests.loopback import (
    until,
)
from txkoji.connection import Connection
from txkoji.testing import FakeHub, HubServer

#: The calls fired at once in the load test (enough to keep 16 sockets
#: busy with a long queue behind them), and how much they may grow the
#: process's peak memory.
LOAD_CALLS = 2_000
LOAD_PEAK_GROWTH_LIMIT = 64 * 1024 * 1024


@pytest_twisted.async_yield_fixture()
async def connect(hub_server):
    """Open connections to the fake hub with the options given; close them
    after the test."""
    opened: list[Connection] = []

    def open_connection(**options) -> Connection:
        connection = Connection(server=hub_server.url, **options)
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        await connection.close()


@pytest_twisted.ensureDeferred
async def test_thousands_of_calls_at_once_use_at_most_max_concurrency_sockets(
    connect, hub_server, record_property
):
    koji = connect()
    assert koji.config["max_concurrency"] == 16
    # The process's peak resident size (KiB on Linux) can only grow: its
    # growth over the run bounds what the calls took at their peak.
    # (tracemalloc would be exact, but triples the run time.)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    calls = [koji.getAPIVersion() for _ in range(LOAD_CALLS)]
    versions = await defer.gatherResults(calls)
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert versions == [1] * LOAD_CALLS
    assert hub_server.hub.calls.count("getAPIVersion") == LOAD_CALLS
    assert 1 <= hub_server.connections_made <= 16
    assert growth * 1024 < LOAD_PEAK_GROWTH_LIMIT
    record_property("sockets", hub_server.connections_made)
    record_property("peak_rss_growth_kib", growth)


@pytest_twisted.ensureDeferred
async def test_sockets_stay_within_a_small_max_concurrency(connect, hub_server):
    koji = connect(max_concurrency=3)
    calls = [koji.getBuild(1001) for _ in range(300)]
    builds = await defer.gatherResults(calls)
    assert {build.id for build in builds} == {1001}
    assert 1 <= hub_server.connections_made <= 3


@pytest_twisted.ensureDeferred
async def test_waiting_calls_run_in_the_order_they_were_made(connect):
    koji = connect(max_concurrency=1)
    ids = [1001, 1002, 1003, 1004, 1010, 1011, 1012, 1020, 1021, 1022, 1023, 1030]
    done: list[int] = []
    calls = [
        koji.getBuild(build_id).addCallback(lambda build: done.append(build.id))
        for build_id in ids
    ]
    await defer.gatherResults(calls)
    assert done == ids


@pytest_twisted.ensureDeferred
async def test_cancelling_a_waiting_call_takes_it_out_of_the_queue():
    clock = Clock()
    server = HubServer(hub=FakeHub(clock))
    await server.start()
    koji = Connection(server=server.url, max_concurrency=1)
    try:
        rule = server.hub.faults.add("getAPIVersion", delay=5)
        running = koji.getAPIVersion()
        waiting = koji.getTaskInfo(50001)
        after = koji.getBuild(1001)
        await until(lambda: rule.hits == 1)
        waiting.cancel()
        with pytest.raises(defer.CancelledError):
            await waiting
        clock.advance(5)
        assert (await running) == 1
        assert (await after).id == 1001
        assert server.hub.calls == ["getAPIVersion", "getBuild"]
    finally:
        await koji.close()
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_cancelling_a_running_call_aborts_its_request(connect, hub_server):
    koji = connect(max_concurrency=1)
    rule = hub_server.hub.faults.add("getBuild", delay=3600)
    running = koji.getBuild(1001)
    after = koji.getAPIVersion()
    await until(lambda: rule.hits == 1)
    running.cancel()
    with pytest.raises(defer.CancelledError):
        await running
    # Its place is free for the next call, on a new connection ...
    assert (await after) == 1
    assert hub_server.connections_made == 2
    # ... and the first connection is gone, so the hub never answers it.
    await until(lambda: hub_server.open_connections == 1)
    assert hub_server.hub.calls == ["getAPIVersion"]
