"""GSSAPI login against the fake hub, with a real MIT KDC (tests/kdc.py)."""

from __future__ import annotations

import base64
import logging
import subprocess

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import Clock, deferLater
from twisted.web.client import Agent

from tests.auth_helpers import login_url, start_tls_hub
from tests.forward_proxy import ForwardProxy
from tests.kdc import kdc  # noqa: F401 - the fixture
from txkoji import Connection
from txkoji.auth import (
    KerberosCredentialsError,
    LoginRefused,
    LoginUnreachable,
    MutualAuthError,
)
from txkoji.auth.exchange import login_body
from txkoji.auth.kerberos import service_host
from txkoji.testing.auth import LoginGate
from txkoji.tls import HubTLSPolicy

pytestmark = pytest.mark.kerberos


class ForgingGate(LoginGate):
    """Admits like the real gate, then answers a token that is not the
    acceptor's."""

    def admit(self, request):
        refusal = super().admit(request)
        request.setHeader(
            b"WWW-Authenticate", b"Negotiate " + base64.b64encode(b"\x60forged")
        )
        return refusal


class TokenRecordingGate(LoginGate):
    """Admits like the real gate, and keeps the Negotiate tokens that went
    each way."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tokens = []

    def admit(self, request):
        refusal = super().admit(request)
        sent = request.getHeader(b"authorization") or b""
        answered = request.responseHeaders.getRawHeaders(b"www-authenticate") or []
        for header in [sent, *answered]:
            token = header.decode().partition(" ")[2]
            if token:
                self.tokens.append(token)
        return refusal


class Capture(logging.Handler):
    """Keeps the formatted text of every record it handles."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def debug_log():
    """The root logger at DEBUG, with a handler keeping every line."""
    root = logging.getLogger()
    capture = Capture()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(capture)
    yield capture
    root.removeHandler(capture)
    root.setLevel(level)


@pytest_twisted.async_yield_fixture()
async def hub(kdc, hub_pki):  # noqa: F811 - the fixture
    server = await start_tls_hub(hub_pki)
    server.hub.login_gate = LoginGate(keytab=kdc.service_keytab, realms=(kdc.realm,))
    yield server
    await server.stop()
    kdc.kdestroy()


def connect(server, pki, **options) -> Connection:
    options = {"serverca": str(pki.ca_cert), "authtype": "kerberos", **options}
    return Connection(server=login_url(server), **options)


@pytest_twisted.ensureDeferred
async def test_login_with_a_ticket_from_kinit(hub, hub_pki, kdc) -> None:  # noqa: F811
    kdc.kinit()
    koji = connect(hub, hub_pki)
    assert await koji.login() is True
    assert (await koji.getLoggedInUser())["name"] == "alice"
    await koji.createTag("by-kerberos")
    await koji.close()
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_login_with_principal_and_keytab_needs_no_kinit(
    hub,
    hub_pki,
    kdc,  # noqa: F811
) -> None:
    kdc.kdestroy()
    koji = connect(hub, hub_pki, principal=kdc.user, keytab=kdc.user_keytab)
    assert await koji.login() is True
    assert (await koji.getLoggedInUser())["name"] == "alice"
    await koji.close()
    listed = subprocess.run(["klist"], capture_output=True, text=True)
    assert listed.returncode != 0, "the keytab login must not fill the default cache"


@pytest_twisted.ensureDeferred
async def test_gssapi_session_is_renewed_by_kerberos(hub, hub_pki, kdc) -> None:  # noqa: F811
    koji = connect(hub, hub_pki, principal=kdc.user, keytab=kdc.user_keytab)
    await koji.login()
    hub.hub.sessions.expire()
    assert (await koji.getLoggedInUser())["name"] == "alice"
    assert hub.hub.sessions.logins == 2
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_principal_unknown_to_the_kdc_is_refused(hub, hub_pki, kdc) -> None:  # noqa: F811
    koji = connect(hub, hub_pki, principal=kdc.stranger, keytab=kdc.user_keytab)
    with pytest.raises(KerberosCredentialsError, match="mallory@TXKOJI.TEST"):
        await koji.login()
    assert hub.connections_made == 0


@pytest_twisted.ensureDeferred
async def test_principal_without_a_hub_user_is_refused(hub, hub_pki, kdc) -> None:  # noqa: F811
    koji = connect(hub, hub_pki, principal=kdc.outsider, keytab=kdc.outsider_keytab)
    with pytest.raises(LoginRefused, match="Unknown user: carol@TXKOJI.TEST"):
        await koji.login()
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_no_ticket_is_a_credentials_error(hub, hub_pki, kdc) -> None:  # noqa: F811
    kdc.kdestroy()
    koji = connect(hub, hub_pki)
    with pytest.raises(KerberosCredentialsError, match="default credential cache"):
        await koji.login()


