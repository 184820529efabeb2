"""HTTP(S) transport to a Koji hub.

:class:`HubTransport` posts one request body and streams the answer into a
decoder (anything with ``feed(bytes)`` and ``close() -> value``), so the
XML is parsed while it arrives (each call: :mod:`txkoji.posting`; the
bodies: :mod:`txkoji.bodies`; the
connections to the hub's servers: :mod:`txkoji.endpoints`; through a
proxy: :mod:`txkoji.proxy_agent`).  It owns one persistent
``HTTPConnectionPool``; every failure becomes a
:class:`~txkoji.exceptions.KojiTransportError` subclass (or the decoder's own
error) whose message names the URL with session secrets masked (see
:mod:`txkoji.transport_errors`).
"""

from __future__ import annotations

import functools
from typing import Any

from hyperlink import EncodedURL
from treq.client import HTTPClient
from treq.content import collect
from twisted.internet import defer, ssl
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.web import client as webclient
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IPolicyForHTTPS, IResponse

from txkoji.bodies import ERROR_BODY_LIMIT as ERROR_BODY_LIMIT  # re-exported
from txkoji.bodies import BytesProducer, Decoder
from txkoji.endpoints import CachingEndpointFactory
from txkoji.exceptions import (
    KojiConnectionClosed,
    KojiResponseTooLarge,
    KojiTLSError,
)
from txkoji.posting import Posting
from txkoji.proxies import ProxyChoice
from txkoji.proxy_agent import proxied_agent
from txkoji.tls import HubTLSPolicy
from txkoji.transport_errors import (
    mask_url,
    translate_login_failure,
    with_timeout,
)


@functools.lru_cache(maxsize=64)
def normalized_url(url: str) -> bytes:
    """Return ``url`` as the ASCII bytes a request line needs (IDNA host,
    escaped path and query), computed once per distinct URL."""
    return EncodedURL.from_text(url).to_uri().to_text().encode("ascii")


