"""One raw upload request: a chunk of a local file streamed from disk as
the connection takes it, and the hub's XML-RPC answer.

The chunk is read in 256 KiB pieces only when the TLS connection wants
more (a cooperative producer that pauses with the transport), so memory
stays at a few pieces whatever the chunk size; its Adler-32 is computed
on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any, cast

from twisted.internet import defer
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.task import CooperativeTask, cooperate
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from txkoji.codec import ResponseDecoder
from txkoji.exceptions import KojiConnectionError, KojiFileError, KojiHTTPError
from txkoji.files.checksums import Adler32
from txkoji.transport import HubTransport, normalized_url
from txkoji.transport_errors import mask_url, translate_failure

#: Bytes read from disk and written to the connection at a time (larger
#: pieces cost less CPU per byte; memory is a few of them).
PIECE = 256 * 1024
#: The largest answer accepted (an upload's answer is a small struct).
ANSWER_LIMIT = 1 << 20


@implementer(IBodyProducer)
class ChunkProducer:
    """Writes ``length`` bytes of ``handle`` from ``offset``, computing
    the chunk's Adler-32 (:attr:`chunk`) and carrying on the whole
    file's (:attr:`whole`, from ``whole_start``).

    :raises KojiFileError: (through ``startProducing``'s Deferred) when the
        file ends early.
    """

    def __init__(
        self, handle: IO[bytes], offset: int, length: int, whole_start: int
    ) -> None:
        self.length = length
        self._handle = handle
        self._offset = offset
        self.chunk = Adler32()
        self.whole = Adler32()
        self.whole.value = whole_start
        self._task: CooperativeTask[Any] | None = None

    def _pieces(self, consumer: Any) -> Iterator[None]:
        self._handle.seek(self._offset)
        left = self.length
        while left:
            data = self._handle.read(min(PIECE, left))
            if not data:
                raise KojiFileError(
                    f"the file ended {left} bytes early while sending the chunk at "
                    f"{self._offset} (it changed during the upload)"
                )
            self.chunk.update(data)
            self.whole.update(data)
            consumer.write(data)
            left -= len(data)
            yield None

    def startProducing(self, consumer: Any) -> defer.Deferred[Any]:
        """Start writing the chunk to ``consumer``."""
        self._task = cooperate(self._pieces(consumer))
        return self._task.whenDone().addCallback(lambda _: None)

    def pauseProducing(self) -> None:
        """The connection is full: wait."""
        if self._task is not None:
            self._task.pause()

    def resumeProducing(self) -> None:
        """The connection wants more."""
        if self._task is not None:
            self._task.resume()

    def stopProducing(self) -> None:
        """The request was abandoned."""
        if self._task is not None:
            self._task.stop()


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
