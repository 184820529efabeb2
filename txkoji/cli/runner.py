"""Running a command's coroutine under the reactor, with Ctrl-C and
SIGTERM turned into cancelling it (so it can say how to resume and close
cleanly)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet import defer

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130

#: Exit status after SIGTERM (128 + SIGTERM).
TERMINATED = 128 + signal.SIGTERM


class _Stopper:
    """Stops the reactor once, whoever asks first: a signal, or the
    command's end (a second ``reactor.stop()`` would raise
    ``ReactorNotRunning``)."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.stopping = False
        #: The signal that stopped the command, if one did.
        self.signal: int | None = None

    def stop(self) -> None:
        """Stop the reactor unless it is stopping already."""
        if not self.stopping and self.reactor.running:
            self.stopping = True
            self.reactor.stop()

    def on_signal(self, number: int, frame: Any) -> None:
        """A signal handler: note the first signal, stop on the reactor's
        thread."""
        if self.signal is None:
            self.signal = number
        self.reactor.callFromThread(self.stop)

    def install(self) -> dict[int, Any]:
        """Handle Ctrl-C and SIGTERM; return the handlers replaced."""
        return {
            number: signal.signal(number, self.on_signal)
            for number in (signal.SIGINT, signal.SIGTERM)
        }

    def interrupted_status(self) -> int:
        """The status of a command stopped by a signal."""
        return TERMINATED if self.signal == signal.SIGTERM else INTERRUPTED


def run(command: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    """Run ``command(reactor)`` to its end and return its exit status.

    Ctrl-C or SIGTERM (or any reactor shutdown) cancels the command's
    Deferred: the command sees ``CancelledError`` where it waits, and may
    print and clean up before returning; the reactor waits for that.  A
    command that lets the ``CancelledError`` out ends with status 130
    (143 after SIGTERM), as does one returning :data:`INTERRUPTED`.  Any
    other exception is printed as ``txkoji: <message>``, status 1.
    """
    from twisted.internet import reactor as global_reactor

    reactor: Any = global_reactor
    stopper = _Stopper(reactor)
    status: list[int] = []
    running: list[defer.Deferred[Any]] = []

    def start() -> None:
        d: defer.Deferred[Any] = defer.Deferred.fromCoroutine(command(reactor))
        running.append(d)

        def finished(outcome: Any) -> None:
            if isinstance(outcome, int):
                status.append(outcome)
            elif outcome.check(defer.CancelledError):
                status.append(INTERRUPTED)
            else:
                status.append(1)
                _report(outcome)
            stopper.stop()

        d.addBoth(finished)

    def stopping() -> defer.Deferred[Any] | None:
        stopper.stopping = True
        if running and not running[0].called:
            running[0].cancel()
            return running[0]
        return None

    previous = stopper.install()
    reactor.callWhenRunning(start)
    reactor.addSystemEventTrigger("before", "shutdown", stopping)
    try:
        reactor.run(installSignalHandlers=False)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    code = status[0] if status else INTERRUPTED
    if code == INTERRUPTED:
        return stopper.interrupted_status()
    return code


def _report(failure: Any) -> None:
    print(f"txkoji: {failure.getErrorMessage()}", file=sys.stderr)
