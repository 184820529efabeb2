"""What every transport does with a message once it reached the reactor:
build the event, run the handler, count, and decide how the broker should
settle the message.

Transports call :meth:`Dispatcher.deliver` in the reactor thread and
settle the message as the returned :class:`Outcome` says.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer

from txkoji.messages import MalformedMessage, Message

log = logging.getLogger(__name__)

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
    :ivar malformed: unknown or unreadable messages, logged and dropped.
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


class Dispatcher:
    """Turns bus messages into events for one subscription's handler.

    :ivar stats: the subscription's :class:`BusStats`.
    """

    def __init__(
        self, connection: Any, handler: Handler, max_redeliveries: int
    ) -> None:
        self._connection = connection
        self._handler = handler
        self._max_redeliveries = max_redeliveries
        #: handler failures so far, by message id
        self._failures: dict[str, int] = {}
        self.stats = BusStats()

    def deliver(
        self, topic: str, message_id: str, parse: Callable[[Any], Message]
    ) -> defer.Deferred[Any]:
        """Build the event with ``parse(connection)`` and run the handler.

        :param topic: the message's topic or address (for the logs).
        :param message_id: the bus message's id, set as ``event.message_id``.
        :param parse: builds the event; raises :class:`MalformedMessage`
            for an unknown or unreadable message.
        :returns: a Deferred firing with the :class:`Outcome`; it never
            fails.
        """
        try:
            event: Any = parse(self._connection)
        except MalformedMessage as e:
            self.stats.malformed += 1
            log.warning("dropping malformed message %s on %s: %s", message_id, topic, e)
            return defer.succeed(Outcome.REJECT)
        stamp(event, message_id, self._connection)
        # maybeDeferred also waits for a coroutine the handler returns.
        handled = defer.maybeDeferred(self._handler, event)
        handled.addCallbacks(
            self._succeeded,
            self._failed,
            callbackArgs=(message_id,),
            errbackArgs=(topic, message_id),
        )
        return handled

    def _succeeded(self, _: Any, message_id: str) -> Outcome:
        self._failures.pop(message_id, None)
        self.stats.handled += 1
        return Outcome.ACCEPT

    def _failed(self, failure: Any, topic: str, message_id: str) -> Outcome:
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
