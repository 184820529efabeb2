"""Reaching the hub through an HTTP forward proxy.

* The connection to the proxy itself is plain TCP for an ``http://``
  proxy, and TLS for an ``https://`` one (Twisted's TLS, the proxy's
  certificate verified for its host name as the hub's would be); what
  follows goes inside it.

* ``https://`` URLs go through a tunnel: :class:`TunnelEndpoint` connects
  to the proxy, asks it ``CONNECT host:port`` (with ``Proxy-Authorization:
  Basic`` when the proxy URL has credentials), and once the proxy answers
  2xx hands the connection to the protocol above, TLS with the hub itself
  (the hub's name, the hub's certificate verified: the proxy sees only
  encrypted bytes).
* ``http://`` URLs go through Twisted's ``ProxyAgent`` (requests in
  absolute form, the credentials in each request's
  ``Proxy-Authorization``).

:func:`~txkoji.proxy_agent.proxied_agent` builds the agent that picks,
per request, a direct connection, a tunnel or the forward proxy, as a
:class:`~txkoji.proxies.ProxyChoice` says.  Messages name the proxy with
its credentials masked.
"""

from __future__ import annotations

from typing import Any, cast

from OpenSSL import SSL
from twisted.internet import defer
from twisted.internet import error as neterror
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import (
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
    ITCPTransport,
)
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from txkoji.exceptions import KojiConfigError, KojiConnectionError, KojiProxyRefused
from txkoji.proxies import ProxyURL

#: The longest answer head to ``CONNECT`` read before giving up, in bytes.
MAX_CONNECT_ANSWER = 16 * 1024

#: Answers to ``CONNECT`` that a repeat would get again: credentials wanted
#: or refused (407, or 401 from a proxy that says so), the destination
#: refused (403).  They fail with :class:`~txkoji.exceptions.KojiProxyRefused`.
REFUSING_STATUSES = frozenset({401, 403, 407})


