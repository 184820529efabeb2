"""Logging in to a Koji hub.

::

    session = yield log_in(reactor, config, server, choose_authtype(config))

Two methods, as the official client names them in a profile's
``authtype``: ``ssl`` (a client certificate, :mod:`txkoji.auth.certificate`)
and ``kerberos`` / ``gssapi`` (:mod:`txkoji.auth.kerberos`).  Both post
``sslLogin`` to ``<server>/ssllogin`` and answer a
:class:`~txkoji.session.Session`.
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
    LoginTLSError,
    LoginUnreachable,
    MutualAuthError,
    UnsupportedAuthType,
)
from txkoji.auth.kerberos import gssapi_login
from txkoji.session import Session

__all__ = [
    "AUTHTYPES",
    "KerberosCredentialsError",
    "LoginRefused",
    "LoginTLSError",
    "LoginUnreachable",
    "MutualAuthError",
    "UnsupportedAuthType",
    "choose_authtype",
    "log_in",
]

#: The ``authtype`` values txkoji logs in with, and the method each means.
AUTHTYPES = {"ssl": "ssl", "kerberos": "gssapi", "gssapi": "gssapi"}

_LOGINS = {"ssl": ssl_login, "gssapi": gssapi_login}


def choose_authtype(config: Mapping[str, Any], requested: str | None = None) -> str:
    """Return the login method to use: ``"ssl"`` or ``"gssapi"``.

    ``requested`` wins, then the profile's ``authtype``; without either,
    ``ssl`` when ``cert`` names a readable file, else Kerberos (as the
    official client chooses).

    :raises UnsupportedAuthType: for any other ``authtype`` (``password``,
        ``noauth``, a typo).
    """
    authtype = requested or config.get("authtype")
    if not authtype:
        cert = config.get("cert")
        readable = bool(cert and os.path.isfile(cert) and os.access(cert, os.R_OK))
        return "ssl" if readable else "gssapi"
    method = AUTHTYPES.get(str(authtype).lower())
    if method is None:
        raise UnsupportedAuthType(
            f"cannot log in with authtype {authtype!r}: txkoji supports "
            + ", ".join(repr(name) for name in AUTHTYPES)
        )
    return method


def log_in(
    reactor: Any,
    config: Mapping[str, Any],
    server: str,
    method: str,
    renewing: Session | None = None,
) -> defer.Deferred[Session]:
    """Log in to hub ``server`` with ``method`` (from
    :func:`choose_authtype`).

    :param renewing: the expired session to renew (the login is sent with
        ``renew=True`` and that session's id and key).
    :returns: a Deferred firing with the new :class:`~txkoji.session.Session`,
        or failing with a :class:`~txkoji.exceptions.KojiLoginException`
        subclass.
    """
    return _LOGINS[method](reactor, config, server, renewing)
