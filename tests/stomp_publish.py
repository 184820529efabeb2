"""Publish messages as STOMP frames, the way Brew's messages reach UMB's
STOMP consumers: one ``SEND`` per message to
``/topic/VirtualTopic.eng.brew.<address>``, the plugin's properties as
headers (text, as STOMP has it), the JSON text as the body, persistent.

Every frame asks for a receipt; like the hub (which keeps unsent messages
and sends them with a later request), :func:`publish_stomp` sends again
what the broker did not confirm, over a new connection, until it
confirmed everything.

Blocking: run it in a thread (``deferToThread``) while the reactor runs.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import stomp

from txkoji.bus.stomp_address import parse_url

#: Where Brew's messages go on UMB.
BREW_PREFIX = "/topic/VirtualTopic.eng.brew"
_RETRY_DELAY = 0.5
_GIVE_UP_AFTER = 180.0
#: Seconds to wait for the receipts of one round.
_ROUND_WAIT = 60.0


def frame_headers(properties: dict[str, Any]) -> dict[str, str]:
    """A message's properties as STOMP headers: text, nulls left out."""
    headers = {}
    for key, value in properties.items():
        if value is None:
            continue
        headers[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return headers


class _Receipts(stomp.ConnectionListener):
    """Collects the receipt ids the broker sent, until it hung up."""

    def __init__(self) -> None:
        self.confirmed: set[str] = set()
        self.gone = threading.Event()
        self.changed = threading.Condition()

    def on_receipt(self, frame: Any) -> None:
        receipt = frame.headers["receipt-id"]
        if not receipt.startswith("m-"):
            return  # the disconnect's
        with self.changed:
            self.confirmed.add(receipt)
            self.changed.notify_all()

    def on_disconnected(self) -> None:
        with self.changed:
            self.gone.set()
            self.changed.notify_all()


def brew_frame(
    message: tuple[str, dict[str, Any], str], prefix: str = BREW_PREFIX
) -> tuple[str, dict[str, str], str]:
    """A hub message ``(address, properties, body)`` as the frame
    ``(destination, headers, body)`` Brew's consumers get."""
    address, properties, body = message
    headers = {**frame_headers(properties), "content-type": "application/json"}
    return f"{prefix}.{address}", headers, body


def _round(url: str, remaining: dict[int, tuple[str, dict[str, str], str]]) -> set[int]:
    """Send every remaining frame over one connection; return the indexes
    the broker confirmed."""
    server = parse_url(url)
    connection = stomp.Connection12(
        [(server.host, server.port)], vhost=server.vhost, reconnect_attempts_max=1
    )
    receipts = _Receipts()
    connection.set_listener("receipts", receipts)
    try:
        connection.connect(server.login, server.passcode, wait=True)
        for index, (destination, headers, body) in remaining.items():
            connection.send(
                destination,
                body,
                headers={**headers, "persistent": "true", "receipt": f"m-{index}"},
            )
    except (stomp.exception.StompException, OSError):
        receipts.gone.set()  # the broker went away: no more receipts
    deadline = time.monotonic() + _ROUND_WAIT
    with receipts.changed:
        while (
            len(receipts.confirmed) < len(remaining)
            and not receipts.gone.is_set()
            and time.monotonic() < deadline
        ):
            receipts.changed.wait(0.5)
    try:
        connection.disconnect()
    except (stomp.exception.StompException, OSError):
        pass
    finally:
        connection.transport.disconnect_socket()
    return {int(receipt[2:]) for receipt in receipts.confirmed}


def publish_frames(url: str, frames: list[tuple[str, dict[str, str], str]]) -> int:
    """Send frames ``(destination, headers, body)``, persistent, until the
    broker confirmed each one.

    :returns: how many connection rounds it took.
    :raises RuntimeError: when the broker still refuses after a while.
    """
    remaining = dict(enumerate(frames))
    rounds = 0
    deadline = time.monotonic() + _GIVE_UP_AFTER
    while remaining:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(remaining)} frames never confirmed by {url}")
        rounds += 1
        for index in _round(url, remaining):
            remaining.pop(index, None)
        if remaining:
            time.sleep(_RETRY_DELAY)
    return rounds


def publish_stomp(url: str, messages: list[tuple], prefix: str = BREW_PREFIX) -> int:
    """Send hub messages ``(address, properties, body)`` as Brew's frames
    (:func:`brew_frame`) until the broker confirmed each one; return the
    rounds it took."""
    return publish_frames(url, [brew_frame(m, prefix) for m in messages])
