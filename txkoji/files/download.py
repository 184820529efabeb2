"""Stream one file from ``topurl`` (or any URL) to disk.

:func:`download` goes through the connection's pooled ``Agent`` and TLS
policy.  It writes ``.<name>.part`` beside the destination, resumes it
with ``Range: bytes=N-`` (starting over when the server answers with the
whole file), verifies size and checksum, and renames it into place.
Transient failures (a cut connection, 502/503/504) are retried under the
profile's retry options, each retry resuming where the last one stopped.
Memory stays at a few socket reads: every piece goes to disk as it
arrives.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from twisted.internet import defer, threads
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH

from txkoji.exceptions import KojiConnectionError, KojiHTTPError
from txkoji.files.attempts import retried
from txkoji.files.disk_writer import DiskWriter
from txkoji.files.naming import safe_relative
from txkoji.files.partial import PartialFile, Progress
from txkoji.paths import PathInfo
from txkoji.transport import HubTransport, normalized_url
from txkoji.transport_errors import translate_failure

_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)")


def file_url(connection: Any, url_or_path: str) -> str:
    """Return ``url_or_path`` when it is an http(s) URL, else the URL of
    that path under the connection's ``topurl``.

    :raises KojiConfigError: for a path when there is no ``topurl``.
    """
    if url_or_path.startswith(("http://", "https://")):
        return url_or_path
    return PathInfo.for_connection(connection).relative(url_or_path)


def destination_for(url: str, dest: str | os.PathLike[str]) -> Path:
    """Return the file a download of ``url`` writes: ``dest`` itself, or
    the URL's file name inside ``dest`` when that is a directory (or ends
    with a slash).

    :raises UnsafePathError: when the URL's file name is unsafe.
    """
    text = os.fspath(dest)
    if not (text.endswith(os.sep) or Path(text).is_dir()):
        return Path(text)
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return Path(text).joinpath(*safe_relative(name).parts)


class _ToFile(Protocol):
    """Append a response body to a :class:`PartialFile` (written in a
    thread: :mod:`txkoji.files.disk_writer`); ``finished`` fires when it
    ends and is all written, and cancelling it stops the transfer."""

    def __init__(self, part: PartialFile, url: str, reactor: Any) -> None:
        self.finished: defer.Deferred[Any] = defer.Deferred(self._cancel)
        self._part = part
        self._url = url
        self._settled = False
        self._writer = DiskWriter(
            part,
            lambda function, *args: threads.deferToThreadPool(
                reactor, reactor.getThreadPool(), function, *args
            ),
            lambda: self._transport().pauseProducing(),
            lambda: self._transport().resumeProducing(),
        )

    def _transport(self) -> Any:
        return self.transport

    def _stop(self) -> None:
        self._transport().stopProducing()

    def _cancel(self, _: defer.Deferred[Any]) -> None:
        self._settled = True
        self._stop()

    def dataReceived(self, data: bytes) -> None:
        if self._settled:
            return
        try:
            self._writer.write(data)
        except Exception:
            self._settled = True
            self._stop()
            self.finished.errback(Failure())

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._settled:
            return
        self._settled = True
        complete = reason.check(webclient.ResponseDone, PotentialDataLoss)

        def written(outcome: Any) -> None:
            if self.finished.called:  # cancelled meanwhile
                return
            if isinstance(outcome, Failure):
                self.finished.errback(outcome)
                return
            if complete:
                self.finished.callback(None)
                return
            self.finished.errback(
                KojiConnectionError(
                    f"the download from {self._url} was cut after "
                    f"{self._part.done} bytes",
                    self._url,
                )
            )

        self._writer.drained().addBoth(written)


class _Drain(Protocol):
    """Read and drop a body (so the connection can go back to the pool)."""

    def __init__(self) -> None:
        self.finished: defer.Deferred[Any] = defer.Deferred()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.finished.callback(None)


def _drain(response: Any) -> defer.Deferred[Any]:
    reader = _Drain()
    response.deliverBody(reader)
    return reader.finished


async def _attempt(connection: Any, url: str, part: PartialFile) -> None:
    """Make one try: resume (or restart) the partial file from the server."""
    transport: HubTransport = connection.transport
    for _ in range(2):
        offset = part.open()
        headers = Headers({b"User-Agent": [HubTransport.user_agent]})
        if offset:
            headers.addRawHeader(b"Range", b"bytes=%d-" % offset)
        try:
            response: Any = await transport.agent.request(
                b"GET", normalized_url(url), headers
            )
        except Exception:
            translate_failure(
                Failure(), url, "download", transport.tls_policy
            ).raiseException()
        code = response.code
        ranges = _CONTENT_RANGE.match(
            (response.headers.getRawHeaders(b"content-range") or [b""])[0].decode()
        )
        if code == 416 and offset:
            await _drain(response)
            total = ranges.group(2) if ranges else None
            if total is not None and total != "*" and int(total) == offset:
                part.size = offset if part.size is None else part.size
                return
            part.restart()
            continue
        if code == 206 and (ranges is None or int(ranges.group(1) or -1) != offset):
            await _drain(response)
            part.restart()
            continue
        if code not in (200, 206):
            await _drain(response)
            phrase = response.phrase.decode("latin-1", "replace")
            raise KojiHTTPError(
                f"{url} answered the download with HTTP {code} {phrase}",
                url,
                status=code,
                reason=phrase,
            )
        if code == 200 and offset:
            part.restart()
            offset = 0
        if part.size is None and response.length is not UNKNOWN_LENGTH:
            part.size = offset + response.length
        writer = _ToFile(part, url, connection.reactor)
        response.deliverBody(writer)
        await writer.finished
        return
    raise KojiConnectionError(f"{url} kept answering with the wrong range", url)


def fill(
    connection: Any,
    part: PartialFile,
    attempt: Callable[[], defer.Deferred[Any]],
    what: str,
) -> defer.Deferred[Any]:
    """Fill ``part`` by ``attempt`` (which resumes from ``part.open()``)
    under the profile's retry rules (see
    :func:`~txkoji.files.attempts.retried`).

    :returns: a Deferred firing with ``None`` once the body is on disk
        (not yet verified); the partial file is closed either way.
    """

    def closed(outcome: Any) -> Any:
        part.close()
        return outcome

    return retried(connection, attempt, what).addBoth(closed)


def fetch(
    connection: Any, url: str, part: PartialFile, what: str
) -> defer.Deferred[Any]:
    """Fill ``part`` from ``url`` (see :func:`fill`)."""

    def attempt() -> defer.Deferred[Any]:
        return defer.Deferred.fromCoroutine(_attempt(connection, url, part))

    return fill(connection, part, attempt, what)


def download(
    connection: Any,
    url_or_path: str,
    dest: str | os.PathLike[str],
    *,
    checksum: tuple[Any, str] | None = None,
    size: int | None = None,
    progress: Progress | None = None,
    overwrite: bool = False,
) -> defer.Deferred[Any]:
    """Download one file to disk.

    :param connection: a :class:`~txkoji.connection.Connection` (its
        pool, TLS policy, ``topurl`` and retry options are used).
    :param url_or_path: an http(s) URL, or a path under ``topurl`` (e.g.
        ``work/tasks/4821/57104821/build.log``).
    :param dest: the file to write, or a directory to write the URL's
        file name into.
    :param checksum: ``(kind, hexdigest)`` to verify, e.g. ``("sha256",
        "ab12...")`` or ``(2, "ab12...")`` with Koji's ``checksum_type``.
    :param size: the expected size in bytes (else the server's
        ``Content-Length``).
    :param progress: called as ``progress(done, total)`` as bytes arrive
        (``total`` None when unknown).
    :param overwrite: replace an existing file.
    :returns: a Deferred firing with the :class:`~pathlib.Path` written.
        It fails with ``DestinationExists``, ``UnsafePathError``,
        ``ChecksumMismatch`` (nothing is kept), ``KojiHTTPError`` (e.g.
        404), or a transport error once retries are used up (the partial
        file is kept for a resume).  Cancelling it stops the transfer and
        keeps the partial file.
    """
    try:
        url = file_url(connection, url_or_path)
        target = destination_for(url, dest)
        part = PartialFile(
            target, overwrite=overwrite, checksum=checksum, size=size, progress=progress
        )
    except Exception:
        return defer.fail()
    d = fetch(connection, url, part, f"download of {target.name}")
    return d.addCallback(lambda _: part.finish())
