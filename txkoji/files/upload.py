"""Raw ("fast") uploads into the hub's work area (section 7 of the
protocol notes).

Each chunk is a POST of the file's bytes to the hub URL with
``Content-Type: application/octet-stream`` and the file's name, directory
and offset in the query string; the hub answers with the chunk's size and
Adler-32, which are checked.  Chunks of one file go one after another (the
hub locks the file while it writes); different files may go in parallel
(:func:`upload_many`).

Uploads are not calls: they carry the session's id and key but no call
number, so they never join the session's ordered queue, its batches or a
multicall, and the session's calls go on while a file is sent.  Only the
final ``checkUpload`` (and the optional one that resumes) is a call.

Disk reads and checksums run in the reactor's thread pool: while one
chunk is in flight, the next is read and checksummed
(:mod:`txkoji.files.read_ahead`), so memory is about two chunks per file.
A chunk that fails for a transient reason is sent again under the
profile's retry rules; an expired session is renewed (by an ordinary
call) and the chunk sent again.  ``resume=True`` asks ``checkUpload`` for
the size and SHA-256 of what arrived earlier and continues from there
when it is the start of the local file (else starts over).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hyperlink import URL
from twisted.internet import defer

from txkoji.exceptions import (
    AuthExpired,
    ChecksumMismatch,
    GenericError,
    KojiFileError,
)
from txkoji.files.attempts import retried, with_timeout
from txkoji.files.checksums import Adler32, adler32_combine
from txkoji.files.chunk_request import ChunkProducer, post_chunk
from txkoji.files.naming import unique_upload_dir
from txkoji.files.offload import in_thread
from txkoji.files.parallel import run_limited
from txkoji.files.partial import Progress
from txkoji.files.read_ahead import (
    BufferPool,
    Chunk,
    ChunkBuffers,
    ReadAhead,
    chunk_plan,
    read_chunk,
)
from txkoji.transport_errors import mask_url

#: Bytes per upload request (the official client's ``upload_blocksize``
#: is 1 MiB).  The hub streams a raw upload to disk in 64 KiB pieces with
#: no size limit, so larger chunks cost it nothing and save a round trip
#: per MiB; measured in benchmarks/FILES_RESULTS.md.
DEFAULT_CHUNK_SIZE = 8 << 20

#: Bytes read at a time when checksumming what arrived before a resume.
_HASH_PIECE = 1 << 20


@dataclass(frozen=True)
class Uploaded:
    """A file now in the hub's work area.

    :ivar path: its path relative to the work area
        (``<server_dir>/<name>``), as ``build`` and ``CGImport`` want it.
    :ivar size: its size in bytes.
    :ivar adler32: its Adler-32, as the hub computed it.
    :ivar resumed_at: the offset the upload resumed from (0 when it
        started afresh).
    """

    path: str
    size: int
    adler32: str
    resumed_at: int = 0


class _Source:
    """The local file: its handle, name and size."""

    def __init__(self, path_or_file: Any, name: str | None) -> None:
        if isinstance(path_or_file, (str, os.PathLike)):
            self.handle: IO[bytes] = open(path_or_file, "rb")  # noqa: SIM115
            self._owned = True
            default = Path(path_or_file).name
        else:
            self.handle = path_or_file
            self._owned = False
            default = Path(getattr(path_or_file, "name", "") or "").name
        self.name = name or default
        if not self.name:
            self.close()
            raise KojiFileError("the upload needs a name: pass name=...")
        self.size = self.handle.seek(0, os.SEEK_END)
        #: Held while a thread moves the handle's position.
        self.lock = threading.Lock()

    def read_chunk(self, offset: int, length: int, buffer: bytearray) -> Chunk:
        """Read and checksum one chunk into ``buffer`` (run in a thread)."""
        return read_chunk(self.handle, self.lock, offset, length, buffer)

    def digests_of_start(self, length: int) -> tuple[str, Adler32]:
        """Return the SHA-256 (hex) and the Adler-32 of the file's first
        ``length`` bytes (run in a thread: it reads them all)."""
        sha256 = hashlib.sha256()
        adler = Adler32()
        with self.lock:
            self.handle.seek(0)
            left = length
            while left > 0:
                piece = self.handle.read(min(_HASH_PIECE, left))
                if not piece:
                    break
                sha256.update(piece)
                adler.update(piece)
                left -= len(piece)
        return sha256.hexdigest(), adler

    def close(self) -> None:
        """Close the file when it was opened here."""
        if self._owned:
            self.handle.close()


def _chunk_url(
    connection: Any,
    server_dir: str,
    name: str,
    offset: int,
    overwrite: bool,
    volume: str | None,
) -> URL:
    url = URL.from_text(connection.url)
    url = url.add("filename", name).add("filepath", server_dir)
    url = url.add("fileverify", "adler32").add("offset", str(offset))
    if overwrite:
        url = url.add("overwrite", "1")
    if volume:
        url = url.add("volume", volume)
    return url


class _Upload:
    """One file's upload (see :func:`upload`)."""

    def __init__(
        self,
        connection: Any,
        source: _Source,
        server_dir: str,
        chunk_size: int,
        overwrite: bool,
        volume: str | None,
        progress: Progress | None,
        pool: BufferPool,
    ) -> None:
        self.connection = connection
        self.source = source
        self.server_dir = server_dir.strip("/")
        self.chunk_size = chunk_size
        self.overwrite = overwrite
        self.volume = volume
        self.progress = progress
        self.hasher = Adler32()
        self.buffers = buffers = ChunkBuffers(pool)
        self.reader = ReadAhead(
            lambda number, offset, length: in_thread(
                connection,
                source.read_chunk,
                offset,
                length,
                buffers.for_chunk(number),
            )
        )

    def _post(self, chunk: Chunk, overwrite: bool) -> defer.Deferred[Any]:
        """Send one chunk; fire with the hub's answer."""
        offset = chunk.offset
        connection = self.connection
        url = _chunk_url(
            connection,
            self.server_dir,
            self.source.name,
            offset,
            overwrite,
            self.volume,
        ).to_text()
        credentials = connection.session_credentials(url)
        if credentials is None:
            raise KojiFileError("uploads need a logged-in session: log in first")
        url, headers = credentials
        headers = {**headers, b"Content-Type": b"application/octet-stream"}
        d = defer.Deferred.fromCoroutine(
            post_chunk(connection.transport, url, headers, ChunkProducer(chunk))
        )
        with_timeout(
            d,
            connection.clock,
            connection.config.get("timeout"),
            f"the upload of {self.source.name} at {offset}",
            mask_url(url),
        )
        return d

    async def _send_chunk(self, chunk: Chunk, overwrite: bool) -> None:
        offset, length = chunk.offset, chunk.length
        what = f"upload of {self.source.name} at {offset}"
        tried: list[bool] = []

        def attempt(force: bool = False) -> defer.Deferred[Any]:
            # A retry truncates at the chunk's offset, dropping what a cut
            # attempt left; at offset 0 only once the leftover is known to
            # be this chunk's own start (see _own_leftover).
            truncate = force or (bool(tried) and offset > 0)
            tried.append(True)
            return defer.maybeDeferred(self._post, chunk, overwrite or truncate)

        try:
            answer = await retried(self.connection, attempt, what)
        except AuthExpired:
            # An ordinary call renews the session (once); then send again.
            await self.connection.getLoggedInUser()
            answer = await retried(self.connection, attempt, what)
        except GenericError as error:
            # A cut first try leaves part of the chunk behind, and its
            # retry meets it.
            refused_start = offset == 0 and "upload path exists" in str(error)
            if not refused_start or not await self._own_leftover(length):
                raise error from None
            answer = await retried(self.connection, lambda: attempt(force=True), what)
        expected = chunk.hexdigest
        if answer.get("size") != length or answer.get("hexdigest") != expected:
            raise ChecksumMismatch(
                f"the hub received {answer.get('size')} bytes with Adler-32 "
                f"{answer.get('hexdigest')} for the chunk of {self.source.name} at "
                f"{offset}; {length} bytes with {expected} were sent",
                self.remote_path,
                f"{length}/{expected}",
                f"{answer.get('size')}/{answer.get('hexdigest')}",
            )
        self.hasher.value = adler32_combine(self.hasher.value, chunk.adler32, length)

    async def _own_leftover(self, length: int) -> bool:
        """Whether the file a cut first chunk left on the hub is a strict
        start of that chunk (so it may be overwritten; a whole file that
        was there before is not)."""
        held = await self._held_start(length - 1)
        return held is not None

    @property
    def remote_path(self) -> str:
        """The file's path relative to the work area."""
        return f"{self.server_dir}/{self.source.name}"

    async def _resume_point(self) -> int:
        """Ask what arrived earlier; keep it when it matches the local
        file's start, else start over."""
        held = await self._held_start(self.source.size)
        if held is None:
            return 0
        arrived, self.hasher = held
        return arrived

    async def _held_start(self, most: int) -> tuple[int, Adler32] | None:
        """What the hub holds of this file when it is the start of the
        local file (at most ``most`` bytes): its size and Adler-32, else
        None.  The hub's SHA-256 of what it holds (``checkUpload`` with
        ``verify="sha256"``) is compared with the local start's: an
        Adler-32 is too easy to collide to tell two files apart."""
        info = await self.connection.checkUpload(
            self.server_dir, self.source.name, verify="sha256", volume=self.volume
        )
        if info is None or int(info["size"]) > most:
            return None
        arrived = int(info["size"])
        sha256, adler = await in_thread(
            self.connection, self.source.digests_of_start, arrived
        )
        if sha256 != info.get("hexdigest"):
            return None
        return arrived, adler

    async def run(self, resume: bool) -> Uploaded:
        size = self.source.size
        start = await self._resume_point() if resume else 0
        # Starting over on a partial file needs the hub to truncate it.
        overwrite = self.overwrite or resume
        plan = chunk_plan(start, size, self.chunk_size)
        if plan:
            self.reader.start(0, *plan[0])
        for number, (offset, length) in enumerate(plan):
            chunk = await self.reader.take()
            if number + 1 < len(plan):
                # Read the next chunk while this one is in flight.
                self.reader.start(number + 1, *plan[number + 1])
            try:
                await self._send_chunk(chunk, overwrite and offset == start)
            finally:
                chunk.release()
            if self.progress is not None and size:
                self.progress(offset + length, size)
        return await self._verify(size, start)

    async def _verify(self, size: int, start: int) -> Uploaded:
        info = await self.connection.checkUpload(
            self.server_dir, self.source.name, verify="adler32", volume=self.volume
        )
        local = self.hasher.hexdigest()
        if info is None or int(info["size"]) != size or info.get("hexdigest") != local:
            found = "nothing" if info is None else f"{info['size']} bytes"
            raise ChecksumMismatch(
                f"after the upload the hub holds {found} with Adler-32 "
                f"{None if info is None else info.get('hexdigest')} at "
                f"{self.remote_path}; {size} bytes with {local} were sent",
                self.remote_path,
                f"{size}/{local}",
                "none" if info is None else f"{info['size']}/{info.get('hexdigest')}",
            )
        return Uploaded(self.remote_path, size, local, start)


