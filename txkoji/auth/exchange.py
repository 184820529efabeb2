"""One login request: post ``sslLogin`` to ``<server>/ssllogin``.

The request goes through the connection's transport
(:meth:`~txkoji.transport.HubTransport.login`): on a connection of its own
(nothing pooled), so the client certificate of an SSL login is presented in
that connection's handshake and no later call reuses it, and through the
same proxy tunnel as the calls.  Unlike ordinary calls, a login needs the
answer's headers (the hub's mutual-authentication token in
``WWW-Authenticate``) and the status of a refusal, which that method gives.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hyperlink import URL
from twisted.internet import defer, ssl
from twisted.python.failure import Failure
from twisted.web.http_headers import Headers

from txkoji.auth.errors import (
    LoginRefused,
    LoginTimedOut,
    LoginTLSError,
    LoginUnreachable,
)
from txkoji.codec import ResponseDecoder, encode_call, pack_params
from txkoji.exceptions import (
    KojiConnectionError,
    KojiException,
    KojiFault,
    KojiLoginException,
    KojiTimeoutError,
    KojiTLSAlert,
    KojiTLSError,
)
from txkoji.tls import load_client_certificate


@dataclass(frozen=True)
class LoginAnswer:
    """What the hub answered a login.

    :ivar value: the decoded ``sslLogin`` answer.
    :ivar negotiate: the token of the answer's ``WWW-Authenticate:
        Negotiate <token>`` header, decoded, or ``None`` without one.
    """

    value: Any
    negotiate: bytes | None


def login_url(server: str, *, https: bool = False) -> str:
    """Return the ``ssllogin`` URL under hub URL ``server`` (with the
    ``https`` scheme forced when asked)."""
    url = URL.from_text(server)
    if https:
        url = url.replace(scheme="https")
    return url.child("ssllogin").to_text()


def login_body(
    renew: bool,
    options: Mapping[str, Any] | None = None,
    method: str = "sslLogin",
    args: tuple[Any, ...] = (),
) -> bytes:
    """Return a login request body: ``method`` (``sslLogin``, or ``login``
    with ``args``) with the keyword ``options`` that are not ``None``, and
    ``renew=True`` when renewing an expired session."""
    given = (options or {}).items()
    kwargs = {name: value for name, value in given if value is not None}
    if renew:
        kwargs["renew"] = True
    return encode_call(method, pack_params(args, kwargs))


def login_client_certificate(cert: str, authtype: str) -> ssl.PrivateCertificate:
    """Load the client certificate (with its key) of a login.

    :raises LoginTLSError: when ``cert`` cannot be loaded (the message
        holds no key material).
    """
    try:
        return load_client_certificate(cert)
    except KojiTLSError as error:
        raise LoginTLSError(f"{authtype} login: {error}") from None


def negotiate_token(headers: Headers) -> bytes | None:
    """Return the decoded token of a ``WWW-Authenticate: Negotiate <token>``
    header, or ``None`` when there is none.

    :raises LoginRefused: when the token is not base64.
    """
    for value in headers.getRawHeaders(b"www-authenticate", []):
        scheme, _, token = value.strip().partition(b" ")
        if scheme.lower() == b"negotiate" and token.strip():
            try:
                return base64.b64decode(token.strip(), validate=True)
            except binascii.Error:
                raise LoginRefused(
                    "the hub sent a malformed Negotiate token", status=200
                ) from None
    return None


def post_login(
    transport: Any,
    url: str,
    body: bytes,
    *,
    authtype: str,
    timeout: float,
    headers: dict[bytes, bytes] | None = None,
    client_cert: ssl.PrivateCertificate | None = None,
    method: str = "sslLogin",
) -> defer.Deferred[LoginAnswer]:
    """POST a login ``body`` to ``url`` through ``transport``'s ``login``.

    :param transport: the connection's transport (a
        :class:`~txkoji.transport.HubTransport`).
    :param authtype: the login method, for messages.
    :param timeout: seconds the whole exchange may take (``auth_timeout``).
    :param headers: extra headers (``Authorization``, renewal session).
    :param client_cert: the client certificate to present (SSL login).
    :param method: the hub call ``body`` makes (``sslLogin`` or ``login``):
        every error message names it.
    :returns: a Deferred firing with a :class:`LoginAnswer`.  It fails with
        :class:`~txkoji.auth.errors.LoginRefused` (HTTP 401/403 or a fault,
        with the reason), :class:`~txkoji.auth.errors.LoginTLSError`,
        :class:`~txkoji.auth.errors.LoginTimedOut` (no answer within
        ``timeout``), :class:`~txkoji.auth.errors.LoginUnreachable`, or a
        plain :class:`~txkoji.exceptions.KojiLoginException` for any other
        answer.
    """
    shown = URL.from_text(url).replace(query=()).to_text()
    what = f"{authtype} login (calling {method})"
    exchange = transport.login(url, body, headers, timeout, client_cert=client_cert)
    exchange.addCallback(_answer, what, shown, method)
    exchange.addErrback(_translate, shown, what, timeout, client_cert is not None)
    return exchange


def _answer(
    answer: tuple[int, Headers, bytes], what: str, shown: str, method: str
) -> LoginAnswer:
    status, headers, text = answer
    if status in (401, 403):
        reason = text.decode("utf-8", "replace").strip()[:300] or f"HTTP {status}"
        raise LoginRefused(
            f"{shown} refused the {what} with HTTP {status}: {reason}",
            reason,
            status=status,
        )
    if status != 200:
        raise KojiLoginException(f"{shown} answered the {what} with HTTP {status}")
    decoder = ResponseDecoder(method)
    decoder.feed(text)
    try:
        value = decoder.close()
    except KojiFault as fault:
        raise LoginRefused(
            f"the hub refused the {what} at {shown}: {fault}",
            fault.faultString,
        ) from None
    return LoginAnswer(value, negotiate_token(headers))


def _translate(
    failure: Failure,
    shown: str,
    what: str,
    timeout: float,
    presented_cert: bool,
) -> Failure | None:
    if failure.check(KojiLoginException):
        return failure
    error = failure.value
    if isinstance(error, KojiTimeoutError):
        raise LoginTimedOut(
            f"the {what} at {shown} got no answer within {timeout:g} s (auth_timeout)"
        )
    if isinstance(error, KojiTLSAlert):
        hint = f"the hub refused the handshake with the TLS alert {error.alert!r}"
        if presented_cert:
            hint = (
                f"the hub refused the client's certificate with the TLS alert "
                f"{error.alert!r}: is it issued by a CA the hub trusts, "
                "valid now (not expired, not yet to come), and made for "
                "client authentication?"
            )
        raise LoginTLSError(f"{what} failed: {error} ({hint})")
    if isinstance(error, KojiTLSError):
        raise LoginTLSError(f"{what} failed: {error}")
    if isinstance(error, KojiConnectionError):
        raise LoginUnreachable(f"{what} failed: {error}")
    if isinstance(error, KojiException):
        raise KojiLoginException(f"{what} at {shown} failed: {error}")
    return failure
