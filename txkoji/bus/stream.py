"""Bus events as an async iterator (:func:`txkoji.bus.events`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from txkoji.exceptions import KojiBusError

#: Put in the queue by :meth:`EventStream.stop` for a waiting ``__anext__``.
_STOPPED = object()


class EventStream:
    """An async iterator over a bus subscription's events.

    Subscribes on the first ``__anext__``.  Each event is acknowledged
    when the loop asks for the next one (its body finished), so a crash
    in the body leaves it with the broker.  A body that takes longer than
    the subscription's ``handler_timeout`` fails its event, which the
    broker redelivers.
    """

    def __init__(
        self, subscribe: Callable[[Callable[[Any], Any]], defer.Deferred[Any]]
    ) -> None:
        self._subscribe = subscribe
        self._subscription: Any = None
        self._subscribing: defer.Deferred[Any] | None = None
        self._ready: defer.DeferredQueue[Any] = defer.DeferredQueue()
        self._current: defer.Deferred[Any] | None = None
        self._waiting: list[defer.Deferred[Any]] = []
        self._stopped = False

    @property
    def stats(self) -> Any:
        """The subscription's :class:`~txkoji.bus.BusStats` (``None`` before
        the first event was asked for)."""
        return None if self._subscription is None else self._subscription.stats

    def _handle(self, event: Any) -> defer.Deferred[Any]:
        done: defer.Deferred[Any] = defer.Deferred()
        self._waiting.append(done)
        self._ready.put((event, done))
        return done

    def __aiter__(self) -> EventStream:
        return self

    def __anext__(self) -> Any:
        """Return an awaitable firing with the next event (a Deferred, or an
        asyncio future when an asyncio loop runs).

        :raises StopAsyncIteration: once :meth:`stop` was called.
        :raises KojiBusError: when subscribing failed.
        """
        following = defer.ensureDeferred(self._next())
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return following
        return following.asFuture(loop)

    async def _next(self) -> Any:
        if self._current is not None:
            current, self._current = self._current, None
            self._waiting.remove(current)
            if not current.called:  # else it timed out: redelivered
                current.callback(None)
        if self._stopped:
            raise StopAsyncIteration
        if self._subscription is None:
            if self._subscribing is None:
                self._subscribing = self._subscribe(self._handle)
            self._subscription = await self._subscribing
        item = await self._ready.get()
        if item is _STOPPED:
            raise StopAsyncIteration
        event, self._current = item
        return event

    def stop(self) -> defer.Deferred[Any]:
        """Stop the subscription; events not acknowledged are given back to
        the broker.

        :returns: a Deferred firing with ``None`` once stopped.
        """
        self._stopped = True
        self._current = None
        # Ends a loop waiting for the next event.
        self._ready.put(_STOPPED)
        waiting, self._waiting = self._waiting, []
        for done in waiting:
            if not done.called:
                done.errback(
                    KojiBusError("the event stream stopped before this event was done")
                )
        if self._subscription is None:
            return defer.succeed(None)
        return self._subscription.stop()
