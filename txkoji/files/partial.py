"""A download in progress: a temporary file beside the destination,
renamed into place only once complete and verified.

The temporary file is ``.<name>.part`` in the destination's directory, so
a later download of the same file finds it and resumes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from txkoji.exceptions import ChecksumMismatch, DestinationExists, KojiFileError
from txkoji.files.checksums import CHECKSUM_TYPES, Hasher, new_hasher

#: Read size when hashing what an earlier attempt left.
_HASH_PIECE = 1 << 20
#: Bytes gathered before each write to disk.
_WRITE_BUFFER = 1 << 20

#: ``progress(done, total)``; ``total`` is None when unknown.
Progress = Callable[[int, "int | None"], Any]


def write_pieces(handle: IO[bytes], hasher: Hasher | None, pieces: list[bytes]) -> int:
    """Append ``pieces`` to ``handle``, adding them to ``hasher`` (may run
    in a thread); return the bytes written."""
    written = 0
    for piece in pieces:
        handle.write(piece)
        if hasher is not None:
            hasher.update(piece)
        written += len(piece)
    return written


def already_there(target: Path, size: int | None) -> bool:
    """Whether ``target`` exists with ``size`` bytes (any size when
    ``size`` is None): a download an earlier run finished."""
    return target.is_file() and (size is None or target.stat().st_size == size)


def partial_path(target: Path) -> Path:
    """Return the temporary file a download of ``target`` writes."""
    return target.with_name(f".{target.name}.part")


class PartialFile:
    """The temporary file of one download.

    :param target: the final path.
    :param overwrite: replace an existing ``target``.
    :param checksum: ``(kind, hexdigest)`` to verify (kind as for
        :func:`~txkoji.files.checksums.new_hasher`), or None.
    :param size: the expected size in bytes, or None.
    :param progress: called with ``(done, total)`` as bytes arrive.
    :raises DestinationExists: when ``target`` exists and ``overwrite`` is
        false.
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
        if target.exists() and not overwrite:
            raise DestinationExists(
                f"{str(target)!r} exists (pass overwrite=True to replace it)"
            )
        if target.is_dir():
            raise DestinationExists(f"{str(target)!r} is a directory")
        self.target = target
        self.path = partial_path(target)
        self.size = size
        self._checksum = checksum
        self._progress = progress
        self._hasher: Hasher | None = None
        self._handle: IO[bytes] | None = None
        self.done = 0

    def open(self) -> int:
        """Open the temporary file for appending, hashing what it already
        holds.

        :returns: its size: the offset to resume from.
        """
        self.close()
        self.target.parent.mkdir(parents=True, exist_ok=True)
        # Received pieces are 16 KiB TLS records: gather them into
        # 1 MiB writes.
        self._handle = open(self.path, "ab", buffering=_WRITE_BUFFER)  # noqa: SIM115
        self.done = self._handle.tell()
        self._hasher = new_hasher(self._checksum[0]) if self._checksum else None
        if self._hasher is not None and self.done:
            with open(self.path, "rb") as earlier:
                while piece := earlier.read(_HASH_PIECE):
                    self._hasher.update(piece)
        return self.done

    def restart(self) -> None:
        """Throw away what was received and start from byte 0."""
        self.close()
        self.path.unlink(missing_ok=True)
        self.open()

    def write(self, data: bytes) -> None:
        """Append received bytes (and report progress)."""
        handle, hasher = self.sink()
        self.wrote(write_pieces(handle, hasher, [data]))

    def sink(self) -> tuple[IO[bytes], Hasher | None]:
        """Return the open file and the checksum that appended bytes go
        to (for :func:`write_pieces`, then :meth:`wrote`).

        :raises KojiFileError: when the file is not open.
        """
        if self._handle is None:
            raise KojiFileError(f"{self.path} is not open")
        return self._handle, self._hasher

    def wrote(self, count: int) -> None:
        """Count ``count`` more bytes appended (and report progress)."""
        self.done += count
        if self._progress is not None:
            self._progress(self.done, self.size)

    def close(self) -> None:
        """Close the temporary file, keeping it for a resume."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def finish(self) -> Path:
        """Verify the size and checksum, then rename into place.

        :returns: the final path.
        :raises ChecksumMismatch: (the temporary file is removed) when the
            size or the checksum differs.
        """
        self.close()
        actual = self.path.stat().st_size
        if self.size is not None and actual != self.size:
            self.path.unlink()
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
                self.path.unlink()
                raise ChecksumMismatch(
                    f"{self.target.name}: {kind} checksum {digest} differs from "
                    f"the expected {expected}",
                    str(self.target),
                    expected,
                    digest,
                )
        os.replace(self.path, self.target)
        return self.target
