"""Login with a user name and password: the hub's ``login`` call.

``login(user, password)`` goes to the hub URL itself (not
``/ssllogin``), on a connection of its own like every login.  The password
travels in the request body, so txkoji refuses to send it over plain
``http://`` unless the profile sets ``allow_password_over_http``.  It
appears in no message, log line or ``repr``.

Few production hubs accept it: a hub whose users have no password answers
AuthError ``invalid username or password``
(:class:`~txkoji.auth.errors.LoginRefused`).  The hub's ``login`` takes no
``proxyuser``, so a password login cannot act for another user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hyperlink import URL
from twisted.internet import defer

from txkoji.auth.exchange import login_body, post_login
from txkoji.exceptions import KojiLoginException
from txkoji.session import Session


def _refusal(config: Mapping[str, Any], server: str) -> str | None:
    """Say why a password login must not be sent, or return None."""
    if not config.get("user") or not config.get("password"):
        return "password login needs the user and password options"
    if config.get("proxyuser"):
        return (
            "password login cannot log in as another user (proxyuser): the "
            "hub's login call takes no proxyuser; use ssl or kerberos"
        )
    if URL.from_text(server).scheme != "https" and not config.get(
        "allow_password_over_http"
    ):
        return (
            f"password login refused: {server} is not https, and the password "
            "would travel in clear text (set allow_password_over_http = true "
            "to send it anyway)"
        )
    return None


def password_login(
    transport: Any,
    config: Mapping[str, Any],
    server: str,
    renewing: Session | None = None,
    extra: Mapping[str, Any] | None = None,
) -> defer.Deferred[Session]:
    """Log in to hub ``server`` with the profile's ``user`` and
    ``password``.

    :param transport: the connection's transport; the login goes through
        its ``login`` (the hub trusted as for calls, the same proxy).
    :param config: the profile's options (``user``, ``password``,
        ``allow_password_over_http``, ``auth_timeout``).
    :param renewing: the expired session to renew, if any.
    :param extra: the login call's other keywords (``opts`` such as
        ``{"hostip": ...}``, ``exclusive``).
    :returns: a Deferred firing with the new :class:`~txkoji.session.Session`.
        It fails with :class:`~txkoji.auth.errors.LoginRefused` when the hub
        refuses the credentials (or takes no password logins), another
        :class:`~txkoji.exceptions.KojiLoginException` subclass (see
        :func:`~txkoji.auth.exchange.post_login`), or, before any request,
        a plain ``KojiLoginException`` without ``user`` or ``password``,
        with ``proxyuser``, or for an ``http://`` hub.
    """
    refusal = _refusal(config, server)
    if refusal is not None:
        return defer.fail(KojiLoginException(refusal))
    body = login_body(
        renewing is not None,
        extra,
        method="login",
        args=(config["user"], config["password"]),
    )
    answer = post_login(
        transport,
        server,
        body,
        authtype="password",
        method="login",
        timeout=config.get("auth_timeout") or 60,
        headers=renewing.login_headers() if renewing else None,
    )
    return answer.addCallback(
        lambda answer: Session.from_login(answer.value, "password", "login")
    )
