"""Read an upload's chunks from disk one ahead, off the reactor thread.

While one chunk is in flight to the hub, the next is read from disk and
its Adler-32 computed in the reactor's thread pool (file reads and
``zlib.adler32`` release the GIL), so neither blocks the reactor and the
hub's answer is followed at once by the next request.  Chunks are read
and handed over strictly in order; at most one read runs at a time.

Chunks are read into two buffers used in turn (:class:`ChunkBuffers`),
which go back to a :class:`BufferPool` for the next file: fresh memory
for every chunk costs a page fault per 4 KiB, more than the copy itself.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from twisted.internet import defer
from twisted.python.failure import Failure

from txkoji.exceptions import KojiFileError

#: Bytes per read from disk; each piece goes to the connection as one
#: write (larger pieces cost less CPU per byte; memory is a chunk or two).
PIECE = 1 << 18


@dataclass
class Chunk:
    """One chunk of the local file, read into memory.

    :ivar offset: where it starts in the file.
    :ivar length: its size in bytes.
    :ivar pieces: its bytes, in pieces of at most :data:`PIECE`: views
        of a buffer that is reused for a later chunk once this one was
        sent (empty once :meth:`release` d).
    :ivar adler32: its own Adler-32 value (as an int).
    """

    offset: int
    length: int
    pieces: list[memoryview]
    adler32: int

    def release(self) -> None:
        """Drop the bytes once the hub has them: Deferreds and coroutine
        frames that still refer to the chunk then hold no memory until the
        garbage collector gets to them."""
        self.pieces.clear()

    @property
    def hexdigest(self) -> str:
        """The chunk's Adler-32 as the hub renders it (8 hex digits)."""
        return f"{self.adler32:08x}"


def chunk_plan(start: int, size: int, chunk_size: int) -> list[tuple[int, int]]:
    """Return the ``(offset, length)`` of every chunk from ``start`` to
    ``size``; an empty file is one empty chunk (as the official client
    sends it), a file sent in full already no chunk at all."""
    if size == 0:
        return [(0, 0)]
    return [
        (offset, min(chunk_size, size - offset))
        for offset in range(start, size, chunk_size)
    ]


class BufferPool:
    """Chunk buffers of ``size`` bytes, kept for the next file once one is
    sent (several files in a row, or at once, reuse them)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free: list[bytearray] = []

    def take(self) -> bytearray:
        """Return a free buffer (a new one when none is)."""
        return self._free.pop() if self._free else bytearray(self.size)

    def give(self, buffer: bytearray) -> None:
        """Take ``buffer`` back for reuse."""
        self._free.append(buffer)


class ChunkBuffers:
    """Two buffers of ``pool``, used in turn by consecutive chunks of one
    file (taken when first needed, given back by :meth:`release`)."""

    def __init__(self, pool: BufferPool) -> None:
        self._pool = pool
        self._buffers: list[bytearray] = []

    def for_chunk(self, number: int) -> bytearray:
        """Return the buffer chunk ``number`` (counted from 0) is read into."""
        while len(self._buffers) <= number % 2:
            self._buffers.append(self._pool.take())
        return self._buffers[number % 2]

    def release(self) -> None:
        """Give the buffers back to the pool (no read may still use them)."""
        for buffer in self._buffers:
            self._pool.give(buffer)
        self._buffers = []


def _read_into(handle: IO[bytes], view: memoryview) -> int:
    readinto = getattr(handle, "readinto", None)
    if readinto is not None:
        got: int | None = readinto(view)
        return got or 0
    data = handle.read(len(view))
    view[: len(data)] = data
    return len(data)


def read_chunk(
    handle: IO[bytes],
    lock: threading.Lock,
    offset: int,
    length: int,
    buffer: bytearray,
) -> Chunk:
    """Read ``length`` bytes of ``handle`` from ``offset`` into ``buffer``
    (at least that long) and checksum them (meant for a thread; ``lock``
    guards the handle's position).

    :raises KojiFileError: when the file ends early (it changed during
        the upload).
    """
    view = memoryview(buffer)
    pieces = [
        view[start : min(start + PIECE, length)] for start in range(0, length, PIECE)
    ]
    value = zlib.adler32(b"")
    with lock:
        handle.seek(offset)
        for piece in pieces:
            filled = 0
            while filled < len(piece):
                got = _read_into(handle, piece[filled:])
                if not got:
                    raise KojiFileError(
                        f"the file ended {length - filled} bytes early while "
                        f"reading the chunk at {offset} (it changed during the "
                        "upload)"
                    )
                filled += got
            value = zlib.adler32(piece, value)
    return Chunk(offset, length, pieces, value)


class ReadAhead:
    """Runs one chunk read at a time (``read(number, offset, length)``
    returns a Deferred, e.g. :func:`read_chunk` in a thread, into the
    buffer of chunk ``number``) and hands its result over by
    :meth:`take`.

    Cancelling what :meth:`take` returned leaves the read running (a
    thread cannot be stopped); :meth:`idle` tells when it has ended, so
    the file is closed only after.
    """

    def __init__(self, read: Callable[[int, int, int], defer.Deferred[Chunk]]) -> None:
        self._read = read
        self._running = False
        self._landed: list[Chunk | Failure] = []
        self._takers: list[defer.Deferred[Chunk]] = []
        self._idle: list[defer.Deferred[None]] = []

    def start(self, number: int, offset: int, length: int) -> None:
        """Start reading chunk ``number``, ``length`` bytes at ``offset``.

        :raises KojiFileError: when a read is still running or its chunk
            was not taken (chunks are read one at a time, in order).
        """
        if self._running or self._landed:
            raise KojiFileError("a chunk read is already pending")
        self._running = True
        self._read(number, offset, length).addBoth(self._land)

    def _land(self, outcome: Chunk | Failure) -> None:
        self._running = False
        takers, self._takers = self._takers, []
        if takers:
            # Only the last taker is still waiting: earlier ones were
            # cancelled and removed themselves.
            _fire(takers[-1], outcome)
        else:
            self._landed.append(outcome)
        idle, self._idle = self._idle, []
        for waiter in idle:
            waiter.callback(None)

    def take(self) -> defer.Deferred[Chunk]:
        """Return a Deferred firing with the chunk of the last
        :meth:`start` (or failing as its read did)."""
        if self._landed:
            result: defer.Deferred[Chunk] = defer.Deferred()
            _fire(result, self._landed.pop())
            return result
        if not self._running:
            return defer.fail(KojiFileError("no chunk read was started"))

        def forget(d: defer.Deferred[Chunk]) -> None:
            self._takers.remove(d)

        taker: defer.Deferred[Chunk] = defer.Deferred(forget)
        self._takers.append(taker)
        return taker

    def idle(self) -> defer.Deferred[None]:
        """Return a Deferred firing once no read is running."""
        if not self._running:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._idle.append(waiter)
        return waiter


def _fire(d: defer.Deferred[Any], outcome: Any) -> None:
    if isinstance(outcome, Failure):
        d.errback(outcome)
    else:
        d.callback(outcome)
