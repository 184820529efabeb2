"""What the watch commands do when the hub fails: say so where the user
looks, with what failed and when the next try is, and give up when the
profile's retry rules do.

A watch is a long run of read-only calls that must outlast a hub restart,
so its polls are retried as the official client retries a logged-in
session's calls (:meth:`txkoji.retry.RetryPolicy.next_delay`): transient
failures (connection refused or reset, unknown host, timeouts, HTTP 502,
503 and 504) up to ``max_retries`` times, the first at once and the others
``retry_interval`` seconds apart; ServerOffline every
``offline_retry_interval`` seconds with ``offline_retry``; anything else
(another HTTP status, an answer that is not XML-RPC, a fault) at once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from txkoji.exceptions import KojiException
from txkoji.retry import RetryPolicy


class GaveUp(KojiException):
    """Polling stopped: the hub kept failing, or failed in a way a retry
    does not cure.

    :ivar error: the last failure.
    :ivar tries: how many polls failed in a row.
    """

    def __init__(self, what: str, error: BaseException, tries: int) -> None:
        self.error = error
        self.tries = tries
        if tries > 1:
            text = f"giving up on {what} after {tries} failed tries: {error}"
        else:
            text = f"{what} failed, and a retry would not help: {error}"
        super().__init__(text)


def say(text: str, failing: bool = True) -> None:
    """Print a report line on stderr (the plain views' ``status``)."""
    print(f"txkoji: {text}", file=sys.stderr, flush=True)


def clock_time(seconds: float) -> str:
    """Local wall-clock time ``HH:MM:SS`` of a reactor time."""
    return datetime.fromtimestamp(seconds).strftime("%H:%M:%S")


class PollRetries:
    """A :class:`~txkoji.watch.polling.FailureHandler` applying a
    profile's retry rules to the polls of a watch, and reporting each
    failure and the recovery.

    :param policy: the profile's :class:`~txkoji.retry.RetryPolicy`.
    :param clock: the reactor's clock, for the time of the next try.
    :param what: what is polled (``"polling tasks"``), for the messages.
    :param report: called with a line to show and whether the hub is
        failing (``True``: a failure and the next try; ``False``: the
        recovery).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        clock: Any,
        what: str,
        report: Callable[[str, bool], Any],
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.what = what
        self.report = report
        self.retries = 0
        self.tries = 0

    def failed(self, error: BaseException) -> float:
        """Return the seconds until the next try, after reporting the
        failure.

        :raises GaveUp: when the retry rules give up.
        """
        self.tries += 1
        decision = self.policy.next_delay(error, logged_in=True, retries=self.retries)
        if decision is None:
            raise GaveUp(self.what, error, self.tries)
        delay, self.retries = decision
        if self.retries:
            count = f"retry {self.retries} of {self.policy.max_retries}"
        else:
            count = "the hub says it is offline"
        when = clock_time(self.clock.seconds() + delay)
        soon = "now" if delay <= 0 else f"at {when} (in {delay:g} s)"
        # The retry first: a narrow status line cuts the end of the error.
        self.report(f"{self.what} failed ({count} {soon}): {error}", True)
        return delay

    def recovered(self) -> None:
        """The hub answers again: report it and count afresh."""
        self.retries = self.tries = 0
        self.report(f"{self.what} works again", False)


def poll_retries(
    connection: Any, what: str, report: Callable[[str, bool], Any]
) -> PollRetries:
    """The :class:`PollRetries` of ``connection``'s profile."""
    return PollRetries(
        RetryPolicy.from_config(connection.config), connection.clock, what, report
    )
