"""Koji events from a real message bus, acknowledged only once handled.

Three transports:

* ``"protonmsg"``: Koji's own hub plugin (AMQP 1.0: ActiveMQ, RabbitMQ's
  AMQP 1.0 plugin, ...), received with python-qpid-proton
  (``pip install 'txkoji[proton]'``); see :mod:`txkoji.bus.protonmsg`.
* ``"fedora"``: Fedora's bus (fedora-messaging over AMQP 0.9.1 on
  RabbitMQ, topics ``org.fedoraproject.<env>.buildsys.*``)
  (``pip install 'txkoji[fedora]'``); see :mod:`txkoji.bus.fedora`.
* ``"stomp"``: STOMP frames (Red Hat's UMB and other ActiveMQ buses,
  RabbitMQ's STOMP plugin), with ``stomp://`` (or ``stomp+ssl://``) URLs,
  received with stomp.py (``pip install 'txkoji[stomp]'``); see
  :mod:`txkoji.bus.stomp`.

The first two take ``amqp://`` (or ``amqps://``) URLs.

Either way the handler gets the event classes of :mod:`txkoji.messages`
(``BuildStateChange``, ``TaskStateChange``, ...), with ``.connection`` set
and ``.message_id`` holding the bus message's id.  Delivery is at least
once: a handler may see a message again (after a broker restart, or when
its own earlier attempt failed) and can use ``message_id`` to notice::

    def announce(event):
        if isinstance(event, BuildStateChange) and event.event == "COMPLETE":
            print(event.build.nvr, event.url)

    sub = yield txkoji.bus.subscribe(
        koji, "amqp://broker.example.com", transport="protonmsg",
        topics=["topic://koji.build.>"], handler=announce,
        subscription="announce-bot")
    ...
    yield sub.stop()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from twisted.internet import defer

from txkoji.bus.dispatch import (
    HANDLER_TIMEOUT,
    BusStats,
    HandlerTimeout,
    SubscribeOptions,
)
from txkoji.bus.stream import EventStream
from txkoji.exceptions import KojiBusError

__all__ = [
    "TRANSPORTS",
    "BusStats",
    "EventStream",
    "HandlerTimeout",
    "Subscription",
    "events",
    "subscribe",
]

#: The transports :func:`subscribe` knows.
TRANSPORTS = ("protonmsg", "fedora", "stomp")


class Subscription(Protocol):
    """What :func:`subscribe` fires with."""

    #: counts of handled, redelivered, malformed and rejected messages
    stats: BusStats

    def stop(self) -> defer.Deferred[Any]:
        """Stop consuming once the handlers running now are done (at most
        30 seconds, or ``handler_timeout`` when shorter; the messages of
        handlers still running then are given back); messages not
        acknowledged stay with the broker.  Fires with ``None``."""


def _check(
    transport: str,
    topics: Sequence[str],
    max_redeliveries: int,
    prefetch: int,
    handler_timeout: float,
) -> list[str]:
    if transport not in TRANSPORTS:
        raise KojiBusError(
            f"unknown bus transport {transport!r}; use one of {', '.join(TRANSPORTS)}"
        )
    if isinstance(topics, str) or not all(isinstance(t, str) for t in topics):
        raise KojiBusError(f"topics must be a list of strings, not {topics!r}")
    if not topics:
        raise KojiBusError("a bus subscription needs at least one topic")
    if not isinstance(max_redeliveries, int) or max_redeliveries < 0:
        raise KojiBusError(
            f"max_redeliveries must be a whole number >= 0, not {max_redeliveries!r}"
        )
    if not isinstance(prefetch, int) or prefetch < 1:
        raise KojiBusError(f"prefetch must be a whole number >= 1, not {prefetch!r}")
    if (
        isinstance(handler_timeout, bool)
        or not isinstance(handler_timeout, (int, float))
        or not handler_timeout > 0
        or handler_timeout == float("inf")
    ):
        raise KojiBusError(
            f"handler_timeout must be a number of seconds > 0, not {handler_timeout!r}"
        )
    return list(topics)


def subscribe(
    connection: Any,
    url: str,
    *,
    transport: str,
    topics: Sequence[str],
    handler: Callable[[Any], Any],
    subscription: str | None = None,
    max_redeliveries: int = 5,
    prefetch: int = 100,
    handler_timeout: float = HANDLER_TIMEOUT,
    ssl_cert: str | None = None,
    ssl_key: str | None = None,
    ssl_ca: str | None = None,
    ssl_password: str | None = None,
    user: str | None = None,
    password: str | None = None,
    allow_insecure_mechs: bool = False,
) -> defer.Deferred[Any]:
    """Consume Koji events from a message bus.

    :param connection: the :class:`~txkoji.Connection` events get (so
        ``event.build``, ``event.task`` and ``event.url`` work).
    :param url: the broker, ``amqp://[user:password@]host[:port]`` or
        ``amqps://...``; for stomp,
        ``stomp://[login:passcode@]host[:port][/vhost]`` or
        ``stomp+ssl://...``.
    :param transport: one of :data:`TRANSPORTS`.
    :param topics: in the bus's own syntax: ``/topic/koji.#`` (RabbitMQ) or
        ``topic://koji.>`` (ActiveMQ) for protonmsg,
        ``org.fedoraproject.prod.buildsys.#`` for fedora,
        ``/topic/VirtualTopic.eng.brew.>`` for stomp.
    :param handler: called in the reactor thread with each event; may
        return a Deferred or a coroutine.  The message is acknowledged once
        it succeeded; on failure it is redelivered, up to
        ``max_redeliveries`` times, then logged and rejected (dead-lettered
        where the broker is set up for it).
    :param subscription: a name makes the subscription durable: the broker
        keeps what is published while the consumer is away.  What each
        broker needs is in the README ("Message bus").
    :param prefetch: how many messages may be in flight at once.
    :param handler_timeout: seconds a handler (and the Deferred or
        coroutine it returned) may take; after that its message counts as
        failed (redelivered, then rejected) and its Deferred is cancelled.
        ``stop()`` waits for running handlers at most 30 seconds (or this
        timeout when shorter), then gives their messages back.
    :param ssl_cert: client certificate (PEM) for ``amqps://`` or
        ``stomp+ssl://``.
    :param ssl_key: its key (PEM), when not in the certificate file.
    :param ssl_ca: CA bundle (PEM) to check the broker with.
    :param ssl_password: the key's password (protonmsg and stomp).
    :param user: the user to log in as (default: the URL's).
    :param password: its password (default: the URL's).
    :param allow_insecure_mechs: protonmsg only: let the password go with
        SASL PLAIN over plain ``amqp://`` (as proton's option of that
        name); without it credentials need ``amqps://``.
    :returns: a Deferred firing with a :class:`Subscription` once
        consuming started.
    :raises KojiBusError: (in the Deferred) for a bad argument, a missing
        client library, or when the first connection failed (a closed
        port, an unknown host, refused credentials, a missing vhost or
        queue), naming the broker and its reason.  Once subscribed, lost
        connections are retried, each logged as a WARNING with the reason.
    """
    started: Any
    try:
        topic_list = _check(
            transport, topics, max_redeliveries, prefetch, handler_timeout
        )
        options = SubscribeOptions(
            topics=topic_list,
            handler=handler,
            subscription=subscription,
            max_redeliveries=max_redeliveries,
            prefetch=prefetch,
            ssl_cert=ssl_cert,
            ssl_key=ssl_key,
            ssl_ca=ssl_ca,
            ssl_password=ssl_password,
            handler_timeout=float(handler_timeout),
            user=user,
            password=password,
            allow_insecure_mechs=bool(allow_insecure_mechs),
        )
        if transport == "protonmsg":
            from txkoji.bus.protonmsg import ProtonSubscription

            started = ProtonSubscription(connection, url, options)
        elif transport == "stomp":
            from txkoji.bus.stomp import StompSubscription

            started = StompSubscription(connection, url, options)
        else:
            from txkoji.bus.fedora import FedoraSubscription

            started = FedoraSubscription(connection, url, options)
    except KojiBusError:
        return defer.fail()
    return started.start()


def events(connection: Any, url: str, **options: Any) -> EventStream:
    """Return the events of a bus subscription as an async iterator, for
    ``async for`` under Twisted (``ensureDeferred``) or asyncio (with
    Twisted's asyncio reactor)::

        stream = txkoji.bus.events(koji, url, transport="protonmsg",
                                   topics=["/topic/koji.#"])
        async for event in stream:
            ...
        await stream.stop()

    ``options`` are :func:`subscribe`'s, without ``handler``.  An event is
    acknowledged when the loop asks for the next one; :meth:`EventStream.stop`
    gives back the one being looked at, and any not yet taken, for
    redelivery.
    """
    return EventStream(
        lambda handler: subscribe(connection, url, handler=handler, **options)
    )