def upload(
    connection: Any,
    path_or_file: str | os.PathLike[str] | IO[bytes],
    server_dir: str,
    name: str | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress | None = None,
    overwrite: bool = False,
    resume: bool = False,
    volume: str | None = None,
) -> defer.Deferred[Any]:
    """Upload one file into the hub's work area as
    ``<server_dir>/<name>`` (see the module docs).

    :param path_or_file: a local path, or a seekable binary file object.
    :param server_dir: the directory under the work area, e.g. from
        :func:`~txkoji.files.naming.unique_upload_dir`.
    :param name: the name on the hub (default: the local file's).
    :param chunk_size: bytes per request.
    :param progress: called as ``progress(done, total)`` after each chunk.
    :param overwrite: replace a file of that name (else the hub refuses an
        existing one).
    :param resume: continue a broken upload of the same file: ask
        ``checkUpload`` for the size and SHA-256 of what arrived and send
        the rest (starting over when it is not the start of this file).
    :param volume: the hub's storage volume (default: DEFAULT).
    :returns: a Deferred firing with :class:`Uploaded`.  It fails with
        ``KojiFileError`` when not logged in or without a name,
        ``ChecksumMismatch`` when the hub's sizes or checksums differ from
        what was sent, the hub's fault (``LockError`` when another upload
        writes that file, ``GenericError`` for an existing file or a
        directory owned by another user), or a transport error once the
        retries are used up.  Cancelling it stops after the chunk in
        flight; ``resume=True`` continues later.
    """
    return _upload_with(
        None,
        connection,
        path_or_file,
        server_dir,
        name,
        chunk_size,
        progress,
        overwrite,
        resume,
        volume,
    )


