"""HTTP(S) transport to a Koji hub.

:class:`HubTransport` posts one request body and streams the answer into a
decoder (anything with ``feed(bytes)`` and ``close() -> value``), so the
XML is parsed while it arrives.  It owns one persistent
``HTTPConnectionPool``; every failure becomes a
:class:`~txkoji.exceptions.KojiTransportError` subclass (or the decoder's own
error) whose message names the URL with session secrets masked.
"""

from __future__ import annotations

import functools
from typing import Any
from typing import Protocol as TypingProtocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hyperlink import EncodedURL
from OpenSSL import SSL
from service_identity import VerificationError
from twisted.internet import defer
from twisted.internet import error as neterror
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IReactorTime, IStreamClientEndpoint
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web.error import SchemeNotSupported
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgentEndpointFactory, IBodyProducer, IPolicyForHTTPS
from zope.interface import implementer

from txkoji.exceptions import (
    KojiConnectionError,
    KojiException,
    KojiHTTPError,
    KojiResponseTooLarge,
    KojiTimeoutError,
    KojiTLSError,
)

#: Query parameters that carry session secrets (legacy query-string auth).
SECRET_QUERY_KEYS = frozenset({"session-id", "session-key", "callnum"})

#: How much of a non-200 answer's body is kept for the error message.
ERROR_BODY_LIMIT = 2048


def mask_url(url: str) -> str:
    """Return ``url`` with the values of session query parameters masked,
    fit for log lines and error messages."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (key, "***" if key in SECRET_QUERY_KEYS else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


@functools.lru_cache(maxsize=64)
def normalized_url(url: str) -> bytes:
    """Return ``url`` as the ASCII bytes a request line needs (IDNA host,
    escaped path and query), computed once per distinct URL."""
    return EncodedURL.from_text(url).to_uri().to_text().encode("ascii")


def _died_before_answer(failure: Failure) -> bool:
    """Tell whether a request failed because its connection closed before
    any byte of an answer, the mark of a keep-alive connection the hub had
    just closed (not a refusal, a TLS failure or a cancellation)."""
    if not failure.check(webclient.ResponseNeverReceived):
        return False
    return all(
        reason.check(neterror.ConnectionDone, neterror.ConnectionLost)
        for reason in failure.value.reasons
    )


class Decoder(TypingProtocol):
    """What :meth:`HubTransport.post` streams the answer into."""

    def feed(self, data: bytes) -> None:
        """Take the next chunk of the answer."""

    def close(self) -> Any:
        """Return the decoded answer (or raise what it says)."""


@implementer(IBodyProducer)
class _BytesProducer:
    """A request body already in memory, written in one go (a
    ``FileBodyProducer`` would hand it to a cooperator and cost reactor
    turns)."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.length = len(body)

    def startProducing(self, consumer) -> defer.Deferred:
        consumer.write(self._body)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        """Nothing to pause: the body was written at once."""

    def resumeProducing(self) -> None:
        """Nothing to resume: the body was written at once."""

    def stopProducing(self) -> None:
        """Nothing to stop: the body was written at once."""


@implementer(IStreamClientEndpoint)
class _NoDelayEndpoint:
    """Connect as ``endpoint`` does, then turn Nagle's algorithm off.

    A request goes out as several writes (headers, then body pieces); with
    Nagle the last small segment waits for the hub's delayed ACK, 40 ms
    per request (the official client's HTTP library disables it too).
    """

    def __init__(self, endpoint: Any) -> None:
        self._endpoint = endpoint

    def connect(self, factory: Any) -> defer.Deferred:
        """Connect, and set ``TCP_NODELAY`` on the new connection."""

        def nodelay(protocol: Any) -> Any:
            set_nodelay = getattr(protocol.transport, "setTcpNoDelay", None)
            if set_nodelay is not None:
                set_nodelay(True)
            return protocol

        return self._endpoint.connect(factory).addCallback(nodelay)


