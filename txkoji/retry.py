"""Which failed hub calls are tried again, how often, and how long to wait.

:class:`RetryPolicy` follows the official koji client's rules:

* A transient failure (the connection refused, reset or closed early, a
  timeout, HTTP 502/503/504 from a proxy in front of a restarting hub) is
  retried for a logged-in session always, and for an anonymous one only
  with ``anon_retry``.  The first retry follows at once (on the next
  reactor turn); later ones wait ``retry_interval`` seconds.  Once
  ``max_retries`` retries have failed too, the last error is raised.
* A fault is the hub's considered answer and is never retried, except
  ServerOffline (1014) with ``offline_retry``: that waits
  ``offline_retry_interval`` seconds and does not count as a retry.
* TLS failures, unreadable answers, other HTTP statuses, a proxy that
  refuses (:class:`~txkoji.exceptions.KojiProxyRefused`), a closed
  connection (:class:`~txkoji.exceptions.KojiConnectionClosed`) and
  cancellation are never retried.
* A :class:`RetryStop` ends the retries of the calls it was given at once
  (a connection closing): no further attempt, and a call waiting for its
  next attempt fails now.

The policy holds no reactor: :meth:`RetryPolicy.run` is given the clock to
wait on, so tests drive it with :class:`twisted.internet.task.Clock`.  It
wraps a zero-argument *attempt* callable, so a logged-in call can resend
the very same request (same callnum) on every attempt.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from txkoji.exceptions import (
    KojiConnectionClosed,
    KojiConnectionError,
    KojiHTTPError,
    KojiProxyRefused,
    KojiTimeoutError,
    ServerOffline,
)

#: HTTP statuses a proxy answers while the hub behind it restarts.
RETRIED_HTTP_STATUSES = frozenset({502, 503, 504})


class Verdict(enum.Enum):
    """What to do after a failed attempt."""

    #: Raise the error.
    GIVE_UP = "give up"
    #: A transient failure: retry, counting the retry.
    RETRY = "retry"
    #: The hub said it is offline: wait, retry, count nothing.
    OFFLINE = "offline"


def is_transient(error: BaseException) -> bool:
    """Tell whether ``error`` is a failure a repeat of the call may cure:
    the connection refused, reset or closed early, a timeout, or HTTP
    502/503/504; not a closed :class:`~txkoji.connection.Connection` nor a
    proxy that refuses."""
    if isinstance(error, (KojiConnectionClosed, KojiProxyRefused)):
        return False
    if isinstance(error, KojiHTTPError):
        return error.status in RETRIED_HTTP_STATUSES
    return isinstance(error, (KojiConnectionError, KojiTimeoutError))


class RetryStop:
    """Ends retries early: once :meth:`stop` is called, the calls run with
    it make no further attempt, and those waiting between two attempts
    fail at once.  It costs nothing until a call waits for a retry."""

    def __init__(self) -> None:
        #: Makes the error of a call stopped while it waited, from its
        #: method; ``None`` until stopped.
        self.error: Callable[[str], BaseException] | None = None
        self._waiting: set[_Attempts] = set()

    def stop(self, error: Callable[[str], BaseException]) -> None:
        """Stop: a call waiting for its next attempt fails now with
        ``error(method)``; one whose attempt is under way fails with that
        attempt's error if it fails."""
        self.error = error
        for attempts in list(self._waiting):
            attempts.stop(error)


