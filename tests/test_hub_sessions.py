"""The fake hub's session rules (txkoji.testing.sessions), without a
network: call numbers, expiry, logout and exclusivity."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from txkoji.exceptions import (
    AuthError,
    AuthExpired,
    AuthLockError,
    GenericError,
    RetryError,
    SequenceError,
)
from txkoji.testing import FakeHub
from txkoji.testing.dispatch import CallContext
from txkoji.testing.sessions import CallCredentials, SessionStore

ALICE = {"id": 2, "name": "alice"}


def login(store: SessionStore) -> CallCredentials:
    answer = store.create(ALICE, "ssl")
    return CallCredentials(answer["session-id"], answer["session-key"], None)


def numbered(credentials: CallCredentials, callnum: int | None) -> CallCredentials:
    return CallCredentials(credentials.session_id, credentials.key, callnum)


def run(store: SessionStore, credentials: CallCredentials, write: bool) -> None:
    """Check and finish one call as the hub does."""
    ctx = CallContext(None, None, None, "createTag")
    ctx.session = store.open(credentials, ctx.method)
    ctx.callnum = credentials.callnum
    ctx.wrote = write
    store.end(ctx)


def test_login_answer_has_id_key_and_header_auth() -> None:
    answer = SessionStore(Clock()).create(ALICE, "ssl")
    assert answer["header-auth"] is True
    assert answer["session-key"].startswith("2-")
    assert len(answer["session-key"]) == 22


def test_anonymous_call_has_no_session() -> None:
    assert SessionStore(Clock()).open(CallCredentials(None, None, None), "x") is None


def test_wrong_key_or_unknown_session_is_auth_error() -> None:
    store = SessionStore(Clock())
    session = login(store)
    with pytest.raises(AuthError, match="Invalid session"):
        store.open(CallCredentials(session.session_id, "2-wrong", 0), "x")
    with pytest.raises(AuthError, match="Invalid session"):
        store.open(CallCredentials(99, session.key, 0), "x")


def test_read_only_calls_do_not_store_the_number() -> None:
    store = SessionStore(Clock())
    session = login(store)
    for callnum in (5, 3, 3, 0):
        run(store, numbered(session, callnum), write=False)
    assert store.sessions[session.session_id].lastcall is None


def test_lower_callnum_after_write_is_sequence_error() -> None:
    store = SessionStore(Clock())
    session = login(store)
    run(store, numbered(session, 4), write=True)
    with pytest.raises(SequenceError, match=r"4 > 3 \(session 1\)"):
        run(store, numbered(session, 3), write=False)


def test_same_callnum_after_write_is_retry_error() -> None:
    store = SessionStore(Clock())
    session = login(store)
    run(store, numbered(session, 4), write=True)
    with pytest.raises(RetryError, match="unable to retry call 4"):
        run(store, numbered(session, 4), write=False)
    store.open(numbered(session, 4), "host.taskWait")
    run(store, numbered(session, 5), write=True)
    run(store, numbered(session, None), write=True)
    assert store.sessions[session.session_id].lastcall == 5


def test_idle_session_expires_and_renewal_revives_it() -> None:
    clock = Clock()
    store = SessionStore(clock, renewal_timeout=60)
    session = login(store)
    clock.advance(30)
    run(store, numbered(session, 0), write=True)
    clock.advance(61)
    with pytest.raises(AuthExpired):
        run(store, numbered(session, 1), write=False)
    answer = store.renew(session, ALICE)
    # The hub keeps the session's id and issues a new key.
    assert answer["session-id"] == session.session_id
    assert answer["session-key"] != session.key
    with pytest.raises(AuthError, match="Invalid session"):
        run(store, numbered(session, 1), write=False)
    renewed = CallCredentials(session.session_id, answer["session-key"], 1)
    run(store, renewed, write=False)
    assert store.renew(renewed, {"id": 3}) is False


def test_logout_closes_the_session() -> None:
    hub = FakeHub(Clock())
    session = login(hub.sessions)
    ctx = CallContext(hub, hub.state, None, "logout")
    ctx.session = hub.sessions.open(session, "logout")
    hub.run(ctx, "logout", [])
    with pytest.raises(AuthError):
        hub.sessions.open(session, "getLoggedInUser")


def test_exclusive_session_locks_out_others_unless_forced() -> None:
    hub = FakeHub(Clock())
    first, second = login(hub.sessions), login(hub.sessions)

    def call(credentials: CallCredentials, method: str, *params) -> None:
        ctx = CallContext(hub, hub.state, None, method)
        ctx.session = hub.sessions.open(credentials, method)
        hub.run(ctx, method, list(params))

    call(first, "exclusiveSession")
    with pytest.raises(GenericError, match="session is already exclusive"):
        call(first, "exclusiveSession")
    with pytest.raises(AuthLockError, match="User locked by another session$"):
        call(second, "getLoggedInUser")
    with pytest.raises(AuthLockError, match="Cannot get exclusive"):
        call(second, "exclusiveSession")
    call(second, "exclusiveSession", {"force": True, "__starstar": True})
    with pytest.raises(AuthExpired):
        call(first, "getLoggedInUser")
    call(second, "sharedSession")
    call(second, "getLoggedInUser")


def test_expiry_drops_the_lock_and_a_renewal_can_take_it_again() -> None:
    hub = FakeHub(Clock())
    first, second = login(hub.sessions), login(hub.sessions)
    holder = hub.sessions.sessions[first.session_id]
    holder.exclusive = True
    with pytest.raises(AuthLockError):
        hub.sessions.open(second, "getLoggedInUser")
    hub.sessions.expire(first.session_id)
    assert not holder.exclusive
    hub.sessions.open(second, "getLoggedInUser")
