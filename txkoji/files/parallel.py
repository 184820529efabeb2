"""Run several transfers at once, a bounded number at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from txkoji.exceptions import KojiFileError


def run_limited(
    jobs: Sequence[Callable[[], defer.Deferred[Any]]], concurrency: int
) -> defer.Deferred[Any]:
    """Start ``jobs`` (each returns a Deferred), at most ``concurrency``
    running at a time, in order.

    :returns: a Deferred firing with their results in order.  The first
        failure cancels the jobs still running or waiting and is raised;
        cancelling the Deferred cancels them all.
    :raises KojiFileError: (through the Deferred) when ``concurrency`` is
        below 1.
    """
    if concurrency < 1:
        return defer.fail(
            KojiFileError(f"concurrency must be at least 1, not {concurrency}")
        )
    limit = defer.DeferredSemaphore(concurrency)
    running = [limit.run(job) for job in jobs]
    failed: list[Failure] = []

    def first_failure(failure: Failure) -> Failure:
        if not failed:
            failed.append(failure)
            # A job under way is "called" (its semaphore was acquired) but
            # waits on the transfer: cancelling reaches the transfer.
            for other in running:
                other.cancel()
        return failure

    for d in running:
        d.addErrback(first_failure)

    def cancel_all(_: defer.Deferred[Any]) -> None:
        for d in running:
            d.cancel()

    every = defer.gatherResults(running, consumeErrors=True)
    result: defer.Deferred[Any] = defer.Deferred(cancel_all)

    def settle(outcome: Any) -> None:
        if result.called:
            return
        if failed:
            result.errback(failed[0])
        elif isinstance(outcome, Failure):
            result.errback(outcome)
        else:
            result.callback(outcome)

    every.addBoth(settle)
    return result
