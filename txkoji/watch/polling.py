"""The poll loop shared by the watchers and the feed: one cycle now, then
one every ``interval`` seconds of the reactor's clock, surviving hub errors
and stopping at once when cancelled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from twisted.internet import defer, task
from twisted.logger import Logger

from txkoji.exceptions import KojiFault, KojiProtocolError, KojiTransportError

#: What a polled call's Deferred fires with.
T = TypeVar("T")

#: Hub errors that a later cycle may not meet again.
TRANSIENT_ERRORS = (KojiTransportError, KojiProtocolError, KojiFault)


class FailureHandler(Protocol):
    """Decides, instead of the loop, what follows a failed cycle (e.g. a
    profile's retry rules), and may tell a person."""

    def failed(self, error: BaseException) -> float:
        """A cycle failed with a hub error: return the seconds to wait
        before the next try, or raise to stop polling (the loop's Deferred
        fails with what is raised)."""

    def recovered(self) -> None:
        """A cycle went through after failed ones."""


def poll_interval(connection: Any, interval: float | None) -> float:
    """Return ``interval``, or the connection profile's ``poll_interval``
    (6 s by default) when it is ``None``.

    :raises ValueError: for an interval that is not a positive number.
    """
    if interval is None:
        interval = connection.config["poll_interval"]
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise ValueError(f"interval must be a number of seconds, not {interval!r}")
    if interval <= 0:
        raise ValueError(f"interval must be positive, not {interval!r}")
    return float(interval)


class PollLoop:
    """Run ``cycle`` until it returns something other than ``None``.

    A cycle failing with a hub error (transport, protocol, fault) is
    logged once, when a run of failures starts, and tried again at the
    next interval; any other exception ends the loop.

    :param clock: the ``IReactorTime`` the waits are scheduled on.
    :param interval: seconds between the start of one wait and the next
        cycle.
    :param cycle: a coroutine function making one poll; it returns the
        loop's result when polling is over, else ``None``.
    :param what: what is being polled, for the log.
    :param failures: decides the wait after a failed cycle, or stops
        polling; default: try again every ``interval``, forever.
    """

    log = Logger()

    def __init__(
        self,
        clock: Any,
        interval: float,
        cycle: Callable[[], Awaitable[T | None]],
        what: str,
        failures: FailureHandler | None = None,
    ) -> None:
        self.clock = clock
        self.interval = interval
        self._cycle = cycle
        self._what = what
        self._failures = failures
        #: Whether the latest cycle failed.
        self.failing = False
        self._wait = interval

    def run(self, wait_first: bool = False) -> defer.Deferred[Any]:
        """Start polling: now, or after one interval when ``wait_first``.

        :returns: a Deferred firing with the first non-``None`` result of
            a cycle; cancelling it stops polling at once (the request in
            flight is cancelled, no wait is left scheduled).  It fails
            with whatever non-hub exception a cycle raised, or what the
            ``failures`` handler raised.
        """
        return defer.Deferred.fromCoroutine(self._run(wait_first))

    async def _run(self, wait_first: bool) -> Any:
        if wait_first:
            await task.deferLater(self.clock, self.interval, lambda: None)
        while True:
            result = await self._attempt()
            if result is not None:
                return result
            await task.deferLater(self.clock, self._wait, lambda: None)

    async def _attempt(self) -> Any:
        try:
            result = await self._cycle()
        except TRANSIENT_ERRORS as error:
            self._wait = self.interval
            if self._failures is not None:
                self._wait = self._failures.failed(error)
            if not self.failing:
                self.failing = True
                self.log.warn(
                    "polling {what} failed, retrying every {interval} s: {error}",
                    what=self._what,
                    interval=self.interval,
                    error=error,
                )
            return None
        self._wait = self.interval
        if self.failing:
            self.failing = False
            self.log.info("polling {what} works again", what=self._what)
            if self._failures is not None:
                self._failures.recovered()
        return result
