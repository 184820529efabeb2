"""Subsessions and session pools against the fake hub over real TLS, and
the fake hub's subsession rules."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer

from tests.auth_helpers import kerberos_connection, ssl_connection
from tests.kdc import kdc  # noqa: F401 - the fixture
from txkoji import Connection
from txkoji.exceptions import (
    AuthError,
    GenericError,
    KojiConnectionClosed,
    KojiLoginException,
    KojiSessionError,
)
from txkoji.subsession import SessionPool, SubSession
from txkoji.task import Task
from txkoji.testing.auth import LoginGate
from txkoji.testing.sessions import subsession as hub_subsession


@pytest_twisted.async_yield_fixture()
async def koji(hub, hub_pki):
    connection = ssl_connection(hub, hub_pki)
    await connection.login()
    yield connection
    await connection.close()


@pytest_twisted.ensureDeferred
async def test_subsession_has_its_own_session(koji, hub) -> None:
    sub = await koji.subsession()
    assert isinstance(sub, SubSession)
    assert sub.master is koji
    assert sub.session_id != koji.session_id
    assert sub.session_key != koji.session_key
    assert sub.transport is koji.transport and sub.config is koji.config
    stored = hub.hub.sessions.sessions[sub.session_id]
    assert stored.master == koji.session_id
    assert (await sub.getLoggedInUser())["name"] == "alice"
    await sub.createTag("from-a-subsession")
    # Numbered on its own: the master's numbers are untouched.
    assert sub.callnum == 2
    assert stored.lastcall == 1
    master_calls = koji.callnum
    await sub.getLoggedInUser()
    assert koji.callnum == master_calls
    await sub.close()


@pytest_twisted.ensureDeferred
async def test_subsession_multicall_and_typed_results(koji) -> None:
    sub = await koji.subsession()
    results = await sub.multicall([("getLoggedInUser", []), ("getTaskInfo", [50001])])
    assert results[0]["name"] == "alice"
    task = await sub.getTaskInfo(50001)
    assert isinstance(task, Task) and task.connection is sub
    mc = sub.MultiCall()
    mc.getLoggedInUser()
    assert list(await mc())[0]["name"] == "alice"
    await sub.close()


@pytest_twisted.ensureDeferred
async def test_closing_a_subsession_ends_it_alone(koji, hub) -> None:
    sub = await koji.subsession()
    other = await sub.subsession()  # the hub ties it to the first session
    assert hub.hub.sessions.sessions[other.session_id].master == koji.session_id
    sub_id = sub.session_id
    await sub.close()
    assert sub.session is None
    assert "logoutChild" in hub.hub.calls and "logout" not in hub.hub.calls
    assert sub_id not in hub.hub.sessions.sessions
    assert (await koji.getLoggedInUser())["name"] == "alice"
    assert (await other.getLoggedInUser())["name"] == "alice"
    await sub.close()  # already ended: nothing happens
    await other.close()


@pytest_twisted.ensureDeferred
async def test_logging_out_the_master_ends_its_subsessions(koji, hub) -> None:
    sub = await koji.subsession()
    await koji.logout()
    calls = len(hub.hub.calls)
    with pytest.raises(KojiConnectionClosed, match="ended when its master logged out"):
        await sub.getLoggedInUser()
    assert len(hub.hub.calls) == calls  # refused here, never sent anonymously
    await sub.close()
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_expiry_of_the_master_expires_and_renews_subsessions(koji, hub) -> None:
    sub = await koji.subsession()
    sub_id, key = sub.session_id, sub.session_key
    hub.hub.sessions.expire(koji.session_id)
    assert hub.hub.sessions.sessions[sub_id].expired
    # The subsession renews itself with the master's login method.
    assert (await sub.getLoggedInUser())["name"] == "alice"
    assert sub.session_id == sub_id and sub.session_key != key
    assert hub.hub.sessions.sessions[sub_id].master == koji.session_id
    assert (await koji.getLoggedInUser())["name"] == "alice"
    await sub.close()
    assert sub_id not in hub.hub.sessions.sessions


@pytest_twisted.ensureDeferred
async def test_subsession_on_a_hub_that_cannot_renew(koji, hub) -> None:
    hub.hub.sessions.renewal = False
    sub = await koji.subsession()
    sub_id = sub.session_id
    hub.hub.sessions.expire(sub_id)
    # A fresh login replaces the expired subsession by a session of its own.
    assert (await sub.getLoggedInUser())["name"] == "alice"
    fresh = sub.session_id
    assert fresh != sub_id and hub.hub.sessions.sessions[fresh].master is None
    await sub.close()
    assert fresh not in hub.hub.sessions.sessions
    assert (await koji.getLoggedInUser())["name"] == "alice"


@pytest_twisted.ensureDeferred
async def test_subsession_refuses_login_and_exclusivity(koji) -> None:
    sub = await koji.subsession()
    with pytest.raises(KojiLoginException, match="logged in already"):
        await sub.login()
    with pytest.raises(GenericError, match="subsessions cannot become exclusive"):
        await sub.exclusiveSession()
    await sub.close()


@pytest_twisted.ensureDeferred
async def test_subsession_of_the_exclusive_session_shares_its_lock(koji) -> None:
    await koji.exclusiveSession()
    sub = await koji.subsession()
    assert (await sub.getLoggedInUser())["name"] == "alice"
    await sub.close()


@pytest_twisted.ensureDeferred
async def test_subsession_needs_a_login(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    with pytest.raises(KojiSessionError, match="logged-in"):
        await koji.subsession()
    with pytest.raises(KojiSessionError, match="logged-in"):
        await koji.session_pool(2)
    assert hub.connections_made == 0
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_anonymous_subsession_call_is_refused_by_the_hub(hub_server) -> None:
    koji = Connection(server=hub_server.url)
    with pytest.raises(AuthError, match="Not logged in"):
        await koji.call("subsession")
    with pytest.raises(AuthError, match="Not logged in"):
        await koji.call("logoutChild", 1)
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_logout_child_ignores_other_sessions(koji, hub, hub_pki) -> None:
    other = ssl_connection(hub, hub_pki)
    await other.login()
    await koji.logoutChild(other.session_id)  # not a child: nothing happens
    assert (await other.getLoggedInUser())["name"] == "alice"
    await other.close()


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "2"])
@pytest_twisted.ensureDeferred
async def test_pool_size_must_be_a_positive_integer(koji, size) -> None:
    with pytest.raises(KojiSessionError, match="at least 1"):
        await koji.session_pool(size)


@pytest_twisted.ensureDeferred
async def test_pool_spreads_calls_over_its_subsessions(koji, hub) -> None:
    pool = await koji.session_pool(3)
    assert isinstance(pool, SessionPool) and len(pool) == 3
    ids = {member.session_id for member in pool.members}
    assert len(ids) == 3 and koji.session_id not in ids
    tasks = await defer.gatherResults([pool.getTaskInfo(50001) for _ in range(9)])
    assert all(isinstance(task, Task) for task in tasks)
    assert {task.connection for task in tasks} == set(pool.members)
    assert all(pool.load(member) == 0 for member in pool.members)
    for member in pool.members:
        assert member.session_order.requests_sent >= 1
    users = await pool.multicall([("getLoggedInUser", [])])
    assert users[0]["name"] == "alice"
    assert (await pool.getLoggedInUser())["name"] == "alice"
    mc = pool.MultiCall()
    mc.getLoggedInUser()
    assert list(await mc())[0]["name"] == "alice"
    await pool.close()
    assert set(hub.hub.sessions.sessions) == {koji.session_id}


@pytest_twisted.ensureDeferred
async def test_pool_picks_the_least_loaded_subsession(koji, hub) -> None:
    pool = await koji.session_pool(2)
    first, second = pool.members
    # No answer can arrive before the calls below return: the loads are
    # the calls made so far.
    slow = pool.getTaskInfo(50001)  # goes to the first
    assert (pool.load(first), pool.load(second)) == (1, 0)
    quick = pool.getTaskInfo(50002)  # the second has nothing in flight
    assert (pool.load(first), pool.load(second)) == (1, 1)
    third = pool.getLoggedInUser()  # a tie: the first
    assert (pool.load(first), pool.load(second)) == (2, 1)
    await defer.gatherResults([slow, quick, third])
    assert (pool.load(first), pool.load(second)) == (0, 0)
    await pool.close()


@pytest_twisted.ensureDeferred
async def test_failed_pool_closes_what_it_opened(koji, hub) -> None:
    made = []

    def second_fails(ctx):
        made.append(ctx)
        if len(made) == 2:
            raise GenericError("no more")
        return hub_subsession(ctx)

    hub.hub.methods.register(second_fails, "subsession", write=True)
    with pytest.raises(GenericError, match="no more"):
        await koji.session_pool(3)
    assert set(hub.hub.sessions.sessions) == {koji.session_id}


@pytest.mark.kerberos
@pytest_twisted.ensureDeferred
async def test_kerberos_subsession_renews_by_kerberos(hub, hub_pki, kdc) -> None:  # noqa: F811
    hub.hub.login_gate = LoginGate(keytab=kdc.service_keytab, realms=(kdc.realm,))
    koji = kerberos_connection(hub, hub_pki, kdc.user, kdc.user_keytab)
    await koji.login()
    pool = await koji.session_pool(2)
    hub.hub.sessions.expire(koji.session_id)
    users = await defer.gatherResults([pool.getLoggedInUser() for _ in range(4)])
    assert {user["name"] for user in users} == {"alice"}
    assert hub.hub.sessions.logins == 3  # the login, then one renewal each
    assert all(m.session.authtype == "gssapi" for m in pool.members)
    await pool.close()
    await koji.close()
    assert hub.hub.sessions.sessions == {}
    kdc.kdestroy()
