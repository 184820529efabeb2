"""Writing files into a destination directory without following a
symbolic link (or opening a device or FIFO) that sits at a name we write.

A :class:`Directory` holds an open descriptor of the directory, and every
operation is relative to it (``dir_fd``) on one name inside it: files
are opened with ``O_NOFOLLOW`` and checked to be regular files, and
renames, links and unlinks act on the names themselves, never on what a
link there points to.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from txkoji.exceptions import DestinationExists, UnsafePathError

_OPEN_FLAGS = os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device or other special file"


class Directory:
    """An open directory to write into.

    :param path: the directory (made, with its parents, when missing).
    :raises OSError: when it cannot be made or opened.
    """

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def close(self) -> None:
        """Close the directory's descriptor."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _refuse(self, name: str, mode: int) -> UnsafePathError:
        where = self.path / name
        target = ""
        if stat.S_ISLNK(mode):
            target = f" (to {os.readlink(name, dir_fd=self.fd)!r})"
        return UnsafePathError(
            f"refusing to write {str(where)!r}: it is {_kind(mode)}{target}, not a "
            "regular file; remove it and try again"
        )

    def lstat(self, name: str) -> os.stat_result | None:
        """Return ``name``'s own status (a link's, not its target's), or
        None when there is nothing of that name."""
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def open_regular(self, name: str, flags: int, mode: int = 0o644) -> int:
        """Open (or create, with ``O_CREAT`` in ``flags``) the regular file
        ``name`` and return its descriptor.

        :raises UnsafePathError: when ``name`` is a symbolic link, a
            directory, a FIFO or a device (nothing is opened through it).
        """
        try:
            fd = os.open(name, flags | _OPEN_FLAGS, mode, dir_fd=self.fd)
        except OSError as error:
            found = self.lstat(name)
            if error.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR) and found:
                raise self._refuse(name, found.st_mode) from None
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise self._refuse(name, info.st_mode)
        os.set_blocking(fd, True)
        return fd

    def check_absent_or_regular(self, name: str, overwrite: bool) -> None:
        """Check that ``name`` may become a file written here: absent, or
        (with ``overwrite``) a regular file or a symbolic link (which is
        replaced, never followed).

        :raises DestinationExists: when something is there and
            ``overwrite`` is false, or a directory is there.
        :raises UnsafePathError: for a FIFO, socket or device.
        """
        found = self.lstat(name)
        if found is None:
            return
        where = str(self.path / name)
        if stat.S_ISDIR(found.st_mode):
            raise DestinationExists(f"{where!r} is a directory")
        if not overwrite:
            link = " (a symbolic link)" if stat.S_ISLNK(found.st_mode) else ""
            raise DestinationExists(
                f"{where!r} exists{link} (pass overwrite=True to replace it)"
            )
        if not (stat.S_ISREG(found.st_mode) or stat.S_ISLNK(found.st_mode)):
            raise self._refuse(name, found.st_mode)

    def unlink(self, name: str) -> None:
        """Remove ``name`` (the name itself) when it is there."""
        try:
            os.unlink(name, dir_fd=self.fd)
        except FileNotFoundError:
            pass

    def remove_file(self, name: str) -> None:
        """Remove ``name`` when it is a regular file (a link or anything
        else put there is left alone)."""
        found = self.lstat(name)
        if found is not None and stat.S_ISREG(found.st_mode):
            self.unlink(name)

    def move_into_place(self, source: str, name: str, overwrite: bool) -> None:
        """Rename ``source`` to ``name``.  With ``overwrite``, whatever is at
        ``name`` (a symbolic link included) is replaced by the file, never
        written through; without it, an existing ``name`` is kept.

        :raises DestinationExists: when ``name`` appeared meanwhile and
            ``overwrite`` is false (``source`` is kept).
        """
        if overwrite:
            self.check_absent_or_regular(name, True)
            os.replace(source, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            return
        try:
            os.link(
                source,
                name,
                src_dir_fd=self.fd,
                dst_dir_fd=self.fd,
                follow_symlinks=False,
            )
        except FileExistsError:
            raise DestinationExists(
                f"{str(self.path / name)!r} appeared during the download; it was "
                f"kept, and the download is in {str(self.path / source)!r}"
            ) from None
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            # No hard links on this file system: check, then rename.
            self.check_absent_or_regular(name, False)
            os.rename(source, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            return
        self.unlink(source)
