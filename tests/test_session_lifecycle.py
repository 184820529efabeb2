"""What a session does when it ends and when it is handed on, against the
fake hub over real TLS: closing a connection (its queued and retrying
calls, its subsessions and pools), closed subsessions and pools, the
read-only hub URL, resuming a saved ``sinfo``, exclusive sessions, login
``opts``, and connections inherited by a forked child."""

from __future__ import annotations

import os
import pickle

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.task import Clock, deferLater

from tests.auth_helpers import login_url, ssl_connection
from tests.test_login_password import password_connection
from txkoji import Connection
from txkoji.exceptions import (
    AuthExpired,
    AuthLockError,
    KojiConnectionClosed,
    KojiLoginException,
    KojiSessionError,
)
from txkoji.requester import Requester
from txkoji.results import ResultType
from txkoji.retry import RetryPolicy


async def waiting_for_retry(clock: Clock, calls: int = 1) -> None:
    """Return once ``calls`` failed attempts wait on ``clock`` for their
    retry (the first retry of a logged-in call waits 0 s on the clock, so
    it waits until the test advances it)."""
    for _ in range(1000):
        due = [call for call in clock.getDelayedCalls() if call.getTime() == 0]
        if len(due) >= calls:
            return
        await deferLater(reactor, 0.005)
    raise AssertionError("no call came to wait for its retry")


def outcome(d: defer.Deferred) -> object:
    """What ``d`` fired with so far (a Failure's exception), else None."""
    box: list[object] = []
    d.addBoth(lambda value: box.append(getattr(value, "value", value)))
    return box[0] if box else None


@pytest_twisted.ensureDeferred
async def test_close_fails_queued_and_retrying_calls_at_once(hub, hub_pki) -> None:
    clock = Clock()
    koji = ssl_connection(hub, hub_pki, clock=clock)
    await koji.login()
    hub.hub.faults.add(method="getLoggedInUser", http_status=503, times=None)
    retrying = koji.getLoggedInUser()
    await waiting_for_retry(clock)
    queued = koji.getTaskInfo(50001)
    closing = koji.close()
    # No time passes: both fail as close() returns.
    for call in (retrying, queued):
        error = outcome(call)
        assert isinstance(error, KojiConnectionClosed), error
        assert "was closed" in str(error)
    later = outcome(koji.getUser("alice"))
    assert isinstance(later, KojiConnectionClosed)
    assert "cannot call getUser" in str(later)
    await closing
    assert koji.closed
    assert hub.hub.sessions.sessions == {}  # logged out


@pytest_twisted.ensureDeferred
async def test_close_ends_subsessions_and_pools_and_their_queued_calls(
    hub, hub_pki
) -> None:
    clock = Clock()
    koji = ssl_connection(hub, hub_pki, clock=clock)
    await koji.login()
    sub = await koji.subsession()
    pool = await koji.session_pool(2)
    hub.hub.faults.add(method="getLoggedInUser", http_status=503, times=None)
    retrying = sub.getLoggedInUser()
    await waiting_for_retry(clock)
    queued = sub.getTaskInfo(50001)
    pooled = [pool.getLoggedInUser() for _ in range(2)]
    await waiting_for_retry(clock, 3)
    calls_before = len(hub.hub.calls)
    closing = koji.close()
    for call in [retrying, queued, *pooled]:
        assert isinstance(outcome(call), KojiConnectionClosed)
    assert sub.closed and pool.closed
    for target in (sub, pool, *pool.members):
        error = outcome(target.getLoggedInUser())
        assert isinstance(error, KojiConnectionClosed)
    assert "was closed with its master" in str(outcome(sub.getTaskInfo(1)))
    await closing
    # Only the master's logout reached the hub: no anonymous call.
    assert hub.hub.calls[calls_before:] == ["logout"]
    assert hub.hub.sessions.sessions == {}
    await sub.close()
    await pool.close()


