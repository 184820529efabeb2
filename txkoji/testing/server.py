"""Serve a fake hub on 127.0.0.1 over HTTP or HTTPS.

::

    server = HubServer()                       # the bundled data set
    await server.start()                       # port 0: a free port
    koji = Connection(server.url)              # http://127.0.0.1:PORT/kojihub
    ...
    await server.stop()

The site root holds the hub at ``/kojihub``; ``HubServer.root`` is the
root resource, so ``/kojihub/ssllogin`` and others can be added under
``server.hub`` with ``putChild``-style resources later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from twisted.internet import defer, ssl
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IListeningPort, IReactorTime
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.web.resource import Resource
from twisted.web.server import Site

from txkoji.testing.file_server import FileTree
from txkoji.testing.hub import FakeHub


def server_tls_options(
    cert_file: str | Path,
    key_file: str | Path,
    client_ca: str | Path | None = None,
    require_client_cert: bool = False,
) -> ssl.CertificateOptions:
    """Return TLS server options for a hub.

    :param cert_file: the server certificate (PEM).
    :param key_file: its private key (PEM).
    :param client_ca: a CA file; when given, the server asks for a client
        certificate and verifies any presented against it.
    :param require_client_cert: refuse handshakes without a client
        certificate (needs ``client_ca``).
    """
    cert = ssl.PrivateCertificate.loadPEM(
        Path(cert_file).read_bytes() + Path(key_file).read_bytes()
    )
    if client_ca is None:
        if require_client_cert:
            raise ValueError("require_client_cert needs client_ca")
        return ssl.CertificateOptions(
            privateKey=cert.privateKey.original, certificate=cert.original
        )
    authority = ssl.Certificate.loadPEM(Path(client_ca).read_bytes())
    return ssl.CertificateOptions(
        privateKey=cert.privateKey.original,
        certificate=cert.original,
        verify=True,
        caCerts=[authority.original],
        requireCertificate=require_client_cert,
    )


class _CountingFactory(WrappingFactory):
    """Counts TCP connections and can close them all."""

    def __init__(self, wrapped: Any) -> None:
        # Twisted's WrappingFactory is unannotated.
        super().__init__(wrapped)  # type: ignore[no-untyped-call]
        self.connections_made = 0
        self._closed: dict[ProtocolWrapper, defer.Deferred[None]] = {}

    def registerProtocol(self, p: ProtocolWrapper) -> None:
        super().registerProtocol(p)  # type: ignore[no-untyped-call]
        # As a web server does: no Nagle delay on the last small segment
        # of an answer (with the client's delayed ACK, 40 ms a request).
        nodelay = getattr(p.transport, "setTcpNoDelay", None)
        if nodelay is not None:
            nodelay(True)
        self.connections_made += 1
        self._closed[p] = defer.Deferred()

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        super().unregisterProtocol(p)  # type: ignore[no-untyped-call]
        self._closed.pop(p).callback(None)

    def close_all(self) -> defer.Deferred[Any]:
        waits = list(self._closed.values())
        for p in list(self.protocols):
            p.transport.abortConnection()
        return defer.gatherResults(waits)


class HubServer:
    """A :class:`~txkoji.testing.hub.FakeHub` listening on 127.0.0.1.

    With ``simulate=True`` the hub's builds and tasks move while it
    serves (``server.hub.simulator``, a
    :class:`~txkoji.testing.simulator.HubSimulator`): from :meth:`start`
    to :meth:`stop`.

    :ivar hub: the hub served.
    :ivar root: the site's root resource (the hub is its ``kojihub`` child).
    :ivar files: the :class:`~txkoji.testing.file_server.FileTree` serving
        the hub's files at :attr:`topurl`.
    """

    def __init__(
        self,
        reactor: Any = None,
        hub: FakeHub | None = None,
        tls: Any = None,
        *,
        clock: IReactorTime | None = None,
        simulate: bool = False,
        seed: int = 0,
        speed: float = 1.0,
        activity: float | None = None,
    ) -> None:
        """:param reactor: the reactor to listen with (the global one by
            default); also the new hub's clock when ``hub`` and ``clock``
            are None.
        :param hub: the hub to serve; a new one on the bundled data when
            None.
        :param tls: TLS server options (e.g. :func:`server_tls_options`)
            to serve HTTPS; plain HTTP when None.
        :param clock: the new hub's time source, for its timestamps, the
            simulator and delayed answers (e.g. a
            :class:`~twisted.internet.task.Clock`, see
            :func:`~txkoji.testing.simulator.dataset_clock`); the reactor
            when None.
        :param simulate: make the hub's data move
            (:meth:`FakeHub.simulate <txkoji.testing.hub.FakeHub.simulate>`
            with ``seed``, ``speed`` and ``activity``).
        """
        if reactor is None:
            from twisted.internet import reactor as global_reactor

            reactor = global_reactor
        self._reactor = reactor
        self.hub = hub if hub is not None else FakeHub(clock or reactor)
        if simulate:
            self.hub.simulate(seed=seed, speed=speed, activity=activity)
        self.root = Resource()
        self.root.putChild(b"kojihub", self.hub)
        self.files = FileTree(self.hub.files, reactor)
        self.root.putChild(b"kojifiles", self.files)
        self._tls = tls
        self._factory: _CountingFactory | None = None
        self._port: IListeningPort | None = None
        self._port_number: int | None = None

    def start(self, port: int = 0) -> defer.Deferred[HubServer]:
        """Listen on 127.0.0.1 ``port`` (0: a free one).

        :returns: a Deferred firing with this server once it listens.
        """
        site: Any = Site(self.root)
        site.displayTracebacks = False
        site.log = lambda request: None
        if self._tls is not None:
            site = TLSMemoryBIOFactory(self._tls, False, site)
        self._factory = _CountingFactory(site)
        self._port = self._reactor.listenTCP(port, self._factory, interface="127.0.0.1")
        # A TCP port listening on 127.0.0.1 has an IPv4 address.
        self._port_number = cast(IPv4Address, self._port.getHost()).port
        if self.hub.simulator is not None:
            self.hub.simulator.start()
        return defer.succeed(self)

    @property
    def port(self) -> int:
        """The TCP port listened on (kept after :meth:`stop`)."""
        if self._port_number is None:
            raise RuntimeError("the server was never started")
        return self._port_number

    @property
    def url(self) -> str:
        """The hub URL, ``http(s)://127.0.0.1:PORT/kojihub``."""
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/kojihub"

    @property
    def topurl(self) -> str:
        """The file tree's URL, ``http(s)://127.0.0.1:PORT/kojifiles``."""
        return self.url.rsplit("/", 1)[0] + "/kojifiles"

    @property
    def connections_made(self) -> int:
        """How many TCP connections the server has accepted."""
        return self._factory.connections_made if self._factory else 0

    @property
    def open_connections(self) -> int:
        """How many accepted TCP connections are still open."""
        return len(self._factory.protocols) if self._factory else 0

    def stop(self) -> defer.Deferred[None]:
        """Stop listening, cancel delayed answers, stop the simulator (if
        any) and close every open connection.

        :returns: a Deferred firing with None once all are closed.
        """
        self.hub.cancel_pending()
        if self.hub.simulator is not None:
            self.hub.simulator.stop()
        if self._port is None or self._factory is None:
            return defer.succeed(None)
        port, factory = self._port, self._factory
        self._port = None
        stopped = defer.maybeDeferred(port.stopListening)
        closed = factory.close_all()
        return defer.gatherResults([stopped, closed]).addCallback(lambda _: None)