class HubTransport:
    """Posts XML-RPC bodies to a hub over one persistent connection pool.

    :param reactor: the reactor (``IReactorTCP``), used for connections.
    :param tls_policy: how HTTPS hubs are trusted (see
        :class:`txkoji.tls.HubTLSPolicy`).
    :param timeout: seconds a call may take, from sending to the last byte of
        the answer; ``None`` or 0 for no limit.
    :param max_response_size: the largest answer accepted, in bytes.
    :param max_connections_per_host: idle keep-alive connections kept.
    :param connect_timeout: seconds to wait for a TCP connection.
    :param max_header_size: the most bytes an answer's status line and
        headers may take (on direct connections).
    :param clock: what timeouts are measured on (default: ``reactor``).
    :param agent: the ``IAgent`` requests go through (default: a Twisted
        ``Agent`` on this transport's own pool); an in-memory agent makes a
        transport with no sockets (see :func:`txkoji.testing.memory_transport`).
    :param proxies: which HTTP proxy each URL goes through (see
        :mod:`txkoji.proxies`); ``None`` for none.  Calls and logins both
        follow it.
    """

    user_agent = b"txkoji/1.0"

    #: The largest answer to a login read, in bytes (a session is a small
    #: struct).
    max_login_answer = 1 << 16

    def __init__(
        self,
        reactor: Any,
        tls_policy: IPolicyForHTTPS,
        *,
        timeout: float | None = None,
        max_response_size: int = 1 << 30,
        max_connections_per_host: int = 16,
        connect_timeout: float = 60.0,
        max_header_size: int = 64 * 1024,
        clock: IReactorTime | None = None,
        agent: IAgent | None = None,
        proxies: ProxyChoice | None = None,
    ) -> None:
        self.reactor = reactor
        self.clock: IReactorTime = clock if clock is not None else reactor
        self.tls_policy = tls_policy
        self.timeout = timeout
        self.max_response_size = max_response_size
        self.pool = webclient.HTTPConnectionPool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = max_connections_per_host
        self.proxies = proxies
        self._connect_timeout = connect_timeout
        self._max_header_size = max_header_size
        #: Whether requests go through :attr:`pool` (no ``agent`` given).
        self._pooled = agent is None
        if agent is None:
            agent = self._agent_on(self.pool, tls_policy)
        self.agent: IAgent = agent
        # The Agent copies these for each request, so they are built once.
        self._headers = Headers(
            {b"Content-Type": [b"text/xml"], b"User-Agent": [self.user_agent]}
        )
        #: The hub's ``Koji-Version`` header from the latest answer.
        self.hub_version: str | None = None
        self._outstanding = 0
        self._idle: list[defer.Deferred[None]] = []
        self.closed = False

    def post(
        self,
        url: str,
        body: bytes,
        decoder: Decoder,
        *,
        method: str = "",
        headers: dict[bytes, bytes] | None = None,
    ) -> defer.Deferred[Any]:
        """POST ``body`` to ``url`` and decode the answer with ``decoder``.

        The request goes straight to the pooled Twisted ``Agent`` (treq's
        per-request URL parsing and agent wrappers would cost more than the
        rest of the call).  A request whose connection dies before any
        answer, as a reused keep-alive connection the hub just closed does,
        is sent once more on a fresh connection.

        :param method: the hub method, for error messages.
        :param headers: extra request headers (e.g. session headers).
        :returns: a Deferred firing with ``decoder.close()``'s value.  It
            fails with ``KojiConnectionError`` (refused, reset, lost;
            ``KojiConnectionClosed`` when the transport was closed),
            ``KojiTLSError``, ``KojiHTTPError`` (status other than 200),
            ``KojiTimeoutError``,
            ``KojiResponseTooLarge``, ``KojiProtocolError`` (headers beyond
            ``max_header_size``), or what the decoder raises (a fault or
            ``KojiProtocolError``).  Cancelling it aborts the request, and
            it then fails with ``CancelledError`` whatever the request was
            doing (resolving, connecting, a TLS handshake, waiting).
        """
        if self.closed:
            shown = mask_url(url)
            return defer.fail(
                KojiConnectionClosed(
                    f"cannot send {method or 'a call'} to {shown}: the "
                    "connection was closed",
                    shown,
                    method or None,
                )
            )
        self._outstanding += 1
        return Posting(self, url, body, decoder, method, headers).start()

    def _agent_on(
        self, pool: webclient.HTTPConnectionPool, tls_policy: IPolicyForHTTPS
    ) -> IAgent:
        """An agent on ``pool``, direct or through the proxies."""
        reactor, timeout = self.reactor, self._connect_timeout
        direct = webclient.Agent.usingEndpointFactory(
            reactor,
            CachingEndpointFactory(reactor, tls_policy, timeout, self._max_header_size),
            pool=pool,
        )
        return proxied_agent(
            reactor,
            direct,
            tls_policy,
            self.proxies,
            pool,
            timeout,
            self._max_header_size,
        )

    def _request(
        self,
        url: str,
        body: bytes,
        headers: dict[bytes, bytes] | None,
        agent: IAgent | None = None,
    ) -> defer.Deferred[Any]:
        request_headers = self._headers
        if headers:
            request_headers = request_headers.copy()
            for name, value in headers.items():
                request_headers.setRawHeaders(name, [value])
        return (agent or self.agent).request(
            b"POST", normalized_url(url), request_headers, BytesProducer(body)
        )

    def login(
        self,
        url: str,
        body: bytes,
        headers: dict[bytes, bytes] | None,
        timeout: float,
        *,
        client_cert: ssl.PrivateCertificate | None = None,
    ) -> defer.Deferred[tuple[int, Headers, bytes]]:
        """POST a login ``body`` to ``url`` on a connection of its own
        (never pooled, so a client certificate presented there serves no
        later call), through the proxy the URL gets.  A transport made with
        an ``agent`` sends the login through that agent instead (it cannot
        present a client certificate).

        :param headers: extra request headers (``Authorization``, the
            renewed session's).
        :param timeout: seconds the whole exchange may take
            (``auth_timeout``).
        :param client_cert: a certificate with its key (see
            :func:`txkoji.tls.load_client_certificate`) to present in the
            handshake, trusting the hub as this transport does.
        :returns: a Deferred firing with the answer's ``(status, headers,
            body)`` whatever the status.  It fails with
            ``KojiConnectionError`` (refused, lost, a proxy that would not
            tunnel), ``KojiTLSAlert`` (the hub ended the handshake with an
            alert, as when it refuses the client certificate), another
            ``KojiTLSError``, ``KojiTimeoutError``, or
            ``KojiResponseTooLarge`` past :attr:`max_login_answer` bytes.
        """
        policy = self.tls_policy
        if client_cert is not None:
            if not self._pooled or not isinstance(policy, HubTLSPolicy):
                shown = mask_url(url)
                return defer.fail(
                    KojiTLSError(
                        f"cannot present a client certificate to {shown}: this "
                        "transport was given its agent, or a TLS policy other "
                        "than HubTLSPolicy",
                        shown,
                    )
                )
            policy = policy.presenting(client_cert)
        agent = self.agent
        if self._pooled:
            pool = webclient.HTTPConnectionPool(self.reactor, persistent=False)
            agent = self._agent_on(pool, policy)
        # The login exchange goes through treq, on this transport's agent
        # (so through the same proxy and TLS checks as calls).
        login_headers = self._headers.copy()
        for name, value in (headers or {}).items():
            login_headers.setRawHeaders(name, [value])
        sending = HTTPClient(agent).request(
            "POST",
            url,
            data=BytesProducer(body),
            headers=login_headers,
            allow_redirects=False,
        )
        answer = sending.addCallback(self._read_login_answer, url)
        answer.addErrback(translate_login_failure, url, policy)
        with_timeout(answer, self.clock, timeout, url, "the login")
        return answer

    def _read_login_answer(
        self, response: IResponse, url: str
    ) -> defer.Deferred[tuple[int, Headers, bytes]]:
        chunks: list[bytes] = []
        limit = self.max_login_answer
        size = 0

        def keep(data: bytes) -> None:
            nonlocal size
            size += len(data)
            if size > limit:
                raise KojiResponseTooLarge(
                    f"the answer from {mask_url(url)} exceeds {limit} bytes"
                )
            chunks.append(data)

        reading = collect(response, keep)
        return reading.addCallback(
            lambda _: (response.code, response.headers, b"".join(chunks))
        )

    def _settled(self) -> None:
        """Count a call as no longer under way (called by its
        :class:`~txkoji.posting.Posting` before the caller's callbacks
        run)."""
        self._outstanding -= 1
        if not self._outstanding:
            idle, self._idle = self._idle, []
            for waiter in idle:
                waiter.callback(None)

    def close(self) -> defer.Deferred[None]:
        """Close every pooled connection, once the requests under way have
        finished; requests made afterwards fail with
        ``KojiConnectionError``.

        :returns: a Deferred firing with ``None`` once they are closed.
        """
        self.closed = True
        idle: defer.Deferred[None] = defer.Deferred()
        if self._outstanding:
            self._idle.append(idle)
        else:
            idle.callback(None)
        if self._pooled:
            # A connection goes back to the pool only after the callbacks of
            # its answer have run, so the pool is emptied a reactor turn
            # later (a turn of the reactor doing the I/O, not of the clock).
            idle.addCallback(lambda _: deferLater(self.reactor, 0))
        idle.addCallback(lambda _: self.pool.closeCachedConnections())
        return idle
