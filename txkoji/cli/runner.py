"""Running a command's coroutine under the reactor, with Ctrl-C turned
into cancelling it (so it can say how to resume and close cleanly)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet import defer

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def run(command: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    """Run ``command(reactor)`` to its end and return its exit status.

    Ctrl-C (or any reactor shutdown) cancels the command's Deferred: the
    command sees ``CancelledError`` where it waits, and may print and
    clean up before returning; the reactor waits for that.
    """
    from twisted.internet import reactor as global_reactor

    reactor: Any = global_reactor
    status: list[int] = []
    running: list[defer.Deferred[Any]] = []

    def start() -> None:
        d: defer.Deferred[Any] = defer.Deferred.fromCoroutine(command(reactor))
        running.append(d)

        def finished(outcome: Any) -> Any:
            status.append(outcome if isinstance(outcome, int) else 1)
            if reactor.running:
                reactor.stop()
            return None if isinstance(outcome, int) else outcome

        d.addBoth(finished)
        d.addErrback(_report)

    def stopping() -> defer.Deferred[Any] | None:
        if running and not running[0].called:
            running[0].cancel()
            return running[0]
        return None

    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", stopping)
    reactor.run()
    return status[0] if status else INTERRUPTED


def _report(failure: Any) -> None:
    import sys

    if failure.check(defer.CancelledError):
        return
    print(f"txkoji: {failure.getErrorMessage()}", file=sys.stderr)