def _upload_with(
    pool: BufferPool | None,
    connection: Any,
    path_or_file: str | os.PathLike[str] | IO[bytes],
    server_dir: str,
    name: str | None,
    chunk_size: int,
    progress: Progress | None,
    overwrite: bool,
    resume: bool,
    volume: str | None,
) -> defer.Deferred[Any]:
    """:func:`upload`, reading through ``pool``'s buffers (a pool of its
    own when None)."""
    if chunk_size < 1:
        return defer.fail(KojiFileError(f"chunk_size must be positive: {chunk_size}"))
    if connection.session_id is None:
        return defer.fail(
            KojiFileError("uploads need a logged-in session: log in first")
        )
    try:
        source = _Source(path_or_file, name)
    except (OSError, KojiFileError):
        return defer.fail()
    if pool is None:
        pool = BufferPool(min(chunk_size, source.size))
    job = _Upload(
        connection, source, server_dir, chunk_size, overwrite, volume, progress, pool
    )
    d = defer.Deferred.fromCoroutine(job.run(resume))

    def closed(outcome: Any) -> Any:
        # A read may still run in a thread (after a failure or a cancel):
        # close the file and free the buffers once it has ended.
        ended = job.reader.idle()
        ended.addCallback(lambda _: source.close())
        ended.addCallback(lambda _: job.buffers.release())
        return ended.addCallback(lambda _: outcome)

    return d.addBoth(closed)


