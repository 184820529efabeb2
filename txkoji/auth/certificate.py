"""Login with an SSL client certificate.

The profile's ``cert`` (a PEM file holding the certificate and its key) is
presented during the TLS handshake of a connection opened for the login
alone, while the hub's own certificate is verified as for every call
(against ``serverca`` or the system trust store, host name included).
A hub whose web server asks for client certificates in the handshake
(optionally or always) works; one that asks for it only after the
handshake, for the ``/ssllogin`` location alone (TLS 1.3 post-handshake
authentication), does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperlink import URL
from twisted.internet import defer

from txkoji.auth.errors import LoginTLSError
from txkoji.auth.exchange import (
    login_body,
    login_client_certificate,
    login_url,
    post_login,
)
from txkoji.auth.options import proxy_options
from txkoji.exceptions import KojiLoginException
from txkoji.session import Session


def ssl_login(
    transport: Any,
    config: Mapping[str, Any],
    server: str,
    renewing: Session | None = None,
    extra: Mapping[str, Any] | None = None,
) -> defer.Deferred[Session]:
    """Log in to hub ``server`` with the profile's client certificate.

    :param transport: the connection's transport; the login goes through
        its ``login`` (the hub trusted as for calls, the same proxy).
    :param config: the profile's options (``cert``, ``proxyuser``,
        ``proxyauthtype``, ``auth_timeout``).
    :param renewing: the expired session to renew, if any.
    :param extra: the login call's other keywords (``exclusive``).
    :returns: a Deferred firing with the new :class:`~txkoji.session.Session`.
        It fails with a :class:`~txkoji.exceptions.KojiLoginException`
        subclass (see :func:`~txkoji.auth.exchange.post_login`); with
        :class:`~txkoji.auth.errors.LoginTLSError` when ``cert`` cannot be
        loaded; with a plain ``KojiLoginException`` when there is no
        ``cert`` or the hub URL is not https.
    """
    cert = config.get("cert")
    if not cert:
        return defer.fail(
            KojiLoginException("ssl login needs a client certificate (cert option)")
        )
    if URL.from_text(server).scheme != "https":
        return defer.fail(
            KojiLoginException(f"ssl login needs an https hub URL, not {server}")
        )
    try:
        client_cert = login_client_certificate(cert, "ssl")
    except LoginTLSError:
        return defer.fail()
    answer = post_login(
        transport,
        login_url(server),
        login_body(renewing is not None, {**proxy_options(config), **(extra or {})}),
        authtype="ssl",
        timeout=config.get("auth_timeout") or 60,
        headers=renewing.login_headers() if renewing else None,
        client_cert=client_cert,
    )
    return answer.addCallback(lambda answer: Session.from_login(answer.value, "ssl"))
