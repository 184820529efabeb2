"""The ``stomp`` transport: Brew's and Koji's messages as STOMP frames
(Red Hat's UMB on ActiveMQ, RabbitMQ's STOMP plugin), received with
stomp.py (``pip install 'txkoji[stomp]'``).

stomp.py reads frames in a receiver thread of its own and its calls
block, so neither runs in the reactor: the receiver thread hands each
frame to the reactor as plain data with ``reactor.callFromThread``, and
the reactor hands every stomp.py call (connect, subscribe, ``ACK``,
``NACK``, disconnect) to a worker thread of this module.  No Twisted
object is touched outside the reactor thread.

Frames are acknowledged one by one (``ack: client-individual``), once
the handler (and its Deferred) succeeded.  When it fails, the frame stays
unacknowledged and the handler gets it again after a short backoff, up to
``max_redeliveries`` times, while other frames flow; then the frame is
``NACK``ed: ActiveMQ moves it to its dead-letter queue (``ActiveMQ.DLQ``)
and RabbitMQ drops it, or dead-letters it when the queue has a
dead-letter exchange.  (The retries are ours because ActiveMQ 5.x
dead-letters a ``NACK``ed STOMP frame at once, and RabbitMQ's STOMP
plugin gives a requeued frame a new ``message-id``.)

Heartbeats are on; after the broker went away the subscription connects
again with a growing backoff and subscribes again.  Destinations and
durable subscriptions: :mod:`txkoji.bus.stomp_address`.
"""

from __future__ import annotations

import logging
import queue
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer
from twisted.internet import reactor as _reactor

from txkoji.bus.connecting import subscribe_error, warn_reconnect, with_credentials
from txkoji.bus.dispatch import Dispatcher, Outcome, SubscribeOptions, follow
from txkoji.bus.stomp_address import (
    RABBITMQ,
    StompServer,
    broker_kind,
    needs_client_id,
    parse_url,
    subscribes,
)
from txkoji.exceptions import KojiBusError
from txkoji.messages import parse_frame

try:
    import stomp
    from stomp.exception import ConnectFailedException, StompException
except ImportError:  # pragma: no cover - depends on the installed extras
    HAVE_STOMP = False
    _Listener: Any = object
else:
    HAVE_STOMP = True
    _Listener = stomp.ConnectionListener

log = logging.getLogger(__name__)


def _not_a_connect_failure(record: logging.LogRecord) -> bool:
    """stomp.py's logger filter: drop its "could not connect" warnings,
    whose reason the subscription reports itself (the subscribe error, or
    its own WARNING), so that it is not printed twice."""
    return not str(record.msg).startswith("could not connect to host")


#: The global reactor, as an untyped name (its zope interfaces confuse mypy).
reactor: Any = _reactor

#: Milliseconds between heartbeats, each way.
HEARTBEAT_MS = 10_000
#: Seconds before the first reconnection attempt, and at most between two.
_RECONNECT_FIRST = 0.2
_RECONNECT_MAX = 10.0
#: Seconds before the handler gets a failed frame again: the first wait,
#: doubled at each failure, and the most.
_RETRY_FIRST = 0.2
_RETRY_MAX = 5.0
#: Seconds the broker has to answer a connection with ``CONNECTED``.
_CONNECT_WAIT = 15.0


@dataclass(frozen=True)
class StompFrame:
    """A received ``MESSAGE`` frame, as txkoji 0.10's callers handed frames
    over: the events of the stomp transport carry it as ``event.frame``,
    for code that takes frames (helga-koji's signal handlers).

    :ivar headers: the frame's headers (text values).
    :ivar body: its body (text).
    """

    headers: dict[str, str]
    body: str


