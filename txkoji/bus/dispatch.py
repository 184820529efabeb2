"""What every transport does with a message once it reached the reactor:
build the event, run the handler, count, and decide how the broker should
settle the message.

Transports call :meth:`Dispatcher.deliver` in the reactor thread and
settle the message as the returned :class:`Outcome` says; the outcome
comes within ``handler_timeout`` seconds whatever the handler does.  When
stopping, they wait for :meth:`Dispatcher.drain`, which gives back the
messages of handlers still running after a bounded grace time.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.internet import reactor as _reactor
from twisted.python.failure import Failure

from txkoji.exceptions import KojiBusError
from txkoji.messages import MalformedMessage, Message

log = logging.getLogger(__name__)

#: Seconds a handler may take (its Deferred or coroutine included) before
#: its message counts as failed: redelivered, then rejected.
HANDLER_TIMEOUT = 600.0
#: Seconds :meth:`Dispatcher.drain` waits at most (and never longer than
#: the handler timeout) before giving back the messages of handlers still
#: running.
STOP_GRACE = 30.0

#: A handler: called with each event, may return a Deferred (or an
#: awaitable) that must succeed before the message is acknowledged.
Handler = Callable[[Message], Any]


@dataclass(frozen=True)
class SubscribeOptions:
    """What :func:`txkoji.bus.subscribe` was given for a transport, its
    arguments checked (see there for each)."""

    topics: list[str]
    handler: Callable[[Any], Any]
    subscription: str | None
    max_redeliveries: int
    prefetch: int
    ssl_cert: str | None
    ssl_key: str | None
    ssl_ca: str | None
    ssl_password: str | None
    handler_timeout: float = HANDLER_TIMEOUT
    user: str | None = None
    password: str | None = None
    allow_insecure_mechs: bool = False


class Outcome(enum.Enum):
    """How a transport settles a message."""

    #: handled: acknowledge, the broker forgets it.
    ACCEPT = "accept"
    #: the handler failed: give it back for redelivery.
    RELEASE = "release"
    #: failed too often, or unreadable: reject (dead-letter where the
    #: broker is set up for it), never to be redelivered.
    REJECT = "reject"


@dataclass
class BusStats:
    """Counts of one subscription's messages.

    :ivar handled: messages whose handler succeeded (acknowledged).
    :ivar redelivered: handler failures given back for redelivery.
    :ivar malformed: unknown or unreadable messages that reached txkoji,
        logged and dropped.  The fedora transport cannot count what
        fedora-messaging rejects before txkoji sees it (bodies that are not
        UTF-8 or JSON, or fail their schema): see :mod:`txkoji.bus.fedora`.
    :ivar rejected: messages whose handler failed more than
        ``max_redeliveries`` times, logged and rejected.
    """

    handled: int = 0
    redelivered: int = 0
    malformed: int = 0
    rejected: int = 0


def stamp(event: Any, message_id: str, connection: Any) -> None:
    """Set ``event.message_id``, and ``event.connection`` unless the event
    has its own.  Events are frozen dataclasses; these two are delivery
    details, not part of the event's value, so they are set afterwards."""
    object.__setattr__(event, "message_id", message_id)
    if getattr(event, "connection", None) is None:
        object.__setattr__(event, "connection", connection)


class HandlerTimeout(KojiBusError):
    """A handler did not finish within the subscription's
    ``handler_timeout``: its message counts as failed."""


class _Running:
    """One message's handler run: its outcome fires once, when the handler
    finished, timed out, or was given up on when stopping."""

    def __init__(self, handled: defer.Deferred[Any]) -> None:
        self.handled = handled
        self.outcome: defer.Deferred[Any] = defer.Deferred()
        self.timer: Any = None

    def finish(self, result: Any) -> None:
        """Pass the handler's result (or a failure) on, once."""
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        if not self.outcome.called:
            if isinstance(result, Failure):
                self.outcome.errback(result)
            else:
                self.outcome.callback(result)

    def abandon(self, failure: Failure) -> None:
        """Stop waiting for the handler: settle with ``failure`` and cancel
        the handler's Deferred (whatever it does later is ignored)."""
        self.finish(failure)
        self.handled.cancel()


class _GivenBack(KojiBusError):
    """The subscription stopped while the handler still ran."""


