"""The throughput path of uploads: chunks read ahead in a thread (order,
checksums, cancellation), the upload body producer and the bulk TLS
writes."""

from __future__ import annotations

import io
import os
import threading
import zlib

import pytest
import pytest_twisted
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.python.failure import Failure

from tests.auth_helpers import ssl_connection
from txkoji.exceptions import KojiFileError
from txkoji.files import upload
from txkoji.files.checksums import adler32_combine
from txkoji.files.chunk_request import ChunkProducer
from txkoji.files.read_ahead import (
    PIECE,
    BufferPool,
    Chunk,
    ChunkBuffers,
    ReadAhead,
    chunk_plan,
    read_chunk,
)

# -- checksums and chunk plans ---------------------------------------------


@given(st.binary(max_size=3000), st.binary(max_size=3000), st.integers(0, 300_000))
def test_adler32_combine_equals_zlib_on_the_joined_data(first, second, padding):
    second = second + b"\xff" * padding
    combined = adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second))
    assert combined == zlib.adler32(first + second)


def test_chunk_plan_covers_the_file_in_order():
    assert chunk_plan(0, 10, 4) == [(0, 4), (4, 4), (8, 2)]
    assert chunk_plan(6, 10, 4) == [(6, 4)]
    assert chunk_plan(0, 0, 4) == [(0, 0)]  # an empty file is one empty chunk
    assert chunk_plan(10, 10, 4) == []  # all of it arrived before


# -- reading chunks ----------------------------------------------------------


def test_read_chunk_fills_the_buffer_in_pieces_with_its_checksum():
    data = os.urandom(2 * PIECE + 1234)
    buffer = bytearray(len(data))
    chunk = read_chunk(io.BytesIO(b"xx" + data), threading.Lock(), 2, len(data), buffer)
    assert b"".join(bytes(piece) for piece in chunk.pieces) == data
    assert [len(piece) for piece in chunk.pieces] == [PIECE, PIECE, 1234]
    assert chunk.adler32 == zlib.adler32(data)
    assert chunk.hexdigest == f"{zlib.adler32(data):08x}"
    chunk.release()
    assert chunk.pieces == []


