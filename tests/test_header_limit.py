"""The bound on an answer's header bytes (``max_header_size``), against
real servers on 127.0.0.1 that send header lines forever, and in the byte
stream read by :mod:`txkoji.header_limit`."""

from __future__ import annotations

import tracemalloc

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.interfaces import IPullProducer
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport
from zope.interface import implementer

from txkoji.codec import ResponseDecoder, encode_response
from txkoji.exceptions import KojiProtocolError
from txkoji.header_limit import HeaderLimitedEndpoint, HeadersTooLarge
from txkoji.tls import HubTLSPolicy
from txkoji.transport import HubTransport

#: How much a flooding server sends at most before it gives up (an unbounded
#: client reads all of it).
FLOOD_BUDGET = 16 * 1024 * 1024

#: One batch of the flood's header lines (1000 lines of 64 bytes).
FLOOD_LINES = b"".join(b"X-Flood-%06d: %s\r\n" % (n, b"y" * 46) for n in range(1000))


@implementer(IPullProducer)
class _Flood(Protocol):
    """Answers the first request with ``factory.start``, then header lines
    until the client goes away or ``FLOOD_BUDGET`` bytes are sent."""

    def dataReceived(self, data: bytes) -> None:
        if self.factory.requests:
            return
        self.factory.requests += 1
        self.transport.write(self.factory.start)
        self.transport.registerProducer(self, False)

    def resumeProducing(self) -> None:
        if self.factory.sent >= FLOOD_BUDGET:
            self.transport.unregisterProducer()
            self.transport.loseConnection()
            return
        self.factory.sent += len(FLOOD_LINES)
        self.transport.write(FLOOD_LINES)

    def stopProducing(self) -> None:
        """Nothing to stop: each batch is written at once."""

    def connectionLost(self, reason) -> None:
        self.factory.closed.callback(None)


class _Answers(Protocol):
    """Answers every request on the connection (keep-alive) with an
    XML-RPC answer carrying ``factory.extra_headers``."""

    def connectionMade(self) -> None:
        self._buffer = b""

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        while b"\r\n\r\n" in self._buffer:
            head, _, rest = self._buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return
            self._buffer = rest[length:]
            self.factory.requests += 1
            body = encode_response(self.factory.requests)
            self.transport.write(
                self.factory.start
                + self.factory.extra_headers
                + b"Content-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % len(body)
                + body
            )

    def connectionLost(self, reason) -> None:
        self.factory.closed.callback(None)


class _ServerFactory(Factory):
    def __init__(self, protocol: type, start: bytes, extra_headers: bytes = b""):
        self.protocol = protocol
        self.start = start
        self.extra_headers = extra_headers
        self.requests = 0
        self.sent = 0
        self.closed: defer.Deferred = defer.Deferred()


@pytest_twisted.async_yield_fixture()
async def serve():
    """Start raw HTTP servers on 127.0.0.1: ``serve(protocol, start,
    extra_headers)`` returns ``(url, factory)``; each is stopped after the
    test."""
    ports = []

    def start(protocol: type, start: bytes, extra_headers: bytes = b""):
        factory = _ServerFactory(protocol, start, extra_headers)
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        ports.append(port)
        url = f"http://127.0.0.1:{port.getHost().port}/kojihub?session-key=s3cret"
        return url, factory

    yield start
    for port in ports:
        await port.stopListening()


@pytest_twisted.async_yield_fixture()
async def transport():
    """Make HubTransports with the options given; closed after the test."""
    made: list[HubTransport] = []

    def make(**options) -> HubTransport:
        made.append(HubTransport(reactor, HubTLSPolicy(), **options))
        return made[-1]

    yield make
    for each in made:
        await each.close()


