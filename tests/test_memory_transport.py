"""txkoji.testing.memory_transport: a Connection on a FakeHub in memory,
whose Deferreds fire without sockets or reactor turns."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.python.failure import Failure

from txkoji import Connection
from txkoji.auth import LoginTLSError
from txkoji.build import Build
from txkoji.exceptions import (
    GenericError,
    KojiConnectionError,
    KojiHTTPError,
    KojiTimeoutError,
    ServerOffline,
)
from txkoji.testing import FakeHub, memory_transport

SERVER = "https://koji.test/kojihub"


def outcome(d: defer.Deferred[Any]) -> Any:
    """What ``d`` has fired with; fails the test when it has not fired."""
    fired: list[Any] = []
    d.addBoth(fired.append)
    assert fired, "the Deferred has not fired"
    return fired[0]


def connect(hub: FakeHub, **options: Any) -> Connection:
    return Connection(server=SERVER, transport=memory_transport(hub, **options))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub(clock: Clock) -> FakeHub:
    return FakeHub(clock)


def test_a_call_fires_at_once(hub, clock):
    build = outcome(connect(hub).getBuild(1001))
    assert isinstance(build, Build)
    assert build.nvr == "bash-5.2.26-1.fc40"
    assert hub.calls == ["getBuild"]
    # Nothing left for anyone to run.
    assert clock.getDelayedCalls() == []


def test_calls_made_from_a_callback_fire_too(hub):
    koji = connect(hub)
    d = koji.getBuild(1001).addCallback(lambda build: koji.getUser(build.owner_id))
    assert outcome(d).name == "alice"


def test_the_hub_version_is_read(hub):
    koji = connect(hub)
    outcome(koji.getAPIVersion())
    assert koji.hub_version == "1.35.3"


def test_a_fault_fails_the_call(hub):
    failure = outcome(connect(hub).getTag("no-such-tag", strict=True))
    assert isinstance(failure, Failure)
    assert failure.check(GenericError)


def test_a_multicall_fires_at_once(hub):
    koji = connect(hub)
    values = outcome(koji.multicall([("getBuild", [1001]), ("getUser", ["alice"])]))
    assert values[0].nvr == "bash-5.2.26-1.fc40"
    assert values[1].name == "alice"


def test_the_multicall_wrapper_works(hub):
    koji = connect(hub)
    mc = koji.MultiCall()
    first = mc.getBuild(1001)
    mc.getBuild(1003)
    results = list(outcome(mc()))
    assert [b.nvr for b in results] == ["bash-5.2.26-1.fc40", "bash-5.2.26-3.fc40"]
    assert first.result.id == 1001


def test_injected_faults_apply(hub):
    hub.faults.add(method="getBuild", offline=True)
    hub.faults.add(method="getUser", http_status=503)
    koji = connect(hub)
    assert outcome(koji.getBuild(1001)).check(ServerOffline)
    assert outcome(koji.getUser("alice")).check(KojiHTTPError)


def test_a_delayed_answer_fires_when_the_hub_clock_reaches_it(hub, clock):
    hub.faults.add(method="getBuild", delay=5.0)
    d = connect(hub).getBuild(1001)
    fired: list[Any] = []
    d.addBoth(fired.append)
    clock.advance(4.9)
    assert fired == []
    clock.advance(0.1)
    assert fired[0].id == 1001


def test_the_timeout_runs_on_the_hub_clock(hub, clock):
    hub.faults.add(method="getBuild", delay=5.0)
    d = connect(hub, timeout=2.0).getBuild(1001)
    fired: list[Any] = []
    d.addBoth(fired.append)
    clock.advance(2.0)
    assert fired[0].check(KojiTimeoutError)
    assert "getBuild" in str(fired[0].value)
    clock.advance(10)
    # The hub dropped the delayed answer when the client went away.
    assert not clock.getDelayedCalls()


def test_cancelling_a_delayed_call(hub, clock):
    hub.faults.add(method="getBuild", delay=5.0)
    d = connect(hub).getBuild(1001)
    d.cancel()
    assert outcome(d).check(defer.CancelledError)
    # The hub learns on its clock's next turn that the client went away.
    clock.advance(0)
    assert not clock.getDelayedCalls()


def test_close_fires_at_once_and_refuses_later_calls(hub):
    koji = connect(hub)
    assert outcome(koji.close()) is None
    failure = outcome(koji.getBuild(1001))
    assert failure.check(KojiConnectionError)
    assert "closed" in str(failure.value)


def test_close_waits_for_a_call_under_way(hub, clock):
    hub.faults.add(method="getBuild", delay=1.0)
    koji = connect(hub)
    call = koji.getBuild(1001)
    closing = koji.close()
    closed: list[Any] = []
    closing.addBoth(closed.append)
    assert closed == []
    clock.advance(1.0)
    assert outcome(call).id == 1001
    assert closed == [None]


def test_no_socket_is_opened(hub):
    from twisted.internet import reactor

    before = (set(reactor.getReaders()), set(reactor.getWriters()))
    outcome(connect(hub).getBuild(1001))
    assert (set(reactor.getReaders()), set(reactor.getWriters())) == before


def test_an_ssl_login_cannot_present_a_certificate_in_memory(hub_pki) -> None:
    hub = FakeHub()
    koji = Connection(
        server=SERVER,
        transport=memory_transport(hub),
        authtype="ssl",
        cert=str(hub_pki.client_pem),
    )
    failure = outcome(koji.login())
    assert failure.check(LoginTLSError)
    assert "cannot present a client certificate" in str(failure.value)
    assert hub.sessions.logins == 0
