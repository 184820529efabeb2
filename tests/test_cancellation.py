"""Cancelling a call: CancelledError, no retry, and nothing sent when the
request was not written yet, at every stage a call goes through."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, protocol, reactor
from twisted.internet.task import Clock, deferLater

from tests.auth_helpers import ssl_connection, start_tls_hub
from txkoji import Connection


async def turns(count: int = 20) -> None:
    """Let the real reactor run ``count`` turns."""
    for _ in range(count):
        await deferLater(reactor, 0)


async def cancelled(d: defer.Deferred) -> None:
    """Cancel ``d`` and check that it fails with CancelledError."""
    d.cancel()
    with pytest.raises(defer.CancelledError):
        await d


def quiet_clock(clock: Clock) -> None:
    """No retry was scheduled: nothing waits on the clock, even later."""
    clock.advance(3600)
    assert clock.getDelayedCalls() == []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.mark.parametrize("anon_retry", [False, True])
@pytest_twisted.ensureDeferred
async def test_cancelled_while_resolving_is_never_sent(
    hub_server, clock, anon_retry
) -> None:
    koji = Connection(server=hub_server.url, clock=clock, anon_retry=anon_retry)
    try:
        await cancelled(koji.createTag("never-made"))
        await turns()
        quiet_clock(clock)
        await turns()
        assert "createTag" not in hub_server.hub.calls
        assert await koji.getTag("never-made") is None
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_cancelled_logged_in_write_while_connecting_is_never_run(
    hub_pki,
) -> None:
    hub = await start_tls_hub(hub_pki)
    koji = ssl_connection(hub, hub_pki)
    try:
        await koji.login()
        # Close the pooled connection the login left, so the write must
        # open a new one.
        await koji.transport.pool.closeCachedConnections()
        await cancelled(koji.createTag("never-made"))
        await turns(40)
        assert "createTag" not in hub.hub.calls
        assert await koji.getTag("never-made") is None
    finally:
        await koji.close()
        await hub.stop()


@pytest_twisted.ensureDeferred
async def test_cancelling_half_of_many_queued_calls(hub_server) -> None:
    koji = Connection(server=hub_server.url, max_concurrency=64, anon_retry=True)
    try:
        calls = [koji.getBuild(1001) for _ in range(400)]
        for d in calls[1::2]:
            d.cancel()
        outcomes = await defer.DeferredList(calls, consumeErrors=True)
        kept = [outcome for ok, outcome in outcomes[0::2]]
        dropped = [outcome for ok, outcome in outcomes[1::2]]
        assert all(build.id == 1001 for build in kept)
        assert all(failure.check(defer.CancelledError) for failure in dropped)
        assert hub_server.hub.calls.count("getBuild") <= 200 + 64
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_cancelled_while_queued_for_a_slot_is_never_sent(hub_server) -> None:
    koji = Connection(server=hub_server.url, max_concurrency=1)
    hub_server.hub.faults.add(method="getTag", delay=0.2)
    try:
        first = koji.getTag("f40")
        second = koji.createTag("never-made")
        await cancelled(second)
        assert (await first).name == "f40"
        await turns()
        assert "createTag" not in hub_server.hub.calls
    finally:
        await koji.close()


class Silent(protocol.Protocol):
    """Accepts a connection and never answers (a stalled TLS handshake)."""


@pytest_twisted.ensureDeferred
async def test_cancelled_during_tls_handshake_is_not_retried(clock) -> None:
    factory = protocol.ServerFactory.forProtocol(Silent)
    connections: list[Any] = []
    factory.buildProtocol = lambda addr: connections.append(addr) or Silent()
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    url = f"https://127.0.0.1:{port.getHost().port}/kojihub"
    koji = Connection(server=url, clock=clock, anon_retry=True)
    try:
        d = koji.getBuild(1)
        for _ in range(200):
            if connections:
                break
            await deferLater(reactor, 0.01)
        assert connections, "the client never connected"
        await cancelled(d)
        quiet_clock(clock)
        await turns()
        assert len(connections) == 1
    finally:
        await koji.close()
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_cancelled_while_the_tcp_connect_hangs_is_not_retried(clock) -> None:
    # A listening socket whose accept queue is full drops new SYNs, so a
    # connection to it hangs in the connecting stage.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(listener.getsockname())
            fillers.append(filler)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/kojihub"
        koji = Connection(server=url, clock=clock, anon_retry=True)
        d = koji.getBuild(1)
        await turns(5)
        await cancelled(d)
        quiet_clock(clock)
        await koji.close()
    finally:
        for sock in fillers + [listener]:
            sock.close()


@pytest.mark.parametrize("anon_retry", [False, True])
@pytest_twisted.ensureDeferred
async def test_cancelled_after_writing_aborts_and_is_not_retried(
    hub_server, clock, anon_retry
) -> None:
    koji = Connection(server=hub_server.url, clock=clock, anon_retry=anon_retry)
    rule = hub_server.hub.faults.add(method="createTag", delay=30, times=None)
    try:
        d = koji.createTag("late")
        for _ in range(200):
            if rule.hits:
                break
            await deferLater(reactor, 0.01)
        assert rule.hits == 1, "the hub never received the request"
        await cancelled(d)
        quiet_clock(clock)
        await turns()
        # Received once, never sent again (and, the client gone, not run).
        assert rule.hits == 1
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_cancelled_call_leaves_the_session_batch(hub_pki) -> None:
    hub = await start_tls_hub(hub_pki)
    koji = ssl_connection(hub, hub_pki)
    try:
        await koji.login()
        hub.hub.faults.add(method="getLoggedInUser", delay=0.2)
        first = koji.getLoggedInUser()
        second = koji.createTag("never-made")
        third = koji.createTag("made")
        await cancelled(second)
        assert (await first).name
        assert isinstance(await third, int)
        assert "made" in hub.hub.calls or hub.hub.calls.count("createTag") == 1
        assert await koji.getTag("never-made") is None
    finally:
        await koji.close()
        await hub.stop()


@pytest_twisted.ensureDeferred
async def test_cancelled_after_its_session_batch_left_is_cancelled(hub_pki) -> None:
    hub = await start_tls_hub(hub_pki)
    koji = ssl_connection(hub, hub_pki)
    try:
        await koji.login()
        hub.hub.faults.add(method="getLoggedInUser", delay=0.2)
        hub.hub.faults.add(method="system.multicall", delay=0.2)
        first = koji.getLoggedInUser()
        second = koji.getTag("f40")
        third = koji.getBuild(1001)
        await first
        # The batch of the two getTag calls is now on its way.
        await cancelled(second)
        assert (await third).id == 1001
    finally:
        await koji.close()
        await hub.stop()
