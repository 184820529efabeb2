"""Proxy users: a certificate or Kerberos login acting for another user
(``proxyuser``, ``proxyauthtype``), against the fake hub over real TLS and
the real MIT KDC, with Koji's ``ProxyDNs`` / ``ProxyPrincipals`` rules."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.auth_helpers import kerberos_connection, ssl_connection
from tests.kdc import kdc  # noqa: F401 - the fixture
from txkoji.auth import LoginRefused
from txkoji.exceptions import KojiConfigError
from txkoji.testing.auth import LoginGate
from txkoji.testing.certs import make_client_cert


@pytest.fixture
def kojiweb(hub, hub_pki, tmp_path):
    """The PEM path of a client certificate for a proxy (CN=kojiweb, no
    user of that name) whose subject the hub lists in its ProxyDNs."""
    issued = make_client_cert(hub_pki.ca, "kojiweb")
    _, _, pem = issued.write(tmp_path, "kojiweb")
    hub.hub.login_rules.proxy_dns = (issued.cert.subject.rfc4514_string(),)
    return str(pem)


@pytest_twisted.ensureDeferred
async def test_listed_certificate_logs_in_as_the_proxied_user(
    hub, hub_pki, kojiweb
) -> None:
    koji = ssl_connection(hub, hub_pki, cert=kojiweb)
    assert await koji.login(proxyuser="bob") is True
    assert (await koji.getLoggedInUser())["name"] == "bob"
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_proxyuser_from_the_profile_and_renewal_keeps_it(
    hub, hub_pki, kojiweb
) -> None:
    koji = ssl_connection(hub, hub_pki, cert=kojiweb, proxyuser="bob")
    await koji.login()
    hub.hub.sessions.expire()
    assert (await koji.getLoggedInUser())["name"] == "bob"
    assert hub.hub.sessions.logins == 2
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_unlisted_certificate_is_refused(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    with pytest.raises(LoginRefused, match="is not authorized to login other users"):
        await koji.login(proxyuser="bob")
    assert koji.session_id is None
    assert hub.hub.sessions.sessions == {}


@pytest_twisted.ensureDeferred
async def test_proxyauthtype_must_match_unless_the_hub_allows_it(
    hub, hub_pki, kojiweb
) -> None:
    koji = ssl_connection(hub, hub_pki, cert=kojiweb)
    with pytest.raises(LoginRefused, match="Proxy must use same auth mechanism"):
        await koji.login(proxyuser="alice@EXAMPLE.COM", proxyauthtype="kerberos")
    hub.hub.login_rules.allow_proxy_authtype = True
    # A Kerberos user proxied by a certificate: looked up by principal.
    await koji.login(proxyuser="alice@EXAMPLE.COM", proxyauthtype="kerberos")
    user = await koji.getLoggedInUser()
    assert user["name"] == "alice"
    assert hub.hub.sessions.sessions[koji.session_id].authtype == "gssapi"
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_same_proxyauthtype_is_fine(hub, hub_pki, kojiweb) -> None:
    koji = ssl_connection(hub, hub_pki, cert=kojiweb, proxyauthtype="2")
    await koji.login(proxyuser="bob")
    assert (await koji.getLoggedInUser())["name"] == "bob"
    await koji.close()


@pytest_twisted.ensureDeferred
async def test_malformed_proxyauthtype_fails_before_any_request(hub, hub_pki) -> None:
    koji = ssl_connection(hub, hub_pki)
    with pytest.raises(KojiConfigError, match="proxyauthtype"):
        await koji.login(proxyuser="bob", proxyauthtype="password")
    with pytest.raises(KojiConfigError, match="proxyauthtype"):
        ssl_connection(hub, hub_pki, proxyauthtype=1)
    assert hub.connections_made == 0


@pytest.mark.kerberos
@pytest_twisted.ensureDeferred
async def test_kerberos_proxy(hub, hub_pki, kdc) -> None:  # noqa: F811
    hub.hub.login_gate = LoginGate(keytab=kdc.service_keytab, realms=(kdc.realm,))
    koji = kerberos_connection(hub, hub_pki, kdc.user, kdc.user_keytab)
    with pytest.raises(LoginRefused, match=f"{kdc.user} is not authorized"):
        await koji.login(proxyuser="bob")
    hub.hub.login_rules.proxy_principals = (kdc.user,)
    assert await koji.login(proxyuser="bob") is True
    assert (await koji.getLoggedInUser())["name"] == "bob"
    hub.hub.sessions.expire()
    assert (await koji.getLoggedInUser())["name"] == "bob"
    await koji.close()
    kdc.kdestroy()