@pytest.mark.parametrize(
    "start",
    [
        b"HTTP/1.1 200 OK\r\n",
        # Interim answers do not reset the count.
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
    ],
    ids=["final", "after-interim"],
)
@pytest_twisted.ensureDeferred
async def test_endless_headers_fail_within_bounded_memory(serve, transport, start):
    url, server = serve(_Flood, start)
    hub = transport()
    tracemalloc.start()
    try:
        with pytest.raises(KojiProtocolError) as raised:
            await hub.post(url, b"<x/>", ResponseDecoder("getBuild"), method="getBuild")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    await server.closed
    message = str(raised.value)
    assert "getBuild" in message
    assert "max_header_size" in message
    assert "65536 bytes of headers" in message
    assert "s3cret" not in message
    assert "127.0.0.1" in message
    assert raised.value.method == "getBuild"
    # Generous: the headers themselves are bounded to 64 KiB.
    assert peak < 16 * 1024 * 1024
    assert server.sent < FLOOD_BUDGET


@pytest_twisted.ensureDeferred
async def test_max_header_size_is_the_bound(serve, transport):
    # About 3 KB of headers: refused under a 2 KiB limit.
    extra = b"".join(b"X-Extra-%d: %s\r\n" % (n, b"z" * 90) for n in range(30))
    url, server = serve(_Answers, b"HTTP/1.1 200 OK\r\n", extra)
    with pytest.raises(KojiProtocolError, match="2048 bytes of headers"):
        await transport(max_header_size=2048).post(
            url, b"<x/>", ResponseDecoder("m"), method="m"
        )
    await server.closed


@pytest_twisted.ensureDeferred
async def test_headers_under_the_bound_pass_on_every_request_of_a_connection(
    serve, transport
):
    # Each answer has about 3 KB of headers; five answers on one keep-alive
    # connection add up to more than the 4 KiB limit, and each passes.
    extra = b"".join(b"X-Extra-%d: %s\r\n" % (n, b"z" * 90) for n in range(30))
    url, server = serve(_Answers, b"HTTP/1.1 200 OK\r\n", extra)
    hub = transport(max_header_size=4096)
    for expected in range(1, 6):
        assert await hub.post(url, b"<x/>", ResponseDecoder("m")) == expected
    assert server.requests == 5
    await hub.close()
    await server.closed


# -- the byte stream, chunk by chunk ------------------------------------


class _Recorder(Protocol):
    """Stands for the HTTP client: records what reaches it."""

    def __init__(self) -> None:
        self.received = b""
        self.reason = None

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason) -> None:
        self.reason = reason


class _StringEndpoint:
    """Connects each protocol to a StringTransport."""

    def __init__(self) -> None:
        self.transport = StringTransport()
        self.protocol = None

    def connect(self, factory) -> defer.Deferred:
        self.protocol = factory.buildProtocol(None)
        self.protocol.makeConnection(self.transport)
        return defer.succeed(self.protocol)


def connected(limit: int) -> tuple[_Recorder, object, _StringEndpoint]:
    """Return the recorder, its wrapper (what the transport talks to) and
    the endpoint, for a connection limited to ``limit`` header bytes."""
    endpoint = _StringEndpoint()
    recorder = _Recorder()
    factory = Factory.forProtocol(lambda: recorder)
    got = []
    HeaderLimitedEndpoint(endpoint, limit).connect(factory).addCallback(got.append)
    assert got == [recorder]
    return recorder, endpoint.protocol, endpoint


def feed(wrapper, chunks) -> None:
    for chunk in chunks:
        wrapper.dataReceived(chunk)


