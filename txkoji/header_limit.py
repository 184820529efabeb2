"""A bound on the HTTP header bytes of each answer.

Twisted's HTTP client limits the length of one header line, but not how
many lines come: a server sending header lines forever would grow the
client without end.  :class:`HeaderLimitedEndpoint` wraps the endpoint a
connection pool connects with; between the transport and the HTTP client
protocol it counts the bytes of each answer's header section (its status
line and header lines, any ``1xx`` interim answers included), and aborts
the connection once they exceed the limit.  The request then fails with
:class:`HeadersTooLarge` among its reasons (in Twisted's
``ResponseFailed``), which the caller turns into its own error.

The wrapper reads the byte stream only: it knows a request starts when the
HTTP client writes, and that the header section ends at the first empty
line of an answer whose status is not ``1xx``.
"""

from __future__ import annotations

import re
from typing import Any, cast

from twisted.internet import defer
from twisted.internet.interfaces import IStreamClientEndpoint, ITCPTransport
from twisted.internet.protocol import connectionDone
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from zope.interface import implementer

#: The empty line ending a header section (lines may end in LF or CRLF, as
#: Twisted's parser accepts).
_END_OF_HEADERS = re.compile(rb"\n\r?\n")

#: The status line of an interim (``1xx``) answer, which another header
#: section follows.
_INTERIM_STATUS = re.compile(rb"[^ \n]* +1[0-9][0-9][ \r\n]")


#: The transport's methods the wrapped protocol calls directly (they need
#: no counting).
_FORWARDED = (
    "pauseProducing",
    "resumeProducing",
    "registerProducer",
    "unregisterProducer",
)


class HeadersTooLarge(Exception):
    """An answer's header section exceeded the limit.

    :ivar limit: the limit, in bytes.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer's headers exceed {limit} bytes")
        self.limit = limit


class _HeaderLimitedProtocol(ProtocolWrapper):
    """Counts each answer's header bytes on their way to the HTTP client
    protocol it wraps, and aborts the connection beyond the limit.

    Every answer passes through here, so the common case costs little: a
    header section that arrives whole in one chunk is searched where it
    lies (bytes are held only while a section is split across chunks), and
    the transport calls that need no counting go straight to the
    transport."""

    def __init__(self, factory: _HeaderLimitedFactory, wrapped: Any) -> None:
        super().__init__(factory, wrapped)
        self._limit = factory.max_header_size
        # The header bytes of the current request's finished interim
        # answers; whether a header section is being read (not between
        # requests, nor while a body arrives); and the bytes of that
        # section held so far, when it came in several chunks.
        self._counted = 0
        self._reading = False
        self._held = bytearray()
        self._refused = False

    def makeConnection(self, transport: Any) -> None:
        # The HTTP client pauses and resumes the transport, and registers
        # itself as its producer, for every request: let those calls reach
        # the transport without a detour through this wrapper.
        forwarded = vars(self)
        for name in _FORWARDED:
            forwarded[name] = getattr(transport, name)
        super().makeConnection(transport)  # type: ignore[no-untyped-call]

    def write(self, data: bytes) -> None:
        # A request is written whole before its answer is read, so the
        # first write after an answer's headers starts the next request.
        if not self._reading:
            self._start_request()
        self.transport.write(data)  # type: ignore[union-attr]

    def writeSequence(self, data: Any) -> None:
        if not self._reading:
            self._start_request()
        self.transport.writeSequence(data)  # type: ignore[union-attr]

    def _start_request(self) -> None:
        self._counted = 0
        self._reading = True
        del self._held[:]

    def dataReceived(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading:
            if self._held:
                self._read_held(data)
            else:
                self._read_headers(data)
            if self._refused:
                return
        self.wrappedProtocol.dataReceived(data)

    def _read_headers(self, data: bytes) -> None:
        # The section so far starts at the start of ``data``: search it
        # there, and hold the bytes only when its end has not come.
        start = 0
        while True:
            end = _END_OF_HEADERS.search(data, start)
            size = self._counted + (end.end() if end else len(data)) - start
            if size > self._limit:
                self._refuse()
                return
            if end is None:
                self._held += memoryview(data)[start:]
                return
            if _INTERIM_STATUS.match(data, start) is None:
                self._reading = False
                return
            self._counted = size
            start = end.end()
            if start == len(data):
                return

    def _read_held(self, data: bytes) -> None:
        # The section began in an earlier chunk; an empty line may begin
        # in the bytes already held.
        held = self._held
        search_from = max(0, len(held) - 2)
        held += data
        while True:
            end = _END_OF_HEADERS.search(held, search_from)
            size = self._counted + (end.end() if end else len(held))
            if size > self._limit:
                self._refuse()
                return
            if end is None:
                return
            if _INTERIM_STATUS.match(held) is None:
                self._reading = False
                del held[:]
                return
            self._counted = size
            del held[: end.end()]
            search_from = 0

    def _refuse(self) -> None:
        self._refused = True
        self._reading = False
        del self._held[:]
        cast(ITCPTransport, self.transport).abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._refused:
            reason = Failure(HeadersTooLarge(self._limit))
        super().connectionLost(reason)  # type: ignore[no-untyped-call]


class _HeaderLimitedFactory(WrappingFactory[_HeaderLimitedProtocol]):
    """Wraps each protocol of a factory in a :class:`_HeaderLimitedProtocol`."""

    protocol = _HeaderLimitedProtocol
    noisy = False

    def __init__(self, wrapped: Any, max_header_size: int) -> None:
        super().__init__(wrapped)  # type: ignore[no-untyped-call]
        self.max_header_size = max_header_size


@implementer(IStreamClientEndpoint)
class HeaderLimitedEndpoint:
    """An endpoint whose connections bound each answer's header bytes.

    :param endpoint: the endpoint connected through (TCP, or TLS over TCP).
    :param max_header_size: the most bytes of status line and headers an
        answer may have.  Beyond it the connection is aborted, and the
        request in flight fails with a ``ResponseFailed`` whose reasons hold
        :class:`HeadersTooLarge`.
    """

    def __init__(self, endpoint: IStreamClientEndpoint, max_header_size: int) -> None:
        self._endpoint: Any = endpoint
        self.max_header_size = max_header_size

    def connect(self, protocol_factory: Any) -> defer.Deferred[Any]:
        """Connect a protocol of ``protocol_factory``.

        :returns: a Deferred firing with that protocol (not its wrapper),
            as the wrapped endpoint's ``connect`` does.
        """
        factory = _HeaderLimitedFactory(protocol_factory, self.max_header_size)
        connecting = self._endpoint.connect(factory)
        return connecting.addCallback(lambda wrapper: wrapper.wrappedProtocol)
