"""Serve a fake hub's file tree over HTTP, as a web server serves
``topurl``: GET and HEAD, single ``Range: bytes=N-`` / ``N-M`` requests
(206, or 416 beyond the end), streamed from disk in 64 KiB pieces.  As
Apache does, every file has an ``ETag`` (its size and modification time)
and a ``Last-Modified`` date, and a ``Range`` with an ``If-Range`` that
does not match them is ignored (the whole file is sent, 200).
``FileTree.redirects`` answers chosen paths with a redirect.

Fault rules (``FileTree.faults``, a
:class:`~txkoji.testing.faults.FaultInjector`) match a file by its path
under the top (e.g. ``work/tasks/1/50001/build.log``) used as the
"method":

``drop``
    send the headers and half of the body, then close the connection (a
    download cut mid-stream);
``http_status``
    answer that status instead of the file;
``delay``
    answer late;
``malformed``
    answer 200 without a ``Content-Length``, sending the file followed by
    garbage (at most :data:`GARBAGE_LIMIT` bytes, stopping when the client
    goes away: a server streaming more than the file).
"""

from __future__ import annotations

import email.utils
import re
from pathlib import Path
from typing import IO, Any

from twisted.internet.interfaces import IPullProducer
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request
from zope.interface import implementer

from txkoji.testing.faults import FaultInjector, FaultRule
from txkoji.testing.files import HubFiles

_PIECE = 64 * 1024
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")
#: The most bytes a ``malformed`` answer sends.
GARBAGE_LIMIT = 64 * 1024 * 1024


def etag(path: Path) -> str:
    """Return a file's ETag as Apache makes it by default (its size and
    modification time in microseconds, in hex)."""
    info = path.stat()
    return f'"{info.st_size:x}-{info.st_mtime_ns // 1000:x}"'


def last_modified(path: Path) -> str:
    """Return a file's ``Last-Modified`` date."""
    return email.utils.formatdate(path.stat().st_mtime, usegmt=True)


def range_applies(request: Request, path: Path) -> bool:
    """Whether a ``Range`` may be honoured: there is no ``If-Range``, or it
    matches the file's ETag (strongly) or its exact ``Last-Modified``."""
    condition = request.getHeader(b"if-range")
    if condition is None:
        return True
    text = condition.decode("latin-1").strip()
    if text.startswith(("W/", '"')):
        return text == etag(path)
    return text == last_modified(path)


@implementer(IPullProducer)
class _FileSender:
    """Write ``length`` bytes of an open file from its current position to
    a request, then finish it (or, with ``cut_at``, close the connection
    after that many bytes; with ``stall`` too, send nothing more and keep
    the connection open instead)."""

    def __init__(
        self,
        handle: IO[bytes],
        length: int,
        request: Request,
        cut_at: int | None,
        stall: bool = False,
    ) -> None:
        self._handle = handle
        self._left = length
        self._request = request
        self._cut_at = cut_at
        self._stall = stall
        self._sent = 0

    def resumeProducing(self) -> None:
        """Write the next piece."""
        size = min(_PIECE, self._left)
        if self._cut_at is not None:
            size = min(size, self._cut_at - self._sent)
        data = self._handle.read(size) if size > 0 else b""
        if data:
            self._left -= len(data)
            self._sent += len(data)
            self._request.write(data)
        if self._cut_at is not None and self._sent >= self._cut_at:
            self._stop()
            if self._stall:
                return
            transport: Any = self._request.transport
            transport.unregisterProducer()
            transport.loseConnection()
        elif self._left <= 0 or not data:
            self._stop()
            self._request.finish()

    def _stop(self) -> None:
        self._handle.close()
        self._request.unregisterProducer()

    def stopProducing(self) -> None:
        """The client went away: close the file."""
        self._handle.close()


