"""One raw upload request: a chunk of a local file, already read into
memory (:mod:`txkoji.files.read_ahead`), and the hub's XML-RPC answer.

The chunk's pieces go to the connection as it takes them (a streaming
producer that pauses with the transport), each piece in one write, so
the TLS layer sees few, large writes.  The pieces are views of a buffer
that is reused, so each goes to the connection as a copy (a transport
may keep what it is given until the socket takes it).
"""

from __future__ import annotations

from typing import Any, cast

from twisted.internet import defer
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from txkoji.codec import ResponseDecoder
from txkoji.exceptions import KojiConnectionError, KojiFileError, KojiHTTPError
from txkoji.files.read_ahead import Chunk
from txkoji.transport import HubTransport, normalized_url
from txkoji.transport_errors import mask_url, translate_failure

#: The largest answer accepted (an upload's answer is a small struct).
ANSWER_LIMIT = 1 << 20


@implementer(IBodyProducer)
class ChunkProducer:
    """Writes a :class:`~txkoji.files.read_ahead.Chunk`'s pieces to the
    request, one write each, pausing while the connection is full."""

    def __init__(self, chunk: Chunk) -> None:
        self.length = chunk.length
        self._pieces = chunk.pieces
        self._next = 0
        self._paused = False
        self._stopped = False
        self._consumer: Any = None
        self._done: defer.Deferred[None] | None = None

    def startProducing(self, consumer: Any) -> defer.Deferred[None]:
        """Start writing the chunk to ``consumer``; the Deferred fires
        once every piece was written."""
        self._consumer = consumer
        done: defer.Deferred[None] = defer.Deferred()
        self._done = done
        self._write_some()
        return done

    def _write_some(self) -> None:
        pieces = self._pieces
        while not (self._paused or self._stopped) and self._next < len(pieces):
            piece = pieces[self._next]
            self._next += 1
            # The write may pause (or stop) this producer before it returns.
            self._consumer.write(bytes(piece))
        if not self._stopped and self._next == len(pieces) and self._done is not None:
            done, self._done = self._done, None
            done.callback(None)

    def pauseProducing(self) -> None:
        """The connection is full: wait."""
        self._paused = True

    def resumeProducing(self) -> None:
        """The connection wants more."""
        self._paused = False
        if self._consumer is not None:
            self._write_some()

    def stopProducing(self) -> None:
        """The request was abandoned (the Deferred never fires)."""
        self._stopped = True


class _AnswerReader(Protocol):
    """Decode the hub's (small) answer; ``finished`` fires with it."""

    def __init__(self, url: str) -> None:
        self.finished: defer.Deferred[Any] = defer.Deferred(self._cancel)
        self._decoder = ResponseDecoder("upload")
        self._url = url
        self._received = 0
        self._done = False

    def _cancel(self, _: defer.Deferred[Any]) -> None:
        self._done = True
        transport: Any = self.transport
        transport.stopProducing()

    def dataReceived(self, data: bytes) -> None:
        if self._done:
            return
        self._received += len(data)
        try:
            if self._received > ANSWER_LIMIT:
                raise KojiFileError(f"{self._url} answered an upload with over 1 MiB")
            self._decoder.feed(data)
        except Exception:
            self._done = True
            transport: Any = self.transport
            transport.stopProducing()
            self.finished.errback(Failure())

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._done:
            return
        self._done = True
        if not reason.check(webclient.ResponseDone, PotentialDataLoss):
            self.finished.errback(
                KojiConnectionError(
                    f"the connection to {self._url} was lost while reading the "
                    "answer to an upload",
                    self._url,
                )
            )
            return
        try:
            self.finished.callback(self._decoder.close())
        except Exception:
            self.finished.errback(Failure())


async def post_chunk(
    transport: HubTransport,
    url: str,
    headers: dict[bytes, bytes],
    producer: ChunkProducer,
) -> Any:
    """POST one chunk and return the hub's decoded answer.

    :raises KojiHTTPError: for a status other than 200.
    :raises KojiConnectionError: (and other transport errors) when the
        request or its answer is cut.
    :raises KojiFault: the hub's fault (LockError, GenericError...).
    """
    shown = mask_url(url)
    request_headers = Headers({b"User-Agent": [HubTransport.user_agent]})
    for name, value in headers.items():
        request_headers.setRawHeaders(name, [value])
    try:
        response: Any = await transport.agent.request(
            b"POST", normalized_url(url), request_headers, cast(IBodyProducer, producer)
        )
    except Exception:
        translate_failure(
            Failure(), url, "upload", transport.tls_policy
        ).raiseException()
    if response.code != 200:
        response.deliverBody(Protocol())
        phrase = response.phrase.decode("latin-1", "replace")
        raise KojiHTTPError(
            f"{shown} answered an upload with HTTP {response.code} {phrase}",
            shown,
            status=response.code,
            reason=phrase,
        )
    reader = _AnswerReader(shown)
    response.deliverBody(reader)
    return await reader.finished