class _ConnectProtocol(Protocol):
    """Ask the proxy for a tunnel, then relay the connection's bytes to the
    protocol built by ``factory``."""

    def __init__(
        self,
        factory: IProtocolFactory,
        proxy: ProxyURL,
        target: bytes,
        ready: defer.Deferred[IProtocol],
    ) -> None:
        self._factory = factory
        self._proxy = proxy
        self._target = target
        self._ready = ready
        self._head = b""
        self._inner: IProtocol | None = None

    @property
    def connection(self) -> ITCPTransport:
        """The TCP connection to the proxy (once connected)."""
        return cast(ITCPTransport, self.transport)

    def connectionMade(self) -> None:
        lines = [b"CONNECT " + self._target + b" HTTP/1.1", b"Host: " + self._target]
        if self._proxy.authorization:
            lines.append(b"Proxy-Authorization: " + self._proxy.authorization)
        self.connection.write(b"\r\n".join(lines) + b"\r\n\r\n")

    def dataReceived(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.dataReceived(data)
            return
        if self._ready.called:
            return
        self._head += data
        head, end, rest = self._head.partition(b"\r\n\r\n")
        if not end:
            if len(self._head) > MAX_CONNECT_ANSWER:
                self._refuse(f"an answer head longer than {MAX_CONNECT_ANSWER} bytes")
            return
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        version, _, status = status_line.partition(" ")
        code, _, phrase = status.partition(" ")
        if not version.startswith("HTTP/") or not code.isdigit():
            self._refuse(f"a malformed status line {status_line[:80]!r}")
            return
        if not 200 <= int(code) < 300:
            self._refuse(f"HTTP {code} {phrase.strip()[:120]}", int(code))
            return
        inner = self._factory.buildProtocol(self.connection.getPeer())
        # The factories the agent connects (TLS, HTTP/1.1) always build one.
        assert inner is not None
        self._inner = inner
        inner.makeConnection(self.connection)
        self._ready.callback(inner)
        if rest:
            inner.dataReceived(rest)

    def _refuse(self, answer: str, status: int = 0) -> None:
        self.connection.loseConnection()
        message = (
            f"proxy {self._proxy.shown} refused to tunnel to "
            f"{self._target.decode('ascii')}: it answered CONNECT with {answer}"
        )
        error: KojiConnectionError
        if status in REFUSING_STATUSES:
            if status in (401, 407):
                message += (
                    " (proxy authentication required: give user:password@ in"
                    " the proxy URL)"
                    if self._proxy.authorization is None
                    else " (the proxy refused the credentials of the proxy URL)"
                )
            error = KojiProxyRefused(message, self._proxy.shown, status=status)
        else:
            error = KojiConnectionError(message, self._proxy.shown)
        self._ready.errback(error)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._inner is not None:
            self._inner.connectionLost(reason)
        elif not self._ready.called:
            if reason.check(SSL.Error):
                message = (
                    f"TLS with proxy {self._proxy.shown} failed: "
                    f"{reason.getErrorMessage()}"
                )
            else:
                message = (
                    f"proxy {self._proxy.shown} closed the connection before "
                    f"answering CONNECT {self._target.decode('ascii')}"
                )
            self._ready.errback(KojiConnectionError(message, self._proxy.shown))


class _ConnectFactory(ClientFactory):
    def __init__(self, build: Any) -> None:
        self._build = build

    def buildProtocol(self, addr: Any) -> Protocol:
        protocol: Protocol = self._build()
        protocol.factory = self
        return protocol


def _proxy_unreachable(failure: Failure, proxy: ProxyURL) -> Failure:
    """Name the proxy in a failure to connect to it."""
    if failure.check(defer.CancelledError, KojiConnectionError):
        return failure
    if failure.check(neterror.ConnectionRefusedError):
        detail = "it refused the connection"
    elif failure.check(neterror.TimeoutError):
        detail = "connecting timed out"
    else:
        detail = str(failure.value) or type(failure.value).__name__
    return Failure(
        KojiConnectionError(
            f"cannot connect to proxy {proxy.shown}: {detail}", proxy.shown
        )
    )


@implementer(IStreamClientEndpoint)
class ProxyEndpoint:
    """Connects to the proxy itself (over TLS for an ``https://`` proxy); a
    failure to do so is a ``KojiConnectionError`` naming the proxy
    (credentials masked).

    :param reactor: the reactor (``IReactorTCP``).
    :param proxy: the proxy.
    :param timeout: seconds to wait for the TCP connection.
    :param tls_policy: how an ``https://`` proxy's certificate is checked
        (for the proxy's host name).
    """

    def __init__(
        self,
        reactor: Any,
        proxy: ProxyURL,
        timeout: float,
        tls_policy: IPolicyForHTTPS | None = None,
    ) -> None:
        self.proxy = proxy
        endpoint: IStreamClientEndpoint = HostnameEndpoint(
            reactor, proxy.host, proxy.port, timeout
        )
        if proxy.tls:
            if tls_policy is None:
                raise KojiConfigError(
                    f"proxy {proxy.shown} is https://, and no TLS policy was "
                    "given to check its certificate"
                )
            creator = tls_policy.creatorForNetloc(proxy.host.encode("idna"), proxy.port)
            endpoint = wrapClientTLS(creator, endpoint)
        self._endpoint = endpoint

    def connect(self, protocolFactory: IProtocolFactory) -> defer.Deferred[Any]:
        """Connect to the proxy.

        :returns: a Deferred firing with the protocol, or failing with
            ``KojiConnectionError``.
        """
        connecting = self._endpoint.connect(protocolFactory)
        return connecting.addErrback(_proxy_unreachable, self.proxy)

    def __repr__(self) -> str:
        return f"<ProxyEndpoint {self.proxy.shown}>"


@implementer(IStreamClientEndpoint)
class TunnelEndpoint:
    """Connects to ``host:port`` through a ``CONNECT`` tunnel of an HTTP
    proxy; wrap it with ``wrapClientTLS`` for TLS with ``host``.

    :param proxy_endpoint: connects to the proxy (a :class:`ProxyEndpoint`).
    :param proxy: the proxy (its credentials go in ``Proxy-Authorization``).
    :param host: the host to reach (the hub).
    :param port: its port.
    """

    def __init__(
        self,
        proxy_endpoint: IStreamClientEndpoint,
        proxy: ProxyURL,
        host: str,
        port: int,
    ) -> None:
        self._proxy_endpoint = proxy_endpoint
        self._proxy = proxy
        target = f"[{host}]" if ":" in host else host
        self._target = f"{target}:{port}".encode("ascii")

    def connect(self, protocolFactory: IProtocolFactory) -> defer.Deferred[Any]:
        """Open the tunnel and connect ``protocolFactory``'s protocol
        through it.

        :returns: a Deferred firing with that protocol once the proxy
            answered 2xx.  It fails with ``KojiConnectionError`` when the
            proxy cannot be reached, answers anything else (407 when it
            wants credentials), or closes the connection first.  Cancelling
            it closes the connection to the proxy.
        """
        protocols: list[_ConnectProtocol] = []

        def cancel(_: defer.Deferred[Any]) -> None:
            if protocols and protocols[0].transport is not None:
                protocols[0].connection.abortConnection()
            else:
                connecting.cancel()

        ready: defer.Deferred[Any] = defer.Deferred(cancel)

        def build() -> _ConnectProtocol:
            protocol = _ConnectProtocol(
                protocolFactory, self._proxy, self._target, ready
            )
            protocols.append(protocol)
            return protocol

        def unreachable(failure: Failure) -> None:
            if not ready.called:
                ready.errback(failure)

        connecting = self._proxy_endpoint.connect(_ConnectFactory(build))
        connecting.addErrback(unreachable)
        return ready
