"""txkoji.files.disk_writer: batched writes that move to a thread once one
is slow, with a thread runner the tests step by hand."""

from __future__ import annotations

import errno
import os

import pytest
from twisted.internet import defer

from txkoji.files import disk_writer
from txkoji.files.disk_writer import BACKLOG, BATCH, DiskWriter

PIECE = 16 * 1024


class SteppedThread:
    """A stand-in for the thread pool: jobs wait until :meth:`run` runs
    them, in order, in the test's own thread."""

    def __init__(self) -> None:
        self.waiting: list[tuple[object, defer.Deferred]] = []

    def __call__(self, job) -> defer.Deferred:
        done: defer.Deferred = defer.Deferred()
        self.waiting.append((job, done))
        return done

    def run(self, count: int | None = None) -> None:
        """Run ``count`` jobs (all, by default), one at a time: the writer
        hands over the next only when the one before is done."""
        ran = 0
        while self.waiting and (count is None or ran < count):
            ran += 1
            job, done = self.waiting.pop(0)
            try:
                result = job()
            except BaseException as error:  # noqa: BLE001 - handed on as the pool does
                done.errback(error)
            else:
                done.callback(result)


class Timer:
    """A monotonic clock where every write takes ``per_write`` seconds."""

    def __init__(self, per_write: float) -> None:
        self.now = 0.0
        self.per_write = per_write
        self.reads = 0

    def __call__(self) -> float:
        # Read once before a write and once after it.
        self.reads += 1
        if self.reads % 2 == 0:
            self.now += self.per_write
        return self.now


def pieces(total: int, fill: int = 0) -> list[bytes]:
    return [bytes([(fill + n) % 256]) * PIECE for n in range(total // PIECE)]


def open_file(tmp_path, name="out.bin") -> tuple[int, object]:
    path = tmp_path / name
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND), path


def test_fast_writes_stay_in_the_calling_thread(tmp_path):
    fd, path = open_file(tmp_path)
    thread = SteppedThread()
    writer = DiskWriter(fd, thread, now=Timer(0.001))
    data = pieces(3 * BATCH + PIECE)
    for piece in data:
        writer.append(piece)
    assert path.stat().st_size == 3 * BATCH  # whole batches written at once
    flushed = writer.flush()
    assert flushed.called and not thread.waiting and not writer.threaded
    writer.close()
    assert path.read_bytes() == b"".join(data)


def test_a_slow_write_moves_the_later_ones_to_the_thread_in_order(tmp_path):
    fd, path = open_file(tmp_path)
    thread = SteppedThread()
    writer = DiskWriter(fd, thread, now=Timer(disk_writer.SLOW_WRITE * 2))
    data = pieces(4 * BATCH)
    for piece in data[: BATCH // PIECE]:
        writer.append(piece)
    assert writer.threaded  # the first batch was written here, slowly
    for piece in data[BATCH // PIECE :]:
        writer.append(piece)
    flushed = writer.flush()
    # One job in the thread at a time; the other batches wait their turn.
    assert len(thread.waiting) == 1 and path.stat().st_size == BATCH
    assert not flushed.called
    thread.run(2)
    assert not flushed.called and path.stat().st_size == 3 * BATCH
    thread.run()
    assert flushed.called
    writer.close()
    assert path.read_bytes() == b"".join(data)


def test_without_a_thread_runner_a_slow_disk_is_written_here(tmp_path):
    fd, path = open_file(tmp_path)
    writer = DiskWriter(fd, None, now=Timer(10.0))
    data = pieces(2 * BATCH)
    for piece in data:
        writer.append(piece)
    assert not writer.threaded and path.stat().st_size == 2 * BATCH
    writer.close()


def threaded_writer(tmp_path) -> tuple[DiskWriter, SteppedThread, object]:
    fd, path = open_file(tmp_path)
    thread = SteppedThread()
    writer = DiskWriter(fd, thread, now=Timer(1.0))
    for piece in pieces(BATCH, fill=7):
        writer.append(piece)
    assert writer.threaded
    return writer, thread, path


def test_congested_while_more_than_the_backlog_waits(tmp_path):
    writer, thread, _ = threaded_writer(tmp_path)
    for piece in pieces(BACKLOG):
        writer.append(piece)
    assert not writer.congested  # exactly the backlog waits
    for piece in pieces(BATCH):
        writer.append(piece)
    assert writer.congested
    thread.run(1)
    assert not writer.congested
    thread.run()
    writer.close()


def test_truncating_comes_after_the_writes_in_the_thread(tmp_path):
    writer, thread, path = threaded_writer(tmp_path)
    for piece in pieces(2 * BATCH):
        writer.append(piece)
    writer.append(b"dropped")
    writer.truncate()
    writer.append(b"kept")
    flushed = writer.flush()
    thread.run()
    assert flushed.called
    writer.close()
    assert path.read_bytes() == b"kept"


def test_a_write_failing_in_the_thread_fails_what_follows(tmp_path):
    writer, thread, _ = threaded_writer(tmp_path)
    full = OSError(errno.ENOSPC, "No space left on device")

    def failing(job):
        def fail():
            raise full

        return thread(fail)

    writer._run_in_thread = failing  # the disk fills from here on
    for piece in pieces(2 * BATCH):
        writer.append(piece)
    flushed = writer.flush()
    thread.run()
    with pytest.raises(OSError, match="No space left"):
        writer.append(b"more")
    failures = []
    flushed.addErrback(failures.append)
    assert failures and failures[0].value is full
    later = []
    writer.flush().addErrback(later.append)
    assert later and later[0].value is full
    with pytest.raises(OSError, match="No space left"):
        writer.close()
    with pytest.raises(OSError) as closed:
        os.fstat(writer._fd)
    assert closed.value.errno == errno.EBADF


def test_closing_under_writes_in_the_thread_is_refused(tmp_path):
    writer, thread, path = threaded_writer(tmp_path)
    for piece in pieces(BATCH):
        writer.append(piece)
    writer.flush()
    with pytest.raises(RuntimeError, match="wait for flush"):
        writer.close()
    os.fstat(writer._fd)  # still open
    thread.run()
    writer.append(b"tail")
    writer.close()  # the thread is idle: the tail is written here
    assert path.stat().st_size == 2 * BATCH + 4
    assert not thread.waiting


def test_a_write_failing_here_fails_what_follows():
    fd = os.open("/dev/full", os.O_WRONLY)
    writer = DiskWriter(fd, SteppedThread())
    with pytest.raises(OSError) as failed:
        for piece in pieces(BATCH):
            writer.append(piece)
    assert failed.value.errno == errno.ENOSPC
    failures = []
    writer.flush().addErrback(failures.append)
    assert failures[0].value is failed.value
    with pytest.raises(OSError):
        writer.close()