class Dispatcher:
    """Turns bus messages into events for one subscription's handler.

    :param handler_timeout: seconds after which a handler that has not
        finished counts as failed.
    :param clock: the ``IReactorTime`` for the timeouts (the global
        reactor by default).
    :ivar stats: the subscription's :class:`BusStats`.
    """

    def __init__(
        self,
        connection: Any,
        handler: Handler,
        max_redeliveries: int,
        *,
        handler_timeout: float = HANDLER_TIMEOUT,
        clock: Any = None,
    ) -> None:
        self._connection = connection
        self._handler = handler
        self._max_redeliveries = max_redeliveries
        self._timeout = handler_timeout
        self._clock = _reactor if clock is None else clock
        #: handler failures so far, by message id
        self._failures: dict[str, int] = {}
        self._running: set[_Running] = set()
        self.stats = BusStats()

    @property
    def running(self) -> int:
        """How many handlers are running now."""
        return len(self._running)

    def deliver(
        self, topic: str, message_id: str, parse: Callable[[Any], Message]
    ) -> defer.Deferred[Any]:
        """Build the event with ``parse(connection)`` and run the handler.

        :param topic: the message's topic or address (for the logs).
        :param message_id: the bus message's id, set as ``event.message_id``.
        :param parse: builds the event; raises :class:`MalformedMessage`
            for an unknown or unreadable message.
        :returns: a Deferred firing with the :class:`Outcome` within the
            handler timeout; it never fails.
        """
        try:
            event: Any = parse(self._connection)
        except MalformedMessage as e:
            self.stats.malformed += 1
            log.warning("dropping malformed message %s on %s: %s", message_id, topic, e)
            return defer.succeed(Outcome.REJECT)
        stamp(event, message_id, self._connection)
        # maybeDeferred also waits for a coroutine the handler returns.
        run = _Running(defer.maybeDeferred(self._handler, event))
        run.timer = self._clock.callLater(
            self._timeout,
            run.abandon,
            Failure(
                HandlerTimeout(f"the handler did not finish within {self._timeout:g} s")
            ),
        )
        self._running.add(run)
        run.handled.addBoth(run.finish)
        run.outcome.addBoth(self._forget, run)
        run.outcome.addCallbacks(
            self._succeeded,
            self._failed,
            callbackArgs=(message_id,),
            errbackArgs=(topic, message_id),
        )
        return run.outcome

    def _forget(self, result: Any, run: _Running) -> Any:
        self._running.discard(run)
        return result

    def drain(self) -> defer.Deferred[Any]:
        """Wait for the running handlers, at most :data:`STOP_GRACE`
        seconds (or the handler timeout when shorter); the messages of
        handlers still running then are given back for redelivery (not
        counted as failures) and their Deferreds cancelled.

        :returns: a Deferred firing with ``None`` once every outcome is
            known; it never fails.
        """
        running = list(self._running)
        if not running:
            return defer.succeed(None)
        done = defer.DeferredList([follow(run.outcome) for run in running])
        grace = min(self._timeout, STOP_GRACE)

        def give_back() -> None:
            for run in running:
                if not run.outcome.called:
                    run.abandon(Failure(_GivenBack(f"still running after {grace:g} s")))

        timer = self._clock.callLater(grace, give_back)

        def finished(_: Any) -> None:
            if timer.active():
                timer.cancel()

        done.addCallback(finished)
        return done

    def _succeeded(self, _: Any, message_id: str) -> Outcome:
        self._failures.pop(message_id, None)
        self.stats.handled += 1
        return Outcome.ACCEPT

    def _failed(self, failure: Any, topic: str, message_id: str) -> Outcome:
        if failure.check(_GivenBack):
            log.warning(
                "giving message %s on %s back: the subscription stopped and "
                "its handler is %s",
                message_id,
                topic,
                failure.getErrorMessage(),
            )
            return Outcome.RELEASE
        failures = self._failures.get(message_id, 0) + 1
        if failures > self._max_redeliveries:
            self._failures.pop(message_id, None)
            self.stats.rejected += 1
            log.error(
                "rejecting message %s on %s: the handler failed %d times, last: %s",
                message_id,
                topic,
                failures,
                failure.getErrorMessage(),
            )
            return Outcome.REJECT
        self._failures[message_id] = failures
        self.stats.redelivered += 1
        log.warning(
            "handler failed for message %s on %s (%d of %d redeliveries): %s",
            message_id,
            topic,
            failures,
            self._max_redeliveries,
            failure.getErrorMessage(),
        )
        return Outcome.RELEASE


def follow(deferred: defer.Deferred[Any]) -> defer.Deferred[Any]:
    """Return a new Deferred firing with ``None`` once ``deferred`` fired
    (so several callers can wait on one Deferred without taking its
    result)."""
    follower: defer.Deferred[Any] = defer.Deferred()

    def relay(result: Any) -> Any:
        follower.callback(None)
        return result

    deferred.addBoth(relay)
    return follower
