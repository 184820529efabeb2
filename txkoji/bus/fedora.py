"""The ``fedora`` transport: Fedora's buildsys messages over AMQP 0.9.1
(RabbitMQ), consumed with fedora-messaging's own Twisted consumer.

fedora-messaging's :func:`~fedora_messaging.api.twisted_consume` runs one
process-wide service on the configured broker; txkoji builds the same
:class:`~fedora_messaging.twisted.service.FedoraMessagingServiceV2` per
subscription instead, so each subscription has its own URL and
:meth:`stop` closes its connection.  The service reconnects and consumes
again after a broker restart.

fedora-messaging runs consumer callbacks in a thread, one message at a
time; the callback hands the message to the reactor
(``blockingCallFromThread``), where the event is built and the handler
runs, and answers fedora-messaging with the outcome: return (ack),
:class:`~fedora_messaging.exceptions.Nack` (requeue) or
:class:`~fedora_messaging.exceptions.Drop` (reject, dead-lettered when the
queue has a dead-letter exchange).  Messages that fail fedora-messaging's
own schema validation are dropped by fedora-messaging before txkoji sees
them (it logs them); txkoji counts the rest.

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

from txkoji.bus.dispatch import Dispatcher, Outcome, SubscribeOptions, follow
from txkoji.bus.fedora_shapes import shape_of
from txkoji.exceptions import KojiBusError
from txkoji.messages import parse_message

try:
    from fedora_messaging import config as fm_config
    from fedora_messaging.exceptions import ConfigurationException, Drop, Nack
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
            connection, options.handler, options.max_redeliveries
        )
        self.stats = self._dispatcher.stats
        self._service = FedoraMessagingServiceV2(url)
        self._consumers: list[Any] = []
        self._stopped: defer.Deferred[Any] | None = None

    @defer.inlineCallbacks
    def start(self) -> Any:
        """Connect, declare the queue and its bindings, and consume.

        :returns: a Deferred firing with this subscription.
        :raises KojiBusError: (in the Deferred) when the broker refused.
        """
        self._service.startService()  # type: ignore[no-untyped-call]
        try:
            self._consumers = yield self._service.factory.consume(
                self._callback, self._bindings, self._queues
            )
        except Exception as e:
            yield self._service.stopService()
            raise KojiBusError(f"cannot subscribe to {self._queue}: {e}") from e
        return self

    def _callback(self, message: Any) -> None:
        """fedora-messaging's consumer callback (in its worker thread)."""
        outcome = blockingCallFromThread(reactor, self._deliver, message)
        if outcome is Outcome.RELEASE:
            raise Nack()
        if outcome is Outcome.REJECT:
            raise Drop()

    def _deliver(self, message: Any) -> defer.Deferred[Any]:
        topic = message.topic

        def parse(connection: Any) -> Any:
            properties, body = shape_of(topic, message.body)
            return parse_message({"properties": properties, "body": body}, connection)

        return self._dispatcher.deliver(topic, message.id, parse)

    def stop(self) -> defer.Deferred[Any]:
        """Stop consuming once the message being handled is done, and close
        the connection; unacknowledged messages stay in the queue.

        :returns: a Deferred firing with ``None``.
        """
        if self._stopped is None:
            self._stopped = defer.ensureDeferred(self._stop())
        return follow(self._stopped)

    async def _stop(self) -> None:
        for consumer in self._consumers:
            await consumer.cancel()
        await self._service.stopService()
