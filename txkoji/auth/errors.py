"""Why a login failed.

Every class derives from :class:`~txkoji.exceptions.KojiLoginException`
(txkoji 0.10's name), whose ``reason`` holds what the hub or its web server
said, when it said anything.  Messages name the hub URL and the login
method, never a session key, a Negotiate token or key material.
"""

from __future__ import annotations

from txkoji.exceptions import KojiConnectionError, KojiLoginException, KojiTLSError


class UnsupportedAuthType(KojiLoginException, ValueError):
    """The requested ``authtype`` is not one txkoji can log in with (raised
    before any request)."""


class LoginRefused(KojiLoginException):
    """The hub or its web server refused the credentials: HTTP 401 or 403,
    or a fault such as AuthError.

    :ivar status: the HTTP status, or 200 when the hub answered a fault.
    """

    def __init__(self, message: str, reason: str | None = None, status: int = 200):
        self.status = status
        super().__init__(message, reason)


class LoginUnreachable(KojiLoginException, KojiConnectionError):
    """The login request got no answer: connection refused or lost, or no
    answer within ``auth_timeout``.  Also a
    :class:`~txkoji.exceptions.KojiConnectionError`, as
    :class:`LoginTLSError` is a ``KojiTLSError``."""


class LoginTimedOut(LoginUnreachable):
    """The login request got no answer within ``auth_timeout`` (the hub
    may have opened a session: a Kerberos login is not tried again)."""


class LoginTLSError(KojiLoginException, KojiTLSError):
    """TLS failed during the login: the hub's certificate was not trusted or
    not issued for its host name, or the hub refused the client
    certificate.  Also a :class:`~txkoji.exceptions.KojiTLSError`."""


class KerberosCredentialsError(KojiLoginException):
    """No usable Kerberos credentials: no ticket in the cache, a keytab
    without the principal, or a principal the KDC does not know."""


class MutualAuthError(LoginRefused):
    """The hub's answer did not prove it is the service the client meant
    to log in to (its Negotiate token failed to verify)."""