def _ssl_options(server: StompServer, options: SubscribeOptions) -> dict[str, Any]:
    """stomp.py's ``set_ssl`` arguments: the broker checked against
    ``ssl_ca`` (the system's CAs without it), with the client certificate
    when one is given."""
    ca = options.ssl_ca
    if ca is None:
        paths = ssl.get_default_verify_paths()
        ca = paths.cafile or paths.openssl_cafile
    return {
        "for_hosts": [(server.host, server.port)],
        "cert_file": options.ssl_cert,
        "key_file": options.ssl_key or options.ssl_cert,
        "ca_certs": ca,
        "password": options.ssl_password,
    }


class _Receiver(_Listener):  # type: ignore[misc]  # stomp.py has no types
    """stomp.py's listener: runs in stomp.py's receiver thread and only
    hands plain data to the reactor."""

    def __init__(self, generation: int, side: StompSubscription) -> None:
        self._generation = generation
        self._side = side
        #: whether the broker sent CONNECTED, and its ``server`` header
        #: (read by the worker once ``answered`` is set)
        self.connected = False
        self.server: str | None = None
        #: the broker's reason when it sent an ERROR frame, and whether it
        #: hung up (read by the worker once ``answered`` is set)
        self.refusal: str | None = None
        self.hung_up = False
        #: set once the broker answered the connection (or hung up)
        self.answered = threading.Event()

    def on_connected(self, frame: Any) -> None:
        self.server = frame.headers.get("server")
        self.connected = True
        self.answered.set()

    def on_message(self, frame: Any) -> None:
        body = frame.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        reactor.callFromThread(
            self._side.arrived, self._generation, dict(frame.headers), body
        )

    def on_receipt(self, frame: Any) -> None:
        reactor.callFromThread(
            self._side.receipt, self._generation, frame.headers.get("receipt-id")
        )

    def on_error(self, frame: Any) -> None:
        message = _error_reason(frame.headers.get("message"), frame.body)
        self.refusal = message
        reactor.callFromThread(self._side.broker_error, self._generation, message)
        self.answered.set()

    def on_disconnected(self) -> None:
        if self.hung_up:
            return  # told already, by the end of the receiver loop
        self.hung_up = True
        reactor.callFromThread(self._side.lost, self._generation)
        self.answered.set()

    def on_receiver_loop_completed(self, frame: Any) -> None:
        # stomp.py ends its loop without "disconnected" after some TLS
        # errors (a refused client certificate, at times): gone all the same.
        self.on_disconnected()


