"""Repeating a file transfer's requests under the profile's retry rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from txkoji.exceptions import KojiTimeoutError
from txkoji.retry import RetryPolicy


def retried(
    connection: Any, attempt: Callable[[], defer.Deferred[Any]], what: str
) -> defer.Deferred[Any]:
    """Run ``attempt`` under the profile's retry rules (transient failures
    are retried whether logged in or not: file transfers may be repeated).

    :returns: a Deferred firing as the first successful attempt does.
        Cancelling it cancels the attempt or wait in progress and makes no
        further attempt (a connection cancelled while being made can fail
        as a lookup error; it is reported as the cancellation it is).
    """
    policy = RetryPolicy.from_config(connection.config)
    cancelled: list[bool] = []

    def one() -> defer.Deferred[Any]:
        if cancelled:
            return defer.fail(defer.CancelledError())
        d = attempt()

        def why(failure: Failure) -> Failure:
            return Failure(defer.CancelledError()) if cancelled else failure

        return d.addErrback(why)

    inner = policy.run(one, clock=connection.clock, method=what, logged_in=True)

    def cancel(_: defer.Deferred[Any]) -> None:
        cancelled.append(True)
        inner.cancel()

    outer: defer.Deferred[Any] = defer.Deferred(cancel)
    inner.chainDeferred(outer)
    return outer


def with_timeout(
    d: defer.Deferred[Any], clock: Any, seconds: float | None, what: str, url: str
) -> defer.Deferred[Any]:
    """Cancel ``d`` when it has not fired within ``seconds`` (none when
    ``seconds`` is None or 0), failing it with ``KojiTimeoutError`` (which
    the retry rules retry).

    :returns: ``d``.
    """
    if not seconds:
        return d
    expired: list[bool] = []

    def expire() -> None:
        expired.append(True)
        d.cancel()

    delayed = clock.callLater(seconds, expire)

    def settle(outcome: Any) -> Any:
        if delayed.active():
            delayed.cancel()
        if (
            expired
            and isinstance(outcome, Failure)
            and outcome.check(defer.CancelledError)
        ):
            raise KojiTimeoutError(
                f"{what} took longer than {seconds:g} s (the timeout option)", url
            )
        return outcome

    return d.addBoth(settle)
