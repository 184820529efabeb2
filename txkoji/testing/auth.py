"""Logins on the fake hub: what the web server in front of ``/ssllogin``
does, and the ``sslLogin`` method behind it.

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
(or renews the one the request names, with ``renew=True``).
"""

from __future__ import annotations

from typing import Any

from txkoji.exceptions import AuthError, KojiFault
from txkoji.testing.dispatch import CallContext, hub_method
from txkoji.testing.login_gate import LOGIN_PATH, LoginGate
from txkoji.testing.session_store import request_credentials

__all__ = ["LOGIN_PATH", "LoginGate", "sslLogin"]


@hub_method()
def sslLogin(
    ctx: CallContext,
    proxyuser: str | None = None,
    renew: bool = False,
) -> dict[str, Any]:
    """Open a session for the client the web server authenticated.

    :raises AuthError: ``could not verify client`` without a verified
        certificate or principal, or for an unknown or blocked user.
    """
    gate = ctx.hub.login_gate
    request = ctx.request
    at_login = request is not None and request.postpath == LOGIN_PATH
    identity = gate.identity(request) if at_login else None
    if identity is None:
        raise AuthError("could not verify client: no certificate or principal")
    if proxyuser is not None:
        raise AuthError(f"{identity[1]} is not allowed to log in as {proxyuser}")
    user = gate.user_for(ctx.state, *identity)
    if renew and not ctx.hub.sessions.renewal:
        raise KojiFault(
            "<class 'TypeError'>: sslLogin() got an unexpected keyword argument "
            "'renew'",
            1,
            "sslLogin",
        )
    if renew:
        renewed = ctx.hub.sessions.renew(request_credentials(request), user)
        if renewed is not None:
            return renewed
    return ctx.hub.sessions.create(user, identity[0])