@implementer(IAgentEndpointFactory)
class _CachingEndpointFactory:
    """Build each (scheme, host, port) endpoint once.

    Twisted's Agent builds a new endpoint, and encodes the host name again,
    for every request even when the pool then reuses a connection.
    """

    def __init__(
        self, reactor: Any, tls_policy: IPolicyForHTTPS, connect_timeout: float
    ) -> None:
        self._reactor = reactor
        self._tls_policy = tls_policy
        self._connect_timeout = connect_timeout
        self._endpoints: dict[tuple[bytes, bytes, int], Any] = {}

    def endpointForURI(self, uri):
        key = (uri.scheme, uri.host, uri.port)
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            host = uri.host.decode("ascii")
            endpoint = _NoDelayEndpoint(
                HostnameEndpoint(
                    self._reactor, host, uri.port, timeout=self._connect_timeout
                )
            )
            if uri.scheme == b"https":
                creator = self._tls_policy.creatorForNetloc(uri.host, uri.port)
                endpoint = wrapClientTLS(creator, endpoint)
            elif uri.scheme != b"http":
                raise SchemeNotSupported(f"unsupported scheme {uri.scheme!r}")
            self._endpoints[key] = endpoint
        return endpoint


class _ClosablePool(webclient.HTTPConnectionPool):
    """A connection pool that stays closed once closed.

    A response that finishes while :meth:`HubTransport.close` runs (the
    logout answer, say) hands its connection back to the pool only after
    its callbacks have run; a plain pool would then keep it, with a
    four-minute timer, after it was closed.
    """

    closed = False

    def _putConnection(self, key, connection) -> None:
        if self.closed:
            connection.transport.loseConnection()
            return
        super()._putConnection(key, connection)

    def closeCachedConnections(self) -> defer.Deferred:
        self.closed = True
        return super().closeCachedConnections()


class _Reader(Protocol):
    """Read an answer's body; ``finished`` fires when it is read, and
    cancelling it stops the reading."""

    def __init__(self) -> None:
        self.finished: defer.Deferred = defer.Deferred(self._cancel)
        self._done = False

    def _settle(self) -> defer.Deferred | None:
        """Return ``finished`` the first time, ``None`` after (once the
        answer is settled, or the reading cancelled)."""
        if self._done:
            return None
        self._done = True
        return self.finished

    def _cancel(self, _: defer.Deferred) -> None:
        if not self._done:
            self._done = True
            self.transport.stopProducing()


class _BodyReader(_Reader):
    """Feed an answer's body to a decoder as it arrives, within a size
    limit; ``finished`` fires with the decoded value."""

    def __init__(self, decoder: Decoder, limit: int, url: str, method: str) -> None:
        super().__init__()
        self._decoder = decoder
        self._limit = limit
        self._url = url
        self._method = method
        self._received = 0

    @property
    def _shown(self) -> str:
        return mask_url(self._url)

    def dataReceived(self, data: bytes) -> None:
        if self._done:
            return
        self._received += len(data)
        if self._received > self._limit:
            self._abort(
                Failure(
                    KojiResponseTooLarge(
                        f"the answer to {self._method} from {self._shown} exceeds "
                        f"max_response_size ({self._limit} bytes)",
                        self._method,
                    )
                )
            )
            return
        try:
            self._decoder.feed(data)
        except Exception:
            self._abort(Failure())

    def _abort(self, failure: Failure) -> None:
        finished = self._settle()
        self.transport.stopProducing()
        finished.errback(failure)

    def connectionLost(self, reason: Failure) -> None:
        finished = self._settle()
        if finished is None:
            return
        if reason.check(webclient.ResponseDone, PotentialDataLoss):
            try:
                value = self._decoder.close()
            except Exception:
                finished.errback()
            else:
                finished.callback(value)
            return
        finished.errback(
            KojiConnectionError(
                f"the connection to {self._shown} was lost after {self._received} "
                f"bytes of the answer to {self._method}: {_reason_text(reason)}",
                self._shown,
            )
        )


