"""SSL client-certificate login, and the calls of a logged-in session,
against the fake hub over real TLS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import pytest_twisted

from tests.auth_helpers import login_url, ssl_connection, start_tls_hub
from txkoji import Connection
from txkoji.auth import (
    LoginRefused,
    LoginTLSError,
    UnsupportedAuthType,
    choose_authtype,
)
from txkoji.exceptions import (
    AuthError,
    AuthExpired,
    KojiLoginException,
    KojiTLSError,
    RetryError,
)
from txkoji.testing.certs import make_ca, make_client_cert, make_server_cert


@pytest_twisted.async_yield_fixture()
async def koji(hub, hub_pki):
    connection = ssl_connection(hub, hub_pki)
    yield connection
    await connection.close()


@pytest_twisted.ensureDeferred
async def test_good_certificate_logs_in_as_its_cn(koji, hub) -> None:
    assert await koji.login() is True
    assert koji.session_id in hub.hub.sessions.sessions
    user = await koji.getLoggedInUser()
    assert user["name"] == "alice"


@pytest_twisted.ensureDeferred
async def test_calls_are_numbered_from_zero(koji, hub) -> None:
    await koji.login()
    assert koji.callnum == 0
    await koji.createTag("numbered")
    await koji.getLoggedInUser()
    assert koji.callnum == 2
    assert hub.hub.sessions.sessions[koji.session_id].lastcall == 0


@pytest_twisted.ensureDeferred
async def test_a_multicall_uses_one_call_number(koji) -> None:
    await koji.login()
    mc = koji.MultiCall()
    mc.createTag("mc-a")
    mc.createTag("mc-b")
    mc.getLoggedInUser()
    results = list(await mc())
    assert results[2]["name"] == "alice"
    assert koji.callnum == 1


@pytest_twisted.ensureDeferred
async def test_legacy_hub_gets_the_session_in_the_query_string(koji, hub) -> None:
    hub.hub.sessions.header_auth = False
    await koji.login()
    await koji.createTag("legacy")
    assert (await koji.getLoggedInUser())["name"] == "alice"
    assert hub.hub.sessions.sessions[koji.session_id].lastcall == 0


@pytest_twisted.ensureDeferred
async def test_expired_session_logs_in_again_and_retries(koji, hub) -> None:
    await koji.login()
    await koji.createTag("before")
    hub.hub.sessions.expire()
    assert await koji.createTag("after") > 0
    assert hub.hub.sessions.logins == 2
    assert (await koji.getLoggedInUser())["name"] == "alice"


@pytest_twisted.ensureDeferred
async def test_expired_again_after_logging_in_again_is_raised(koji, hub) -> None:
    await koji.login()
    hub.hub.faults.add(method="getLoggedInUser", fault=(1007, "expired"), times=2)
    with pytest.raises(AuthExpired, match="expired"):
        await koji.getLoggedInUser()
    assert hub.hub.sessions.logins == 2
    assert (await koji.getLoggedInUser())["name"] == "alice"


@pytest.mark.parametrize(
    "header_auth", [False, True], ids=["hub before 1.31", "hub 1.31"]
)
@pytest_twisted.ensureDeferred
async def test_hub_without_renewal_gets_a_fresh_login(koji, hub, header_auth) -> None:
    hub.hub.sessions.header_auth = header_auth
    hub.hub.sessions.renewal = False
    await koji.login()
    await koji.createTag("before")
    first_session = koji.session_id
    hub.hub.sessions.expire()
    assert await koji.createTag("after") > 0
    assert koji.session_id != first_session
    assert koji.callnum == 1
    assert (await koji.getLoggedInUser())["name"] == "alice"


@pytest_twisted.ensureDeferred
async def test_failed_login_after_expiry_raises_the_original_auth_expired(
    koji, hub
) -> None:
    hub.hub.sessions.renewal = False
    await koji.login()
    hub.hub.sessions.expire()
    # Every login from now on is refused.
    hub.hub.faults.add(method="sslLogin", fault=(1002, "no more logins"), times=None)
    with pytest.raises(AuthExpired, match="logging in again by ssl failed") as caught:
        await koji.createTag("after")
    assert isinstance(caught.value, AuthError)


@pytest_twisted.ensureDeferred
async def test_retry_error_says_the_call_may_have_run(koji, hub) -> None:
    await koji.login()
    hub.hub.faults.add(
        method="createTag",
        fault=(1009, "unable to retry call 0 (method createTag) for session 1"),
    )
    with pytest.raises(RetryError, match="call number 0, createTag") as caught:
        await koji.createTag("twice")
    assert "may have run it" in str(caught.value)
    assert await koji.createTag("next") > 0


@pytest_twisted.ensureDeferred
async def test_write_whose_answer_was_lost_is_not_run_twice(koji, hub) -> None:
    await koji.login()
    # The hub commits the write, then the connection drops mid-answer; the
    # retry carries the same call number, so the hub refuses to run it again.
    hub.hub.faults.add(method="createTag", drop=True)
    with pytest.raises(RetryError, match="may have run it"):
        await koji.createTag("lost-answer")
    assert hub.hub.calls.count("createTag") == 1
    assert (await koji.getTag("lost-answer")).name == "lost-answer"


@pytest_twisted.ensureDeferred
async def test_logout_ends_the_session(koji, hub) -> None:
    await koji.login()
    session_id = koji.session_id
    await koji.logout()
    assert koji.session_id is None and koji.callnum is None
    assert session_id not in hub.hub.sessions.sessions
    assert await koji.getLoggedInUser() is None


@pytest_twisted.ensureDeferred
async def test_close_logs_out_first(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    await koji.login()
    await koji.close()
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_session_methods_are_plain_calls(koji, hub) -> None:
    await koji.login()
    await koji.exclusiveSession()
    assert hub.hub.sessions.sessions[koji.session_id].exclusive
    await koji.sharedSession()
    anonymous = Connection(server=koji.url, serverca=koji.config["serverca"])
    try:
        with pytest.raises(AuthError, match="Not logged in"):
            await anonymous.call("exclusiveSession")
    finally:
        await anonymous.close()


@pytest_twisted.ensureDeferred
async def test_wrong_key_is_an_auth_error(koji, hub) -> None:
    await koji.login()
    hub.hub.sessions.sessions[koji.session_id].key = "2-changed"
    with pytest.raises(AuthError, match="Invalid session"):
        await koji.getLoggedInUser()


@pytest_twisted.ensureDeferred
async def test_certificate_from_another_ca_is_refused(hub, hub_pki, tmp_path) -> None:
    stranger = make_client_cert(make_ca("Other CA"), "alice")
    _, _, pem = stranger.write(tmp_path, "stranger")
    koji = ssl_connection(hub, hub_pki, cert=str(pem))
    with pytest.raises(LoginTLSError, match="unknown ca") as caught:
        await koji.login()
    assert isinstance(caught.value, KojiTLSError)
    assert "refused the client's certificate" in str(caught.value)
    assert koji.session_id is None
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_expired_certificate_is_refused(hub, hub_pki, tmp_path) -> None:
    past = datetime.now(timezone.utc) - timedelta(days=2)
    expired = make_client_cert(
        hub_pki.ca, "alice", not_before=past - timedelta(days=30), not_after=past
    )
    _, _, pem = expired.write(tmp_path, "expired")
    koji = ssl_connection(hub, hub_pki, cert=str(pem))
    with pytest.raises(LoginTLSError, match="certificate expired"):
        await koji.login()
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_not_yet_valid_certificate_gets_the_hint(hub, hub_pki, tmp_path) -> None:
    future = datetime.now(timezone.utc) + timedelta(days=2)
    early = make_client_cert(
        hub_pki.ca, "alice", not_before=future, not_after=future + timedelta(days=30)
    )
    _, _, pem = early.write(tmp_path, "early")
    koji = ssl_connection(hub, hub_pki, cert=str(pem))
    with pytest.raises(LoginTLSError, match="bad certificate") as caught:
        await koji.login()
    assert "refused the client's certificate" in str(caught.value)
    assert "not yet to come" in str(caught.value)
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_hub_certificate_for_another_host_is_refused(hub_pki, tmp_path) -> None:
    wrong = make_server_cert(hub_pki.ca, ["wrong.example.com"])
    cert, key, _ = wrong.write(tmp_path, "wrong")
    server = await start_tls_hub(hub_pki, (cert, key))
    try:
        koji = ssl_connection(server, hub_pki)
        with pytest.raises(LoginTLSError, match="not issued for localhost"):
            await koji.login()
        assert server.hub.sessions.sessions == {}
    finally:
        await server.stop()


@pytest_twisted.ensureDeferred
async def test_unknown_user_is_refused_with_the_hubs_reason(
    hub, hub_pki, tmp_path
) -> None:
    nobody = make_client_cert(hub_pki.ca, "nobody")
    _, _, pem = nobody.write(tmp_path, "nobody")
    koji = ssl_connection(hub, hub_pki, cert=str(pem))
    with pytest.raises(LoginRefused, match="Unknown user: nobody") as caught:
        await koji.login()
    assert caught.value.reason == "Unknown user: nobody"


@pytest_twisted.ensureDeferred
async def test_ssl_login_without_cert_fails_before_any_request(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki, cert=None)
    with pytest.raises(KojiLoginException, match="needs a client certificate"):
        await koji.login()
    assert hub.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_unsupported_authtype_fails_before_any_request(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki, authtype="passwd")
    with pytest.raises(UnsupportedAuthType, match="'passwd'"):
        await koji.login()
    with pytest.raises(UnsupportedAuthType, match="'noauth'"):
        await koji.login(authtype="noauth")
    assert hub.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_login_authtype_argument_overrides_the_profile(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki, authtype="kerberos")
    assert await koji.login(authtype="ssl") is True
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_unreachable_hub_is_a_login_error(hub_pki) -> None:
    server = await start_tls_hub(hub_pki)
    await server.stop()
    koji = Connection(
        server=login_url(server), cert=str(hub_pki.client_pem), authtype="ssl"
    )
    with pytest.raises(KojiLoginException, match="refused the connection"):
        await koji.login()


def test_authtype_follows_the_official_client(tmp_path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text("x")
    assert choose_authtype({"cert": str(cert)}) == "ssl"
    assert choose_authtype({"cert": str(tmp_path / "missing.pem")}) == "gssapi"
    assert choose_authtype({}) == "gssapi"
    assert choose_authtype({"user": "alice"}) == "password"
    assert choose_authtype({"user": "alice", "cert": str(cert)}) == "ssl"
    assert choose_authtype({"authtype": "kerberos", "cert": str(cert)}) == "gssapi"
    assert choose_authtype({"authtype": "SSL"}) == "ssl"
    assert choose_authtype({"authtype": "ssl"}, "gssapi") == "gssapi"


@pytest.mark.parametrize(
    "rule", [{"http_status": 500}, {"answer": 42}, {"fault": (1002, "no")}]
)
@pytest_twisted.ensureDeferred
async def test_every_ssl_login_error_names_the_sslLogin_call(
    hub, hub_pki, rule
) -> None:
    hub.hub.faults.add(method="sslLogin", **rule)
    koji = ssl_connection(hub, hub_pki)
    with pytest.raises(KojiLoginException, match=r"calling sslLogin\b"):
        await koji.login()