@pytest_twisted.ensureDeferred
async def test_forged_mutual_auth_token_is_refused(hub, hub_pki, kdc) -> None:  # noqa: F811
    hub.hub.login_gate = ForgingGate(keytab=kdc.service_keytab, realms=(kdc.realm,))
    koji = connect(hub, hub_pki, principal=kdc.user, keytab=kdc.user_keytab)
    with pytest.raises(MutualAuthError, match="mutual authentication"):
        await koji.login()


@pytest_twisted.ensureDeferred
async def test_hub_asks_for_negotiate_without_a_token(hub, hub_pki) -> None:
    from twisted.internet import reactor

    agent = Agent(reactor, HubTLSPolicy(serverca=str(hub_pki.ca_cert)))
    response = await treq.post(
        login_url(hub) + "/ssllogin",
        login_body(renew=False),
        headers={b"Content-Type": [b"text/xml"]},
        agent=agent,
    )
    await treq.content(response)
    assert response.code == 401
    assert response.headers.getRawHeaders(b"www-authenticate") == [b"Negotiate"]
    assert hub.hub.sessions.sessions == {}


def test_service_host_follows_rdns_and_canon_host() -> None:
    assert service_host("127.0.0.1", rdns=False, canon_host=False) == "127.0.0.1"
    assert service_host("127.0.0.1", rdns=True, canon_host=False) == "localhost"
    assert service_host("localhost", rdns=False, canon_host=True) == "localhost"
    assert service_host("no-such-host.invalid", rdns=True, canon_host=False) == (
        "no-such-host.invalid"
    )


@pytest_twisted.ensureDeferred
async def test_tokens_never_reach_a_debug_log_handler(
    hub,
    hub_pki,
    kdc,  # noqa: F811
    debug_log,
) -> None:
    gate = TokenRecordingGate(keytab=kdc.service_keytab, realms=(kdc.realm,))
    hub.hub.login_gate = gate
    koji = connect(hub, hub_pki, principal=kdc.user, keytab=kdc.user_keytab)
    assert await koji.login() is True
    await koji.close()
    assert len(gate.tokens) == 2, "a token each way"
    steps = [line for line in debug_log.lines if "GSSAPI step " in line]
    assert steps, "pyspnego logged its steps at DEBUG"
    assert {line.partition(": ")[2] for line in steps} <= {"", "<token masked>"}
    for token in gate.tokens:
        for part in (token[:40], token[-40:]):
            assert not any(part in line for line in debug_log.lines)


@pytest_twisted.ensureDeferred
async def test_login_from_the_ccache_option(hub, hub_pki, kdc, tmp_path) -> None:  # noqa: F811
    ccache = f"FILE:{tmp_path / 'worker-ccache'}"
    done = subprocess.run(
        ["kinit", "-c", ccache, kdc.user],
        input=kdc.user_password + "\n",
        text=True,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    kdc.kdestroy()
    koji = connect(hub, hub_pki, ccache=ccache)
    assert await koji.login() is True
    assert (await koji.getLoggedInUser())["name"] == "alice"
    await koji.close()
    empty = connect(hub, hub_pki, ccache=f"FILE:{tmp_path / 'empty'}")
    with pytest.raises(KerberosCredentialsError, match="credential cache FILE:"):
        await empty.login()


@pytest_twisted.ensureDeferred
async def test_login_that_cannot_connect_is_tried_again(hub, hub_pki, kdc) -> None:  # noqa: F811
    proxy = ForwardProxy().start()
    clock = Clock()
    try:
        proxy.status = 502  # the CONNECT fails: a connection error
        koji = connect(
            hub,
            hub_pki,
            principal=kdc.user,
            keytab=kdc.user_keytab,
            proxy=proxy.url,
            clock=clock,
            retry_interval=20,
        )
        logging_in = koji.login()
        for _ in range(1000):
            if len(proxy.connects) == 1 and clock.getDelayedCalls():
                break
            await deferLater(reactor, 0.005)
        assert not logging_in.called
        proxy.status = 200
        clock.advance(20)
        assert await logging_in is True
        assert len(proxy.connects) == 2
        assert (await koji.getLoggedInUser())["name"] == "alice"
        await koji.close()
    finally:
        await proxy.stop()


@pytest_twisted.ensureDeferred
async def test_login_retries_end_with_the_last_connection_error(
    hub_pki,
    kdc,  # noqa: F811
) -> None:
    proxy = ForwardProxy().start()
    proxy.status = 502
    try:
        koji = Connection(
            server="https://localhost:1/kojihub",
            serverca=str(hub_pki.ca_cert),
            authtype="kerberos",
            principal=kdc.user,
            keytab=kdc.user_keytab,
            proxy=proxy.url,
            max_retries=2,
            retry_interval=0,
        )
        with pytest.raises(LoginUnreachable, match="after 3 attempts") as caught:
            await koji.login()
        assert "calling sslLogin" in str(caught.value)
        assert len(proxy.connects) == 3
    finally:
        await proxy.stop()