@pytest.mark.parametrize(
    "chunks",
    [
        [b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\nbody"],
        # The empty line split between chunks.
        [b"HTTP/1.1 200 OK\r\nA: 1\r", b"\n", b"\r", b"\nbody"],
        # Lines ending in LF alone.
        [b"HTTP/1.1 200 OK\nA: 1\n", b"\nbody"],
    ],
    ids=["whole", "split", "lf"],
)
def test_headers_end_at_the_empty_line(chunks) -> None:
    recorder, wrapper, _ = connected(limit=32)
    recorder.transport.write(b"POST / HTTP/1.1\r\n\r\n")
    # The body is not counted: 200 more bytes pass.
    feed(wrapper, [*chunks, b"b" * 200])
    assert recorder.received.endswith(b"body" + b"b" * 200)
    assert recorder.reason is None


def test_beyond_the_limit_the_connection_is_aborted_with_the_reason() -> None:
    recorder, wrapper, endpoint = connected(limit=32)
    recorder.transport.write(b"POST / HTTP/1.1\r\n\r\n")
    feed(wrapper, [b"HTTP/1.1 200 OK\r\n", b"A: 1\r\n" * 2, b"B: 2\r\n", b"C: 3\r\n"])
    assert endpoint.transport.disconnecting
    # Nothing past the limit reached the client.
    assert recorder.received == b"HTTP/1.1 200 OK\r\n" + b"A: 1\r\n" * 2
    wrapper.connectionLost(None)
    assert recorder.reason.check(HeadersTooLarge)
    assert recorder.reason.value.limit == 32


def test_interim_answers_count_toward_the_limit() -> None:
    recorder, wrapper, endpoint = connected(limit=40)
    recorder.transport.write(b"POST / HTTP/1.1\r\n\r\n")
    feed(wrapper, [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 200 OK\r\nA: 1\r\n"])
    assert endpoint.transport.disconnecting


_INTERIM_THEN_FINAL = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: 1\r\n\r\n"


@pytest.mark.parametrize(
    "cuts",
    [(), (25,), (35,), (25, 35, 48)],
    ids=["one-chunk", "cut-after-interim", "cut-in-final", "three-cuts"],
)
@pytest.mark.parametrize("limit", [50, 49])
def test_interim_and_final_headers_in_any_chunks(cuts, limit) -> None:
    # 50 header bytes, whether they come in one chunk or are cut anywhere:
    # within a limit of 50 the answer passes whole, with 49 it is refused.
    answer = _INTERIM_THEN_FINAL + b"body"
    bounds = [0, *cuts, len(answer)]
    chunks = [answer[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    recorder, wrapper, endpoint = connected(limit=limit)
    recorder.transport.write(b"POST / HTTP/1.1\r\n\r\n")
    feed(wrapper, [*chunks, b"b" * 100])
    if limit == 50:
        assert recorder.received == answer + b"b" * 100
        assert not endpoint.transport.disconnecting
    else:
        assert endpoint.transport.disconnecting
        assert len(recorder.received) < len(_INTERIM_THEN_FINAL)


def test_each_request_counts_afresh() -> None:
    recorder, wrapper, endpoint = connected(limit=32)
    for _ in range(3):
        recorder.transport.write(b"POST / HTTP/1.1\r\n\r\n")
        feed(wrapper, [b"HTTP/1.1 200 OK\r\nA: 12345\r\n\r\n"])
    assert not endpoint.transport.disconnecting


@pytest.mark.parametrize("through_proxy", [False, True], ids=["direct", "proxied"])
@pytest_twisted.ensureDeferred
async def test_connection_option_max_header_size_applies(serve, through_proxy):
    from tests.forward_proxy import ForwardProxy
    from txkoji import Connection

    extra = b"".join(b"X-Extra-%d: %s\r\n" % (n, b"z" * 90) for n in range(30))
    url, server = serve(_Answers, b"HTTP/1.1 200 OK\r\n", extra)
    proxy = None
    options: dict = {"proxy": None}
    if through_proxy:
        proxy = ForwardProxy()
        proxy.start()
        options["proxy"] = proxy.url
    koji = Connection(server=url.split("?")[0], max_header_size=2048, **options)
    try:
        with pytest.raises(KojiProtocolError, match="2048 bytes of headers"):
            await koji.getBuild(1)
    finally:
        await koji.close()
        if proxy is not None:
            await proxy.stop()
