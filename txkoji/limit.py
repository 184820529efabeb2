"""A limit on how many operations run at once, with a fair queue.

:class:`ConcurrencyLimit` is what :class:`twisted.internet.defer.DeferredSemaphore`
offers, plus what txkoji needs of it: a free slot is taken without an
extra Deferred, and a waiting operation that is cancelled leaves the queue
at once, so it never starts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet import defer
from twisted.python.failure import Failure

#: What a limited call's Deferred fires with.
T = TypeVar("T")


class ConcurrencyLimit:
    """Run at most ``limit`` operations at a time; the others wait in FIFO
    order.

    :param limit: how many may run at once (at least 1).
    :raises ValueError: when ``limit`` is less than 1.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the concurrency limit must be at least 1, not {limit}")
        self.limit = limit
        self._running = 0
        self._waiting: deque[defer.Deferred[None]] = deque()

    @property
    def running(self) -> int:
        """How many operations hold a slot now."""
        return self._running

    @property
    def waiting(self) -> int:
        """How many operations wait for a slot."""
        return len(self._waiting)

    def run(self, operation: Callable[[], defer.Deferred[T]]) -> defer.Deferred[T]:
        """Call ``operation()`` once a slot is free, and free the slot when
        the Deferred it returns has fired.

        :returns: a Deferred firing with what ``operation``'s Deferred fires
            with.  Cancelling it while the operation waits for a slot takes
            the operation out of the queue (it is never called) and fails
            the Deferred with ``CancelledError``; cancelling it later
            cancels the operation's Deferred.
        """
        if self._running < self.limit and not self._waiting:
            self._running += 1
            return self._start(operation)
        turn: defer.Deferred[None] = defer.Deferred(self._leave_queue)
        self._waiting.append(turn)
        return turn.addCallback(lambda _: self._start(operation))

    def _leave_queue(self, turn: defer.Deferred[None]) -> None:
        # Called by Deferred.cancel before the turn came: the Deferred then
        # fails with CancelledError, and the operation never starts.
        self._waiting.remove(turn)

    def _start(self, operation: Callable[[], defer.Deferred[T]]) -> defer.Deferred[T]:
        try:
            started = operation()
        except BaseException:
            self._release(None)
            return defer.fail(Failure())
        return started.addBoth(self._release)

    def _release(self, outcome: Any) -> Any:
        if self._waiting:
            # The slot passes straight to the next in line.
            self._waiting.popleft().callback(None)
        else:
            self._running -= 1
        return outcome