@dataclass(frozen=True)
class RetryPolicy:
    """The retry options of a profile, and the loop that applies them.

    :ivar max_retries: how many retries of transient failures, at most.
    :ivar retry_interval: seconds between retries after the first.
    :ivar anon_retry: retry transient failures of anonymous calls too.
    :ivar offline_retry: retry calls the hub answers with ServerOffline.
    :ivar offline_retry_interval: seconds to wait after a ServerOffline.
    """

    max_retries: int = 30
    retry_interval: float = 20
    anon_retry: bool = False
    offline_retry: bool = False
    offline_retry_interval: float = 20

    log = Logger()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetryPolicy:
        """Build the policy from a profile's resolved options (the
        ``max_retries``, ``retry_interval``, ``anon_retry``, ``offline_retry``
        and ``offline_retry_interval`` keys)."""
        return cls(
            max_retries=config["max_retries"],
            retry_interval=config["retry_interval"],
            anon_retry=config["anon_retry"],
            offline_retry=config["offline_retry"],
            offline_retry_interval=config["offline_retry_interval"],
        )

    def verdict(self, error: BaseException, *, logged_in: bool) -> Verdict:
        """Decide what follows a failed attempt, ignoring how many retries
        were made already.

        :param error: what the attempt failed with.
        :param logged_in: whether the call belongs to a logged-in session.
        """
        if isinstance(error, ServerOffline):
            return Verdict.OFFLINE if self.offline_retry else Verdict.GIVE_UP
        if is_transient(error) and (logged_in or self.anon_retry):
            return Verdict.RETRY
        return Verdict.GIVE_UP

    def run(
        self,
        attempt: Callable[[], defer.Deferred[Any]],
        *,
        clock: IReactorTime,
        method: str,
        logged_in: bool = False,
        stop: RetryStop | None = None,
    ) -> defer.Deferred[Any]:
        """Call ``attempt()`` until it succeeds or the policy gives up.

        :param attempt: makes one try of the call and returns a Deferred;
            called once per attempt, so it can resend the same request.
        :param clock: what to wait on between attempts.
        :param method: the hub method, for the log.
        :param logged_in: whether the call belongs to a logged-in session.
        :param stop: ends the retries early when stopped.
        :returns: a Deferred firing with the first successful attempt's
            value.  It fails with the error of the last attempt when that
            error is not retried or the retries are used up, and with
            ``CancelledError`` when cancelled, whatever the cancelled
            attempt then fails with: cancelling it during an attempt
            cancels the attempt, during a wait ends the wait, and either
            way no further attempt is made.
        """
        return _Attempts(self, attempt, clock, method, logged_in, stop).start()

    def next_delay(
        self, error: BaseException, *, logged_in: bool, retries: int
    ) -> tuple[float, int] | None:
        """Decide what follows a failed attempt, counting retries.

        :param retries: how many counted retries were made already.
        :returns: ``(seconds to wait, retries counted after this one)``, or
            ``None`` to give up and raise ``error``.
        """
        verdict = self.verdict(error, logged_in=logged_in)
        if verdict is Verdict.OFFLINE:
            # A hub that says it is offline is reachable and healthy enough
            # to answer: start counting failures afresh.
            return self.offline_retry_interval, 0
        if verdict is Verdict.RETRY and retries < self.max_retries:
            retries += 1
            return (0 if retries == 1 else self.retry_interval), retries
        return None


class _Attempts:
    """The attempts at one call: the first at once, then retries as the
    policy says, until one succeeds, the policy gives up, the caller
    cancels, or the :class:`RetryStop` stops."""

    def __init__(
        self,
        policy: RetryPolicy,
        attempt: Callable[[], defer.Deferred[Any]],
        clock: IReactorTime,
        method: str,
        logged_in: bool,
        stop: RetryStop | None = None,
    ) -> None:
        self._policy = policy
        self._stop = stop
        self._attempt = attempt
        self._clock = clock
        self._method = method
        self._logged_in = logged_in
        self._current: defer.Deferred[Any] | None = None
        self._cancelled = False
        self._retries = 0
        self._tries = 0
        self.result: defer.Deferred[Any] = defer.Deferred(self._cancel)

    def start(self) -> defer.Deferred[Any]:
        """Make the first attempt; return the Deferred of the outcome."""
        self._make_attempt()
        return self.result

    def _cancel(self, _: defer.Deferred[Any]) -> None:
        self._cancelled = True
        self._left_wait()
        if self._current is not None:
            self._current.cancel()

    def stop(self, error: Callable[[str], BaseException]) -> None:
        """End the wait for the next attempt, and fail with
        ``error(method)`` (called by the :class:`RetryStop` while
        waiting)."""
        waiting, self._current = self._current, None
        self._left_wait()
        if waiting is not None:
            waiting.cancel()
        if not self.result.called:
            self.result.errback(Failure(error(self._method)))

    def _left_wait(self) -> None:
        if self._stop is not None:
            self._stop._waiting.discard(self)

    def _try(self, _: Any) -> None:
        # The wait for a retry is over.
        self._left_wait()
        self._make_attempt()

    def _make_attempt(self) -> None:
        self._tries += 1
        try:
            self._current = self._attempt()
        except Exception:
            self._current = defer.fail()
        self._current.addCallbacks(self._succeeded, self._failed)

    def _succeeded(self, value: Any) -> None:
        self._current = None
        if not self._cancelled:
            self.result.callback(value)

    def _failed(self, failure: Failure) -> None:
        self._current = None
        if self._cancelled:
            # The caller's Deferred has already failed with CancelledError.
            return
        # An errback's Failure always holds the exception it wraps.
        error = cast(BaseException, failure.value)
        decision = self._policy.next_delay(
            error, logged_in=self._logged_in, retries=self._retries
        )
        if decision is None or (self._stop is not None and self._stop.error):
            self.result.errback(failure)
            return
        delay, retries = decision
        limit = (
            f"retry {retries} of {self._policy.max_retries}"
            if retries
            else "offline retries are not counted"
        )
        self._retries = retries
        self._policy.log.info(
            "retrying {method} in {delay:g} s (attempt {attempt}; {limit}) "
            "after: {error}",
            method=self._method,
            delay=delay,
            attempt=self._tries + 1,
            limit=limit,
            error=str(error),
        )
        # Even the immediate retry waits for the next reactor turn, so it
        # never starts inside the failed request's own callbacks.
        if self._stop is not None:
            self._stop._waiting.add(self)
        self._current = deferLater(self._clock, delay)
        self._current.addCallbacks(self._try, lambda _: None)
