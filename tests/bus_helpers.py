"""Helpers shared by the message-bus tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

#: Seconds a bus test waits for messages before it gives up (a real
#: broker, restarts included; a deadline, not a timing assertion).
WAIT_LIMIT = 240.0


async def wait_for(
    condition: Callable[[], bool], what: str, limit: float = WAIT_LIMIT
) -> None:
    """Let the reactor run until ``condition()`` holds.

    :raises AssertionError: naming ``what`` when it still does not after
        ``limit`` seconds.
    """
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await deferLater(reactor, 0.02, lambda: None)


async def restart_twice_midstream(
    rabbitmq: Any, recorder: Recorder, total: int
) -> None:
    """Restart the broker once ``recorder`` handled a fifth of ``total``
    messages, and again at half."""
    for share in (0.2, 0.5):
        await wait_for(
            lambda share=share: len(recorder.handled) >= share * total,
            f"{share:.0%} of the messages handled",
        )
        await deferToThread(rabbitmq.restart)


def unique(prefix: str) -> str:
    """A queue or subscription name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Recorder:
    """A handler that records each event it is given, by message id, and
    can be told to fail for some of them.

    :ivar seen: every call, in order, as ``(message_id, event)``.
    :ivar handled: message ids whose handling succeeded.
    """

    def __init__(self, fail: Callable[[Any, int], bool] | None = None) -> None:
        self._fail = fail
        self.seen: list[tuple[str, Any]] = []
        self.handled: set[str] = set()
        self._attempts: dict[str, int] = {}

    def __call__(self, event: Any) -> None:
        attempt = self._attempts.get(event.message_id, 0) + 1
        self._attempts[event.message_id] = attempt
        self.seen.append((event.message_id, event))
        if self._fail is not None and self._fail(event, attempt):
            raise RuntimeError(
                f"handler refuses {event.message_id} (attempt {attempt})"
            )
        self.handled.add(event.message_id)

    def attempts(self, message_id: str) -> int:
        """How often the handler was called for ``message_id``."""
        return self._attempts.get(message_id, 0)
