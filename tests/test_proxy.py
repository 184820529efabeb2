"""Calls and logins through an HTTP forward proxy (tests/forward_proxy.py)
to the fake hub over real TLS: CONNECT tunnels for https, absolute-form
requests for http, proxy credentials, no_proxy, and the hub's certificate
verified end to end."""

from __future__ import annotations

import base64

import pytest
import pytest_twisted

from tests.auth_helpers import captured_log, login_url, ssl_connection
from tests.forward_proxy import ForwardProxy
from tests.kdc import kdc  # noqa: F401 - the fixture
from txkoji import Connection
from txkoji.auth import LoginTLSError, LoginUnreachable
from txkoji.exceptions import (
    KojiConfigError,
    KojiConnectionError,
    KojiHTTPError,
    KojiProxyRefused,
    KojiTLSError,
)
from txkoji.testing.auth import LoginGate
from txkoji.testing.certs import make_ca, make_client_cert

SECRET = "s3cr%40t!"  # URL-quoted in the proxy URL: the password is s3cr@t!


@pytest_twisted.async_yield_fixture()
async def proxy():
    server = ForwardProxy().start()
    yield server
    await server.stop()


@pytest_twisted.async_yield_fixture()
async def guarded_proxy():
    """A proxy that wants user alice with password s3cr@t!."""
    server = ForwardProxy(credentials="alice:s3cr@t!").start()
    yield server
    await server.stop()


def anonymous(hub, hub_pki, **options) -> Connection:
    options = {"serverca": str(hub_pki.ca_cert), **options}
    return Connection(server=login_url(hub), **options)


def with_credentials(proxy: ForwardProxy, password: str = SECRET) -> str:
    return f"http://alice:{password}@127.0.0.1:{proxy.port}"


@pytest_twisted.ensureDeferred
async def test_anonymous_calls_go_through_one_tunnel(hub, hub_pki, proxy) -> None:
    koji = anonymous(hub, hub_pki, proxy=proxy.url)
    try:
        for _ in range(3):
            assert (await koji.getUser("alice"))["name"] == "alice"
    finally:
        await koji.close()
    assert proxy.connects == [f"localhost:{hub.port}"]
    assert proxy.requests == []


@pytest_twisted.ensureDeferred
async def test_ssl_login_and_its_calls_go_through_the_proxy(
    hub, hub_pki, proxy
) -> None:
    koji = ssl_connection(hub, hub_pki, proxy=proxy.url)
    try:
        assert await koji.login() is True
        assert (await koji.getLoggedInUser())["name"] == "alice"
    finally:
        await koji.close()
    # The login's own connection, then the pooled one of the calls.
    assert proxy.connects == [f"localhost:{hub.port}"] * 2
    assert hub.hub.sessions.logins == 1


@pytest.mark.kerberos
@pytest_twisted.ensureDeferred
async def test_gssapi_login_goes_through_the_tunnel(
    hub,
    hub_pki,
    kdc,  # noqa: F811 - the fixture
    guarded_proxy,
) -> None:
    hub.hub.login_gate = LoginGate(keytab=kdc.service_keytab, realms=(kdc.realm,))
    koji = anonymous(
        hub,
        hub_pki,
        authtype="kerberos",
        principal=kdc.user,
        keytab=kdc.user_keytab,
        proxy=with_credentials(guarded_proxy),
    )
    try:
        assert await koji.login() is True
        assert (await koji.getLoggedInUser())["name"] == "alice"
    finally:
        await koji.close()
    assert guarded_proxy.connects == [f"localhost:{hub.port}"] * 2
    assert hub.hub.sessions.logins == 1


