"""Password login (the hub's ``login`` call) against the fake hub over real
TLS, and the fake hub's rules for it."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.auth_helpers import captured_log, failure_text, login_url
from txkoji import Connection
from txkoji.auth import LoginRefused
from txkoji.config import from_options
from txkoji.exceptions import (
    AuthError,
    AuthLockError,
    KojiConfigError,
    KojiLoginException,
)
from txkoji.testing.dataset import PASSWORDS

ALICE_PASSWORD = PASSWORDS[2]


def password_connection(server, pki, **options) -> Connection:
    """A connection to ``server`` set up for alice's password login."""
    options = {
        "serverca": str(pki.ca_cert),
        "authtype": "password",
        "user": "alice",
        "password": ALICE_PASSWORD,
        "retry_interval": 0,
        **options,
    }
    return Connection(server=login_url(server), **options)


@pytest_twisted.ensureDeferred
async def test_password_login_goes_to_the_hub_url(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki)
    assert await koji.login() is True
    assert koji.session.authtype == "password"
    assert (await koji.getLoggedInUser())["name"] == "alice"
    assert hub.hub.calls[0] == "login"
    assert "sslLogin" not in hub.hub.calls
    await koji.close()
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_login_authtype_argument_picks_password(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki, authtype="ssl")
    assert await koji.login(authtype="password") is True
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_a_profile_user_without_authtype_means_password(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki, authtype=None)
    assert await koji.login() is True
    assert koji.session.authtype == "password"
    await koji.close()


@pytest.mark.parametrize(
    ("user", "password"),
    [("alice", "wrong"), ("nobody", ALICE_PASSWORD), ("kojiadmin", "anything")],
)
@pytest_twisted.ensureDeferred
async def test_bad_credentials_are_refused(hub, hub_pki, user, password) -> None:
    koji = password_connection(hub, hub_pki, user=user, password=password)
    with pytest.raises(LoginRefused, match="invalid username or password") as caught:
        await koji.login()
    assert caught.value.reason == "invalid username or password"
    assert koji.session_id is None
    assert hub.hub.sessions.sessions == {}
    # The message names the call that failed: login, not sslLogin.
    assert "calling login" in str(caught.value)
    assert "sslLogin" not in str(caught.value)


@pytest_twisted.ensureDeferred
async def test_every_password_login_error_names_the_login_call(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki)
    for rule in ({"http_status": 500}, {"answer": 42}, {"malformed": True}):
        hub.hub.faults.add(method="login", **rule)
        with pytest.raises(KojiLoginException, match=r"calling login\b") as caught:
            await koji.login()
        assert "sslLogin" not in str(caught.value)
    unreachable = Connection(
        server="https://localhost:1/kojihub",
        serverca=str(hub_pki.ca_cert),
        user="alice",
        password=ALICE_PASSWORD,
    )
    with pytest.raises(KojiLoginException, match=r"calling login\b"):
        await unreachable.login()


@pytest_twisted.ensureDeferred
async def test_blocked_user_is_refused(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki, user="mallory", password=PASSWORDS[8])
    with pytest.raises(LoginRefused, match="logins by mallory are not allowed"):
        await koji.login()


@pytest_twisted.ensureDeferred
async def test_hub_without_password_logins_refuses(hub, hub_pki) -> None:
    hub.hub.login_rules.passwords = False
    koji = password_connection(hub, hub_pki)
    with pytest.raises(LoginRefused, match="invalid username or password"):
        await koji.login()


