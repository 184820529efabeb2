"""Sending one request to the hub: a concurrency slot, retries, the post.

:class:`Requester` is the one place where a call's encoded body becomes
HTTP requests.  It holds the connection's transport, retry policy,
concurrency limit and clock; :class:`~txkoji.connection.Connection` sends
anonymous calls through it, and the logged-in session
(:mod:`txkoji.session_calls`) sends its numbered calls through it too.

Cancelling a send is final: the call fails with ``CancelledError``, no
retry follows, and a call that was still waiting for a slot, or whose
request was not yet written, never reaches the hub.

:meth:`Requester.stop_retrying` and :meth:`Requester.close` end what is
under way when the connection closes: the sends still waiting for a slot
or between two attempts fail at once, and an attempt under way is not
retried.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure

from txkoji.codec import ResponseDecoder
from txkoji.limit import ConcurrencyLimit
from txkoji.results import ResultType
from txkoji.retry import RetryPolicy, RetryStop

#: Makes the error a send fails with once the requester stops, from the
#: hub method.
StopError = Callable[[str], BaseException]


class Requester:
    """Sends encoded calls with the connection's limits and retry rules.

    :param transport: posts a body and decodes the answer (a
        :class:`~txkoji.transport.HubTransport`, or anything with its
        ``post(url, body, decoder, *, method, headers)``).
    :param retry: the profile's :class:`~txkoji.retry.RetryPolicy`.
    :param clock: what retry waits are measured on.
    :param max_concurrency: requests in flight at once, at most.
    :param url: the hub URL requests go to unless told otherwise.
    """

    def __init__(
        self,
        transport: Any,
        retry: RetryPolicy,
        clock: IReactorTime,
        max_concurrency: int,
        url: str,
    ) -> None:
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.url = url
        self.limit = ConcurrencyLimit(max_concurrency)
        self._retry_stop = RetryStop()
        #: Stops each send still waiting for a slot.
        self._queued: set[Callable[[StopError], None]] = set()
        self._closed: StopError | None = None

    def stop_retrying(self, error: StopError) -> None:
        """Fail at once, with ``error(method)``, every send waiting for a
        slot or between two attempts; let the attempts under way finish
        without retrying them; and send later requests once, without
        retries (the logout that closes a connection)."""
        self.retry = dataclasses.replace(self.retry, max_retries=0, offline_retry=False)
        self._retry_stop.stop(error)
        for stop in list(self._queued):
            stop(error)

    def close(self, error: StopError) -> None:
        """Stop retrying (see :meth:`stop_retrying`) and fail every later
        send at once with ``error(method)``."""
        self.stop_retrying(error)
        self._closed = error

    def send(
        self,
        method: str,
        body: bytes,
        rtype: ResultType,
        *,
        url: str | None = None,
        headers: dict[bytes, bytes] | None = None,
        logged_in: bool = False,
        decoder: Callable[[], Any] | None = None,
    ) -> defer.Deferred[Any]:
        """Send ``body`` (a call of ``method``) once a concurrency slot is
        free, retrying under the policy, and decode the answer.

        :param rtype: how the answer is decoded (records built while
            decoding); the caller finishes the value.
        :param url: where to post (default: the hub URL); every retry goes
            to the same URL with the same ``headers``.
        :param logged_in: the call belongs to a logged-in session (the
            policy retries those more readily).
        :param decoder: makes the decoder of each attempt (``feed(bytes)``,
            ``close() -> value``) instead of a
            :class:`~txkoji._codec_decode.ResponseDecoder` for ``rtype``.
        :returns: a Deferred firing with the decoded answer.  It fails with
            the last attempt's error, or with ``CancelledError`` when
            cancelled: waiting for a slot, the call leaves the queue;
            during an attempt, the attempt is aborted; during a retry wait,
            the wait ends; in every case no further attempt is made.
        """
        if self._closed is not None:
            return defer.fail(self._closed(method))
        target = url or self.url

        def attempt() -> defer.Deferred[Any]:
            made = (
                decoder()
                if decoder is not None
                else ResponseDecoder(method, rtype.record_class, rtype.shape)
            )
            return self.transport.post(
                target, body, made, method=method, headers=headers
            )

        def start() -> defer.Deferred[Any]:
            return self.retry.run(
                attempt,
                clock=self.clock,
                method=method,
                logged_in=logged_in,
                stop=self._retry_stop,
            )

        sending = self.limit.run(start)
        if not self.limit.waiting:
            # It holds a slot: nothing more to track.
            return sending
        stopped: list[BaseException] = []

        def stop(error: StopError) -> None:
            if not sending.called:
                # Still waiting for a slot: leave the queue, fail now.
                stopped.append(error(method))
                sending.cancel()

        def settle(outcome: Any) -> Any:
            self._queued.discard(stop)
            if stopped and isinstance(outcome, Failure):
                return Failure(stopped[0])
            return outcome

        self._queued.add(stop)
        return sending.addBoth(settle)