@pytest_twisted.ensureDeferred
async def test_https_proxy_variable_is_honoured(
    hub, hub_pki, proxy, monkeypatch
) -> None:
    monkeypatch.setenv("https_proxy", proxy.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    koji = anonymous(hub, hub_pki)
    try:
        await koji.getUser("alice")
    finally:
        await koji.close()
    assert proxy.connects == [f"localhost:{hub.port}"]


@pytest.mark.parametrize(
    "no_proxy", ["localhost", ".localhost", f"localhost:{0}", "*"], ids=str
)
@pytest_twisted.ensureDeferred
async def test_no_proxy_bypasses_the_proxy(
    hub, hub_pki, proxy, monkeypatch, no_proxy
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy.replace(":0", f":{hub.port}"))
    koji = anonymous(hub, hub_pki)
    try:
        await koji.getUser("alice")
    finally:
        await koji.close()
    assert proxy.connects == []
    assert hub.connections_made == 1


@pytest_twisted.ensureDeferred
async def test_proxy_none_ignores_the_environment(
    hub, hub_pki, proxy, monkeypatch
) -> None:
    monkeypatch.setenv("https_proxy", proxy.url)
    koji = anonymous(hub, hub_pki, proxy=None)
    try:
        await koji.getUser("alice")
    finally:
        await koji.close()
    assert proxy.connects == []


@pytest_twisted.ensureDeferred
async def test_proxy_option_wins_over_no_proxy(
    hub, hub_pki, proxy, monkeypatch
) -> None:
    monkeypatch.setenv("no_proxy", "*")
    koji = anonymous(hub, hub_pki, proxy=f"127.0.0.1:{proxy.port}")
    try:
        await koji.getUser("alice")
    finally:
        await koji.close()
    assert proxy.connects == [f"localhost:{hub.port}"]


@pytest_twisted.ensureDeferred
async def test_credentials_reach_the_proxy_as_basic(
    hub, hub_pki, guarded_proxy
) -> None:
    koji = ssl_connection(hub, hub_pki, proxy=with_credentials(guarded_proxy))
    try:
        await koji.login()
        await koji.getLoggedInUser()
    finally:
        await koji.close()
    expected = b"Basic " + base64.b64encode(b"alice:s3cr@t!")
    assert guarded_proxy.authorizations == [expected, expected]


@pytest_twisted.ensureDeferred
async def test_proxy_wanting_credentials_is_a_connection_error(
    hub, hub_pki, guarded_proxy
) -> None:
    koji = anonymous(hub, hub_pki, proxy=guarded_proxy.url)
    try:
        with pytest.raises(KojiConnectionError) as caught:
            await koji.getUser("alice")
    finally:
        await koji.close()
    message = str(caught.value)
    assert "407" in message
    assert f"proxy http://127.0.0.1:{guarded_proxy.port}" in message
    assert hub.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_credentials_never_appear_in_errors_or_logs(
    hub, hub_pki, guarded_proxy
) -> None:
    wrong = with_credentials(guarded_proxy, password="wr0ng-pw")
    with captured_log() as lines:
        koji = ssl_connection(hub, hub_pki, proxy=wrong)
        try:
            with pytest.raises(KojiConnectionError) as caught:
                await koji.getUser("alice")
            shown = [str(caught.value), repr(caught.value), repr(vars(caught.value))]
            with pytest.raises(LoginUnreachable, match="407") as login_failed:
                await koji.login(authtype="ssl")
            shown += [str(login_failed.value), repr(vars(login_failed.value))]
        finally:
            await koji.close()
    assert "***@127.0.0.1" in shown[0]
    assert not [text for text in shown + lines if "wr0ng-pw" in text]
    assert guarded_proxy.connects, "the requests did reach the proxy"


@pytest_twisted.ensureDeferred
async def test_hub_certificate_is_verified_through_the_tunnel(
    hub, hub_pki, proxy, tmp_path
) -> None:
    other = make_ca("Other CA")
    other_pem = tmp_path / "other-ca.pem"
    other_pem.write_bytes(other.cert_pem())
    koji = anonymous(hub, hub_pki, proxy=proxy.url, serverca=str(other_pem))
    try:
        with pytest.raises(KojiTLSError, match="not trusted"):
            await koji.getUser("alice")
    finally:
        await koji.close()
    login = ssl_connection(hub, hub_pki, proxy=proxy.url, serverca=str(other_pem))
    try:
        with pytest.raises(LoginTLSError, match="not trusted"):
            await login.login()
    finally:
        await login.close()
    assert proxy.connects == [f"localhost:{hub.port}"] * 2
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_client_certificate_refusal_is_told_through_the_tunnel(
    hub, hub_pki, proxy, tmp_path
) -> None:
    stranger = make_client_cert(make_ca("Other CA"), "alice")
    _, _, pem = stranger.write(tmp_path, "stranger")
    koji = ssl_connection(hub, hub_pki, proxy=proxy.url, cert=str(pem))
    with pytest.raises(LoginTLSError, match="refused the client's certificate"):
        await koji.login()
    await koji.close()
    assert proxy.connects == [f"localhost:{hub.port}"]


@pytest_twisted.ensureDeferred
async def test_plain_http_hub_goes_through_the_forward_proxy(
    hub_server, guarded_proxy
) -> None:
    koji = Connection(server=hub_server.url, proxy=with_credentials(guarded_proxy))
    try:
        assert (await koji.getUser("alice"))["name"] == "alice"
        await koji.getUser("bob")
    finally:
        await koji.close()
    assert guarded_proxy.requests == [hub_server.url] * 2
    expected = b"Basic " + base64.b64encode(b"alice:s3cr@t!")
    assert guarded_proxy.authorizations == [expected] * 2
    assert guarded_proxy.connects == []


@pytest_twisted.ensureDeferred
async def test_plain_http_proxy_wanting_credentials_is_an_http_error(
    hub_server, guarded_proxy
) -> None:
    koji = Connection(server=hub_server.url, proxy=guarded_proxy.url)
    try:
        with pytest.raises(KojiHTTPError, match="407") as caught:
            await koji.getUser("alice")
    finally:
        await koji.close()
    assert caught.value.status == 407


@pytest_twisted.ensureDeferred
async def test_unreachable_proxy_is_named(hub, hub_pki) -> None:
    gone = ForwardProxy().start()
    await gone.stop()
    koji = anonymous(hub, hub_pki, proxy=f"http://u:pw-123@127.0.0.1:{gone.port}")
    try:
        with pytest.raises(KojiConnectionError, match="cannot connect to proxy") as e:
            await koji.getUser("alice")
    finally:
        await koji.close()
    assert "pw-123" not in str(e.value)
    assert hub.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_proxy_refusing_to_tunnel_names_its_status(hub, hub_pki, proxy) -> None:
    proxy.status = 403
    koji = anonymous(hub, hub_pki, proxy=proxy.url)
    try:
        with pytest.raises(KojiConnectionError, match="CONNECT with HTTP 403"):
            await koji.getUser("alice")
    finally:
        await koji.close()


def test_unsupported_proxy_scheme_is_a_config_error(monkeypatch) -> None:
    with pytest.raises(KojiConfigError, match="only http:// and https:// proxies"):
        Connection(server="https://koji.example.com/kojihub", proxy="socks5://p:1080")
    # From the environment too, when the connection is made.
    monkeypatch.setenv("https_proxy", "socks5://p:1080")
    with pytest.raises(KojiConfigError, match="https_proxy environment variable"):
        Connection(server="https://koji.example.com/kojihub")


@pytest_twisted.async_yield_fixture()
async def tls_proxy(hub_pki):
    """A proxy spoken to over TLS (https://localhost:PORT), with a
    certificate from the hub's CA."""
    server = ForwardProxy().start(tls=(hub_pki.server_cert, hub_pki.server_key))
    yield server
    await server.stop()


@pytest_twisted.ensureDeferred
async def test_https_proxy_from_the_environment_tunnels_inside_tls(
    hub, hub_pki, tls_proxy, monkeypatch
) -> None:
    monkeypatch.setenv("https_proxy", tls_proxy.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    koji = ssl_connection(hub, hub_pki)
    try:
        assert (await koji.getUser("alice"))["name"] == "alice"
        assert await koji.login() is True
        assert (await koji.getLoggedInUser())["name"] == "alice"
    finally:
        await koji.close()
    # The calls' pooled tunnel, then the login's own.
    assert tls_proxy.connects == [f"localhost:{hub.port}"] * 2
    assert hub.hub.sessions.logins == 1


@pytest_twisted.ensureDeferred
async def test_https_proxy_option_with_credentials(hub, hub_pki) -> None:
    guarded = ForwardProxy(credentials="alice:s3cr@t!").start(
        tls=(hub_pki.server_cert, hub_pki.server_key)
    )
    try:
        url = f"https://alice:{SECRET}@localhost:{guarded.port}"
        koji = anonymous(hub, hub_pki, proxy=url)
        try:
            assert (await koji.getUser("alice"))["name"] == "alice"
        finally:
            await koji.close()
        expected = b"Basic " + base64.b64encode(b"alice:s3cr@t!")
        assert guarded.authorizations == [expected]
    finally:
        await guarded.stop()


@pytest_twisted.ensureDeferred
async def test_http_hub_through_an_https_proxy(hub_server, hub_pki, tls_proxy) -> None:
    koji = Connection(
        server=hub_server.url, serverca=str(hub_pki.ca_cert), proxy=tls_proxy.url
    )
    try:
        assert (await koji.getUser("alice"))["name"] == "alice"
    finally:
        await koji.close()
    assert tls_proxy.requests == [hub_server.url]


@pytest_twisted.ensureDeferred
async def test_an_untrusted_https_proxy_is_refused(
    hub, hub_pki, tls_proxy, tmp_path
) -> None:
    other_pem = tmp_path / "other-ca.pem"
    other_pem.write_bytes(make_ca("Other CA").cert_pem())
    koji = anonymous(hub, hub_pki, proxy=tls_proxy.url, serverca=str(other_pem))
    try:
        with pytest.raises(
            KojiConnectionError, match="TLS with proxy https://localhost"
        ):
            await koji.getUser("alice")
    finally:
        await koji.close()
    assert tls_proxy.connects == []


@pytest.mark.parametrize("logged_in", [False, True])
@pytest_twisted.ensureDeferred
async def test_a_proxy_refusing_credentials_is_not_retried(
    hub, hub_pki, guarded_proxy, logged_in
) -> None:
    options = {"anon_retry": True, "retry_interval": 0, "max_retries": 3}
    if logged_in:  # a session handed over: its calls are always retried
        options["sinfo"] = {"session-id": 1, "session-key": "1-key"}
    koji = anonymous(
        hub, hub_pki, proxy=with_credentials(guarded_proxy, "wrong"), **options
    )
    with pytest.raises(KojiProxyRefused, match="407") as caught:
        await koji.getUser("alice")
    assert caught.value.status == 407
    assert "refused the credentials" in str(caught.value)
    assert "wrong" not in str(caught.value)
    assert len(guarded_proxy.connects) == 1
    assert hub.hub.calls == []
