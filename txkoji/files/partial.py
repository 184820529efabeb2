"""A download in progress: a temporary file beside the destination,
renamed into place only once complete and verified.

The temporary file is ``.<name>.part`` in the destination's directory, so
a later download of the same file finds it and resumes; beside it,
``.<name>.part.json`` records which remote file it holds (its URL and
validator, or its size and time), so that only a partial file of the same
remote file is resumed.  Both are opened relative to the directory,
without following a symbolic link or opening anything but a regular file
(:mod:`txkoji.files.directory`), and the final rename replaces a name,
never what a link there points to.  Received bytes are written in 1 MiB
batches, moved to a thread once the disk is slow
(:mod:`txkoji.files.disk_writer`).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from txkoji.exceptions import ChecksumMismatch, DestinationExists, KojiFileError
from txkoji.files.checksums import CHECKSUM_TYPES, Hasher, new_hasher
from txkoji.files.directory import Directory
from txkoji.files.disk_writer import DiskWriter, RunInThread

#: Read size when hashing what an earlier attempt left.
_HASH_PIECE = 1 << 20
#: The largest record of a partial file's source that is read.
_SOURCE_LIMIT = 1 << 16

#: ``progress(done, total)``; ``total`` is None when unknown.
Progress = Callable[[int, "int | None"], Any]


def already_there(target: Path, size: int | None) -> bool:
    """Whether ``target`` is a regular file (not a symbolic link) with
    ``size`` bytes (any size when ``size`` is None): a download an earlier
    run finished."""
    try:
        info = os.lstat(target)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and (size is None or info.st_size == size)


def partial_path(target: Path) -> Path:
    """Return the temporary file a download of ``target`` writes."""
    return target.with_name(f".{target.name}.part")


def source_path(target: Path) -> Path:
    """Return the file recording where the partial file of ``target``
    comes from."""
    return target.with_name(f".{target.name}.part.json")


class PartialFile:
    """The temporary file of one download.

    :param target: the final path.
    :param overwrite: replace an existing ``target``.
    :param checksum: ``(kind, hexdigest)`` to verify (kind as for
        :func:`~txkoji.files.checksums.new_hasher`), or None.
    :param size: the expected size in bytes, or None.
    :param progress: called with ``(done, total)`` as bytes arrive.
    :raises DestinationExists: when ``target`` exists (a symbolic link
        included) and ``overwrite`` is false, or is a directory.

    :ivar run_in_thread: runs a callable in a thread (see
        :class:`~txkoji.files.disk_writer.DiskWriter`); set before
        :meth:`open` to let writes leave the reactor thread once the disk
        is slow, else every write stays in the calling thread.
    """

    def __init__(
        self,
        target: Path,
        *,
        overwrite: bool = False,
        checksum: tuple[Any, str] | None = None,
        size: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        try:
            found: os.stat_result | None = os.lstat(target)
        except FileNotFoundError:
            found = None
        if found is not None and stat.S_ISDIR(found.st_mode):
            raise DestinationExists(f"{str(target)!r} is a directory")
        if found is not None and not overwrite:
            raise DestinationExists(
                f"{str(target)!r} exists (pass overwrite=True to replace it)"
            )
        self.target = target
        self.path = partial_path(target)
        self.size = size
        self._overwrite = overwrite
        self._checksum = checksum
        self._progress = progress
        self._hasher: Hasher | None = None
        self._writer: DiskWriter | None = None
        self.run_in_thread: RunInThread | None = None
        self._dir: Directory | None = None
        self._discard = False
        self.done = 0

    def open(self) -> int:
        """Open the temporary file for appending, hashing what it already
        holds.

        :returns: its size: the offset to resume from.
        :raises UnsafePathError: when a symbolic link or a non-regular file
            is at the temporary file's name.
        :raises KojiFileError: when the directory or the file cannot be
            made or opened (not writable, for one), or when what an earlier
            :meth:`open` received cannot be written out.
        :raises RuntimeError: while writes still wait for a thread (wait
            for :meth:`flush` first).
        """
        self._close_handle()
        try:
            self._dir = Directory(self.target.parent)
            fd = self._dir.open_regular(
                self.path.name, os.O_RDWR | os.O_CREAT | os.O_APPEND
            )
        except OSError as error:
            raise self._cannot_write(error) from error
        self.done = os.fstat(fd).st_size
        self._hasher = new_hasher(self._checksum[0]) if self._checksum else None
        if self._hasher is not None:
            offset = 0
            while piece := os.pread(fd, _HASH_PIECE, offset):
                self._hasher.update(piece)
                offset += len(piece)
        self._writer = DiskWriter(fd, self.run_in_thread)
        return self.done

    def _opened(self) -> tuple[DiskWriter, Directory]:
        if self._writer is None or self._dir is None:
            raise KojiFileError(f"{self.path} is not open")
        return self._writer, self._dir

    @property
    def congested(self) -> bool:
        """Whether writes are behind (a slow disk): stop reading until
        :meth:`flush` fires."""
        return self._writer is not None and self._writer.congested

    def flush(self) -> defer.Deferred[None]:
        """Write out what was received.

        :returns: a Deferred firing once it is all written (at once when
            nothing waits for a thread, or nothing is open); it fails with
            ``KojiFileError`` when a write failed (a full disk).
        """
        if self._writer is None:
            return defer.succeed(None)

        def failed(failure: Failure) -> Failure:
            error = failure.value
            if isinstance(error, OSError):
                return Failure(self._cannot_write(error))
            return failure

        return self._writer.flush().addErrback(failed)

    def source(self) -> dict[str, Any] | None:
        """Return what :meth:`remember` recorded about the remote file the
        partial file holds, or None (nothing recorded, or unreadable)."""
        _, directory = self._opened()
        try:
            fd = directory.open_regular(source_path(self.target).name, os.O_RDONLY)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(_SOURCE_LIMIT)
        try:
            record = json.loads(raw)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def remember(self, source: dict[str, Any]) -> None:
        """Record which remote file the partial file holds (a JSON-able
        dict), for a later resume to check."""
        _, directory = self._opened()
        fd = directory.open_regular(
            source_path(self.target).name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        )
        with os.fdopen(fd, "wb") as handle:
            handle.write(json.dumps(source, sort_keys=True).encode())

    def restart(self) -> None:
        """Throw away what was received (and the record of its source) and
        start from byte 0."""
        writer, directory = self._opened()
        try:
            writer.truncate()
        except OSError as error:
            raise self._cannot_write(error) from error
        directory.remove_file(source_path(self.target).name)
        self.done = 0
        self._hasher = new_hasher(self._checksum[0]) if self._checksum else None

    def write(self, data: bytes) -> None:
        """Append received bytes (and report progress).

        :raises ChecksumMismatch: when they go beyond the expected size
            (nothing more is written, and the partial file is dropped when
            closed).
        :raises KojiFileError: when they cannot be written (a full disk, a
            file size limit).
        """
        writer, _ = self._opened()
        if self.size is not None and self.done + len(data) > self.size:
            self._discard = True
            raise ChecksumMismatch(
                f"{self.target.name}: the server sent more than the expected "
                f"{self.size} bytes",
                str(self.target),
                str(self.size),
                f"over {self.size}",
            )
        try:
            writer.append(data)
        except OSError as error:
            raise self._cannot_write(error) from error
        if self._hasher is not None:
            self._hasher.update(data)
        self.done += len(data)
        if self._progress is not None:
            self._progress(self.done, self.size)

    def _cannot_write(self, error: OSError) -> KojiFileError:
        return KojiFileError(
            f"cannot write {str(self.path)!r}: {error.strerror or error}"
        )

    def _close_handle(self) -> None:
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                writer.close()
        except OSError as error:
            raise self._cannot_write(error) from error
        finally:
            if self._dir is not None:
                self._dir.close()
                self._dir = None

    def close(self, failed: bool = False) -> None:
        """Close the temporary file, keeping it for a resume; after a
        failure (``failed``), one that holds nothing, or what cannot be
        resumed (more than the expected size), is removed.

        :raises KojiFileError: when what was received cannot be written
            out (a full disk).
        :raises RuntimeError: while writes still wait for a thread (wait
            for :meth:`flush` first).
        """
        if self._writer is not None and self._dir is not None:
            if (failed and self.done == 0) or self._discard:
                self._drop(self._dir)
        self._close_handle()

    def finish(self) -> Path:
        """Verify the size and checksum, then rename into place (replacing
        a name, never writing through a link there).

        :returns: the final path.
        :raises ChecksumMismatch: (the temporary file is removed) when the
            size or the checksum differs.
        :raises DestinationExists: when the destination appeared meanwhile
            and ``overwrite`` is false (the complete file is kept in the
            temporary file).
        """
        self._close_handle()
        directory = Directory(self.target.parent)
        try:
            return self._finish(directory)
        finally:
            directory.close()

    def _finish(self, directory: Directory) -> Path:
        name = self.path.name
        found = directory.lstat(name)
        if found is None or not stat.S_ISREG(found.st_mode):
            raise KojiFileError(f"{str(self.path)!r} vanished before it was complete")
        actual = found.st_size
        if self.size is not None and actual != self.size:
            self._drop(directory)
            raise ChecksumMismatch(
                f"{self.target.name}: received {actual} bytes, expected {self.size}",
                str(self.target),
                str(self.size),
                str(actual),
            )
        if self._checksum is not None and self._hasher is not None:
            kind, expected = self._checksum
            kind = CHECKSUM_TYPES.get(kind, kind) if isinstance(kind, int) else kind
            digest = self._hasher.hexdigest()
            if digest.lower() != expected.lower():
                self._drop(directory)
                raise ChecksumMismatch(
                    f"{self.target.name}: {kind} checksum {digest} differs from "
                    f"the expected {expected}",
                    str(self.target),
                    expected,
                    digest,
                )
        directory.move_into_place(name, self.target.name, self._overwrite)
        directory.remove_file(source_path(self.target).name)
        return self.target

    def _drop(self, directory: Directory) -> None:
        directory.remove_file(self.path.name)
        directory.remove_file(source_path(self.target).name)