def _error_reason(message: str | None, body: Any) -> str:
    """An ``ERROR`` frame's reason: its ``message`` header and its body
    (RabbitMQ puts "Bad CONNECT" in the one and the why in the other)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    parts = [part.strip() for part in (message, body) if part and part.strip()]
    if len(parts) == 2 and parts[1].startswith(parts[0]):
        parts = parts[1:]
    return ": ".join(parts) or "no reason given"


def _why_unreachable(server: StompServer) -> str:
    """Why stomp.py could not connect to ``server`` (it only logs the
    reason): a connection attempt of our own, which names it."""
    try:
        with socket.create_connection((server.host, server.port), _CONNECT_WAIT):
            pass
    except OSError as e:
        return f"cannot connect to {server.host}:{server.port}: {e}"
    return f"cannot connect to {server.host}:{server.port}"


class _Worker:
    """The thread that makes every stomp.py call, one at a time, in the
    order the reactor asked for them."""

    def __init__(
        self, server: StompServer, options: SubscribeOptions, side: StompSubscription
    ) -> None:
        self._server = server
        self._options = options
        self._side = side
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._connection: Any = None
        self._generation = -1
        self._thread = threading.Thread(
            target=self._run, name="txkoji-stomp", daemon=True
        )

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            try:
                job()
            except Exception as e:  # stomp.py's, reported in the reactor
                reactor.callFromThread(self._side.worker_failed, self._generation, e)
        self._drop()
        reactor.callFromThread(self._side.worker_ended)

    # -- called from the reactor thread ---------------------------------

    def connect_soon(self, generation: int) -> None:
        """Connect (again) and subscribe, as connection ``generation``."""
        self._jobs.put(lambda: self._connect(generation))

    def settle_soon(
        self, generation: int, ack_id: str, outcome: Outcome, broker: str
    ) -> None:
        """``ACK`` (or ``NACK``) a frame of connection ``generation``."""
        self._jobs.put(lambda: self._settle(generation, ack_id, outcome, broker))

    def stop_soon(self) -> None:
        """Disconnect and end the thread."""
        self._jobs.put(None)

    # -- worker thread ----------------------------------------------------

    def _drop(self) -> None:
        """Disconnect: politely (the broker confirms, so every ``ACK`` sent
        before has arrived), and close the socket in any case (stomp.py's
        receiver thread only ends once it is closed)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.is_connected():
                connection.disconnect(receipt="txkoji-bye")
        except StompException:
            pass  # already gone
        finally:
            connection.transport.disconnect_socket()

    def _connect(self, generation: int) -> None:
        self._drop()
        self._generation = generation
        server, options = self._server, self._options
        connection = stomp.Connection12(
            [(server.host, server.port)],
            heartbeats=(HEARTBEAT_MS, HEARTBEAT_MS),
            vhost=server.vhost,
            try_loopback_connect=False,
            reconnect_attempts_max=1,
        )
        if server.tls:
            connection.set_ssl(**_ssl_options(server, options))
        receiver = _Receiver(generation, self._side)
        connection.set_listener("txkoji", receiver)
        headers = {}
        if needs_client_id(options.topics, options.subscription):
            assert options.subscription is not None
            headers["client-id"] = options.subscription
        self._connection = connection
        # Not stomp.py's wait: it waits for ever when a TLS handshake ends
        # in a refusal after it seemed done.
        try:
            connection.connect(server.login, server.passcode, headers=headers)
        except ConnectFailedException as e:
            self._drop()
            raise KojiBusError(_why_unreachable(server)) from e
        except Exception:
            self._drop()
            raise
        receiver.answered.wait(_CONNECT_WAIT)
        if not receiver.connected:
            self._drop()
            if receiver.refusal is not None:
                raise KojiBusError(f"the broker refused: {receiver.refusal}")
            if receiver.hung_up:
                raise KojiBusError("the broker hung up before CONNECTED")
            raise KojiBusError(
                f"no CONNECTED from the broker within {_CONNECT_WAIT:.0f} s"
            )
        broker = broker_kind(receiver.server)
        frames = subscribes(
            options.topics, options.subscription, broker, options.prefetch
        )
        for index, frame in enumerate(frames):
            headers = dict(frame.headers)
            if index == len(frames) - 1:
                headers["receipt"] = f"txkoji-subscribed-{generation}"
            connection.subscribe(
                frame.destination,
                id=str(index),
                ack="client-individual",
                headers=headers,
            )
        reactor.callFromThread(self._side.subscribing, generation, broker)

    def _settle(
        self, generation: int, ack_id: str, outcome: Outcome, broker: str
    ) -> None:
        if generation != self._generation or self._connection is None:
            return  # from before a reconnect: the broker redelivers it anyway
        if outcome is Outcome.ACCEPT:
            self._connection.ack(ack_id)
        elif broker == RABBITMQ:
            self._connection.nack(ack_id, requeue="false")
        else:
            self._connection.nack(ack_id)


@dataclass
class _Pending:
    """A frame being handled: its connection, ack id and failures."""

    generation: int
    ack_id: str
    destination: str
    message_id: str
    frame: StompFrame
    failures: int = 0


