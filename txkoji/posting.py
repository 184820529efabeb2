"""One call posted to a hub, from the request to the decoded answer.

:class:`Posting` carries one :meth:`HubTransport.post
<txkoji.transport.HubTransport.post>` through its phases (the request, its
one resend when a kept-alive connection turns out closed, the answer's
body) with a single callback per phase and no Deferred but the caller's
and the request's, so the per-call cost above
Twisted's ``Agent`` stays small.  It fires the caller's Deferred once, with
the decoded value or the translated error
(:mod:`txkoji.transport_errors`); cancels the phase under way when that
Deferred is cancelled; and makes a call that outlives the transport's
``timeout`` fail with :class:`~txkoji.exceptions.KojiTimeoutError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.internet import error as neterror
from twisted.internet.interfaces import IDelayedCall
from twisted.python.failure import Failure
from twisted.web.client import ResponseNeverReceived

from txkoji.bodies import BodyReader, Decoder, ErrorBodyReader
from txkoji.exceptions import KojiTimeoutError
from txkoji.transport_errors import http_error, mask_url, translate_failure

if TYPE_CHECKING:
    from txkoji.transport import HubTransport


def died_before_answer(failure: Failure) -> bool:
    """Tell whether a request failed because its connection closed before
    any byte of an answer, the mark of a keep-alive connection the hub had
    just closed (not a refusal, a TLS failure or a cancellation)."""
    never_received = failure.value
    if not isinstance(never_received, ResponseNeverReceived):
        return False
    return all(
        reason.check(neterror.ConnectionDone, neterror.ConnectionLost)
        for reason in never_received.reasons
    )


class Posting:
    """One call through a :class:`~txkoji.transport.HubTransport`.

    :ivar result: the Deferred the caller gets (see ``HubTransport.post``
        for what it fires with).
    """

    __slots__ = (
        "_body",
        "_cancelled",
        "_current",
        "_decoder",
        "_headers",
        "_method",
        "_reader",
        "_resent",
        "_settled",
        "_timed_out",
        "_timeout",
        "_timer",
        "_transport",
        "_url",
        "result",
    )

    def __init__(
        self,
        transport: HubTransport,
        url: str,
        body: bytes,
        decoder: Decoder,
        method: str,
        headers: dict[bytes, bytes] | None,
    ) -> None:
        self._transport = transport
        self._url = url
        self._body = body
        self._decoder = decoder
        self._method = method
        self._headers = headers
        self._cancelled = False
        self._timed_out = False
        self._resent = False
        self._settled = False
        self._timeout = transport.timeout
        self._timer: IDelayedCall | None = None
        #: The request under way, then the reader of its answer.
        self._current: defer.Deferred[Any] | None = None
        self._reader: BodyReader | ErrorBodyReader | None = None
        self.result: defer.Deferred[Any] = defer.Deferred(self._cancel)

    def start(self) -> defer.Deferred[Any]:
        """Send the request; return its ``result`` Deferred."""
        if self._timeout:
            self._timer = self._transport.clock.callLater(self._timeout, self._expire)
        self._send()
        return self.result

    def _send(self) -> None:
        requesting = self._transport._request(self._url, self._body, self._headers)
        self._current = requesting
        requesting.addCallbacks(self._answered, self._not_answered)

    def _not_answered(self, failure: Failure) -> None:
        if not self._resent and not self._cancelled and died_before_answer(failure):
            self._resent = True
            self._send()
        else:
            self._failed(failure)

    def _answered(self, response: Any) -> None:
        # Even an answer that comes after the call was settled (its
        # cancellation ignored) is read, so its connection can be reused.
        transport = self._transport
        self._current = None
        try:
            versions = response.headers.getRawHeaders(b"koji-version")
            if versions:
                transport.hub_version = versions[-1].decode("ascii", "replace")
            if response.code != 200:
                self._reader = ErrorBodyReader(
                    lambda text: self._refused(text, response)
                )
            else:
                self._reader = BodyReader(
                    self._decoder,
                    transport.max_response_size,
                    self._url,
                    self._method,
                    self._read,
                )
            response.deliverBody(self._reader)
        except Exception:
            self._failed(Failure())

    def _read(self, outcome: Any) -> None:
        if isinstance(outcome, Failure):
            self._failed(outcome)
        else:
            self._settle(outcome)

    def _refused(self, body: str, response: Any) -> None:
        try:
            http_error(body, response, self._url, self._method)
        except Exception:
            self._failed(Failure())

    def _failed(self, failure: Failure) -> None:
        if self._settled:
            return
        if self._cancelled:
            # Whatever the cancelled request failed with (a resolver or
            # connection error, say), the caller asked for it to stop.
            self._settle(self._stopped())
            return
        try:
            failure = translate_failure(
                failure, self._url, self._method, self._transport.tls_policy
            )
        except Exception:
            failure = Failure()
        self._settle(failure)

    def _stopped(self) -> Failure:
        """The failure of a cancelled call: ``KojiTimeoutError`` when the
        timeout cancelled it."""
        if not self._timed_out:
            return Failure(defer.CancelledError())
        shown = mask_url(self._url)
        method = self._method
        return Failure(
            KojiTimeoutError(
                f"{method or 'the call'} to {shown} took longer than "
                f"{self._timeout:g} s (the timeout option)",
                shown,
                method or None,
            )
        )

    def _settle(self, outcome: Any) -> None:
        if self._settled:
            return
        self._settled = True
        self._current = self._reader = None
        timer = self._timer
        if timer is not None:
            self._timer = None  # no cycle through the timer's callable
            if timer.active():
                timer.cancel()
        self._transport._settled()
        if isinstance(outcome, Failure):
            self.result.errback(outcome)
        else:
            self.result.callback(outcome)

    def _cancel(self, _: defer.Deferred[Any]) -> None:
        self._cancelled = True
        current, reader = self._current, self._reader
        if current is not None:
            current.cancel()
        elif reader is not None:
            reader.stop()
        # A request that ignored the cancellation still ends the call now.
        self._settle(self._stopped())

    def _expire(self) -> None:
        self._timed_out = True
        self.result.cancel()
