"""Blocking file work moved off the reactor thread, into the reactor's
thread pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer, threads


def in_thread(
    connection: Any, function: Callable[..., Any], *args: Any
) -> defer.Deferred[Any]:
    """Run ``function(*args)`` in the thread pool of ``connection``'s
    reactor.

    :returns: a Deferred firing (in the reactor thread) with what it
        returned, or failing with what it raised.
    """
    reactor = connection.reactor
    return threads.deferToThreadPool(reactor, reactor.getThreadPool(), function, *args)
