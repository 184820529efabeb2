"""Downloads onto a slow disk: the writes leave the reactor thread, the
transfer pauses while they are behind, and a disk that fills up in the
thread fails the download with the disk's words."""

from __future__ import annotations

import errno
import hashlib
import os
import threading

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.task import Clock

from txkoji import Connection
from txkoji.exceptions import KojiFileError
from txkoji.files import disk_writer, download
from txkoji.files.partial import partial_path

BIG = "work/big/big.bin"
SIZE = 24 * 1024 * 1024
#: How long the test waits for any one step (a bound, not a timing).
STEP = 60


def serve_big_file(server) -> bytes:
    path = server.hub.files.path(BIG)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = os.urandom(SIZE)
    path.write_bytes(data)
    return data


class GatedDisk:
    """Writes made outside the reactor thread wait for :meth:`open`; the
    first of them fires :attr:`reached` (in the reactor thread)."""

    def __init__(self, real_write, fail_with: OSError | None = None) -> None:
        self._real_write = real_write
        self._fail_with = fail_with
        self._gate = threading.Event()
        self.reached: defer.Deferred = defer.Deferred()
        self.threads: set[str] = set()

    def __call__(self, fd: int, data: bytes) -> None:
        if threading.current_thread() is threading.main_thread():
            self._real_write(fd, data)
            return
        self.threads.add(threading.current_thread().name)
        if not self.reached.called:
            reactor.callFromThread(
                lambda: self.reached.called or self.reached.callback(None)
            )
        if not self._gate.wait(STEP):
            raise OSError(errno.ETIMEDOUT, "the test never opened the gate")
        if self._fail_with is not None:
            raise self._fail_with
        self._real_write(fd, data)

    def open(self) -> None:
        self._gate.set()


@pytest.fixture
def slow_disk(monkeypatch):
    """Every write counts as slow, so writes go to a thread after the
    first batch; the thread's writes wait at a gate."""
    monkeypatch.setattr(disk_writer, "SLOW_WRITE", -1.0)
    disk = GatedDisk(disk_writer.write_all)
    monkeypatch.setattr(disk_writer, "write_all", disk)
    yield disk
    disk.open()


async def until_paused(koji, received: list[int]) -> int:
    """Make calls (each answered by the reactor while the disk is stuck)
    until the backlog is full, which pauses the transfer; return what had
    arrived by then."""
    for _ in range(10_000):
        if received[0] > disk_writer.BACKLOG + 2 * disk_writer.BATCH:
            return received[0]
        assert await koji.getAPIVersion() == 1
    raise AssertionError(f"the transfer stalled at {received[0]} bytes")


@pytest_twisted.ensureDeferred
async def test_a_slow_disk_holds_neither_the_reactor_nor_memory(
    hub_server, tmp_path, slow_disk
):
    data = serve_big_file(hub_server)
    koji = Connection(server=hub_server.url, topurl=hub_server.topurl)
    received = [0]
    done = download(
        koji, BIG, tmp_path, progress=lambda now, total: received.__setitem__(0, now)
    )
    await slow_disk.reached.addTimeout(STEP, reactor)
    # The disk is stuck: the reactor still answers calls, and once the
    # backlog is full the transfer stops where it is instead of holding
    # the whole file in memory.
    paused_at = await until_paused(koji, received)
    for _ in range(20):
        assert await koji.getAPIVersion() == 1
    assert received[0] == paused_at < disk_writer.BACKLOG + 4 * disk_writer.BATCH
    assert not done.called
    slow_disk.open()
    path = await done.addTimeout(STEP, reactor)
    await koji.close()
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()
    assert slow_disk.threads and threading.main_thread().name not in slow_disk.threads
    assert not partial_path(path).exists()


@pytest_twisted.ensureDeferred
async def test_waiting_for_the_disk_is_not_a_stall(hub_server, tmp_path, slow_disk):
    data = serve_big_file(hub_server)
    clock = Clock()
    koji = Connection(server=hub_server.url, topurl=hub_server.topurl, clock=clock)
    received = [0]
    done = download(
        koji,
        BIG,
        tmp_path,
        stall_timeout=5,
        progress=lambda now, total: received.__setitem__(0, now),
    )
    await slow_disk.reached.addTimeout(STEP, reactor)
    await until_paused(koji, received)
    clock.advance(60)  # paused for the disk, not stalled by the server
    assert not done.called
    slow_disk.open()
    path = await done.addTimeout(STEP, reactor)
    await koji.close()
    assert path.read_bytes() == data
    # One request: no attempt timed out and resumed.
    asked = [relpath for _, relpath, _ in hub_server.files.requests]
    assert asked.count(BIG) == 1


@pytest_twisted.ensureDeferred
async def test_a_disk_filling_up_in_the_thread_fails_the_download(
    hub_server, tmp_path, monkeypatch
):
    serve_big_file(hub_server)
    monkeypatch.setattr(disk_writer, "SLOW_WRITE", -1.0)
    full = GatedDisk(
        disk_writer.write_all,
        fail_with=OSError(errno.ENOSPC, "No space left on device"),
    )
    monkeypatch.setattr(disk_writer, "write_all", full)
    full.open()
    koji = Connection(server=hub_server.url, topurl=hub_server.topurl)
    with pytest.raises(KojiFileError, match="No space left on device"):
        await download(koji, BIG, tmp_path).addTimeout(STEP, reactor)
    await koji.close()
    # What reached the disk (the first batch, written in the reactor
    # thread before the disk counted as slow) stays for a resume; nothing
    # is in place.
    assert not (tmp_path / "big.bin").exists()
    kept = partial_path(tmp_path / "big.bin").stat().st_size
    assert disk_writer.BATCH <= kept < 2 * disk_writer.BATCH
