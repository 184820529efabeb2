"""A transport that reaches a :class:`~txkoji.testing.hub.FakeHub` in memory.

::

    from txkoji import Connection
    from txkoji.testing import FakeHub, memory_transport

    koji = Connection(
        server="http://koji.test/kojihub", transport=memory_transport(FakeHub())
    )
    build = await koji.getBuild(1001)   # no socket, no reactor turn

Each request is served by the hub's ``twisted.web`` resource over a pair of
in-memory transports (Twisted's ``iosim``).  Bytes move between them as
soon as either side writes, so a call's Deferred fires without anyone
pumping: at once for an immediate answer, or when the hub's clock reaches
a delayed one.  Anonymous calls and multicalls work.  Logins go through
the same agent, but an SSL login cannot present a client certificate in
memory (it fails with ``LoginTLSError``) and a Kerberos login needs the
thread pool of a real reactor, so tests of logged-in code need a
:class:`~txkoji.testing.server.HubServer`.
"""

from __future__ import annotations

from typing import Any, cast

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.interfaces import (
    IDelayedCall,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.testing import MemoryReactorClock
from twisted.test import iosim
from twisted.web import client as webclient
from twisted.web.error import SchemeNotSupported
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgent, IAgentEndpointFactory, IBodyProducer
from twisted.web.resource import IResource
from twisted.web.server import Site
from zope.interface import implementer

from txkoji.tls import HubTLSPolicy
from txkoji.transport import HubTransport

_CLIENT_ADDRESS = IPv4Address("TCP", "127.0.0.1", 40000)


class _MovingTransport(iosim.FakeTransport):
    """An ``iosim`` transport that wakes its agent whenever it writes or
    closes, instead of waiting for a test to pump."""

    # iosim is unannotated.
    def __init__(self, agent: MemoryAgent, protocol: Any, is_server: bool) -> None:
        super().__init__(protocol, is_server)  # type: ignore[no-untyped-call]
        self._agent = agent

    def write(self, data: bytes) -> None:
        super().write(data)  # type: ignore[no-untyped-call]
        self._agent.wake()

    def loseConnection(self) -> None:
        super().loseConnection()  # type: ignore[no-untyped-call]
        self._agent.wake()

    def abortConnection(self) -> None:
        super().abortConnection()  # type: ignore[no-untyped-call]
        self._agent.wake()


@implementer(IAgentEndpointFactory)
class _MemoryEndpoints:
    """Endpoints on the agent's memory reactor, whatever the host."""

    def __init__(self, reactor: MemoryReactorClock) -> None:
        self._reactor = reactor

    def endpointForURI(self, uri: webclient.URI) -> IStreamClientEndpoint:
        if uri.scheme not in (b"http", b"https"):
            raise SchemeNotSupported(f"unsupported scheme {uri.scheme!r}")
        return TCP4ClientEndpoint(self._reactor, "127.0.0.1", uri.port)


@implementer(IAgent)
class MemoryAgent:
    """An ``IAgent`` whose requests are served by ``resource`` in memory.

    Bytes move between client and server when a request is made, and
    whenever either side writes or closes later (a delayed answer, a
    cancelled request): then on the next turn of ``clock``, so that the
    writer finishes what it was doing first.

    :param resource: the ``twisted.web`` resource answering every request
        (whatever the URL's host; ``https`` URLs are served in clear).
    :param clock: where later writes are moved from (default: the
        resource's ``clock`` when it has one, else the global reactor).
    """

    def __init__(self, resource: IResource, clock: IReactorTime | None = None) -> None:
        #: The memory reactor the two sides' protocols see (no sockets).
        self.reactor = MemoryReactorClock()
        self.clock: IReactorTime = clock or _clock_of(resource)
        self._agent = webclient.Agent.usingEndpointFactory(
            self.reactor, _MemoryEndpoints(self.reactor)
        )
        self._site = Site(resource, reactor=self.reactor)
        self._pumps: list[iosim.IOPump] = []
        self._moving = False
        self._moved_again = False
        self._scheduled: IDelayedCall | None = None

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: IBodyProducer | None = None,
    ) -> Deferred[Any]:
        """Send the request to the resource; see ``IAgent.request``.

        :returns: a Deferred firing with the ``IResponse`` once the resource
            has answered (before this returns when it answers at once).
        """
        nested = self._moving
        self._moving = True
        try:
            answer: Deferred[Any] = self._agent.request(
                method, uri, headers, bodyProducer
            )
            while self.reactor.tcpClients:
                self.reactor.connectors.pop(0)
                self._connect(self.reactor.tcpClients.pop(0)[2])
        finally:
            self._moving = nested
        if nested:
            # Made by a callback while bytes move: the loop goes round again.
            self._moved_again = True
        else:
            self._move()
        return answer

    def _connect(self, client_factory: Any) -> None:
        server = self._site.buildProtocol(_CLIENT_ADDRESS)
        client = client_factory.buildProtocol(None)
        pump = iosim.connect(
            server,
            _MovingTransport(self, server, is_server=True),
            client,
            _MovingTransport(self, client, is_server=False),
            greet=False,
            clock=self.reactor,
        )
        self._pumps.append(pump)

    def wake(self) -> None:
        """Say that a side wrote or closed: the bytes move now when they
        are already moving, else on the next turn of ``clock``."""
        if self._moving:
            self._moved_again = True
        elif self._scheduled is None:
            self._scheduled = self.clock.callLater(0, self._move_scheduled)

    def _move_scheduled(self) -> None:
        self._scheduled = None
        self._move()

    def _move(self) -> None:
        """Move every buffered byte and close between the two sides until
        nothing is left to move."""
        self._moving = True
        try:
            busy = True
            while busy:
                self._moved_again = False
                moved = [pump.flush() for pump in list(self._pumps)]
                busy = any(moved) or self._moved_again
                self._pumps = [
                    pump
                    for pump in self._pumps
                    if not (pump.clientIO.disconnected and pump.serverIO.disconnected)
                ]
        finally:
            self._moving = False


def _clock_of(resource: IResource) -> IReactorTime:
    """The resource's ``clock`` (a FakeHub's), else the global reactor."""
    clock: IReactorTime | None = getattr(resource, "clock", None)
    if clock is None:
        from twisted.internet import reactor

        clock = cast(IReactorTime, reactor)
    return clock


def memory_transport(
    resource: IResource,
    *,
    timeout: float | None = None,
    max_response_size: int = 1 << 30,
    clock: IReactorTime | None = None,
) -> HubTransport:
    """Return a :class:`~txkoji.transport.HubTransport` whose requests
    ``resource`` (a :class:`~txkoji.testing.hub.FakeHub`, say) serves in
    memory, for ``Connection(server=..., transport=memory_transport(hub))``.

    :param timeout: seconds a call may take (measured on ``clock``);
        ``None`` for no limit.
    :param max_response_size: the largest answer accepted, in bytes.
    :param clock: what the timeout is measured on (default: the hub's
        ``clock`` when it has one, else the global reactor).
    """
    agent = MemoryAgent(resource, clock)
    return HubTransport(
        agent.reactor,
        HubTLSPolicy(),
        timeout=timeout,
        max_response_size=max_response_size,
        clock=agent.clock,
        agent=agent,
    )
