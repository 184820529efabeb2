"""A small HTTP forward proxy on 127.0.0.1 for the proxy tests.

It tunnels ``CONNECT host:port`` by relaying bytes both ways (it never sees
inside the TLS), and serves plain-HTTP requests in absolute form with a
``twisted.web`` site that sends them on with a Twisted ``Agent``.  It
records every ``CONNECT`` target, every forwarded URL and every
``Proxy-Authorization`` it was sent; with ``credentials`` set it answers
407 to a request without them.
"""

from __future__ import annotations

import base64
from typing import Any

import treq
from twisted.internet import defer, reactor, ssl
from twisted.internet.endpoints import HostnameEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.web.client import Agent, FileBodyProducer
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site


class _Relay(Protocol):
    """The proxy's connection to the tunnel's target: what it receives
    goes back to the client."""

    def __init__(self, client: _ProxyProtocol) -> None:
        self.client = client

    def dataReceived(self, data: bytes) -> None:
        self.client.transport.write(data)

    def connectionLost(self, reason: Any = None) -> None:
        self.client.transport.loseConnection()


_HOP_HEADERS = frozenset(
    {b"host", b"content-length", b"connection", b"proxy-authorization"}
)


class _Forward(Resource):
    """Every plain-HTTP request in absolute form: recorded, then sent on to
    its URL (or refused with 407 when credentials are missing)."""

    isLeaf = True

    def __init__(self, server: ForwardProxy) -> None:
        super().__init__()
        self.server = server

    def render(self, request: Request) -> Any:
        authorization = request.getHeader(b"proxy-authorization")
        self.server.authorizations.append(authorization)
        self.server.requests.append(request.uri.decode("ascii"))
        if not self.server.admits(authorization):
            request.setResponseCode(407, b"Proxy Authentication Required")
            request.setHeader(b"Proxy-Authenticate", b'Basic realm="test"')
            return b""
        headers = Headers()
        for name, values in request.requestHeaders.getAllRawHeaders():
            # The agent writes its own framing and Host.
            if name.lower() not in _HOP_HEADERS:
                headers.setRawHeaders(name, values)
        body = FileBodyProducer(request.content)
        sent = Agent(reactor).request(request.method, request.uri, headers, body)
        sent.addCallback(self._relay, request)
        sent.addErrback(self._failed, request)
        return NOT_DONE_YET

    def _failed(self, failure: Any, request: Request) -> None:
        request.setResponseCode(502, b"Bad Gateway")
        request.finish()

    async def _answer(self, response: Any, request: Request) -> None:
        body = await treq.content(response)
        request.setResponseCode(response.code, response.phrase)
        for name, values in response.headers.getAllRawHeaders():
            request.responseHeaders.setRawHeaders(name, values)
        request.write(body)
        request.finish()

    def _relay(self, response: Any, request: Request) -> Any:
        return defer.Deferred.fromCoroutine(self._answer(response, request))


class _QuietSite(Site):
    """A site that logs no access lines."""

    def log(self, request: Any) -> None:
        """Log nothing."""


