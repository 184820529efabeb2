"""How connections to a hub's servers are made.

:class:`CachingEndpointFactory` gives Twisted's ``Agent`` one endpoint per
(scheme, host, port), built once: a TCP connection with Nagle's algorithm
off (:class:`NoDelayEndpoint`), TLS for ``https`` (the hub's certificate
checked by the transport's TLS policy), and a bound on the answer's header
bytes (:mod:`txkoji.header_limit`).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.web import client as webclient
from twisted.web.error import SchemeNotSupported
from twisted.web.iweb import IAgentEndpointFactory, IPolicyForHTTPS
from zope.interface import implementer

from txkoji.header_limit import HeaderLimitedEndpoint


@implementer(IStreamClientEndpoint)
class NoDelayEndpoint:
    """Connect as ``endpoint`` does, then turn Nagle's algorithm off.

    A request goes out as several writes (headers, then body pieces); with
    Nagle the last small segment waits for the hub's delayed ACK, 40 ms
    per request (the official client's HTTP library disables it too).
    """

    def __init__(self, endpoint: Any) -> None:
        self._endpoint = endpoint

    def connect(self, factory: Any) -> defer.Deferred[Any]:
        """Connect, and set ``TCP_NODELAY`` on the new connection."""

        def nodelay(protocol: Any) -> Any:
            set_nodelay = getattr(protocol.transport, "setTcpNoDelay", None)
            if set_nodelay is not None:
                set_nodelay(True)
            return protocol

        return self._endpoint.connect(factory).addCallback(nodelay)


@implementer(IAgentEndpointFactory)
class CachingEndpointFactory:
    """Build each (scheme, host, port) endpoint once.

    Twisted's Agent builds a new endpoint, and encodes the host name again,
    for every request even when the pool then reuses a connection.  Each
    endpoint bounds the header bytes of every answer (see
    :mod:`txkoji.header_limit`).
    """

    def __init__(
        self,
        reactor: Any,
        tls_policy: IPolicyForHTTPS,
        connect_timeout: float,
        max_header_size: int,
    ) -> None:
        self._reactor = reactor
        self._tls_policy = tls_policy
        self._connect_timeout = connect_timeout
        self._max_header_size = max_header_size
        self._endpoints: dict[tuple[bytes, bytes, int], Any] = {}

    def endpointForURI(self, uri: webclient.URI) -> IStreamClientEndpoint:
        """Return the endpoint of ``uri``'s scheme, host and port (built
        on first use).

        :raises SchemeNotSupported: for a scheme other than http and https.
        """
        key = (uri.scheme, uri.host, uri.port)
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            host = uri.host.decode("ascii")
            endpoint = NoDelayEndpoint(
                HostnameEndpoint(
                    self._reactor, host, uri.port, timeout=self._connect_timeout
                )
            )
            if uri.scheme == b"https":
                creator = self._tls_policy.creatorForNetloc(uri.host, uri.port)
                endpoint = wrapClientTLS(creator, endpoint)
            elif uri.scheme != b"http":
                raise SchemeNotSupported(f"unsupported scheme {uri.scheme!r}")
            endpoint = HeaderLimitedEndpoint(endpoint, self._max_header_size)
            self._endpoints[key] = endpoint
        return endpoint
