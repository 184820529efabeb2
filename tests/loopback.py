"""Helpers for tests that run a Connection against the fake hub over
loopback while time is a :class:`~twisted.internet.task.Clock`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import reactor
from twisted.internet.task import Clock, LoopingCall, deferLater
from twisted.logger import globalLogPublisher
from zope.interface import directlyProvides, providedBy


class ClockedReactor:
    """The global reactor for I/O, ``clock`` for time: what a Connection
    schedules (timeouts, retry waits) waits for ``clock.advance``.

    Looping calls stay on the real reactor: ``HostnameEndpoint`` paces its
    connection attempts with one, and reports a refused connection only on
    its next tick.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        directlyProvides(self, *providedBy(reactor))

    def __getattr__(self, name: str) -> Any:
        return getattr(reactor, name)

    def callLater(self, delay: float, f: Callable, *args: Any, **kwargs: Any):
        """Schedule on the clock (a looping call: on the reactor)."""
        if isinstance(f, LoopingCall):
            return reactor.callLater(delay, f, *args, **kwargs)
        return self.clock.callLater(delay, f, *args, **kwargs)

    def seconds(self) -> float:
        """The clock's time."""
        return self.clock.seconds()

    def getDelayedCalls(self) -> list:
        """The clock's pending calls."""
        return self.clock.getDelayedCalls()


class RetryWaits:
    """Watch the retry log and let each retry's wait pass on ``clock`` as
    soon as it starts (on the next reactor turn), recording its length.

    Use as a context manager; :attr:`delays` lists the waits seen, one per
    retry, and :attr:`methods` the method retried each time.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.delays: list[float] = []
        self.methods: list[str] = []

    def _observe(self, event: dict) -> None:
        if not event.get("log_namespace", "").startswith("txkoji.retry"):
            return
        self.delays.append(event["delay"])
        self.methods.append(event["method"])
        # The wait is scheduled right after the log line: advance after it.
        reactor.callLater(0, self.clock.advance, event["delay"])

    def __enter__(self) -> RetryWaits:
        globalLogPublisher.addObserver(self._observe)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        globalLogPublisher.removeObserver(self._observe)


async def until(condition: Callable[[], bool], turns: int = 100_000) -> None:
    """Let the reactor run, one turn at a time, until ``condition()`` holds.

    :raises AssertionError: when it still does not after ``turns`` turns.
    """
    for _ in range(turns):
        if condition():
            return
        await deferLater(reactor, 0, lambda: None)
    raise AssertionError(f"{condition} did not come true in {turns} reactor turns")
