"""The fault matrix of subsessions and session pools.

Each row runs the same calls (two reads and two writes) on a subsession,
and on a pool of two subsessions, of a logged-in connection to the fake
hub over real TLS, while one fault holds; a real forward proxy sits in
front of the hub for the proxy rows.  Time (retry waits, timeouts) runs on
a ``Clock`` the test advances, so no row waits for real seconds.

Every row ends in one of two ways, never in a hang:

* recovery: every call returns what the hub holds, and each write took
  effect exactly once;
* a clear error: every call fails with the row's exception class, whose
  message names what failed; once the fault is gone, the same subsession
  or pool works again (except after ``close()``, which is final).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.task import Clock, deferLater
from twisted.python.failure import Failure

from tests.auth_helpers import ssl_connection
from tests.forward_proxy import ForwardProxy
from txkoji.exceptions import (
    KojiConnectionClosed,
    KojiConnectionError,
    KojiHTTPError,
    KojiProtocolError,
    KojiProxyRefused,
    KojiTimeoutError,
)


@dataclass
class Setting:
    """What a row acts on."""

    hub: Any
    proxy: ForwardProxy
    clock: Clock
    koji: Any
    target: Any


Step = Callable[[Setting], Awaitable[None] | None]


async def nothing(setting: Setting) -> None:
    """No action."""


@dataclass(frozen=True)
class Row:
    """One fault: how it starts, what happens while the calls wait, how it
    ends, and what the calls must give."""

    name: str
    inject: Step
    #: Runs once the calls are under way (e.g. the hub comes back).
    meanwhile: Step = nothing
    #: ``None``: the calls recover; else the class every call fails with
    #: and a fragment of its message.
    error: tuple[type[BaseException], str] | None = None
    #: Ends the fault (for the check that the target works again).
    heal: Step = nothing
    #: The calls already sent when the fault came are answered; only the
    #: others fail.
    in_flight_answered: bool = False


async def stop_hub(setting: Setting) -> None:
    await setting.hub.stop()


async def restart_hub(setting: Setting) -> None:
    # The calls wait for their retry on the clock; the hub comes back on
    # its port.
    await waiting(setting.clock)
    await setting.hub.start(setting.hub.port)


def faults(**rule: Any) -> Step:
    def inject(setting: Setting) -> None:
        setting.hub.hub.faults.add(times=None, **rule)

    return inject


def clear_faults(setting: Setting) -> None:
    setting.hub.hub.faults.clear()


def proxy_doing(behaviour: str = "relay", credentials: str | None = None) -> Step:
    def inject(setting: Setting) -> None:
        setting.proxy.behaviour = behaviour
        setting.proxy.credentials = credentials
        setting.proxy.cut()  # the pooled tunnels go: new ones meet the fault

    return inject


def expire_session(setting: Setting) -> None:
    setting.hub.hub.sessions.expire(setting.koji.session_id)


async def close_master(setting: Setting) -> None:
    await setting.koji.close()


ROWS = [
    Row("hub down mid-way and back", stop_hub, meanwhile=restart_hub),
    Row(
        "hub answering 500",
        faults(http_status=500),
        error=(KojiHTTPError, "HTTP 500"),
        heal=clear_faults,
    ),
    Row("hub answering slowly", faults(delay=0.05)),
    Row(
        "hub answering garbage",
        faults(malformed=True),
        error=(KojiProtocolError, "malformed XML-RPC answer"),
        heal=clear_faults,
    ),
    Row(
        "proxy refusing the credentials",
        proxy_doing(credentials="alice:other"),
        error=(KojiProxyRefused, "HTTP 407"),
        heal=proxy_doing(),
    ),
    Row(
        "proxy dropping the CONNECT",
        proxy_doing("drop"),
        error=(KojiConnectionError, "before answering CONNECT"),
        heal=proxy_doing(),
    ),
    Row(
        "proxy closing after 200",
        proxy_doing("close-after-200"),
        error=(KojiConnectionError, "connection"),
        heal=proxy_doing(),
    ),
    Row("session expired while calls are queued", expire_session),
    Row(
        "session closed while calls are queued",
        nothing,
        meanwhile=close_master,
        error=(KojiConnectionClosed, "was closed"),
        in_flight_answered=True,
    ),
]


async def waiting(clock: Clock) -> None:
    """Return once something waits on ``clock`` (a retry, a timeout)."""
    for _ in range(2000):
        if clock.getDelayedCalls():
            return
        await deferLater(reactor, 0.002)
    raise AssertionError("nothing came to wait on the clock")


async def settle(
    calls: list[defer.Deferred], clock: Clock, horizon: float = 10
) -> list[Any]:
    """Run the reactor, and move ``clock`` to its next deadline when that
    is at most ``horizon`` seconds away (the retry waits, not the calls'
    timeouts, which the I/O under way must not meet early), until every
    call has an outcome."""
    outcomes: list[Any] = [None] * len(calls)
    done = [False] * len(calls)
    for index, call in enumerate(calls):

        def keep(value: Any, index: int = index) -> None:
            outcomes[index] = value
            done[index] = True

        call.addBoth(keep)
    for _ in range(5000):
        if all(done):
            return outcomes
        await deferLater(reactor, 0.002)
        due = [call.getTime() - clock.seconds() for call in clock.getDelayedCalls()]
        if due and min(due) <= horizon:
            clock.advance(min(due))
    raise AssertionError(f"calls still without an outcome: {done}")


def tag_names(row: Row, kind: str) -> list[str]:
    slug = "".join(c if c.isalnum() else "-" for c in row.name)
    return [f"matrix-{kind}-{slug}-{n}" for n in (1, 2)]


@pytest_twisted.async_yield_fixture()
async def proxy():
    server = ForwardProxy().start()
    yield server
    await server.stop()


@pytest.mark.parametrize("kind", ["subsession", "pool"])
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
@pytest_twisted.ensureDeferred
async def test_fault_matrix(hub, hub_pki, proxy, row: Row, kind: str) -> None:
    clock = Clock()
    koji = ssl_connection(
        hub,
        hub_pki,
        clock=clock,
        proxy=proxy.url,
        max_retries=3,
        retry_interval=10,
        timeout=60,
    )
    await koji.login()
    target = await (koji.subsession() if kind == "subsession" else koji.session_pool(2))
    setting = Setting(hub, proxy, clock, koji, target)
    try:
        await defer.maybeDeferred(row.inject, setting)
        names = tag_names(row, kind)
        calls = [
            target.getTaskInfo(50001),
            target.getTaskInfo(50002),
            *(target.createTag(name) for name in names),
        ]
        await defer.maybeDeferred(row.meanwhile, setting)
        outcomes = await settle(calls, clock)
        if row.error is None:
            failures = [o for o in outcomes if isinstance(o, Failure)]
            assert not failures, failures
            assert [task.id for task in outcomes[:2]] == [50001, 50002]
            for name, tag_id in zip(names, outcomes[2:], strict=True):
                assert hub.hub.state.find("tags", name)["id"] == tag_id
            made = [tag for tag in hub.hub.state.tags.values() if tag["name"] in names]
            assert len(made) == 2  # each write once
        else:
            cls, fragment = row.error
            failed = [o for o in outcomes if isinstance(o, Failure)]
            for outcome in failed:
                assert isinstance(outcome.value, cls), outcome.value
                assert fragment in str(outcome.value)
            if row.in_flight_answered:
                # One call in flight per subsession: answered, not lost.
                answered = len(outcomes) - len(failed)
                assert answered == (1 if kind == "subsession" else 2)
                assert outcomes[0].id == 50001
            else:
                assert len(failed) == len(outcomes), outcomes
            await defer.maybeDeferred(row.heal, setting)
            if not koji.closed:
                healed = await settle([target.getTaskInfo(50001)], clock)
                assert healed[0].id == 50001
    finally:
        hub.hub.faults.clear()
        await settle([target.close()], clock)
        await settle([koji.close()], clock)


@pytest.mark.parametrize("kind", ["subsession", "pool"])
@pytest_twisted.ensureDeferred
async def test_hub_down_from_the_start(hub_pki, kind: str) -> None:
    """A handed-over session (``sinfo``) whose hub is down: opening a
    subsession or a pool fails with the connection error once the retries
    are spent, and nothing is left open."""
    clock = Clock()
    koji = ssl_connection(
        type("Down", (), {"port": 1})(),
        hub_pki,
        clock=clock,
        max_retries=2,
        retry_interval=10,
        sinfo={"session-id": 1, "session-key": "1-key"},
    )
    opening = koji.subsession() if kind == "subsession" else koji.session_pool(2)
    [outcome] = await settle([opening], clock)
    assert isinstance(outcome, Failure)
    assert isinstance(outcome.value, KojiConnectionError)
    assert "refused the connection" in str(outcome.value)
    assert "subsession" in str(outcome.value)
    await settle([koji.close()], clock)


@pytest_twisted.ensureDeferred
async def test_timeout_of_a_slow_hub_is_a_clear_error(hub, hub_pki) -> None:
    """A hub slower than ``timeout``: every attempt times out on the clock,
    and the call fails with ``KojiTimeoutError`` once the retries are
    spent."""
    clock = Clock()
    koji = ssl_connection(
        hub, hub_pki, clock=clock, max_retries=1, retry_interval=10, timeout=30
    )
    await koji.login()
    pool = await koji.session_pool(2)
    hub.hub.faults.add(method="getTaskInfo", delay=3600, times=None)
    calls = [pool.getTaskInfo(50001), pool.getTaskInfo(50002)]
    outcomes = await settle(calls, clock, horizon=30)
    for outcome in outcomes:
        assert isinstance(outcome.value, KojiTimeoutError)
        assert "took longer than 30 s" in str(outcome.value)
    hub.hub.faults.clear()
    hub.hub.cancel_pending()
    await settle([pool.close()], clock)
    await settle([koji.close()], clock)
