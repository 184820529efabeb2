"""One login request: post ``sslLogin`` to ``<server>/ssllogin``.

A login goes on a connection of its own (nothing pooled), so the client
certificate of an SSL login is presented in that connection's handshake
and no later call reuses it.  Unlike ordinary calls, a login needs the
answer's headers (the hub's mutual-authentication token in
``WWW-Authenticate``) and the status of a refusal, so it does not go
through :class:`~txkoji.transport.HubTransport`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import treq
from hyperlink import URL
from treq.client import HTTPClient
from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.http_headers import Headers
from twisted.web.iweb import IPolicyForHTTPS

from txkoji.auth.errors import LoginRefused, LoginTLSError, LoginUnreachable
from txkoji.codec import ResponseDecoder, encode_call, pack_params
from txkoji.exceptions import (
    KojiConnectionError,
    KojiException,
    KojiFault,
    KojiLoginException,
    KojiTLSError,
)
from txkoji.tls import HubTLSPolicy
from txkoji.transport import HubTransport, translate_failure

#: The largest login answer read, in bytes (a session is a small struct).
MAX_ANSWER = 1 << 16


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


def login_body(renew: bool) -> bytes:
    """Return the ``sslLogin`` request body (``renew=True`` when renewing an
    expired session)."""
    return encode_call("sslLogin", pack_params((), {"renew": True} if renew else {}))


def login_tls_policy(
    config: Mapping[str, Any], authtype: str, cert: str | None = None
) -> HubTLSPolicy:
    """Return the TLS settings of a login: the profile's ``serverca`` and
    ``no_ssl_verify``, and the client certificate ``cert`` when given.

    :raises LoginTLSError: when ``serverca`` or ``cert`` cannot be loaded.
    """
    try:
        return HubTLSPolicy(
            serverca=config.get("serverca"),
            cert=cert,
            verify=not config.get("no_ssl_verify"),
        )
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
    reactor: Any,
    url: str,
    body: bytes,
    tls_policy: IPolicyForHTTPS,
    *,
    authtype: str,
    timeout: float,
    headers: dict[bytes, bytes] | None = None,
) -> defer.Deferred[LoginAnswer]:
    """POST a login ``body`` to ``url`` on a connection of its own.

    :param tls_policy: the TLS settings (with the client certificate for an
        SSL login).
    :param authtype: the login method, for messages.
    :param timeout: seconds the whole exchange may take (``auth_timeout``).
    :param headers: extra headers (``Authorization``, renewal session).
    :returns: a Deferred firing with a :class:`LoginAnswer`.  It fails with
        :class:`~txkoji.auth.errors.LoginRefused` (HTTP 401/403 or a fault,
        with the reason), :class:`~txkoji.auth.errors.LoginTLSError`,
        :class:`~txkoji.auth.errors.LoginUnreachable`, or a plain
        :class:`~txkoji.exceptions.KojiLoginException` for any other
        answer.
    """
    pool = HTTPConnectionPool(reactor, persistent=False)
    agent = Agent(reactor, contextFactory=tls_policy, pool=pool, connectTimeout=timeout)
    request_headers = Headers(
        {b"Content-Type": [b"text/xml"], b"User-Agent": [HubTransport.user_agent]}
    )
    for name, value in (headers or {}).items():
        request_headers.setRawHeaders(name, [value])
    shown = URL.from_text(url).replace(query=()).to_text()
    exchange = defer.Deferred.fromCoroutine(
        _exchange(HTTPClient(agent), url, body, request_headers, authtype, shown)
    )
    exchange.addTimeout(timeout, reactor)
    exchange.addErrback(_translate, shown, authtype, timeout, tls_policy)
    return exchange


async def _exchange(
    client: HTTPClient,
    url: str,
    body: bytes,
    headers: Headers,
    authtype: str,
    shown: str,
) -> LoginAnswer:
    response = await client.post(url, data=body, headers=headers)
    chunks: list[bytes] = []
    size = [0]

    def collect(data: bytes) -> None:
        size[0] += len(data)
        if size[0] > MAX_ANSWER:
            raise KojiLoginException(
                f"the answer to the {authtype} login at {shown} exceeds "
                f"{MAX_ANSWER} bytes"
            )
        chunks.append(data)

    await treq.collect(response, collect)
    text = b"".join(chunks)
    if response.code in (401, 403):
        reason = text.decode("utf-8", "replace").strip()[:300] or (
            response.phrase.decode("latin-1", "replace")
        )
        raise LoginRefused(
            f"{shown} refused the {authtype} login with HTTP {response.code}: {reason}",
            reason,
            status=response.code,
        )
    if response.code != 200:
        raise KojiLoginException(
            f"{shown} answered the {authtype} login with HTTP {response.code} "
            f"{response.phrase.decode('latin-1', 'replace')}"
        )
    decoder = ResponseDecoder("sslLogin")
    decoder.feed(text)
    try:
        value = decoder.close()
    except KojiFault as fault:
        raise LoginRefused(
            f"the hub refused the {authtype} login at {shown}: {fault}",
            fault.faultString,
        ) from None
    return LoginAnswer(value, negotiate_token(response.headers))


def _translate(
    failure: Failure,
    shown: str,
    authtype: str,
    timeout: float,
    tls_policy: IPolicyForHTTPS,
) -> Failure | None:
    if failure.check(KojiLoginException):
        return failure
    if failure.check(defer.TimeoutError):
        raise LoginUnreachable(
            f"the {authtype} login at {shown} got no answer within "
            f"{timeout:g} s (auth_timeout)"
        )
    try:
        failure = translate_failure(failure, shown, "sslLogin", tls_policy)
    except KojiTLSError as error:
        hint = ""
        if "alert" in str(error):
            # The hub's TLS stack answered the handshake with an alert: it
            # refused what the client presented.
            hint = (
                " (the hub refused the client's certificate: is it issued "
                "by a CA the hub trusts, and still valid?)"
            )
        raise LoginTLSError(f"{authtype} login failed: {error}{hint}") from None
    except KojiConnectionError as error:
        raise LoginUnreachable(f"{authtype} login failed: {error}") from None
    if failure.check(KojiException):
        raise KojiLoginException(
            f"{authtype} login at {shown} failed: {failure.value}"
        ) from None
    return failure