class _ReadOnly(io.RawIOBase):
    """A file object with read() and seek() but no readinto()."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)

    readinto = None  # type: ignore[assignment]


def test_read_chunk_of_a_file_without_readinto():
    chunk = read_chunk(_ReadOnly(b"abcdef"), threading.Lock(), 1, 4, bytearray(4))
    assert bytes(chunk.pieces[0]) == b"bcde"


def test_a_file_that_shrank_is_a_clear_error():
    with pytest.raises(KojiFileError, match="ended 6 bytes early"):
        read_chunk(io.BytesIO(b"abcd"), threading.Lock(), 0, 10, bytearray(10))


def test_consecutive_chunks_use_the_two_buffers_in_turn():
    pool = BufferPool(8)
    buffers = ChunkBuffers(pool)
    first, second = buffers.for_chunk(0), buffers.for_chunk(1)
    assert first is not second and len(first) == 8
    assert buffers.for_chunk(2) is first and buffers.for_chunk(3) is second
    buffers.release()
    # The next file reads into the same memory.
    again = ChunkBuffers(pool)
    assert {id(again.for_chunk(0)), id(again.for_chunk(1))} == {id(first), id(second)}


class _Reads:
    """A ``read`` for ReadAhead whose results the test hands over."""

    def __init__(self) -> None:
        self.started: list[tuple[int, int, int]] = []
        self.pending: list[defer.Deferred[Chunk]] = []

    def __call__(self, number: int, offset: int, length: int) -> defer.Deferred[Chunk]:
        self.started.append((number, offset, length))
        d: defer.Deferred[Chunk] = defer.Deferred()
        self.pending.append(d)
        return d

    def land(self) -> Chunk:
        number, offset, length = self.started[len(self.started) - len(self.pending)]
        chunk = Chunk(offset, length, [memoryview(b"x" * length)], number)
        self.pending.pop(0).callback(chunk)
        return chunk


def test_read_ahead_hands_chunks_over_in_order():
    reads = _Reads()
    ahead = ReadAhead(reads)
    ahead.start(0, 0, 4)
    first = ahead.take()
    assert not first.called
    chunk = reads.land()
    assert first.result is chunk
    ahead.start(1, 4, 4)
    landed = reads.land()  # landed before anyone asked
    assert ahead.take().result is landed
    assert reads.started == [(0, 0, 4), (1, 4, 4)]


def test_read_ahead_runs_one_read_at_a_time():
    reads = _Reads()
    ahead = ReadAhead(reads)
    ahead.start(0, 0, 4)
    with pytest.raises(KojiFileError, match="already pending"):
        ahead.start(1, 4, 4)
    reads.land()
    with pytest.raises(KojiFileError, match="already pending"):
        ahead.start(1, 4, 4)  # the landed chunk was not taken


def test_a_failed_read_fails_the_take():
    reads = _Reads()
    ahead = ReadAhead(reads)
    ahead.start(0, 0, 4)
    taken = ahead.take()
    reads.pending.pop().errback(KojiFileError("the disk broke"))
    failures: list[Failure] = []
    taken.addErrback(failures.append)
    assert failures and failures[0].check(KojiFileError)


def test_cancelling_a_take_leaves_the_read_running_until_it_ends():
    reads = _Reads()
    ahead = ReadAhead(reads)
    ahead.start(0, 0, 4)
    taken = ahead.take()
    taken.cancel()
    taken.addErrback(lambda failure: failure.trap(defer.CancelledError))
    idle = ahead.idle()
    assert not idle.called  # the thread still reads: the file stays open
    reads.land()
    assert idle.called


# -- the upload body ---------------------------------------------------------


class _Consumer:
    def __init__(self, pause_after: int | None = None) -> None:
        self.writes: list[object] = []
        self.producer: ChunkProducer | None = None
        self._pause_after = pause_after

    def write(self, data: object) -> None:
        self.writes.append(data)
        if self._pause_after is not None and len(self.writes) % self._pause_after == 0:
            assert self.producer is not None
            self.producer.pauseProducing()


def _chunk(*pieces: bytes) -> Chunk:
    data = b"".join(pieces)
    return Chunk(0, len(data), [memoryview(p) for p in pieces], zlib.adler32(data))


def test_chunk_producer_writes_pieces_in_order_pausing_with_the_connection():
    consumer = _Consumer(pause_after=1)
    producer = ChunkProducer(_chunk(b"ab", b"cd", b"ef"))
    consumer.producer = producer
    done = producer.startProducing(consumer)
    assert consumer.writes == [b"ab"] and not done.called
    producer.resumeProducing()
    producer.resumeProducing()
    assert consumer.writes == [b"ab", b"cd", b"ef"] and done.called
    # A plain connection keeps what it is given: it gets copies, as bytes.
    assert all(type(piece) is bytes for piece in consumer.writes)


def test_a_stopped_chunk_producer_never_fires():
    consumer = _Consumer(pause_after=1)
    producer = ChunkProducer(_chunk(b"ab", b"cd"))
    consumer.producer = producer
    done = producer.startProducing(consumer)
    producer.stopProducing()
    producer.resumeProducing()
    assert consumer.writes == [b"ab"] and not done.called


@pytest_twisted.ensureDeferred
async def test_multi_mib_upload_through_reused_buffers_arrives_intact(
    hub, hub_pki, tmp_path
):
    # Chunks above the TLS layer's large-write size go as views of the two
    # reused buffers: every chunk must reach the hub as it is on disk.
    data = os.urandom(5 * (1 << 20) + 4321)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    conn = ssl_connection(hub, hub_pki)
    await conn.login()
    try:
        done = await upload(conn, str(source), "cli-build/big", chunk_size=1 << 20)
    finally:
        await conn.close()
    assert (hub.hub.files.topdir / "work" / done.path).read_bytes() == data
    assert done.adler32 == f"{zlib.adler32(data):08x}"
