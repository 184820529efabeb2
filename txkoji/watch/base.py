"""What the task and build watchers share: options, the clock, and the
poll loop around their cycles."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from twisted.internet import defer

from txkoji.timestamps import now as clock_now
from txkoji.watch.polling import FailureHandler, PollLoop, poll_interval
from txkoji.watch.progress import Durations, Estimate

#: Tasks or builds polled per multicall request.
DEFAULT_BATCH = 500


def positive_batch(batch: Any) -> int:
    """Return ``batch``, a positive number of items per request.

    :raises ValueError: otherwise.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, not {batch!r}")
    return batch


class Watcher(ABC):
    """Polls until everything watched has finished.

    :param connection: a :class:`txkoji.Connection`.
    :param interval: seconds between polls; default: the profile's
        ``poll_interval``.
    :param on_event: called with each state change event.
    :param on_cycle: called with the watcher after each successful cycle.
    :param batch: items per request.
    :param clock: the ``IReactorTime`` to wait on (default:
        ``connection.clock``, its reactor unless it was given a clock).
    :ivar durations: the estimates' history, fetched once per key.
    :ivar requests: hub requests sent so far.
    :ivar cycles: poll cycles completed.
    :ivar failures: what decides the wait after a failed poll, or gives
        up (a :class:`~txkoji.watch.polling.FailureHandler`); ``None``
        (the default): try again every ``interval``, forever.
    :raises ValueError: for a bad ``interval`` or ``batch``.
    """

    #: What is watched, for the log.
    what = "items"

    def __init__(
        self,
        connection: Any,
        *,
        interval: float | None = None,
        on_event: Callable[[Any], Any] | None = None,
        on_cycle: Callable[[Any], Any] | None = None,
        batch: int = DEFAULT_BATCH,
        clock: Any = None,
    ) -> None:
        self.connection = connection
        self.clock = clock if clock is not None else connection.clock
        self.interval = poll_interval(connection, interval)
        self.batch = positive_batch(batch)
        self.on_event = on_event
        self.on_cycle = on_cycle
        self.durations = Durations()
        self.requests = 0
        self.cycles = 0
        self.failures: FailureHandler | None = None

    def now(self) -> datetime:
        """The current time by the watcher's clock."""
        return clock_now(self.clock)

    @property
    @abstractmethod
    def done(self) -> bool:
        """Whether nothing is left to watch."""

    @abstractmethod
    def result(self) -> Any:
        """What :meth:`run` fires with once :attr:`done`."""

    @abstractmethod
    async def _poll(self) -> None:
        """One poll cycle."""

    def poll(self) -> defer.Deferred[Any]:
        """Make one poll cycle: fetch, report the transitions seen, update
        the estimates.

        :returns: a Deferred firing with ``None``.  It fails with
            :class:`~txkoji.exceptions.KojiNotFound` when something given
            to watch does not exist, or with the first hub error (after
            applying what the other requests of the cycle brought).
        """
        return defer.Deferred.fromCoroutine(self._poll())

    def run(self) -> defer.Deferred[Any]:
        """Poll until :attr:`done`.

        :returns: a Deferred firing with :meth:`result`; cancelling it
            stops polling at once.  It fails with what ``failures``
            raises to give up.
        """
        loop = PollLoop(
            self.clock, self.interval, self._cycle, self.what, self.failures
        )
        return loop.run()

    async def _cycle(self) -> Any:
        await self.poll()
        return self.result() if self.done else None

    @abstractmethod
    def _report(self, changes: list[Any]) -> None:
        """Update the estimates and tell ``on_event`` of the ``changes``."""

    def _end_cycle(self, changes: list[Any], error: BaseException | None) -> None:
        """Count the cycle and report its ``changes``; then raise ``error``
        if a request failed, or else tell ``on_cycle`` the cycle went
        through."""
        self.cycles += 1
        self._report(changes)
        if error is not None:
            raise error
        if self.on_cycle is not None:
            self.on_cycle(self)


class Estimated:
    """What a watched task or build shows of its ``estimate`` (a
    :class:`~txkoji.watch.progress.Estimate`)."""

    __slots__ = ()

    estimate: Estimate

    @property
    def eta(self) -> datetime | None:
        """The estimated completion time (the real one once finished), or
        ``None`` with no history."""
        return self.estimate.eta

    @property
    def progress(self) -> float | None:
        """Elapsed over estimated duration (0.0 to 1.0), or ``None``."""
        return self.estimate.progress

    def remaining(self, now: datetime) -> timedelta | None:
        """Estimated time left at ``now``, or ``None``."""
        return self.estimate.remaining(now)
