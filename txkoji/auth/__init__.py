"""Logging in to a Koji hub.

::

    session = yield log_in(transport, config, server, choose_authtype(config))

Three methods, as the official client names them in a profile's
``authtype``: ``ssl`` (a client certificate, :mod:`txkoji.auth.certificate`)
and ``kerberos`` / ``gssapi`` (:mod:`txkoji.auth.kerberos`) post
``sslLogin`` to ``<server>/ssllogin``; ``password``
(:mod:`txkoji.auth.password`) posts ``login(user, password)`` to
``<server>``.  Each answers a :class:`~txkoji.session.Session`.  The
certificate and Kerberos logins may act for another user (the profile's
``proxyuser`` and ``proxyauthtype``, see :mod:`txkoji.auth.options`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from twisted.internet import defer

from txkoji.auth.certificate import ssl_login
from txkoji.auth.errors import (
    KerberosCredentialsError,
    LoginRefused,
    LoginTimedOut,
    LoginTLSError,
    LoginUnreachable,
    MutualAuthError,
    UnsupportedAuthType,
)
from txkoji.auth.kerberos import gssapi_login
from txkoji.auth.password import password_login
from txkoji.exceptions import KojiLoginException
from txkoji.session import Session

__all__ = [
    "AUTHTYPES",
    "KerberosCredentialsError",
    "LoginRefused",
    "LoginTLSError",
    "LoginTimedOut",
    "LoginUnreachable",
    "MutualAuthError",
    "UnsupportedAuthType",
    "choose_authtype",
    "log_in",
]

#: The ``authtype`` values txkoji logs in with, and the method each means.
AUTHTYPES = {
    "ssl": "ssl",
    "kerberos": "gssapi",
    "gssapi": "gssapi",
    "password": "password",
}

_LOGINS = {"ssl": ssl_login, "gssapi": gssapi_login, "password": password_login}


def choose_authtype(config: Mapping[str, Any], requested: str | None = None) -> str:
    """Return the login method to use: ``"ssl"``, ``"gssapi"`` or
    ``"password"``.

    ``requested`` wins, then the profile's ``authtype``; without either,
    ``ssl`` when ``cert`` names a readable file, else ``password`` when the
    profile names a ``user``, else Kerberos (as the official client
    chooses).

    :raises UnsupportedAuthType: for any other ``authtype`` (``noauth``, a
        typo).
    """
    authtype = requested or config.get("authtype")
    if not authtype:
        cert = config.get("cert")
        readable = bool(cert and os.path.isfile(cert) and os.access(cert, os.R_OK))
        if readable:
            return "ssl"
        return "password" if config.get("user") else "gssapi"
    method = AUTHTYPES.get(str(authtype).lower())
    if method is None:
        raise UnsupportedAuthType(
            f"cannot log in with authtype {authtype!r}: txkoji supports "
            + ", ".join(repr(name) for name in AUTHTYPES)
        )
    return method


def log_in(
    transport: Any,
    config: Mapping[str, Any],
    server: str,
    method: str,
    renewing: Session | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
) -> defer.Deferred[Session]:
    """Log in to hub ``server`` with ``method`` (from
    :func:`choose_authtype`).

    :param transport: the connection's transport
        (:class:`~txkoji.transport.HubTransport`): the login goes through
        its ``login``, so through the same proxy as the calls.
    :param renewing: the expired session to renew (the login is sent with
        ``renew=True`` and that session's id and key).
    :param extra: the login call's other keywords: ``exclusive``, and the
        password login's ``opts``.
    :returns: a Deferred firing with the new :class:`~txkoji.session.Session`,
        or failing with a :class:`~txkoji.exceptions.KojiLoginException`
        subclass.
    """
    extra = dict(extra or {})
    opts = extra.get("opts")
    if opts is not None and not isinstance(opts, Mapping):
        return defer.fail(
            KojiLoginException(
                f"login opts must be a mapping such as {{'hostip': ...}}, not "
                f"{type(opts).__name__}"
            )
        )
    if opts is not None and method != "password":
        return defer.fail(
            KojiLoginException(
                f"login opts {sorted(opts)} apply to the password login only, "
                f"not to {method}: the hub's sslLogin takes none"
            )
        )
    return _LOGINS[method](transport, config, server, renewing, extra)
