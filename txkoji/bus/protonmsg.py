"""The ``protonmsg`` transport: Koji's own AMQP 1.0 messages, received with
python-qpid-proton (the library the hub plugin sends them with).

Proton runs its own event loop, so its container runs in a thread of its
own.  The two threads share no object: the proton thread hands each
message to the reactor as plain data (address, id, properties, body and a
token naming the delivery) with ``reactor.callFromThread``, and the reactor
asks the proton thread to settle a token, or to stop, through a proton
:class:`~proton.reactor.EventInjector`.  A message is accepted only once
the handler (and any Deferred it returned) succeeded.

Addresses (AMQP sources) and subscriptions, by broker:

* RabbitMQ (``/topic/koji.#`` or ``/exchange/...`` topics): without a
  subscription each topic gets a private queue.  With
  ``subscription="name"`` the consumer reads the existing queue ``name``
  (``/amq/queue/name``), which its operator declared as a *quorum* queue
  bound to ``amq.topic`` with the topics: the hub's messages are not
  persistent, and only a quorum queue keeps them across a broker restart.
* ActiveMQ and other AMQP 1.0 brokers (``topic://koji.>``): with a
  subscription, each topic gets a durable subscription (container id and
  link name from the subscription name) that the broker keeps while the
  consumer is away.

Credentials (``amqp://user:password@host``, or the ``user`` and
``password`` options) log in with SASL PLAIN: over TLS (``amqps://``), or
over plain TCP only with ``allow_insecure_mechs=True``, as proton's own
option of that name.  Without credentials proton offers ANONYMOUS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.internet import reactor as _reactor

from txkoji.bus.connecting import safe_url as safe_url  # importable here as before
from txkoji.bus.connecting import (
    subscribe_error,
    url_credentials,
    warn_reconnect,
)
from txkoji.bus.dispatch import Dispatcher, Outcome, SubscribeOptions, follow
from txkoji.exceptions import KojiBusError
from txkoji.messages import parse_message

try:
    from proton import Delivery, SSLDomain
    from proton.handlers import MessagingHandler
    from proton.reactor import (
        ApplicationEvent,
        Container,
        DurableSubscription,
        EventInjector,
    )
except ImportError:  # pragma: no cover - depends on the installed extras
    MessagingHandler = object  # type: ignore[misc,assignment]
    HAVE_PROTON = False
else:
    HAVE_PROTON = True
    #: The disposition each outcome settles a delivery with.
    _STATES = {
        Outcome.ACCEPT: Delivery.ACCEPTED,
        Outcome.RELEASE: Delivery.RELEASED,
        Outcome.REJECT: Delivery.REJECTED,
    }

log = logging.getLogger(__name__)
#: The global reactor, as an untyped name (its zope interfaces confuse mypy).
reactor: Any = _reactor

#: Seconds before the first reconnection attempt, and at most between two.
_RETRY_FIRST = 0.2
_RETRY_MAX = 10.0
#: Seconds to wait for the broker to let go of the links when stopping.
_DETACH_WAIT = 5.0

#: Topic prefixes that mean a RabbitMQ broker (its AMQP 1.0 plugin).
RABBITMQ_PREFIXES = ("/topic/", "/exchange/", "/amq/queue/", "/queue/")


def message_id_of(message_id: Any, properties: Mapping[str, Any], body: Any) -> str:
    """Return a message's id: the AMQP ``message-id`` when the sender set
    one, else a digest of its properties and body (the hub's protonmsg
    plugin sets none; a redelivered or duplicated message has the same
    digest, whichever queue it came through)."""
    if message_id is not None:
        return str(message_id)
    content = json.dumps([dict(properties), body], sort_keys=True, default=str).encode(
        "utf-8"
    )
    return "sha256:" + hashlib.sha256(content).hexdigest()


def sources_for(topics: list[str], subscription: str | None) -> list[str]:
    """Return the AMQP source addresses to read for ``topics``.

    :raises KojiBusError: for no topics, or topics of two broker kinds.
    """
    if not topics:
        raise KojiBusError("protonmsg subscription needs at least one topic")
    rabbit = [topic.startswith(RABBITMQ_PREFIXES) for topic in topics]
    if any(rabbit) and not all(rabbit):
        raise KojiBusError(
            f"topics mix RabbitMQ and other broker addresses: {topics!r}"
        )
    if subscription is not None and all(rabbit):
        return [f"/amq/queue/{subscription}"]
    return list(topics)


def ssl_domain(
    cert: str | None, key: str | None, ca: str | None, password: str | None
) -> Any:
    """Return a proton client SSL domain that checks the broker against
    ``ca`` (the system store when ``None``) and, with ``cert``, presents
    that client certificate (``key`` defaults to the cert file)."""
    domain = SSLDomain(SSLDomain.MODE_CLIENT)
    if ca is not None:
        domain.set_trusted_ca_db(ca)
    domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
    if cert is not None:
        domain.set_credentials(cert, key or cert, password)
    return domain


def host_part(url: str) -> str:
    """``url`` without its user and password (proton gets them apart,
    unquoted)."""
    scheme, found, rest = url.partition("://")
    if not found:
        return url.rpartition("@")[2]
    return f"{scheme}://{rest.rpartition('@')[2]}"


def host_of(url: str) -> str | None:
    """The host name of a broker URL."""
    return urlsplit(url).hostname


def connect_options(url: str, options: SubscribeOptions) -> dict[str, Any]:
    """Return the keyword arguments of proton's ``Container.connect`` for a
    subscription: the TLS domain for ``amqps://``, and the credentials
    (the options', else the URL's) with whether SASL PLAIN may go over
    plain TCP."""
    user, password = url_credentials(url)
    kwargs: dict[str, Any] = {
        "allow_insecure_mechs": options.allow_insecure_mechs,
        "user": options.user if options.user is not None else user,
        "password": options.password if options.password is not None else password,
    }
    if url.startswith("amqps://"):
        kwargs["ssl_domain"] = ssl_domain(
            options.ssl_cert, options.ssl_key, options.ssl_ca, options.ssl_password
        )
    return kwargs


def transport_reason(transport: Any, kwargs: Mapping[str, Any]) -> str:
    """Say why a proton transport closed, in the broker's or the socket's
    words, with a hint when credentials could not be sent."""
    condition = getattr(transport, "condition", None)
    if condition is None:
        return "the broker closed the connection"
    reason = condition.name
    if condition.description:
        reason = f"{reason}: {condition.description}"
    insecure = (
        kwargs.get("user")
        and "ssl_domain" not in kwargs
        and not kwargs.get("allow_insecure_mechs")
    )
    if "mech=" in reason and insecure:
        reason += (
            " (credentials go over plain amqp:// only with "
            "allow_insecure_mechs=True; or use amqps://)"
        )
    return reason


class _ReceiverHandler(MessagingHandler):
    """Proton side of a subscription: everything here runs in the proton
    thread, except :meth:`settle_soon` and :meth:`stop_soon`, which only
    hand an event to that thread."""

    def __init__(
        self,
        url: str,
        sources: list[str],
        link_name: str | None,
        durable: bool,
        connect_options: dict[str, Any],
        prefetch: int,
        to_reactor: Callable[..., None],
        twisted_side: ProtonSubscription,
    ) -> None:
        super().__init__(prefetch=0, auto_accept=False)
        self._url = url
        self._sources = sources
        self._link_name = link_name
        self._durable = durable
        self._connect_options = connect_options
        self._prefetch = prefetch
        self._to_reactor = to_reactor
        self._twisted_side = twisted_side
        self._injector = EventInjector()
        self._connection: Any = None
        self._receivers: list[Any] = []
        self._opened = 0
        self._pending: dict[int, Any] = {}
        self._next_token = 0
        self._ready = False
        self._stopping = False
        self._retries = 0
        self._detaching = 0
        self._container: Any = None
        self._detach_timer: Any = None

    # -- called from the reactor thread ----------------------------------

    def settle_soon(self, token: int, outcome: Outcome) -> None:
        """Ask the proton thread to settle delivery ``token``."""
        self._injector.trigger(
            ApplicationEvent("txkoji_settle", subject=(token, outcome))
        )

    def stop_soon(self) -> None:
        """Ask the proton thread to close the connection and stop."""
        self._injector.trigger(ApplicationEvent("txkoji_stop"))

    def release_pipe(self) -> None:
        """Close the injector's pipe, once the proton thread has ended."""
        for fd in self._injector.pipe:
            os.close(fd)

    # -- proton thread ----------------------------------------------------

    def on_start(self, event: Any) -> None:
        self._container = event.container
        self._container.selectable(self._injector)
        self._connect(event.container)

    def _connect(self, container: Any) -> None:
        """Open a fresh connection with one receiver per source (fresh links,
        so the broker hears the credit again after a reconnect)."""
        self._connection = container.connect(
            host_part(self._url), reconnect=False, **self._connect_options
        )
        self._receivers = []
        self._opened = 0
        for index, source in enumerate(self._sources):
            name = self._link_name
            if name is not None and len(self._sources) > 1:
                name = f"{name}-{index}"
            options = DurableSubscription() if self._durable else None
            receiver = container.create_receiver(
                self._connection, source, name=name, options=options
            )
            self._receivers.append(receiver)

    def on_link_opened(self, event: Any) -> None:
        receiver = event.receiver
        if receiver is None or receiver not in self._receivers:
            return
        if receiver.remote_source.address is None:
            self._trouble(f"the broker refused source {receiver.source.address!r}")
            return
        receiver.flow(self._prefetch)
        self._opened += 1
        if self._opened == len(self._receivers):
            self._retries = 0
            if not self._ready:
                self._ready = True
                self._to_reactor(self._twisted_side.ready)

    def on_message(self, event: Any) -> None:
        message = event.message
        address = message.address or event.receiver.source.address or ""
        properties = dict(message.properties or {})
        token = self._next_token
        self._next_token += 1
        self._pending[token] = event.delivery
        self._to_reactor(
            self._twisted_side.arrived,
            token,
            address,
            message_id_of(message.id, properties, message.body),
            properties,
            message.body,
        )

    def on_txkoji_settle(self, event: Any) -> None:
        token, outcome = event.subject
        delivery = self._pending.pop(token, None)
        if delivery is None:
            # From before a reconnect: the broker redelivers it anyway.
            return
        delivery.update(_STATES[outcome])
        delivery.settle()
        delivery.link.flow(1)

    def on_txkoji_stop(self, event: Any) -> None:
        # Let go of the links first and close the connection once the
        # broker answered, so it has taken every settlement sent before.
        self._stopping = True
        if self._connection is None or not self._receivers:
            self._shutdown()
            return
        self._detaching = len(self._receivers)
        for receiver in self._receivers:
            if self._durable:
                # Detach, not close: closing a durable subscription's link
                # would end the subscription on the broker.
                receiver.detach()
            else:
                receiver.close()
        self._detach_timer = self._container.schedule(_DETACH_WAIT, self)

    def on_link_remote_close(self, event: Any) -> None:
        self._link_released()

    def on_link_remote_detach(self, event: Any) -> None:
        self._link_released()

    def _link_released(self) -> None:
        if self._stopping and self._detaching > 0:
            self._detaching -= 1
            if self._detaching == 0:
                self._shutdown()

    def on_transport_closed(self, event: Any) -> None:
        # Unsettled deliveries died with the connection: the broker gives
        # them to the next receiver.
        if self._connection is None or event.connection != self._connection:
            return
        self._pending.clear()
        self._connection = None
        if self._stopping:
            return
        reason = transport_reason(event.transport, self._connect_options)
        if not self._ready:
            self._fail(reason)
            return
        delay = min(_RETRY_FIRST * 2**self._retries, _RETRY_MAX)
        self._retries += 1
        warn_reconnect(self._url, reason, delay)
        event.container.schedule(delay, self)

    def on_timer_task(self, event: Any) -> None:
        if not self._stopping:
            self._connect(event.container)
        elif self._detaching > 0:
            # The broker did not answer the detach in time.
            self._detaching = 0
            self._shutdown()

    def on_link_error(self, event: Any) -> None:
        condition = event.link.remote_condition
        self._trouble(f"the broker closed the subscription link: {condition}")

    def on_session_error(self, event: Any) -> None:
        condition = event.session.remote_condition
        self._trouble(f"the broker closed the session: {condition}")

    def on_connection_error(self, event: Any) -> None:
        condition = event.connection.remote_condition
        self._trouble(f"the broker closed the connection: {condition}")

    def _trouble(self, reason: str) -> None:
        """Before the subscription started, fail it; after, drop the
        connection and reconnect (a restarting broker refuses or closes
        links for a while)."""
        if not self._ready:
            self._fail(reason)
            return
        warn_reconnect(self._url, reason)
        if self._connection is not None:
            self._connection.close()

    def _fail(self, reason: str) -> None:
        self._to_reactor(self._twisted_side.failed, reason)
        self._stopping = True
        self._shutdown()

    def _shutdown(self) -> None:
        if self._detach_timer is not None:
            self._detach_timer.cancel()
        self._pending.clear()
        if self._connection is not None:
            self._connection.close()
        self._injector.close()


