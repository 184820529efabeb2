"""The ``fedora`` transport: Fedora's buildsys messages over AMQP 0.9.1
(RabbitMQ), consumed with fedora-messaging's own Twisted consumer.

fedora-messaging's ``twisted_consume`` runs one
process-wide service on the configured broker; txkoji builds the same
:class:`~fedora_messaging.twisted.service.FedoraMessagingServiceV2` per
subscription instead, so each subscription has its own URL and
``stop()`` closes its connection.  The service reconnects and consumes
again after a broker restart.

fedora-messaging runs consumer callbacks in a thread, one message at a
time; the callback hands the message to the reactor
(``blockingCallFromThread``), where the event is built and the handler
runs, and answers fedora-messaging with the outcome: return (ack),
:class:`~fedora_messaging.exceptions.Nack` (requeue) or
:class:`~fedora_messaging.exceptions.Drop` (reject, dead-lettered when the
queue has a dead-letter exchange).

What fedora-messaging rejects itself never reaches txkoji and is not in
``stats.malformed``: a body that is not UTF-8 or not JSON, a body that
fails the JSON schema its ``fedora_messaging_schema`` header names (for
the base class, a body that is not a JSON object).  fedora-messaging
rejects those (``basic_nack`` without requeue: dead-lettered where the
queue has a dead-letter exchange) and logs them at WARNING
(``fedora_messaging.twisted.consumer``: "did not pass validation") and
ERROR (``fedora_messaging.message``), but offers no count or hook to
observe them per consumer.  ``stats.malformed`` counts what reaches
txkoji and is not a buildsys event: a topic that is not a Koji one, or a
body sent without the plugin's schema (the plugin's fallback) that lacks
what its event needs.

Connection trouble surfaces: when the first connection fails (refused,
unknown host, the broker refusing the login or the vhost), the subscribe
Deferred fails with the reason; later, each lost connection and failed
attempt is logged as a WARNING (:mod:`txkoji.bus.connecting`).

With ``subscription="name"`` the queue ``name`` is a durable *quorum*
queue bound to ``amq.topic`` with the topics; without, a private
auto-deleted queue.
"""

from __future__ import annotations

import uuid
from typing import Any

from twisted.internet import defer
from twisted.internet import reactor as _reactor
from twisted.internet.threads import blockingCallFromThread

from txkoji.bus.connecting import subscribe_error, warn_reconnect, with_credentials
from txkoji.bus.dispatch import Dispatcher, Outcome, SubscribeOptions, follow
from txkoji.bus.fedora_shapes import fedora_event
from txkoji.exceptions import KojiBusError

try:
    from fedora_messaging import config as fm_config
    from fedora_messaging.exceptions import (
        ConfigurationException,
        ConnectionException,
        Drop,
        Nack,
    )
    from fedora_messaging.twisted.protocol import FedoraMessagingProtocolV2
    from fedora_messaging.twisted.service import FedoraMessagingServiceV2
except ImportError:  # pragma: no cover - depends on the installed extras
    HAVE_FEDORA_MESSAGING = False
else:
    HAVE_FEDORA_MESSAGING = True

#: The global reactor, as an untyped name (its zope interfaces confuse mypy).
reactor: Any = _reactor

#: The exchange Fedora's hub publishes to.
EXCHANGE = "amq.topic"


def queue_settings(name: str, durable: bool) -> Any:
    """Return fedora-messaging's ``queues`` setting for the subscription's
    queue: a durable quorum queue, or a private auto-deleted one."""
    if durable:
        settings = {
            "durable": True,
            "auto_delete": False,
            "exclusive": False,
            "arguments": {"x-queue-type": "quorum"},
        }
    else:
        settings = {
            "durable": False,
            "auto_delete": True,
            "exclusive": True,
            "arguments": {},
        }
    return {name: settings}


if HAVE_FEDORA_MESSAGING:

    class _ReportingProtocol(FedoraMessagingProtocolV2):
        """fedora-messaging's protocol, keeping why the AMQP handshake
        failed: pika fails ``ready`` with a bare ``AMQPConnectionError``
        and, under Twisted, replaces the broker's ``connection.close``
        reason (``ACCESS_REFUSED - Login was refused ...``, ``NOT_ALLOWED
        - vhost ... not found``) with the socket's; the reason is read
        here before that.

        :ivar open_error: the broker's or pika's reason, or ``None``.
        :ivar lost_because: called with the broker's reason (``CONNECTION_FORCED
            - ...``) when an open connection is lost.
        """

        open_error: Any = None
        #: called with the broker's reason when an open connection is lost
        lost_because: Any = None

        def connectionLost(self, reason: Any = None) -> None:
            pending = getattr(getattr(self, "_impl", None), "_error", None)
            if self.ready is not None:  # still opening
                self.open_error = pending
            elif pending is not None and self.lost_because is not None:
                self.lost_because(pending)
            if reason is None:
                super().connectionLost()
            else:
                super().connectionLost(reason)

        def _on_connection_failed(
            self, connection: Any, error_message: Any = None
        ) -> None:
            if self.open_error is None:
                self.open_error = error_message
            super()._on_connection_failed(connection, error_message)


