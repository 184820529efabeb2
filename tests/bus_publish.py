"""Publish messages the way the hub's protonmsg plugin does: python-qpid-proton,
one sender per address ``<prefix>.<address>``, each message with the
plugin's properties and its JSON text as an AMQP string body, no message
id.  Like the hub (which keeps unsent messages in its database queue and
sends them with a later request), :func:`publish_as_hub` sends again what
the broker did not accept, until it accepted everything.

Blocking: run it in a thread (``deferToThread``) while the reactor runs.
"""

from __future__ import annotations

import time
from typing import Any

from proton import Message
from proton.handlers import MessagingHandler
from proton.reactor import Container

#: Seconds the publisher waits before trying again (broker restarting).
_RETRY_DELAY = 0.5
_GIVE_UP_AFTER = 180.0


class _Round(MessagingHandler):
    """One connection's worth of sending: sends every message still
    unaccepted and records which the broker accepted."""

    def __init__(self, url: str, prefix: str, messages: dict[int, tuple]) -> None:
        super().__init__()
        self._url = url
        self._prefix = prefix
        self._messages = messages
        self._pending: dict[Any, int] = {}
        self.accepted: set[int] = set()

    def on_start(self, event: Any) -> None:
        event.container.connect(self._url, reconnect=False)

    def on_connection_opened(self, event: Any) -> None:
        senders: dict[str, Any] = {}
        for index, (address, properties, body) in self._messages.items():
            target = f"{self._prefix}.{address}"
            if target not in senders:
                senders[target] = event.container.create_sender(
                    event.connection, target=target
                )
            delivery = senders[target].send(Message(properties=properties, body=body))
            self._pending[delivery] = index
        if not self._pending:
            event.connection.close()

    def on_accepted(self, event: Any) -> None:
        # proton can report a delivery accepted again after it was settled
        # (and so no longer pending): the first report counted it.
        index = self._pending.get(event.delivery)
        if index is not None:
            self.accepted.add(index)

    def on_settled(self, event: Any) -> None:
        self._pending.pop(event.delivery, None)
        if not self._pending:
            event.connection.close()

    def on_disconnected(self, event: Any) -> None:
        event.container.stop()


def publish_as_hub(url: str, messages: list[tuple], prefix: str = "/topic/koji") -> int:
    """Send ``messages`` (``(address, properties, body)``) until the broker
    accepted each one.

    :returns: how many connection rounds it took.
    :raises RuntimeError: when the broker still refuses after a while.
    """
    remaining = dict(enumerate(messages))
    rounds = 0
    deadline = time.monotonic() + _GIVE_UP_AFTER
    while remaining:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(remaining)} messages never accepted by {url}")
        rounds += 1
        sending = _Round(url, prefix, remaining)
        Container(sending).run()
        for index in sending.accepted:
            del remaining[index]
        if remaining:
            time.sleep(_RETRY_DELAY)
    return rounds