@implementer(IPullProducer)
class _Flood:
    """Write ``content`` then garbage to a request, up to
    :data:`GARBAGE_LIMIT` bytes, counting what it wrote in ``tree``."""

    def __init__(self, content: bytes, request: Request, tree: FileTree) -> None:
        self._pending = content
        self._request = request
        self._tree = tree

    def resumeProducing(self) -> None:
        """Write the next piece."""
        piece = self._pending[:_PIECE] or b"garbage\n" * (_PIECE // 8)
        self._pending = self._pending[_PIECE:]
        self._request.write(piece)
        self._tree.flooded += len(piece)
        if self._tree.flooded >= GARBAGE_LIMIT:
            self._request.unregisterProducer()
            self._request.finish()

    def stopProducing(self) -> None:
        """The client went away."""


class FileTree(Resource):
    """The ``topurl`` resource of a fake hub.

    :ivar faults: fault rules by file path (see the module docs).
    :ivar ranges: honour ``Range`` requests (False plays a server that
        always sends the whole file).
    :ivar if_range: honour ``If-Range`` (False plays a server that sends
        the range asked for even of a changed file).
    :ivar requests: the (method, path, Range header) of every request.
    :ivar redirects: path -> (status, Location) to answer instead of the
        file.
    :ivar flooded: bytes sent by ``malformed`` answers.
    :ivar stalls: paths whose answers send half of the file, then nothing
        more (the connection stays open until the client gives up).
    """

    isLeaf = True

    def __init__(self, files: HubFiles, clock: Any) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._files = files
        self._clock = clock
        self.faults = FaultInjector()
        self.ranges = True
        self.if_range = True
        self.requests: list[tuple[str, str, str | None]] = []
        self.redirects: dict[str, tuple[int, str]] = {}
        self.flooded = 0
        self.stalls: set[str] = set()

    def render_HEAD(self, request: Request) -> Any:
        """Answer headers only."""
        return self.render_GET(request)

    def render_GET(self, request: Request) -> Any:
        """Serve a file, a range of it, or an error status."""
        relpath = "/".join(
            part.decode("utf-8", "replace") for part in request.postpath or []
        )
        wanted = request.getHeader(b"range")
        self.requests.append(
            (request.method.decode(), relpath, wanted.decode() if wanted else None)
        )
        if relpath in self.redirects:
            status, location = self.redirects[relpath]
            request.setHeader(b"Location", location.encode())
            self._status(request, status, "Moved")
            return NOT_DONE_YET
        rule = self.faults.take(relpath)
        if rule is not None and rule.delay > 0:
            delayed = self._clock.callLater(
                rule.delay, self._serve, request, relpath, rule
            )
            request.notifyFinish().addErrback(
                lambda _: delayed.cancel() if delayed.active() else None
            )
            return NOT_DONE_YET
        self._serve(request, relpath, rule)
        return NOT_DONE_YET

    def _serve(self, request: Request, relpath: str, rule: FaultRule | None) -> None:
        if rule is not None and rule.http_status is not None:
            self._status(request, rule.http_status, "injected failure")
            return
        top = self._files.topdir.resolve()
        path = self._files.path(relpath).resolve()
        if top not in path.parents or not path.is_file() or path.name == ".user":
            self._status(request, 404, "Not Found")
            return
        if rule is not None and rule.malformed:
            request.setHeader(b"Content-Type", b"application/octet-stream")
            request.registerProducer(_Flood(path.read_bytes(), request, self), False)
            return
        size = path.stat().st_size
        start, end = 0, size
        wanted = request.getHeader(b"range")
        honoured = (
            bool(wanted)
            and self.ranges
            and (not self.if_range or range_applies(request, path))
        )
        match = _RANGE.match(wanted.decode("latin-1")) if wanted and honoured else None
        if match:
            start = int(match.group(1))
            if match.group(2):
                end = min(size, int(match.group(2)) + 1)
            if start >= size or start >= end:
                request.setHeader(b"Content-Range", f"bytes */{size}".encode())
                self._status(request, 416, "Range Not Satisfiable")
                return
            request.setResponseCode(206)
            request.setHeader(
                b"Content-Range", f"bytes {start}-{end - 1}/{size}".encode()
            )
        request.setHeader(b"Accept-Ranges", b"bytes" if self.ranges else b"none")
        request.setHeader(b"Content-Type", b"application/octet-stream")
        request.setHeader(b"Content-Length", str(end - start).encode())
        request.setHeader(b"Last-Modified", last_modified(path).encode())
        request.setHeader(b"ETag", etag(path).encode())
        if request.method == b"HEAD":
            request.finish()
            return
        handle = open(path, "rb")  # noqa: SIM115 - closed by the sender
        handle.seek(start)
        stall = relpath in self.stalls
        cutting = stall or (rule is not None and rule.drop)
        cut_at = (end - start) // 2 if cutting else None
        request.registerProducer(
            _FileSender(handle, end - start, request, cut_at, stall), False
        )

    @staticmethod
    def _status(request: Request, status: int, phrase: str) -> None:
        body = f"{status} {phrase}\n".encode()
        request.setResponseCode(status, phrase.encode())
        request.setHeader(b"Content-Type", b"text/plain")
        request.setHeader(b"Content-Length", str(len(body)).encode())
        if request.method != b"HEAD":
            request.write(body)
        request.finish()