class _ErrorBodyReader(_Reader):
    """Keep the start of a non-200 answer for the error message;
    ``finished`` fires with it as text."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._size = 0

    def dataReceived(self, data: bytes) -> None:
        if self._size < ERROR_BODY_LIMIT:
            self._chunks.append(data)
            self._size += len(data)

    def connectionLost(self, reason: Failure) -> None:
        finished = self._settle()
        if finished is not None:
            body = b"".join(self._chunks)[:ERROR_BODY_LIMIT]
            finished.callback(body.decode("utf-8", "replace"))


def _reason_text(failure: Failure) -> str:
    value = failure.value
    nested = getattr(value, "reasons", None)
    if nested:
        return "; ".join(_reason_text(reason) for reason in nested)
    text = str(value) or type(value).__name__
    return text


def _find_reason(failure: Failure, *kinds: type) -> Failure | None:
    """Return ``failure``, or the first failure nested in its ``reasons``
    (Twisted's ``ResponseNeverReceived`` and kin), that is one of
    ``kinds``."""
    if failure.check(*kinds):
        return failure
    for reason in getattr(failure.value, "reasons", None) or ():
        found = _find_reason(reason, *kinds)
        if found is not None:
            return found
    return None


class HubTransport:
    """Posts XML-RPC bodies to a hub over one persistent connection pool.

    :param reactor: the reactor (``IReactorTCP`` and ``IReactorTime``).
    :param tls_policy: how HTTPS hubs are trusted (see
        :class:`txkoji.tls.HubTLSPolicy`).
    :param timeout: seconds a call may take, from sending to the last byte of
        the answer; ``None`` or 0 for no limit.
    :param max_response_size: the largest answer accepted, in bytes.
    :param max_connections_per_host: idle keep-alive connections kept.
    :param connect_timeout: seconds to wait for a TCP connection.
    """

    user_agent = b"txkoji/1.0"

    def __init__(
        self,
        reactor: Any,
        tls_policy: IPolicyForHTTPS,
        *,
        timeout: float | None = None,
        max_response_size: int = 1 << 30,
        max_connections_per_host: int = 16,
        connect_timeout: float = 60.0,
    ) -> None:
        self.reactor = reactor
        self._tls_policy = tls_policy
        self.timeout = timeout
        self.max_response_size = max_response_size
        self.pool = _ClosablePool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = max_connections_per_host
        self._agent = webclient.Agent.usingEndpointFactory(
            reactor,
            _CachingEndpointFactory(reactor, tls_policy, connect_timeout),
            pool=self.pool,
        )
        # The Agent copies these for each request, so they are built once.
        self._headers = Headers(
            {b"Content-Type": [b"text/xml"], b"User-Agent": [self.user_agent]}
        )
        #: The hub's ``Koji-Version`` header from the latest answer.
        self.hub_version: str | None = None

    @property
    def tls_policy(self) -> IPolicyForHTTPS:
        """How this transport trusts HTTPS servers."""
        return self._tls_policy

    @property
    def agent(self) -> webclient.Agent:
        """The pooled Twisted ``Agent`` (this transport's TLS policy and
        connection pool), for requests other than calls, such as file
        downloads."""
        return self._agent

    def post(
        self,
        url: str,
        body: bytes,
        decoder: Decoder,
        *,
        method: str = "",
        headers: dict[bytes, bytes] | None = None,
    ) -> defer.Deferred:
        """POST ``body`` to ``url`` and decode the answer with ``decoder``.

        The request goes straight to the pooled Twisted ``Agent`` (treq's
        per-request URL parsing and agent wrappers would cost more than the
        rest of the call).  A request whose connection dies before any
        answer, as a reused keep-alive connection the hub just closed does,
        is sent once more on a fresh connection.

        :param method: the hub method, for error messages.
        :param headers: extra request headers (e.g. session headers).
        :returns: a Deferred firing with ``decoder.close()``'s value.  It
            fails with ``KojiConnectionError`` (refused, reset, lost),
            ``KojiTLSError``, ``KojiHTTPError`` (status other than 200),
            ``KojiTimeoutError``, ``KojiResponseTooLarge``, or what the
            decoder raises (a fault or ``KojiProtocolError``).  Cancelling it
            aborts the request.
        """
        request_headers = self._headers
        if headers:
            request_headers = request_headers.copy()
            for name, value in headers.items():
                request_headers.setRawHeaders(name, [value])
        target = normalized_url(url)

        def send(_: Any = None) -> defer.Deferred:
            return self._agent.request(
                b"POST", target, request_headers, _BytesProducer(body)
            )

        def resend_once(failure: Failure) -> Any:
            if _died_before_answer(failure):
                return send()
            return failure

        def got_response(response) -> defer.Deferred:
            versions = response.headers.getRawHeaders(b"koji-version")
            if versions:
                self.hub_version = versions[-1].decode("ascii", "replace")
            if response.code != 200:
                error_reader = _ErrorBodyReader()
                response.deliverBody(error_reader)
                return error_reader.finished.addCallback(
                    _http_error, response, url, method
                )
            reader = _BodyReader(decoder, self.max_response_size, url, method)
            response.deliverBody(reader)
            return reader.finished

        # Cancelling this Deferred cancels what it waits on: the request,
        # or the reading of the answer.
        requesting = send()
        requesting.addErrback(resend_once)
        requesting.addCallback(got_response)
        requesting.addErrback(translate_failure, url, method, self._tls_policy)
        if self.timeout:
            _apply_timeout(requesting, self.reactor, self.timeout, url, method)
        return requesting

    def close(self) -> defer.Deferred:
        """Close every pooled connection.

        :returns: a Deferred firing with ``None`` once they are closed.
        """
        return self.pool.closeCachedConnections()


def _http_error(body: str, response, url: str, method: str) -> None:
    url = mask_url(url)
    phrase = response.phrase.decode("latin-1", "replace")
    detail = body.strip()
    message = (
        f"{url} answered {method or 'the call'} with HTTP {response.code} {phrase}"
    )
    if detail:
        message += f": {detail[:300]}"
    raise KojiHTTPError(message, url, status=response.code, reason=detail or phrase)


def translate_failure(
    failure: Failure, url: str, method: str, tls_policy: IPolicyForHTTPS
) -> Failure:
    """Turn a failed request into the txkoji exception a caller can act on.

    :param url: the URL requested (masked here before it is shown).
    :param method: the hub method, for the message.
    :param tls_policy: asked why a hub certificate was refused.
    :returns: ``failure`` itself when it already is a txkoji exception or a
        cancellation.
    :raises KojiTLSError: for TLS failures, with the reason when known.
    :raises KojiConnectionError: for refused, failed and lost connections.
    """
    if failure.check(KojiException):
        return failure
    cancelled = _find_reason(failure, defer.CancelledError)
    if cancelled is not None:
        return cancelled
    host = urlsplit(url).hostname or ""
    url = mask_url(url)
    tls = _find_reason(failure, SSL.Error)
    if tls is not None:
        explain = getattr(tls_policy, "verify_problem", None)
        problem = explain(host.encode("idna")) if explain else None
        detail = f"the hub's certificate {problem}" if problem else _reason_text(tls)
        raise KojiTLSError(f"TLS with {url} failed: {detail}", url)
    mismatch = _find_reason(failure, VerificationError)
    if mismatch is not None:
        raise KojiTLSError(
            f"TLS with {url} failed: the hub's certificate is not issued for "
            f"{host} ({_reason_text(mismatch)})",
            url,
        )
    if failure.check(neterror.ConnectionRefusedError):
        raise KojiConnectionError(f"{url} refused the connection", url)
    if failure.check(neterror.DNSLookupError):
        raise KojiConnectionError(
            f"cannot resolve the host of {url}: {_reason_text(failure)}", url
        )
    if failure.check(neterror.TimeoutError):
        raise KojiConnectionError(f"connecting to {url} timed out", url)
    if failure.check(
        neterror.ConnectError,
        webclient.ResponseNeverReceived,
        webclient.RequestTransmissionFailed,
        webclient.ResponseFailed,
        neterror.ConnectionLost,
        neterror.ConnectionDone,
    ):
        raise KojiConnectionError(
            f"the connection to {url} failed during {method or 'the call'}: "
            f"{_reason_text(failure)}",
            url,
        )
    return failure


def _apply_timeout(
    result: defer.Deferred, clock: IReactorTime, timeout: float, url: str, method: str
) -> None:
    timed_out = []

    def expire() -> None:
        timed_out.append(True)
        result.cancel()

    delayed = clock.callLater(timeout, expire)

    def done(outcome):
        if delayed.active():
            delayed.cancel()
        if (
            timed_out
            and isinstance(outcome, Failure)
            and outcome.check(defer.CancelledError)
        ):
            shown = mask_url(url)
            raise KojiTimeoutError(
                f"{method or 'the call'} to {shown} took longer than "
                f"{timeout:g} s (the timeout option)",
                shown,
            )
        return outcome

    result.addBoth(done)
