"""Logins on the fake hub: what the web server in front of ``/ssllogin``
does, and the ``sslLogin`` and ``login`` methods behind it.

:class:`~txkoji.testing.login_gate.LoginGate` (imported here too) plays
the web server.  For a request to ``/kojihub/ssllogin`` it takes, in
order:

* ``Authorization: Negotiate <token>``: the token is accepted with the
  service keytab (``gssapi``); a bad token is HTTP 401.  The answer carries
  the acceptor's token in ``WWW-Authenticate: Negotiate <token>`` (mutual
  authentication).
* a client certificate the TLS handshake verified against the hub's CA
  (see :func:`~txkoji.testing.server.server_tls_options`): its CN names
  the user.
* nothing: HTTP 401 with ``WWW-Authenticate: Negotiate`` when a keytab is
  configured, as mod_auth_gssapi answers; otherwise the call goes on and
  ``sslLogin`` refuses it.

``sslLogin`` maps the identity to a user (by name for certificates; by
``krb_principals``, or by name for a principal of an allowed realm) and
opens a session in the hub's
:class:`~txkoji.testing.session_store.SessionStore`
(or renews the one the request names, with ``renew=True``).  With
``proxyuser`` it logs in as that user instead, when the hub's
:class:`~txkoji.testing.login_rules.LoginRules` list the client as a
proxy.  ``login(user, password)``, at the hub URL, checks the data set's
passwords.  Either refuses a request that carries a live session
(``Already logged in``).
"""

from __future__ import annotations

from typing import Any

from txkoji.exceptions import AuthError, AuthLockError, KojiFault, ParameterError
from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.login_gate import LOGIN_PATH, LoginGate
from txkoji.testing.login_rules import LoginRules
from txkoji.testing.session_store import request_credentials

__all__ = ["LOGIN_PATH", "LoginGate", "LoginRules", "login", "sslLogin"]

#: Koji's ``AUTHTYPES`` numbers of the methods a proxy may name.
_PROXY_AUTHTYPES = {2: "ssl", 3: "gssapi"}


def _open_session(
    ctx: CallContext,
    method: str,
    user: dict[str, Any],
    authtype: str,
    renew: bool,
    exclusive: bool,
    hostip: str | None = None,
) -> Any:
    """Renew the session the request names (``renew``), or open a new one
    (``exclusive``: and make it the user's only usable session): the login
    answer, or nil for a subsession whose master was closed.

    :raises AuthError: ``Already logged in`` when the request carries a
        live session; ``Invalid session or bad credentials`` when it names
        no session.
    :raises AuthLockError: with ``exclusive``, when another session of the
        user holds the lock (the new session stays open, as on a real hub).
    """
    sessions = ctx.hub.sessions
    if renew and not sessions.renewal:
        raise KojiFault(
            f"<class 'TypeError'>: {method}() got an unexpected keyword "
            "argument 'renew'",
            1,
            method,
        )
    credentials = request_credentials(ctx.request)
    if sessions.logged_in(credentials):
        raise AuthError("Already logged in")
    answer: Any = sessions.renew(credentials, user) if renew else False
    if answer is False:
        answer = sessions.create(user, authtype)
    if answer is not None and hostip is not None:
        sessions.sessions[answer["session-id"]].hostip = hostip
    if exclusive and answer is not None:
        session = sessions.sessions[answer["session-id"]]
        if sessions.lock_holder(session) is not None:
            raise AuthLockError("Cannot get exclusive session")
        session.exclusive = True
    return answer


def _proxied(
    ctx: CallContext,
    client: str,
    authtype: str,
    proxyuser: str,
    proxyauthtype: int | None,
) -> tuple[str, str]:
    """Return ``(authtype, name)`` a proxy logs in as.

    :raises AuthError: when the hub does not list ``client`` as a proxy, or
        ``proxyauthtype`` is not allowed.
    """
    rules: LoginRules = ctx.hub.login_rules
    proxies = rules.proxy_principals if authtype == "gssapi" else rules.proxy_dns
    if client not in proxies:
        raise AuthError(f"{client} is not authorized to login other users")
    if proxyauthtype is None:
        return authtype, proxyuser
    same = _PROXY_AUTHTYPES.get(proxyauthtype) == authtype
    if not rules.allow_proxy_authtype and not same:
        raise AuthError(
            "Proxy must use same auth mechanism as hub (behaviour can be "
            "overriden via AllowProxyAuthType hub option)"
        )
    if proxyauthtype not in _PROXY_AUTHTYPES:
        raise AuthError(f"Proxied authtype {proxyauthtype} is not valid for sslLogin")
    return _PROXY_AUTHTYPES[proxyauthtype], proxyuser


@hub_method()
def sslLogin(
    ctx: CallContext,
    proxyuser: str | None = None,
    proxyauthtype: int | None = None,
    renew: bool = False,
    exclusive: bool = False,
) -> Any:
    """Open a session for the client the web server authenticated, or for
    ``proxyuser`` when the client is a listed proxy (with ``exclusive``, the
    user's only usable session).

    :raises AuthError: ``could not verify client`` without a verified
        certificate or principal; for an unknown or blocked user; for a
        proxy the hub does not list.
    """
    gate = ctx.hub.login_gate
    request = ctx.request
    at_login = request is not None and request.postpath == LOGIN_PATH
    identity = gate.identity(request) if at_login else None
    if identity is None or request is None:
        raise AuthError("could not verify client: no certificate or principal")
    authtype, name = identity
    if proxyuser:
        client = gate.client_dn(request) or name
        authtype, name = _proxied(ctx, client, authtype, proxyuser, proxyauthtype)
    user = gate.user_for(ctx.state, authtype, name)
    return _open_session(ctx, "sslLogin", user, authtype, renew, exclusive)


@hub_method()
def login(
    ctx: CallContext,
    user: Any,
    password: Any,
    opts: dict[str, Any] | None = None,
    renew: bool = False,
    exclusive: bool = False,
) -> Any:
    """Open a session for ``user`` when ``password`` is theirs (with
    ``exclusive``, the user's only usable session; ``opts["hostip"]`` is
    recorded as the session's client address).

    :raises AuthError: ``invalid username or password`` for wrong
        credentials, or on a hub taking no password logins
        (``login_rules.passwords`` false); ``logins by X are not allowed``
        for a blocked user.
    """
    found = ctx.state.find("users", user) if isinstance(user, str) else None
    expected = ctx.state.passwords.get(found["id"]) if found else None
    if (
        not isinstance(password, str)
        or not password
        or not ctx.hub.login_rules.passwords
        or password != expected
    ):
        raise AuthError("invalid username or password")
    assert found is not None
    if found["status"] != 0:
        raise AuthError(f"logins by {found['name']} are not allowed")
    hostip = (opts or {}).get("hostip")
    if hostip is not None and not isinstance(hostip, str):
        raise ParameterError(f"Invalid hostip: {hostip!r}")
    return _open_session(ctx, "login", found, "password", renew, exclusive, hostip)
