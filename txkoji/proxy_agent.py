"""The agent that sends each request to the hub the way its proxy choice
says: directly, through a ``CONNECT`` tunnel (``https://`` URLs, see
:mod:`txkoji.tunnel`), or to the forward proxy in absolute form
(``http://`` URLs, Twisted's ``ProxyAgent``).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.endpoints import wrapClientTLS
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.web import client as webclient
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IAgentEndpointFactory, IPolicyForHTTPS
from zope.interface import implementer

from txkoji.exceptions import KojiConfigError
from txkoji.header_limit import HeaderLimitedEndpoint
from txkoji.proxies import ProxyChoice, ProxyURL
from txkoji.tunnel import ProxyEndpoint, TunnelEndpoint


@implementer(IAgentEndpointFactory)
class _TunnelEndpointFactory:
    """Endpoints for ``https://`` URLs reached through a proxy's tunnel,
    each built once per (host, port)."""

    def __init__(
        self,
        reactor: Any,
        tls_policy: IPolicyForHTTPS,
        proxies: ProxyChoice,
        connect_timeout: float,
        max_header_size: int,
    ) -> None:
        self._reactor = reactor
        self._tls_policy = tls_policy
        self._proxies = proxies
        self._connect_timeout = connect_timeout
        self._max_header_size = max_header_size
        self._endpoints: dict[tuple[bytes, int], IStreamClientEndpoint] = {}

    def endpointForURI(self, uri: webclient.URI) -> IStreamClientEndpoint:
        key = (uri.host, uri.port)
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            proxy = self._proxies.for_url(uri.toBytes().decode("ascii"))
            # The routing agent sends only proxied https URLs here.
            assert proxy is not None
            host = uri.host.decode("ascii")
            tunnel = TunnelEndpoint(
                ProxyEndpoint(
                    self._reactor, proxy, self._connect_timeout, self._tls_policy
                ),
                proxy,
                host,
                uri.port,
            )
            creator = self._tls_policy.creatorForNetloc(uri.host, uri.port)
            endpoint = HeaderLimitedEndpoint(
                wrapClientTLS(creator, tunnel), self._max_header_size
            )
            self._endpoints[key] = endpoint
        return endpoint


@implementer(IAgent)
class _ProxyRoutingAgent:
    """Sends each request directly, through a tunnel, or to the forward
    proxy, as the proxy choice says for its URL."""

    def __init__(
        self,
        reactor: Any,
        direct: IAgent,
        tls_policy: IPolicyForHTTPS,
        proxies: ProxyChoice,
        pool: webclient.HTTPConnectionPool,
        connect_timeout: float,
        max_header_size: int,
    ) -> None:
        self._reactor = reactor
        self._direct = direct
        self._tls_policy = tls_policy
        self._proxies = proxies
        self._pool = pool
        self._connect_timeout = connect_timeout
        self._max_header_size = max_header_size
        self._tunnels = webclient.Agent.usingEndpointFactory(
            reactor,
            _TunnelEndpointFactory(
                reactor, tls_policy, proxies, connect_timeout, max_header_size
            ),
            pool=pool,
        )
        self._forward: dict[ProxyURL, webclient.ProxyAgent] = {}

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> defer.Deferred[Any]:
        """Send the request the way its URL's proxy choice says."""
        try:
            proxy = self._proxies.for_url(uri.decode("ascii"))
        except KojiConfigError:
            return defer.fail()
        if proxy is None:
            return self._direct.request(method, uri, headers, bodyProducer)
        if uri.startswith(b"https:"):
            return self._tunnels.request(method, uri, headers, bodyProducer)
        agent = self._forward.get(proxy)
        if agent is None:
            endpoint = HeaderLimitedEndpoint(
                ProxyEndpoint(
                    self._reactor, proxy, self._connect_timeout, self._tls_policy
                ),
                self._max_header_size,
            )
            agent = webclient.ProxyAgent(endpoint, self._reactor, self._pool)
            self._forward[proxy] = agent
        if proxy.authorization:
            headers = headers.copy() if headers is not None else Headers()
            headers.setRawHeaders(b"Proxy-Authorization", [proxy.authorization])
        return agent.request(method, uri, headers, bodyProducer)


def proxied_agent(
    reactor: Any,
    direct: IAgent,
    tls_policy: IPolicyForHTTPS,
    proxies: ProxyChoice | None,
    pool: webclient.HTTPConnectionPool,
    connect_timeout: float,
    max_header_size: int,
) -> IAgent:
    """Return an agent that sends requests through the proxy ``proxies``
    picks for their URL, and the others through ``direct``.

    :param tls_policy: how the hub is trusted through a tunnel (its
        certificate, verified end to end).
    :param proxies: the choice; ``None``, or one that can never name a
        proxy, gives ``direct`` itself.
    :param pool: the connection pool for proxied requests (tunnels are
        kept alive as direct connections are).
    :param connect_timeout: seconds to wait for a TCP connection to the
        proxy.
    :param max_header_size: the most bytes an answer's status line and
        headers may take (the proxy's answers included).
    """
    if proxies is None or not proxies.may_proxy:
        return direct
    return _ProxyRoutingAgent(
        reactor, direct, tls_policy, proxies, pool, connect_timeout, max_header_size
    )
