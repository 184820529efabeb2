"""Helpers for tests that run a Connection against the fake hub over
loopback while time is a :class:`~twisted.internet.task.Clock` (passed as
the Connection's ``clock``), and the
``quiet_reactor`` fixture (import it into a test module to use it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest_twisted
from twisted.internet import reactor, tcp
from twisted.internet.task import Clock, deferLater
from twisted.logger import globalLogPublisher


class RetryWaits:
    """Watch the retry log, recording each retry's wait, and (unless
    ``advance`` is false) let the wait pass on ``clock`` as soon as it
    starts (on the next reactor turn).

    Use as a context manager; :attr:`delays` lists the waits seen, one per
    retry, and :attr:`methods` the method retried each time.
    """

    def __init__(self, clock: Clock, advance: bool = True) -> None:
        self.clock = clock
        self.advance = advance
        self.delays: list[float] = []
        self.methods: list[str] = []

    def _observe(self, event: dict) -> None:
        if not event.get("log_namespace", "").startswith("txkoji.retry"):
            return
        self.delays.append(event["delay"])
        self.methods.append(event["method"])
        if self.advance:
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


def reactor_is_quiet() -> bool:
    """Whether the global reactor holds nothing left of a test: no delayed
    calls, no TCP connections or listening ports."""
    selectables = set(reactor.getReaders()) | set(reactor.getWriters())
    sockets = [s for s in selectables if isinstance(s, (tcp.Connection, tcp.Port))]
    return not reactor.getDelayedCalls() and not sockets


@pytest_twisted.async_yield_fixture(autouse=True)
async def quiet_reactor():
    """Fail a test that leaves the reactor dirty: once the test and its
    other fixtures are done, every delayed call and socket must be gone
    (closing sockets takes the reactor a few turns)."""
    yield
    await until(reactor_is_quiet, turns=2000)