@pytest_twisted.ensureDeferred
async def test_a_closed_subsession_refuses_calls_instead_of_going_anonymous(
    hub, hub_pki
) -> None:
    koji = ssl_connection(hub, hub_pki)
    await koji.login()
    try:
        sub = await koji.subsession()
        await sub.close()
        calls = len(hub.hub.calls)
        with pytest.raises(KojiConnectionClosed, match="subsession .* was closed"):
            await sub.getLoggedInUser()
        with pytest.raises(KojiConnectionClosed):
            await sub.multicall([("getLoggedInUser", [])])
        assert len(hub.hub.calls) == calls
        pool = await koji.session_pool(2)
        await pool.close()
        with pytest.raises(KojiConnectionClosed, match="session pool .* was closed"):
            await pool.getLoggedInUser()
        with pytest.raises(KojiConnectionClosed):
            await pool.members[0].getLoggedInUser()
        # The master goes on.
        assert (await koji.getLoggedInUser())["name"] == "alice"
    finally:
        await koji.close()


@pytest_twisted.ensureDeferred
async def test_subsession_calls_queued_at_its_close_fail_at_once(hub, hub_pki) -> None:
    clock = Clock()
    koji = ssl_connection(hub, hub_pki, clock=clock)
    await koji.login()
    sub = await koji.subsession()
    hub.hub.faults.add(method="getLoggedInUser", http_status=503, times=1)
    in_flight = sub.getLoggedInUser()
    await waiting_for_retry(clock)
    queued = sub.getTaskInfo(50001)
    closing = sub.close()
    assert isinstance(outcome(queued), KojiConnectionClosed)
    clock.advance(0)  # the call under way is retried and answered
    assert (await in_flight)["name"] == "alice"
    await closing
    await koji.close()


def test_url_is_read_only(hub_pki) -> None:
    koji = Connection(server="https://koji.example.com/kojihub")
    with pytest.raises(AttributeError, match="read-only.*Connection\\(server="):
        koji.url = "https://other.example.com/kojihub"
    assert koji.url == "https://koji.example.com/kojihub"


