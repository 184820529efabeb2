"""Sending one request to the hub: a concurrency slot, retries, the post.

:class:`Requester` is the one place where a call's encoded body becomes
HTTP requests.  It holds the connection's transport, retry policy,
concurrency limit and clock; :class:`~txkoji.connection.Connection` sends
anonymous calls through it, and the logged-in session
(:mod:`txkoji.session_calls`) sends its numbered calls through it too.

Cancelling a send is final: the call fails with ``CancelledError``, no
retry follows, and a call that was still waiting for a slot, or whose
request was not yet written, never reaches the hub.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime

from txkoji.codec import ResponseDecoder
from txkoji.limit import ConcurrencyLimit
from txkoji.results import ResultType
from txkoji.retry import RetryPolicy


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

    def send(
        self,
        method: str,
        body: bytes,
        rtype: ResultType,
        *,
        url: str | None = None,
        headers: dict[bytes, bytes] | None = None,
        logged_in: bool = False,
    ) -> defer.Deferred[Any]:
        """Send ``body`` (a call of ``method``) once a concurrency slot is
        free, retrying under the policy, and decode the answer.

        :param rtype: how the answer is decoded (records built while
            decoding); the caller finishes the value.
        :param url: where to post (default: the hub URL); every retry goes
            to the same URL with the same ``headers``.
        :param logged_in: the call belongs to a logged-in session (the
            policy retries those more readily).
        :returns: a Deferred firing with the decoded answer.  It fails with
            the last attempt's error, or with ``CancelledError`` when
            cancelled: waiting for a slot, the call leaves the queue;
            during an attempt, the attempt is aborted; during a retry wait,
            the wait ends; in every case no further attempt is made.
        """
        target = url or self.url

        def attempt() -> defer.Deferred[Any]:
            decoder = ResponseDecoder(method, rtype.record_class, rtype.shape)
            return self.transport.post(
                target, body, decoder, method=method, headers=headers
            )

        return self.limit.run(
            lambda: self.retry.run(
                attempt, clock=self.clock, method=method, logged_in=logged_in
            )
        )