class ProtonSubscription:
    """A running protonmsg subscription (see :func:`txkoji.bus.subscribe`).

    :ivar stats: its :class:`~txkoji.bus.BusStats`.
    """

    def __init__(self, connection: Any, url: str, options: SubscribeOptions) -> None:
        if not HAVE_PROTON:
            raise KojiBusError(
                "the protonmsg transport needs python-qpid-proton "
                "(pip install 'txkoji[proton]')"
            )
        subscription = options.subscription
        sources = sources_for(options.topics, subscription)
        rabbit = sources[0].startswith(RABBITMQ_PREFIXES)
        self._url = url
        self._dispatcher = Dispatcher(
            connection,
            options.handler,
            options.max_redeliveries,
            handler_timeout=options.handler_timeout,
        )
        self.stats = self._dispatcher.stats
        self._proton = _ReceiverHandler(
            url,
            sources,
            link_name=subscription,
            durable=subscription is not None and not rabbit,
            connect_options=connect_options(url, options),
            prefetch=options.prefetch,
            to_reactor=reactor.callFromThread,
            twisted_side=self,
        )
        self._container = Container(self._proton)
        if subscription is not None:
            self._container.container_id = subscription
        self._started: defer.Deferred[Any] | None = defer.Deferred()
        self._finished: defer.Deferred[Any] = defer.Deferred()
        self._finished.addCallback(lambda _: self._proton.release_pipe())
        self._stopping = False

    def start(self) -> defer.Deferred[Any]:
        """Start the proton thread.

        :returns: a Deferred firing with this subscription once the broker
            attached every source.
        :raises KojiBusError: (in the Deferred) when it could not.
        """
        assert self._started is not None
        started = self._started
        thread = threading.Thread(
            target=self._run, name="txkoji-protonmsg", daemon=True
        )
        thread.start()
        return started

    def _run(self) -> None:
        try:
            self._container.run()
        except socket.gaierror as e:  # proton resolves names in this thread
            reactor.callFromThread(
                self.failed, f"cannot find host {host_of(self._url)!r}: {e.strerror}"
            )
        except Exception as e:  # proton's own failure, reported in the reactor
            reactor.callFromThread(self.failed, f"proton stopped: {e!r}")
        reactor.callFromThread(self._finished.callback, None)

    # -- reactor thread, called by the proton thread through callFromThread

    def ready(self) -> None:
        """Every source is attached: fire the start Deferred."""
        if self._started is not None:
            started, self._started = self._started, None
            started.callback(self)

    def failed(self, reason: str) -> None:
        """The subscription could not be made (its start Deferred fails once
        the proton thread ended), or broke for good (logged)."""
        if self._started is None:
            log.error("protonmsg subscription ended: %s", reason)
            return
        started, self._started = self._started, None
        error = subscribe_error(self._url, reason)
        self._finished.addCallback(lambda _: started.errback(error))

    def arrived(
        self,
        token: int,
        address: str,
        message_id: str,
        properties: dict[str, Any],
        body: Any,
    ) -> None:
        """A message arrived: run it through the dispatcher, then settle."""
        if self._stopping:
            return  # unsettled: the broker redelivers it to the next consumer

        def parse(connection: Any) -> Any:
            return parse_message({"properties": properties, "body": body}, connection)

        outcome = self._dispatcher.deliver(address, message_id, parse)
        outcome.addCallback(self._settle, token)

    def _settle(self, outcome: Outcome, token: int) -> None:
        if not self._finished.called:
            self._proton.settle_soon(token, outcome)

    def stop(self) -> defer.Deferred[Any]:
        """Stop consuming: wait for the handlers running now (a bounded
        time, see :meth:`~txkoji.bus.dispatch.Dispatcher.drain`), settle
        their messages, and close the connection; messages not handled
        yet stay with the broker for the next subscriber.

        :returns: a Deferred firing with ``None`` once the proton thread
            ended.
        """
        if not self._stopping:
            self._stopping = True
            self._dispatcher.drain().addCallback(self._stop_proton)
        return follow(self._finished)

    def _stop_proton(self, _: Any) -> None:
        if not self._finished.called:
            self._proton.stop_soon()
