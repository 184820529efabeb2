"""Write a download to disk without letting a slow disk block the
reactor.

While the disk keeps up, received pieces are written at once (through
the file's 1 MiB buffer: a thread hand-off costs more CPU than such a
write).  Once one write takes longer than :data:`SLOW_WRITE` seconds (a
slow or congested disk), the download switches to writing in the
reactor's thread pool: pieces are gathered in the reactor thread and
handed over in batches of :data:`BATCH` bytes, one batch at a time, in
order.  When more than :data:`BACKLOG` bytes wait (the disk is
slower than the network), the connection is paused until the backlog
drains.  Each batch writes to the file handle and checksum that were
current when it was handed over: a batch left over from a cut attempt
cannot write into the file a retry reopened (that handle is closed, and
the batch fails harmlessly).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from txkoji.files.partial import PartialFile, write_pieces

#: Seconds one direct write may take before writes move to a thread.
SLOW_WRITE = 0.05
#: Bytes gathered before a batch goes to the thread.
BATCH = 1 << 20
#: Bytes waiting (in the thread and gathered) beyond which the connection
#: is paused.
BACKLOG = 8 << 20


class DiskWriter:
    """Appends a response body to ``part`` through ``in_thread(function,
    *args)`` (which runs ``function`` in a thread and returns a Deferred).

    :param pause: called (with no arguments) to pause the connection.
    :param resume: called to resume it.
    :param slow_write: seconds a direct write may take (0: always write in
        the thread).
    """

    def __init__(
        self,
        part: PartialFile,
        in_thread: Callable[..., defer.Deferred[Any]],
        pause: Callable[[], None],
        resume: Callable[[], None],
        slow_write: float = SLOW_WRITE,
    ) -> None:
        self._part = part
        self._slow_write = slow_write
        self._threaded = slow_write <= 0
        self._in_thread = in_thread
        self._pause = pause
        self._resume = resume
        self._gathered: list[bytes] = []
        self._gathered_size = 0
        self._writing_size = 0
        self._writing = False
        self._paused = False
        self._failure: Failure | None = None
        self._drained: list[defer.Deferred[None]] = []

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the file.

        :raises Exception: the failure of an earlier batch (a full disk...).
        """
        if self._failure is not None:
            self._failure.raiseException()
        if not self._threaded:
            started = time.monotonic()
            self._part.write(data)
            self._threaded = time.monotonic() - started > self._slow_write
            return
        self._gathered.append(data)
        self._gathered_size += len(data)
        if not self._writing and self._gathered_size >= BATCH:
            self._hand_over()
        if not self._paused and self._gathered_size + self._writing_size > BACKLOG:
            self._paused = True
            self._pause()

    def _hand_over(self) -> None:
        batch, self._gathered = self._gathered, []
        self._writing_size, self._gathered_size = self._gathered_size, 0
        self._writing = True
        try:
            handle, hasher = self._part.sink()
        except Exception:
            self._landed(Failure())
            return
        # One large write and one checksum update: both release the GIL
        # for their whole length, so the thread hardly competes with the
        # reactor for it.
        joined = batch[0] if len(batch) == 1 else b"".join(batch)
        d = self._in_thread(write_pieces, handle, hasher, [joined])
        d.addBoth(self._landed)

    def _landed(self, outcome: Any) -> None:
        self._writing = False
        written, self._writing_size = self._writing_size, 0
        if isinstance(outcome, Failure):
            if self._failure is None:
                self._failure = outcome
            self._gathered.clear()
            self._gathered_size = 0
        else:
            self._part.wrote(written)
            if self._gathered_size >= BATCH or (self._drained and self._gathered):
                self._hand_over()
                return
        if self._paused and (
            self._failure is not None or self._gathered_size < BACKLOG // 2
        ):
            self._paused = False
            self._resume()
        if self._drained and not self._writing and not self._gathered:
            self._settle()

    def drained(self) -> defer.Deferred[None]:
        """Write what is gathered; return a Deferred firing once every
        batch was written to the file (or failing as the first failed
        batch did)."""
        waiter: defer.Deferred[None] = defer.Deferred()
        self._drained.append(waiter)
        if not self._writing:
            if self._gathered and self._failure is None:
                self._hand_over()
            else:
                self._settle()
        return waiter

    def _settle(self) -> None:
        waiters, self._drained = self._drained, []
        for waiter in waiters:
            if self._failure is not None:
                waiter.errback(self._failure)
            else:
                waiter.callback(None)
