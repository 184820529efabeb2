"""Writes to disk that stop blocking the reactor once the disk is slow.

A download receives 16 KiB pieces; :class:`DiskWriter` gathers them into
1 MiB writes.  On a disk that keeps up (the page cache, most of the time)
a write takes well under a millisecond, and doing it in the reactor
thread costs least.  When one write takes longer than
:data:`SLOW_WRITE` (a slow or full-throttled disk, a network file
system), every later write goes to a thread instead, one at a time and in
order, so that the reactor goes on serving everything else; the caller
asks :attr:`DiskWriter.congested` to know when to stop reading from the
network until :meth:`DiskWriter.flush` has caught up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

#: Bytes gathered before each write.
BATCH = 1 << 20
#: A write that takes longer than this many seconds moves the rest of the
#: file's writes to a thread.
SLOW_WRITE = 0.05
#: Bytes handed to the thread and not yet written beyond which the writer
#: is :attr:`~DiskWriter.congested`.
BACKLOG = 8 << 20

#: Runs a callable in a thread; returns a Deferred of its result.
RunInThread = Callable[[Callable[[], Any]], "defer.Deferred[Any]"]


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may write less).

    :raises OSError: as ``os.write`` (``ENOSPC`` for a full disk, ``EFBIG``
        beyond a file size limit).
    """
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class DiskWriter:
    """Append bytes to the open file ``fd`` (opened for appending), in
    the reactor thread until a write is slow, then through
    ``run_in_thread``.

    :param fd: the file descriptor; :meth:`close` closes it.
    :param run_in_thread: runs a callable in a thread (e.g.
        :func:`~txkoji.files.offload.in_thread`); ``None`` keeps every
        write in the calling thread.
    :param now: the monotonic clock timing the writes.
    """

    def __init__(
        self,
        fd: int,
        run_in_thread: RunInThread | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fd = fd
        self._run_in_thread = run_in_thread
        self._now = now
        self._gathered: list[bytes] = []
        self._gathered_size = 0
        self._threaded = False
        # Jobs for the thread run one after another as callbacks of this
        # Deferred; a failed job is recorded and the later ones skip.
        self._queue: defer.Deferred[None] = defer.succeed(None)
        self._jobs = 0
        self._queued = 0
        self._error: BaseException | None = None

    @property
    def threaded(self) -> bool:
        """Whether writes go to a thread (since one write was slow)."""
        return self._threaded

    @property
    def congested(self) -> bool:
        """Whether more than :data:`BACKLOG` bytes wait for the thread: the
        caller should stop reading until :meth:`flush` fires."""
        return self._queued > BACKLOG

    def append(self, data: bytes) -> None:
        """Add ``data`` at the end of the file (written once a batch is
        gathered).

        :raises OSError: when a write failed, now or earlier in the thread.
        """
        if self._error is not None:
            raise self._error
        self._gathered.append(data)
        self._gathered_size += len(data)
        if self._gathered_size >= BATCH:
            self._write_gathered()

    def flush(self) -> defer.Deferred[None]:
        """Write what is gathered.

        :returns: a Deferred firing once everything appended so far is
            written (at once when no write waits for the thread); it fails
            with the ``OSError`` of a write that failed.
        """
        try:
            self._write_gathered()
        except OSError:
            return defer.fail()
        written: defer.Deferred[None] = defer.Deferred()

        def reached(result: None) -> None:
            if self._error is not None:
                written.errback(Failure(self._error))
            else:
                written.callback(None)
            return result

        self._queue.addCallback(reached)
        return written

    def truncate(self) -> None:
        """Empty the file, dropping what was gathered (after the writes
        already handed to the thread, when there are any).

        :raises OSError: when the file cannot be truncated.
        """
        self._take_gathered()
        if self._threaded:
            self._submit(lambda: os.ftruncate(self._fd, 0), 0)
        else:
            os.ftruncate(self._fd, 0)

    def close(self) -> None:
        """Write what is gathered and close the file.

        :raises OSError: when the last write fails (the file is closed
            all the same).
        :raises RuntimeError: while writes still wait for the thread
            (wait for :meth:`flush` first): the file cannot be closed
            under them.
        """
        if self._jobs:
            raise RuntimeError("writes are still in progress; wait for flush()")
        try:
            if self._error is not None:
                raise self._error
            # The thread is idle: what is left is written here, whatever
            # the mode.
            data = self._take_gathered()
            if data:
                self._write_here(data)
        finally:
            os.close(self._fd)

    def _take_gathered(self) -> bytes:
        data = b"".join(self._gathered)
        self._gathered.clear()
        self._gathered_size = 0
        return data

    def _write_gathered(self) -> None:
        if not self._gathered:
            return
        data = self._take_gathered()
        if self._threaded:
            self._submit(lambda: write_all(self._fd, data), len(data))
            return
        started = self._now()
        self._write_here(data)
        if self._run_in_thread is not None and self._now() - started > SLOW_WRITE:
            self._threaded = True

    def _write_here(self, data: bytes) -> None:
        try:
            write_all(self._fd, data)
        except OSError as error:
            # The bytes are lost: every later write, flush and close fails.
            self._error = error
            raise

    def _submit(self, job: Callable[[], Any], size: int) -> None:
        run_in_thread = self._run_in_thread
        assert run_in_thread is not None  # only threaded writers submit
        self._jobs += 1
        self._queued += size

        def run(_: None) -> defer.Deferred[Any] | None:
            if self._error is not None:
                return None
            return run_in_thread(job)

        def ran(result: Any) -> None:
            self._jobs -= 1
            self._queued -= size
            if isinstance(result, Failure) and self._error is None:
                self._error = result.value

        self._queue.addCallback(run)
        self._queue.addBoth(ran)
