"""The bodies of a hub request and of its answer.

:class:`BytesProducer` writes a request body held in memory in one go.
:class:`BodyReader` feeds an answer's body to a decoder (anything with
``feed(bytes)`` and ``close() -> value``, see :class:`Decoder`) as it
arrives, within a size limit, so the XML is parsed while it arrives;
:class:`ErrorBodyReader` keeps the start of a non-200 answer for the error
message.  Each reports its outcome to a callable (no Deferred per answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from typing import Protocol as TypingProtocol

from twisted.internet import defer
from twisted.internet.interfaces import IConsumer, IPushProducer
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone
from twisted.web.http import PotentialDataLoss
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from txkoji.exceptions import KojiConnectionError, KojiResponseTooLarge
from txkoji.transport_errors import mask_url, reason_text

#: How much of a non-200 answer's body is kept for the error message.
ERROR_BODY_LIMIT = 2048


class Decoder(TypingProtocol):
    """What :meth:`HubTransport.post` streams the answer into."""

    def feed(self, data: bytes) -> None:
        """Take the next chunk of the answer."""

    def close(self) -> Any:
        """Return the decoded answer (or raise what it says)."""


@implementer(IBodyProducer)
class BytesProducer:
    """A request body already in memory, written in one go (a
    ``FileBodyProducer`` would hand it to a cooperator and cost reactor
    turns)."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.length = len(body)

    def startProducing(self, consumer: IConsumer) -> defer.Deferred[None]:
        """Write the whole body to ``consumer``; fires at once."""
        consumer.write(self._body)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        """Nothing to pause: the body was written at once."""

    def resumeProducing(self) -> None:
        """Nothing to resume: the body was written at once."""

    def stopProducing(self) -> None:
        """Nothing to stop: the body was written at once."""


#: What a reader reports its outcome to, once: the value read, or a
#: ``Failure``.
Outcome = Callable[[Any], None]


class _Reader(Protocol):
    """Read an answer's body and report the outcome to ``done`` once;
    :meth:`stop` stops the reading (and nothing is reported then)."""

    def __init__(self, done: Outcome) -> None:
        self._report = done
        self._done = False

    def _settle(self) -> bool:
        """Tell whether the outcome is still to be reported (the first
        time only: not once the answer is settled or the reading
        stopped)."""
        if self._done:
            return False
        self._done = True
        return True

    def stop(self) -> None:
        """Stop reading: the producer stops, and no outcome is reported."""
        if not self._done:
            self._done = True
            self._stop_producing()

    def _stop_producing(self) -> None:
        # Response.deliverBody connects the reader to a producer.
        cast(IPushProducer, self.transport).stopProducing()


class BodyReader(_Reader):
    """Feed an answer's body to a decoder as it arrives, within a size
    limit; ``done`` gets the decoded value, or the ``Failure``."""

    def __init__(
        self, decoder: Decoder, limit: int, url: str, method: str, done: Outcome
    ) -> None:
        super().__init__(done)
        self._decoder = decoder
        self._limit = limit
        self._url = url
        self._method = method
        self._received = 0

    @property
    def _shown(self) -> str:
        return mask_url(self._url)

    def dataReceived(self, data: bytes) -> None:
        """Feed ``data`` to the decoder, or stop the reading past the size
        limit or at the decoder's error."""
        if self._done:
            return
        self._received += len(data)
        if self._received > self._limit:
            self._abort(
                Failure(
                    KojiResponseTooLarge(
                        f"the answer to {self._method} from {self._shown} exceeds "
                        f"max_response_size ({self._limit} bytes)",
                        self._method,
                    )
                )
            )
            return
        try:
            self._decoder.feed(data)
        except Exception:
            self._abort(Failure())

    def _abort(self, failure: Failure) -> None:
        # dataReceived() aborts only a reading still under way.
        settling = self._settle()
        assert settling
        self._stop_producing()
        self._report(failure)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Report the decoded value when the whole answer came, else a
        ``KojiConnectionError``."""
        if not self._settle():
            return
        # Failure.check would compute the qualified names of the error's
        # classes: an isinstance test costs a tenth of it on every answer.
        if isinstance(reason.value, (ResponseDone, PotentialDataLoss)):
            try:
                value = self._decoder.close()
            except Exception:
                self._report(Failure())
            else:
                self._report(value)
            return
        self._report(
            Failure(
                KojiConnectionError(
                    f"the connection to {self._shown} was lost after "
                    f"{self._received} bytes of the answer to {self._method}: "
                    f"{reason_text(reason)}",
                    self._shown,
                    self._method or None,
                )
            )
        )


class ErrorBodyReader(_Reader):
    """Keep the start of a non-200 answer for the error message; ``done``
    gets it as text."""

    def __init__(self, done: Outcome) -> None:
        super().__init__(done)
        self._chunks: list[bytes] = []
        self._size = 0

    def dataReceived(self, data: bytes) -> None:
        """Keep ``data`` while less than the limit is kept."""
        if self._size < ERROR_BODY_LIMIT:
            self._chunks.append(data)
            self._size += len(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Report the text kept, however the answer ended."""
        if self._settle():
            body = b"".join(self._chunks)[:ERROR_BODY_LIMIT]
            self._report(body.decode("utf-8", "replace"))
