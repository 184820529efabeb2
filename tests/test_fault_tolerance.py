"""Fault injection against the fake hub over real loopback HTTP: what is
retried, what is not, and what each failure raises.

Retry waits and timeouts run on a Clock (see :mod:`tests.loopback`), so
a 20-second retry interval costs no real time.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from tests.loopback import (
    RetryWaits,
    until,
)
from txkoji.connection import Connection
from txkoji.exceptions import (
    KojiConnectionError,
    KojiHTTPError,
    KojiProtocolError,
    KojiResponseTooLarge,
    KojiTimeoutError,
    ServerOffline,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_twisted.async_yield_fixture()
async def connect(hub_server, clock):
    """Open connections to the fake hub with the options given, timed by
    ``clock``; close them after the test."""
    opened: list[Connection] = []

    def open_connection(**options) -> Connection:
        connection = Connection(server=hub_server.url, clock=clock, **options)
        opened.append(connection)
        return connection

    yield open_connection
    for connection in opened:
        await connection.close()


@pytest.mark.parametrize("status", [502, 503, 504])
@pytest_twisted.ensureDeferred
async def test_proxy_error_then_ok_is_retried_with_anon_retry(
    connect, hub_server, clock, status
):
    rule = hub_server.hub.faults.add("getBuild", http_status=status)
    koji = connect(anon_retry=True)
    with RetryWaits(clock) as waits:
        build = await koji.getBuild(1001)
    assert build.id == 1001
    assert rule.hits == 1
    assert waits.delays == [0]
    assert hub_server.hub.calls == ["getBuild"]


@pytest_twisted.ensureDeferred
async def test_proxy_error_without_anon_retry_is_raised(connect, hub_server):
    hub_server.hub.faults.add("getBuild", http_status=503)
    koji = connect()
    with pytest.raises(KojiHTTPError) as raised:
        await koji.getBuild(1001)
    assert raised.value.status == 503
    assert hub_server.url in str(raised.value)
    assert hub_server.hub.calls == []


@pytest_twisted.ensureDeferred
async def test_other_http_errors_are_never_retried(connect, hub_server, clock):
    hub_server.hub.faults.add("getBuild", http_status=500, times=2)
    koji = connect(anon_retry=True)
    with RetryWaits(clock) as waits:
        with pytest.raises(KojiHTTPError) as raised:
            await koji.getBuild(1001)
    assert raised.value.status == 500
    assert waits.delays == []
    assert len(hub_server.hub.faults) == 1


@pytest_twisted.ensureDeferred
async def test_retries_wait_retry_interval_and_give_up_after_max_retries(
    connect, hub_server, clock
):
    rule = hub_server.hub.faults.add("getBuild", http_status=503, times=None)
    koji = connect(anon_retry=True, max_retries=3, retry_interval=15)
    with RetryWaits(clock) as waits:
        with pytest.raises(KojiHTTPError):
            await koji.getBuild(1001)
    assert rule.hits == 4
    assert waits.delays == [0, 15, 15]
    assert clock.seconds() == 30


@pytest_twisted.ensureDeferred
async def test_dropped_mid_body_is_retried_with_anon_retry(connect, hub_server, clock):
    hub_server.hub.faults.add("getBuild", drop=True)
    koji = connect(anon_retry=True)
    with RetryWaits(clock) as waits:
        build = await koji.getBuild(1001)
    assert build.nvr == "bash-5.2.26-1.fc40"
    assert waits.delays == [0]
    # The hub ran the call twice: the first answer was lost on the way.
    assert hub_server.hub.calls == ["getBuild", "getBuild"]


@pytest_twisted.ensureDeferred
async def test_dropped_mid_body_without_anon_retry_is_a_connection_error(
    connect, hub_server
):
    hub_server.hub.faults.add("getBuild", drop=True)
    koji = connect()
    with pytest.raises(KojiConnectionError, match="getBuild"):
        await koji.getBuild(1001)
    assert hub_server.hub.calls == ["getBuild"]


@pytest_twisted.ensureDeferred
async def test_slow_hub_against_timeout_is_a_timeout_error(connect, hub_server, clock):
    rule = hub_server.hub.faults.add("getBuild", delay=3600)
    koji = connect(timeout=60)
    call = koji.getBuild(1001)
    await until(lambda: rule.hits == 1)
    outcome: list = []
    call.addBoth(lambda result: outcome.append(result) or result)
    clock.advance(59)
    assert outcome == []
    clock.advance(1)
    with pytest.raises(KojiTimeoutError, match="60 s"):
        await call
    assert hub_server.hub.calls == []
    # The client gave up on the request: the hub sees its connection close.
    await until(lambda: hub_server.open_connections == 0)


@pytest_twisted.ensureDeferred
async def test_timeout_is_retried_with_anon_retry(connect, hub_server, clock):
    rule = hub_server.hub.faults.add("getBuild", delay=3600)
    koji = connect(timeout=60, anon_retry=True)
    with RetryWaits(clock) as waits:
        call = koji.getBuild(1001)
        await until(lambda: rule.hits == 1)
        clock.advance(60)
        build = await call
    assert build.id == 1001
    assert waits.delays == [0]


@pytest_twisted.ensureDeferred
async def test_malformed_xml_is_a_protocol_error_and_not_retried(
    connect, hub_server, clock
):
    hub_server.hub.faults.add("getBuild", malformed=True)
    koji = connect(anon_retry=True)
    with RetryWaits(clock) as waits:
        with pytest.raises(KojiProtocolError):
            await koji.getBuild(1001)
    assert waits.delays == []
    assert hub_server.hub.calls == ["getBuild"]


@pytest_twisted.ensureDeferred
async def test_server_offline_without_offline_retry_is_raised(
    connect, hub_server, clock
):
    hub_server.hub.faults.add("getBuild", offline=True)
    koji = connect(anon_retry=True)
    with RetryWaits(clock) as waits:
        with pytest.raises(ServerOffline, match="server is offline"):
            await koji.getBuild(1001)
    assert waits.delays == []


@pytest_twisted.ensureDeferred
async def test_server_offline_with_offline_retry_waits_uncounted(
    connect, hub_server, clock
):
    rule = hub_server.hub.faults.add("getBuild", offline=True, times=4)
    koji = connect(offline_retry=True, offline_retry_interval=45, max_retries=0)
    with RetryWaits(clock) as waits:
        build = await koji.getBuild(1001)
    assert build.id == 1001
    assert rule.hits == 4
    assert waits.delays == [45, 45, 45, 45]
    assert clock.seconds() == 180


@pytest_twisted.ensureDeferred
async def test_response_over_max_response_size_is_refused(connect, hub_server):
    koji = connect(max_response_size=1024, anon_retry=True)
    assert (await koji.getAPIVersion()) == 1
    with pytest.raises(KojiResponseTooLarge, match="max_response_size") as raised:
        await koji.listBuilds()
    assert "1024 bytes" in str(raised.value)
    assert hub_server.hub.calls == ["getAPIVersion", "listBuilds"]


@pytest_twisted.ensureDeferred
async def test_refused_connection_without_anon_retry_is_raised(connect, hub_server):
    koji = connect()
    await hub_server.stop()
    with pytest.raises(KojiConnectionError, match="refused"):
        await koji.getBuild(1001)


@pytest_twisted.ensureDeferred
async def test_hub_restarted_mid_run_anonymous_calls_complete(
    connect, hub_server, clock, record_property
):
    koji = connect(anon_retry=True, retry_interval=20)
    ids = [1001, 1002, 1003, 1010, 1011, 1020, 1021, 1030]
    with RetryWaits(clock) as waits:
        calls = [koji.getBuild(ids[n % len(ids)]) for n in range(200)]
        await defer.gatherResults(calls[:50])
        await hub_server.stop()
        # Keep the hub down until the calls cut off have been refused too.
        await until(lambda: len(waits.delays) >= 32)
        await hub_server.start(hub_server.port)
        builds = await defer.gatherResults(calls)
    assert [build.id for build in builds] == [ids[n % len(ids)] for n in range(200)]
    assert 0 in waits.delays and 20 in waits.delays
    assert set(waits.delays) == {0, 20}
    record_property("retries", len(waits.delays))


@pytest_twisted.ensureDeferred
async def test_cancelling_during_a_retry_wait_stops_retrying(
    connect, hub_server, clock
):
    rule = hub_server.hub.faults.add("getBuild", http_status=503, times=None)
    koji = connect(anon_retry=True, retry_interval=20, max_concurrency=1)
    with RetryWaits(clock, advance=False) as waits:
        call = koji.getBuild(1001)
        after = koji.getAPIVersion()
        await until(lambda: len(waits.delays) == 1)
        clock.advance(0)  # the first retry goes at once
        await until(lambda: len(waits.delays) == 2)
    assert waits.delays == [0, 20]
    call.cancel()
    with pytest.raises(defer.CancelledError):
        await call
    clock.advance(100)
    assert rule.hits == 2
    # The cancelled call gave up its place.
    assert (await after) == 1