def upload_many(
    connection: Any,
    files: Sequence[str | os.PathLike[str]],
    server_dir: str,
    *,
    concurrency: int = 4,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    overwrite: bool = False,
    resume: bool = False,
    progress: Any = None,
) -> defer.Deferred[Any]:
    """Upload several files into one directory, ``concurrency`` at a time
    (each file's chunks in order, different files in parallel).

    :param progress: called as ``progress(name, done, total)``.
    :returns: a Deferred firing with the :class:`Uploaded` of each file,
        in order.  It fails with ``KojiFileError`` when two files share a
        name, else as :func:`upload` does (the first failure stops the
        others).
    """
    names = [Path(path).name for path in files]
    if len(set(names)) != len(names):
        return defer.fail(
            KojiFileError(f"files to upload into one directory share names: {names}")
        )
    try:
        largest = max((os.path.getsize(path) for path in files), default=0)
    except OSError:
        return defer.fail()
    # The files share buffers: those of a file sent go to the next.
    pool = BufferPool(min(chunk_size, largest))
    jobs = [
        (
            lambda path=path, name=name: _upload_with(
                pool,
                connection,
                path,
                server_dir,
                None,
                chunk_size,
                None
                if progress is None
                else lambda done, total: progress(name, done, total),
                overwrite,
                resume,
                None,
            )
        )
        for path, name in zip(files, names, strict=True)
    ]
    return run_limited(jobs, concurrency)


def build_from_srpm(
    connection: Any,
    target: str,
    srpm_path: str | os.PathLike[str],
    *,
    scratch: bool = True,
    opts: dict[str, Any] | None = None,
    priority: int | None = None,
    progress: Progress | None = None,
) -> defer.Deferred[Any]:
    """Upload a local SRPM into a fresh ``cli-build/...`` directory and
    start a build of it, as ``koji build [--scratch] TARGET SRPM`` does.

    :param opts: more ``build`` options (``arch_override``, ...).
    :returns: a Deferred firing with the new task's id (ready for
        watching).  It fails as :func:`upload` and the ``build`` call do.
    """

    async def run() -> int:
        server_dir = unique_upload_dir("cli-build", connection.clock)
        uploaded = await upload(connection, srpm_path, server_dir, progress=progress)
        options = dict(opts or {})
        if scratch:
            options["scratch"] = True
        kwargs = {} if priority is None else {"priority": priority}
        return await connection.build(uploaded.path, target, options, **kwargs)

    return defer.Deferred.fromCoroutine(run())