class _ProxyProtocol(Protocol):
    """One client connection: a CONNECT tunnel, or plain requests handed
    to Twisted's forward proxy."""

    def __init__(self, server: ForwardProxy) -> None:
        self.server = server
        self._head = b""
        self._forward: Protocol | None = None
        self._relay: _Relay | None = None
        self._pending: list[bytes] = []

    def connectionMade(self) -> None:
        self.server.open.add(self.transport)

    def dataReceived(self, data: bytes) -> None:
        if self._forward is not None:
            self._forward.dataReceived(data)
            return
        if self._relay is not None:
            self._relay.transport.write(data)
            return
        if self._head is None:
            self._pending.append(data)
            return
        self._head += data
        if not self._head.startswith(b"CONNECT "[: len(self._head)]):
            self._forward = self.server.site.buildProtocol(self.transport.getPeer())
            self._forward.makeConnection(self.transport)
            self._forward.dataReceived(self._head)
            return
        head, end, rest = self._head.partition(b"\r\n\r\n")
        if end:
            self._head = None
            self._pending.append(rest)
            self._tunnel(head)

    def _tunnel(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        target = lines[0].split(" ")[1]
        headers = dict(line.split(": ", 1) for line in lines[1:])
        authorization = headers.get("Proxy-Authorization")
        self.server.connects.append(target)
        self.server.authorizations.append(
            authorization.encode() if authorization else None
        )
        if self.server.behaviour == "drop":
            self.transport.loseConnection()
            return
        if self.server.status != 200:
            self._answer(self.server.status, "Refused")
            return
        if not self.server.admits(authorization and authorization.encode()):
            self._answer(407, "Proxy Authentication Required")
            return
        host, _, port = target.rpartition(":")
        endpoint = HostnameEndpoint(reactor, host.strip("[]"), int(port))
        connecting = endpoint.connect(Factory.forProtocol(lambda: _Relay(self)))
        connecting.addCallbacks(self._tunnelled, lambda _: self._answer(502, "Bad"))

    def _tunnelled(self, relay: _Relay) -> None:
        self.server.open.add(relay.transport)
        self._relay = relay
        self.transport.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if self.server.behaviour == "close-after-200":
            self.transport.loseConnection()
            return
        for data in self._pending:
            if data:
                relay.transport.write(data)
        self._pending = []

    def _answer(self, status: int, phrase: str) -> None:
        self.transport.write(
            f"HTTP/1.1 {status} {phrase}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        self.transport.loseConnection()

    def connectionLost(self, reason: Any = None) -> None:
        self.server.open.discard(self.transport)
        if self._forward is not None:
            self._forward.connectionLost(reason)
        if self._relay is not None:
            self.server.open.discard(self._relay.transport)
            self._relay.transport.loseConnection()


class ForwardProxy:
    """The proxy server.

    :param credentials: ``"user:password"`` the proxy requires, or ``None``.
    :ivar connects: the ``host:port`` of every CONNECT, in order.
    :ivar requests: the absolute URL of every plain-HTTP request.
    :ivar authorizations: the ``Proxy-Authorization`` of each CONNECT and
        request (``None`` when absent).
    :ivar status: set to answer every CONNECT with this status instead.
    :ivar behaviour: ``"relay"`` (tunnel as asked), ``"drop"`` (close a
        CONNECT's connection without answering) or ``"close-after-200"``
        (answer 200, then close).
    """

    def __init__(self, credentials: str | None = None) -> None:
        self.credentials = credentials
        self.connects: list[str] = []
        self.requests: list[str] = []
        self.authorizations: list[bytes | None] = []
        self.status = 200
        self.behaviour = "relay"
        self.tls = False
        self.open: set[Any] = set()
        self.site = _QuietSite(_Forward(self))
        self._port: Any = None
        #: The port listened on (once started).
        self.port = 0

    def admits(self, authorization: bytes | None) -> bool:
        """Whether a request with this ``Proxy-Authorization`` may pass."""
        if self.credentials is None:
            return True
        expected = b"Basic " + base64.b64encode(self.credentials.encode())
        return authorization == expected

    def start(self, tls: tuple[Any, Any] | None = None) -> ForwardProxy:
        """Listen on a free port of 127.0.0.1; with ``tls``, the (cert,
        key) PEM paths of a certificate for ``localhost``, over TLS (an
        ``https://`` proxy)."""
        factory = Factory.forProtocol(lambda: _ProxyProtocol(self))
        if tls is None:
            self._port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        else:
            cert, key = tls
            options = ssl.DefaultOpenSSLContextFactory(str(key), str(cert))
            self._port = reactor.listenSSL(0, factory, options, interface="127.0.0.1")
            self.tls = True
        self.port: int = self._port.getHost().port
        return self

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, or ``https://localhost:<port>``
        over TLS."""
        if self.tls:
            return f"https://localhost:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Close every connection open now (tunnels included), as a proxy
        restarting does."""
        for transport in list(self.open):
            transport.abortConnection()

    async def stop(self) -> None:
        """Stop listening and close every connection still open."""
        for transport in list(self.open):
            transport.abortConnection()
        await defer.maybeDeferred(self._port.stopListening)