@pytest_twisted.ensureDeferred
async def test_expired_password_session_is_renewed(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki)
    await koji.login()
    session_id, key = koji.session_id, koji.session_key
    await koji.createTag("before-expiry")
    hub.hub.sessions.expire()
    assert (await koji.getLoggedInUser())["name"] == "alice"
    assert koji.session_id == session_id
    assert koji.session_key != key
    assert hub.hub.sessions.logins == 2
    assert hub.hub.calls.count("login") == 2
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_hub_without_renewal_gets_a_fresh_password_login(hub, hub_pki) -> None:
    hub.hub.sessions.renewal = False
    koji = password_connection(hub, hub_pki)
    await koji.login()
    first = koji.session_id
    hub.hub.sessions.expire()
    assert (await koji.getLoggedInUser())["name"] == "alice"
    assert koji.session_id != first
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_second_login_on_a_live_session_is_refused_by_the_hub(
    hub, hub_pki
) -> None:
    koji = password_connection(hub, hub_pki)
    await koji.login()
    with pytest.raises(AuthError, match="Already logged in"):
        await koji.call("login", "alice", ALICE_PASSWORD)
    await koji.close()


@pytest.mark.parametrize(
    "options",
    [{"user": None}, {"password": None}, {"password": ""}],
)
@pytest_twisted.ensureDeferred
async def test_missing_credentials_fail_before_any_request(
    hub, hub_pki, options
) -> None:
    koji = password_connection(hub, hub_pki, **options)
    with pytest.raises(KojiLoginException, match="needs the user and password"):
        await koji.login()
    assert hub.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_password_login_cannot_proxy(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki)
    with pytest.raises(KojiLoginException, match="cannot log in as another user"):
        await koji.login(proxyuser="bob")
    assert hub.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_plain_http_is_refused_before_any_request(hub_server) -> None:
    koji = Connection(
        server=hub_server.url, authtype="password", user="alice", password="pw"
    )
    text = await failure_text(koji.login())
    assert "not https" in text and "allow_password_over_http" in text
    assert "pw" not in text.replace("password", "")
    assert hub_server.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_plain_http_when_allowed(hub_server, tmp_path) -> None:
    config = tmp_path / "koji.conf"
    config.write_text(
        f"[plain]\nserver = {hub_server.url}\nauthtype = password\n"
        f"user = alice\npassword = {ALICE_PASSWORD}\n"
        "allow_password_over_http = true\n"
    )
    koji = Connection("plain", config_files=[str(config)])
    assert koji.config.allow_password_over_http is True
    assert await koji.login() is True
    assert (await koji.getLoggedInUser())["name"] == "alice"
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_password_never_shown(hub, hub_pki) -> None:
    secret = "s3cret-Pa55word-never-shown"
    hub.hub.state.passwords[3] = secret
    texts: list[str] = []
    with captured_log() as lines:
        koji = password_connection(hub, hub_pki, user="bob", password=secret)
        texts += [repr(koji), repr(koji.config), str(dict(koji.config).keys())]
        await koji.login()
        hub.hub.sessions.expire()
        await koji.getLoggedInUser()
        texts.append(repr(koji.session))
        await koji.close()
        wrong = password_connection(hub, hub_pki, user="bob", password=secret + "x")
        texts.append(await failure_text(wrong.login()))
        plain = Connection(
            server=login_url(hub).replace("https", "http"),
            authtype="password",
            user="bob",
            password=secret,
        )
        texts.append(await failure_text(plain.login()))
        with pytest.raises(KojiConfigError) as caught:
            from_options(server=login_url(hub), password=[secret])
        texts.append(str(caught.value))
    assert "invalid username or password" in texts[-3]
    assert lines, "the log observer saw nothing"
    leaks = [text for text in texts + lines if secret in text]
    assert leaks == []


@pytest_twisted.ensureDeferred
async def test_hub_login_takes_exclusive(hub, hub_pki) -> None:
    koji = password_connection(hub, hub_pki)
    first = await koji.call("login", "alice", ALICE_PASSWORD, exclusive=True)
    assert hub.hub.sessions.sessions[first["session-id"]].exclusive
    with pytest.raises(AuthLockError, match="Cannot get exclusive session"):
        await koji.call("login", "alice", ALICE_PASSWORD, exclusive=True)
    await koji.close()