@pytest_twisted.ensureDeferred
async def test_a_saved_sinfo_resumes_the_session_elsewhere(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    await koji.login()
    await koji.createTag("made-by-the-owner")
    sinfo = koji.sinfo
    assert sinfo["session-id"] == koji.session_id
    assert sinfo["callnum"] == koji.callnum
    worker = Connection(
        server=login_url(hub), serverca=str(hub_pki.ca_cert), sinfo=sinfo
    )
    assert worker.session_id == koji.session_id
    assert (await worker.getLoggedInUser())["name"] == "alice"
    # Numbered after the owner's calls: a write is not refused as a repeat.
    await worker.createTag("made-by-the-worker")
    assert "session-key" not in repr(worker.session)
    hub.hub.sessions.expire(koji.session_id)
    with pytest.raises(AuthExpired, match="resumed from a saved sinfo"):
        await worker.getLoggedInUser()
    await worker.close()
    await koji.close()


@pytest.mark.parametrize(
    ("sinfo", "complaint"),
    [
        ({"session-key": "1-abc"}, "integer session-id"),
        ({"session-id": 1}, "session-key"),
        ({"session-id": 1, "session-key": "1-abc", "callnum": -1}, "callnum"),
        ("1-abc", "mapping"),
    ],
)
def test_a_malformed_sinfo_is_refused_at_once(sinfo, complaint) -> None:
    with pytest.raises(KojiSessionError, match=complaint) as caught:
        Connection(server="https://koji.example.com/kojihub", sinfo=sinfo)
    assert "1-abc" not in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_exclusive_login_locks_others_out_and_renewal_asks_again(
    hub, hub_pki
) -> None:
    koji = ssl_connection(hub, hub_pki)
    other = ssl_connection(hub, hub_pki)
    try:
        await koji.login(exclusive=True)
        assert hub.hub.sessions.sessions[koji.session_id].exclusive
        await other.login()
        with pytest.raises(AuthLockError):
            await other.getLoggedInUser()
        hub.hub.sessions.expire(koji.session_id)
        assert not hub.hub.sessions.sessions[koji.session_id].exclusive
        assert (await koji.getLoggedInUser())["name"] == "alice"  # renewed
        assert hub.hub.sessions.sessions[koji.session_id].exclusive
    finally:
        await koji.close()
        await other.close()


@pytest_twisted.ensureDeferred
async def test_exclusive_session_call_is_remembered_for_renewal(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    await koji.login()
    await koji.exclusiveSession()
    hub.hub.sessions.expire(koji.session_id)
    await koji.getLoggedInUser()
    assert hub.hub.sessions.sessions[koji.session_id].exclusive
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_password_login_opts_reach_the_hub(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki)
    await koji.login(opts={"hostip": "192.0.2.7"})
    assert hub.hub.sessions.sessions[koji.session_id].hostip == "192.0.2.7"
    await koji.close()


@pytest.mark.parametrize(
    ("opts", "complaint"),
    [({"hostip": "192.0.2.7"}, "password login only"), ("192.0.2.7", "mapping")],
)
@pytest_twisted.ensureDeferred
async def test_login_opts_are_checked_before_any_request(
    hub, hub_pki, opts, complaint
) -> None:
    koji = ssl_connection(hub, hub_pki)
    with pytest.raises(KojiLoginException, match=complaint):
        await koji.login(opts=opts)
    assert hub.hub.calls == []
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_a_forked_child_cannot_use_its_parents_connection(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    await koji.login()
    assert (await koji.getLoggedInUser())["name"] == "alice"
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no reactor turn, only what fails at once
        try:
            error = outcome(koji.getLoggedInUser())
            try:
                koji.transport  # noqa: B018 - what file transfers use
            except KojiConnectionClosed as refused:
                transport = str(refused)
            closed = outcome(koji.close())
            report = (
                type(error).__name__,
                str(error),
                closed,
                koji.session_id,
                transport,
            )
            os.write(writing, pickle.dumps(report))
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        kind, message, closed, session_id, transport = pickle.loads(pipe.read())
    os.waitpid(pid, 0)
    assert kind == "KojiConnectionClosed"
    assert "forked child" in message and "sinfo" in message
    assert closed is None and session_id is None
    assert "forked child" in transport
    # The parent's session and sockets are untouched.
    assert (await koji.getLoggedInUser())["name"] == "alice"
    assert koji.session_id in hub.hub.sessions.sessions
    await koji.close()


class PendingTransport:
    """Posts that stay unanswered until the test answers them."""

    def __init__(self) -> None:
        self.posts: list[defer.Deferred] = []

    def post(self, url, body, decoder, *, method="", headers=None) -> defer.Deferred:
        self.posts.append(defer.Deferred())
        return self.posts[-1]


def test_calls_waiting_for_a_concurrency_slot_fail_at_once_on_close() -> None:
    transport = PendingTransport()
    requester = Requester(transport, RetryPolicy(), Clock(), 1, "https://hub/kojihub")
    in_flight = requester.send("getBuild", b"<call/>", ResultType())
    waiting = requester.send("getTask", b"<call/>", ResultType())
    assert len(transport.posts) == 1

    def closed(method: str) -> BaseException:
        return KojiConnectionClosed(f"cannot call {method}: closed")

    requester.close(closed)
    error = outcome(waiting)
    assert isinstance(error, KojiConnectionClosed) and "getTask" in str(error)
    assert len(transport.posts) == 1  # it never reached the transport
    transport.posts[0].callback("answer")
    assert outcome(in_flight) == "answer"
    later = outcome(requester.send("getBuild", b"<call/>", ResultType()))
    assert isinstance(later, KojiConnectionClosed)


@pytest_twisted.ensureDeferred
async def test_a_second_close_waits_for_the_first(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    await koji.login()
    first = koji.close()
    second = koji.close()
    assert not second.called  # the logout is under way
    await second
    assert first.called
    assert hub.hub.sessions.sessions == {}
    await koji.close()  # long closed: at once