class FedoraSubscription:
    """A running fedora subscription (see :func:`txkoji.bus.subscribe`).

    :ivar stats: its :class:`~txkoji.bus.BusStats`.
    """

    def __init__(self, connection: Any, url: str, options: SubscribeOptions) -> None:
        if not HAVE_FEDORA_MESSAGING:
            raise KojiBusError(
                "the fedora transport needs fedora-messaging "
                "(pip install 'txkoji[fedora]')"
            )
        subscription = options.subscription
        self._queue = subscription or f"txkoji-{uuid.uuid4()}"
        self._queues = queue_settings(self._queue, subscription is not None)
        self._bindings: Any = [
            {
                "exchange": EXCHANGE,
                "queue": self._queue,
                "routing_keys": options.topics,
            }
        ]
        try:
            fm_config.validate_queues(self._queues)
            fm_config.validate_bindings(self._bindings)
        except ConfigurationException as e:
            raise KojiBusError(f"bad fedora subscription: {e.message}") from e
        # fedora-messaging reads these process-wide settings when the
        # service starts and consumes.
        fm_config.conf["qos"]["prefetch_count"] = options.prefetch
        if url.startswith("amqps://"):
            fm_config.conf["tls"].update(
                ca_cert=options.ssl_ca,
                certfile=options.ssl_cert,
                keyfile=options.ssl_key,
            )
        self._dispatcher = Dispatcher(
            connection,
            options.handler,
            options.max_redeliveries,
            handler_timeout=options.handler_timeout,
        )
        self.stats = self._dispatcher.stats
        self._url = with_credentials(url, options.user, options.password)
        self._service = FedoraMessagingServiceV2(self._url)
        self._watch_connections(self._service.factory)
        self._consumers: list[Any] = []
        self._consuming: defer.Deferred[Any] | None = None
        self._started = False
        #: why the last connection attempt failed, in the broker's words
        self._trouble: str | None = None
        self._stopped: defer.Deferred[Any] | None = None

    def _watch_connections(self, factory: Any) -> None:
        """Hear of every failed or lost connection of fedora-messaging's
        reconnecting factory, and of every refused AMQP handshake (whose
        reason fedora-messaging's own error leaves out)."""
        failed = factory.clientConnectionFailed
        lost = factory.clientConnectionLost

        def connection_failed(connector: Any, reason: Any) -> None:
            failed(connector, reason)
            self._connection_trouble(reason.getErrorMessage(), factory.delay)

        def connection_lost(connector: Any, reason: Any) -> None:
            lost(connector, reason)
            if self._started and self._stopped is None:
                warn_reconnect(
                    self._url, self._trouble or reason.getErrorMessage(), factory.delay
                )
            self._trouble = None

        def make_protocol(parameters: Any, confirms: bool = True) -> Any:
            client = _ReportingProtocol(parameters, confirms=confirms)
            client.ready.addErrback(self._handshake_failed, client)
            client.lost_because = self._note_trouble
            return client

        factory.clientConnectionFailed = connection_failed
        factory.clientConnectionLost = connection_lost
        factory.protocol = make_protocol

    def _handshake_failed(self, failure: Any, client: Any) -> Any:
        self._note_trouble(client.open_error or failure.value)
        return failure

    def _note_trouble(self, error: Any) -> None:
        self._trouble = f"{type(error).__name__}: {error}".rstrip(": ")

    def _connection_trouble(self, reason: str, delay: float) -> None:
        if self._stopped is not None:
            return
        if not self._started:
            # The first connection: fail subscribe() at once.
            self._trouble = reason
            if self._consuming is not None:
                self._consuming.cancel()
            return
        warn_reconnect(self._url, reason, delay)

    @defer.inlineCallbacks
    def start(self) -> Any:
        """Connect, declare the queue and its bindings, and consume.

        :returns: a Deferred firing with this subscription.
        :raises KojiBusError: (in the Deferred) when the first connection
            failed or the broker refused the queue, with the reason.
        """
        self._service.startService()  # type: ignore[no-untyped-call]
        self._consuming = self._service.factory.consume(
            self._callback, self._bindings, self._queues
        )
        try:
            self._consumers = yield self._consuming
        except (Exception, ConnectionException) as e:
            reason = self._trouble or str(getattr(e, "reason", None) or e)
            if isinstance(e, defer.CancelledError) and self._trouble is None:
                reason = "cancelled"
            self._stopped = defer.succeed(None)
            yield self._service.stopService()
            raise subscribe_error(self._url, reason) from None
        self._started = True
        return self

    def _callback(self, message: Any) -> None:
        """fedora-messaging's consumer callback (in its worker thread)."""
        outcome = blockingCallFromThread(reactor, self._deliver, message)
        if outcome is Outcome.RELEASE:
            raise Nack()
        if outcome is Outcome.REJECT:
            raise Drop()

    def _deliver(self, message: Any) -> defer.Deferred[Any]:
        if self._stopped is not None:
            # Stopping: give it back for the next consumer.
            return defer.succeed(Outcome.RELEASE)
        topic = message.topic

        def parse(connection: Any) -> Any:
            return fedora_event(topic, message.body, connection)

        return self._dispatcher.deliver(topic, message.id, parse)

    def stop(self) -> defer.Deferred[Any]:
        """Stop consuming once the message being handled is done (a bounded
        time, see :meth:`~txkoji.bus.dispatch.Dispatcher.drain`), and close
        the connection; unacknowledged messages stay in the queue.

        :returns: a Deferred firing with ``None``.
        """
        if self._stopped is None:
            self._stopped = defer.ensureDeferred(self._stop())
        return follow(self._stopped)

    async def _stop(self) -> None:
        draining = self._dispatcher.drain()
        for consumer in self._consumers:
            await consumer.cancel()
        await draining
        await self._service.stopService()