class StompSubscription:
    """A running stomp subscription (see :func:`txkoji.bus.subscribe`).

    :ivar stats: its :class:`~txkoji.bus.BusStats`.
    """

    def __init__(
        self,
        connection: Any,
        url: str,
        options: SubscribeOptions,
        clock: Any = None,
    ) -> None:
        if not HAVE_STOMP:
            raise KojiBusError(
                "the stomp transport needs stomp.py (pip install 'txkoji[stomp]')"
            )
        if options.user is not None or options.password is not None:
            url = with_credentials(url, options.user, options.password)
        self._server = parse_url(url)
        # Checked now, so a bad name fails before connecting.
        subscribes(options.topics, options.subscription, RABBITMQ, options.prefetch)
        self._clock = reactor if clock is None else clock
        self._dispatcher = Dispatcher(
            connection,
            options.handler,
            options.max_redeliveries,
            handler_timeout=options.handler_timeout,
            clock=self._clock,
        )
        self.stats = self._dispatcher.stats
        self._worker = _Worker(self._server, options, self)
        self._generation = 0
        self._broker = ""
        #: the generation that reached the broker (``subscribing``), and
        #: one the broker hung up on before that was known
        self._broker_of = -1
        self._hung_up = -1
        self._subscribed = False
        self._reconnects = 0
        self._reconnect_call: Any = None
        self._retry_calls: dict[int, Any] = {}
        self._next_retry = 0
        self._started: defer.Deferred[Any] | None = defer.Deferred()
        self._finished: defer.Deferred[Any] = defer.Deferred()
        self._stopping = False

    def start(self) -> defer.Deferred[Any]:
        """Connect and subscribe.

        :returns: a Deferred firing with this subscription once the broker
            confirmed every subscription.
        :raises KojiBusError: (in the Deferred) when the broker could not
            be reached or refused the login or a subscription.
        """
        # Installed once (addFilter ignores a filter it already has), on
        # first use rather than when the module is imported.
        logging.getLogger("stomp.py").addFilter(_not_a_connect_failure)
        assert self._started is not None
        started = self._started
        self._worker.start()
        self._worker.connect_soon(self._generation)
        return started

    # -- reactor thread, called from the worker and receiver threads -----

    def subscribing(self, generation: int, broker: str) -> None:
        """Connection ``generation`` reached ``broker`` and sent its
        subscriptions; their receipt is on its way."""
        if generation != self._generation:
            return
        self._broker = broker
        self._broker_of = generation
        if self._hung_up == generation:
            self.lost(generation)  # it hung up before this was known

    def receipt(self, generation: int, receipt_id: str | None) -> None:
        """The broker confirmed the subscriptions of ``generation``."""
        if generation != self._generation:
            return
        if receipt_id != f"txkoji-subscribed-{generation}":
            return
        self._subscribed = True
        self._reconnects = 0
        if self._started is not None:
            started, self._started = self._started, None
            started.callback(self)
        else:
            log.info("subscribed again at %s", self._server.safe_url)

    def broker_error(self, generation: int, message: str) -> None:
        """The broker sent an ``ERROR`` frame (it closes the connection
        after one)."""
        if generation != self._generation:
            return
        if self._started is not None:
            self._fail(f"the broker refused: {message}")
        else:
            warn_reconnect(self._server.safe_url, f"the broker refused: {message}")

    def worker_failed(self, generation: int, error: Exception) -> None:
        """A stomp.py call failed (the broker unreachable, mostly)."""
        if generation != self._generation or self._stopping:
            return
        if isinstance(error, KojiBusError):
            reason = str(error)
        else:
            reason = f"{type(error).__name__}: {error}"
        if self._started is not None:
            self._fail(reason)
        else:
            warn_reconnect(self._server.safe_url, reason)
            self._reconnect()

    def lost(self, generation: int) -> None:
        """Connection ``generation`` went away."""
        if generation != self._generation or self._stopping:
            return
        if self._started is not None:
            if self._broker_of != generation:
                # Still connecting: the worker reports why it failed.
                self._hung_up = generation
                return
            self._fail("the broker hung up after the subscriptions were sent")
            return
        warn_reconnect(self._server.safe_url, "the broker hung up")
        self._reconnect()

    def worker_ended(self) -> None:
        """The worker thread ended (after :meth:`stop` or a failed start)."""
        self._finished.callback(None)

    def arrived(self, generation: int, headers: dict[str, str], body: str) -> None:
        """A frame arrived: run it through the dispatcher, then settle."""
        if self._stopping or generation != self._generation:
            return  # unacknowledged: the broker redelivers it
        frame = StompFrame(headers, body)
        destination = headers.get("destination", "")
        pending = _Pending(
            generation,
            headers.get("ack") or headers.get("message-id", ""),
            destination,
            headers.get("message-id", ""),
            frame,
        )
        self._deliver(pending)

    # -- reactor thread ---------------------------------------------------

    def _deliver(self, pending: _Pending) -> None:
        frame = pending.frame

        def parse(connection: Any) -> Any:
            event = parse_frame(frame, connection)
            object.__setattr__(event, "frame", frame)
            return event

        outcome = self._dispatcher.deliver(
            pending.destination, pending.message_id, parse
        )
        outcome.addCallback(self._handled, pending)

    def _handled(self, outcome: Outcome, pending: _Pending) -> None:
        if pending.generation != self._generation or self._finished.called:
            return
        if outcome is Outcome.RELEASE:
            if not self._stopping:
                self._retry_later(pending)
            return  # when stopping, the broker redelivers it
        self._worker.settle_soon(
            pending.generation, pending.ack_id, outcome, self._broker
        )

    def _retry_later(self, pending: _Pending) -> None:
        """Give the handler a failed frame again after a backoff, the frame
        unacknowledged meanwhile."""
        delay = min(_RETRY_FIRST * 2**pending.failures, _RETRY_MAX)
        pending.failures += 1
        token = self._next_retry
        self._next_retry += 1

        def again() -> None:
            del self._retry_calls[token]
            if pending.generation == self._generation and not self._stopping:
                self._deliver(pending)

        self._retry_calls[token] = self._clock.callLater(delay, again)

    def _reconnect(self) -> None:
        """Connect again after a backoff, as a new generation (frames of
        the old one are neither handled nor settled any more)."""
        self._generation += 1
        self._subscribed = False
        self._cancel_retries()
        if self._reconnect_call is not None and self._reconnect_call.active():
            return
        delay = min(_RECONNECT_FIRST * 2**self._reconnects, _RECONNECT_MAX)
        self._reconnects += 1
        log.info("connecting to %s again in %.1f s", self._server.safe_url, delay)

        def connect() -> None:
            self._reconnect_call = None
            if not self._stopping:
                self._worker.connect_soon(self._generation)

        self._reconnect_call = self._clock.callLater(delay, connect)

    def _cancel_retries(self) -> None:
        for call in self._retry_calls.values():
            call.cancel()
        self._retry_calls.clear()

    def _fail(self, reason: str) -> None:
        """Fail the start Deferred once the worker ended."""
        assert self._started is not None
        started, self._started = self._started, None
        self._stopping = True
        self._generation += 1
        error = subscribe_error(self._server.safe_url, reason)
        self._finished.addCallback(lambda _: started.errback(error))
        self._worker.stop_soon()

    def stop(self) -> defer.Deferred[Any]:
        """Stop consuming: wait for the handlers running now (a bounded
        time, see :meth:`~txkoji.bus.dispatch.Dispatcher.drain`), settle
        their frames, and disconnect; frames not handled yet (and those
        waiting for another try) stay with the broker for the next
        subscriber.

        :returns: a Deferred firing with ``None`` once disconnected.
        """
        if not self._stopping:
            self._stopping = True
            self._cancel_retries()
            if self._reconnect_call is not None and self._reconnect_call.active():
                self._reconnect_call.cancel()
            self._dispatcher.drain().addCallback(lambda _: self._worker.stop_soon())
        return follow(self._finished)
