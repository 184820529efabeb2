"""Stream one file from ``topurl`` (or any URL) to disk.

:func:`download` goes through the connection's pooled ``Agent`` and TLS
policy, following redirects (at most :data:`MAX_REDIRECTS`, never from
https to http).  It writes ``.<name>.part`` beside the destination
(:mod:`txkoji.files.partial`: no symbolic link there is followed), stops
as soon as more than the expected size arrives, resumes it with
``Range: bytes=N-`` and ``If-Range`` with the validator (ETag or
Last-Modified) the server gave when it was written (starting over when
there is none, or the server answers with the whole file), verifies size
and checksum, and renames it into place.
Transient failures (a cut connection, 502/503/504) are retried under the
profile's retry options, each retry resuming where the last one stopped.
Memory stays at a few socket reads: every piece goes to disk as it
arrives, in 1 MiB writes; on a slow disk the writes move to a thread and
the connection is paused while more than 8 MiB wait for it
(:mod:`txkoji.files.disk_writer`), so the reactor is never held by the
disk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from twisted.internet import defer
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web.http import PotentialDataLoss
from twisted.web.http_headers import Headers
from twisted.web.iweb import UNKNOWN_LENGTH

from txkoji.exceptions import KojiConnectionError, KojiHTTPError, KojiTimeoutError
from txkoji.files.attempts import retried, with_timeout
from txkoji.files.naming import destination
from txkoji.files.offload import in_thread
from txkoji.files.partial import PartialFile, Progress
from txkoji.paths import PathInfo
from txkoji.transport import HubTransport, normalized_url
from txkoji.transport_errors import translate_failure

_CONTENT_RANGE = re.compile(r"bytes (?:(\d+)-\d+|\*)/(\d+|\*)")
#: The redirect statuses followed.
REDIRECTS = (301, 302, 303, 307, 308)
#: How many redirects one request follows at most.
MAX_REDIRECTS = 10


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

    :raises UnsafePathError: when the URL's file name is unsafe, or
        resolves outside ``dest`` (through a symbolic link there).
    """
    text = os.fspath(dest)
    if not (text.endswith(os.sep) or Path(text).is_dir()):
        return Path(text)
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return destination(text, name)


class _ToFile(Protocol):
    """Append a response body to a :class:`PartialFile`; ``finished``
    fires when it ends, and cancelling it stops the transfer.  With
    ``stall`` seconds, a body that sends nothing for that long fails with
    ``KojiTimeoutError`` (which the retry rules retry, resuming).  While
    the disk is behind (:attr:`PartialFile.congested`), the transfer is
    paused, and the stall timer with it."""

    def __init__(
        self, part: PartialFile, url: str, clock: Any, stall: float | None
    ) -> None:
        self.finished: defer.Deferred[Any] = defer.Deferred(self._cancel)
        self._part = part
        self._url = url
        self._clock = clock
        self._stall = stall
        self._timer: Any = None
        self._settled = False
        self._waiting_for_disk = False

    def connectionMade(self) -> None:
        self._start_timer()

    def _start_timer(self) -> None:
        if self._stall:
            self._timer = self._clock.callLater(self._stall, self._stalled)

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _stalled(self) -> None:
        self._timer = None
        self._settle(
            KojiTimeoutError(
                f"the download from {self._url} sent nothing for "
                f"{self._stall:g} s after {self._part.done} bytes (the timeout "
                "option)",
                self._url,
            )
        )

    def _settle(self, error: BaseException | Failure) -> None:
        self._settled = True
        self._stop_timer()
        transport: Any = self.transport
        transport.stopProducing()
        self.finished.errback(error)

    def _cancel(self, _: defer.Deferred[Any]) -> None:
        self._settled = True
        self._stop_timer()
        transport: Any = self.transport
        transport.stopProducing()

    def dataReceived(self, data: bytes) -> None:
        if self._settled:
            return
        if self._timer is not None:
            self._timer.reset(self._stall)
        try:
            self._part.write(data)
        except Exception:
            self._settle(Failure())
            return
        if self._part.congested and not self._waiting_for_disk:
            self._wait_for_disk()

    def _wait_for_disk(self) -> None:
        self._waiting_for_disk = True
        transport: Any = self.transport
        transport.pauseProducing()
        self._stop_timer()
        self._part.flush().addCallbacks(self._disk_caught_up, self._disk_failed)

    def _disk_caught_up(self, _: None) -> None:
        self._waiting_for_disk = False
        if self._settled:
            return
        self._start_timer()
        transport: Any = self.transport
        transport.resumeProducing()

    def _disk_failed(self, failure: Failure) -> None:
        # After the body ended, closing the file reports the same error.
        if not self._settled:
            self._settle(failure)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self._settled:
            return
        self._settled = True
        self._stop_timer()
        if reason.check(webclient.ResponseDone, PotentialDataLoss):
            self.finished.callback(None)
            return
        self.finished.errback(
            KojiConnectionError(
                f"the download from {self._url} was cut after {self._part.done} bytes",
                self._url,
            )
        )


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


def stall_seconds(connection: Any, stall_timeout: float | None) -> float | None:
    """Return the stall timeout of a download: ``stall_timeout`` when
    given, else the profile's ``timeout`` (as the official client's read
    timeout); None or 0 means none."""
    if stall_timeout is not None:
        return stall_timeout
    value = connection.config.get("timeout")
    return float(value) if value else None


def _refused_redirect(url: str, code: int, why: str) -> KojiHTTPError:
    return KojiHTTPError(
        f"{url} answered the download with HTTP {code}: {why}",
        url,
        status=code,
        reason=why,
    )


async def _get(
    connection: Any, url: str, headers: Headers, stall: float | None
) -> tuple[Any, str]:
    """GET ``url``, following up to :data:`MAX_REDIRECTS` redirects (never
    from https to plain http).

    :returns: the response (not a redirect) and the URL that gave it.
    """
    transport: HubTransport = connection.transport
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        d = transport.agent.request(b"GET", normalized_url(current), headers)
        d.addErrback(translate_failure, current, "download", transport.tls_policy)
        what = f"the download from {current}"
        response: Any = await with_timeout(d, connection.clock, stall, what, current)
        code = response.code
        if code not in REDIRECTS:
            return response, current
        location = response.headers.getRawHeaders(b"location")
        await _drain(response)
        if not location:
            raise _refused_redirect(current, code, "a redirect without a Location")
        target = urljoin(current, location[0].decode("latin-1"))
        scheme = urlsplit(target).scheme
        if scheme not in ("http", "https"):
            raise _refused_redirect(current, code, f"refusing the redirect to {target}")
        if urlsplit(current).scheme == "https" and scheme == "http":
            raise _refused_redirect(
                current,
                code,
                f"refusing the redirect to {target}: it leaves https for plain http",
            )
        current = target
    raise _refused_redirect(
        url, code, f"more than {MAX_REDIRECTS} redirects (the last to {current})"
    )


def _validator(response: Any) -> str | None:
    """The response's strong validator for ``If-Range``: its ETag (not a
    weak one), else its Last-Modified date."""
    etag = (response.headers.getRawHeaders(b"etag") or [b""])[0].decode("latin-1")
    if etag and not etag.startswith("W/"):
        return etag
    modified = response.headers.getRawHeaders(b"last-modified") or [b""]
    return modified[0].decode("latin-1") or None


def _same_version(response: Any, validator: str) -> bool:
    """Whether an answer is of the version ``validator`` (an ETag or a
    date) names; True when the answer does not say."""
    header = b"etag" if validator.startswith('"') else b"last-modified"
    found = response.headers.getRawHeaders(header)
    return not found or found[0].decode("latin-1") == validator


def _recorded_validator(part: PartialFile, url: str) -> str | None:
    """The validator recorded with ``part`` when it came from ``url``."""
    source = part.source()
    if source is None or source.get("url") != url:
        return None
    validator = source.get("validator")
    return validator if isinstance(validator, str) and validator else None


async def _attempt(
    connection: Any, url: str, part: PartialFile, stall: float | None
) -> None:
    """Make one try: resume the partial file from the server when it holds
    the start of the same remote file (``If-Range`` with the validator
    recorded when it was written), else start over."""
    for _ in range(2):
        # Writes of a failed attempt may still be going to a slow disk.
        await part.flush()
        offset = part.open()
        validator = _recorded_validator(part, url) if offset else None
        if offset and validator is None:
            part.restart()
            offset = 0
        headers = Headers({b"User-Agent": [HubTransport.user_agent]})
        if offset:
            headers.addRawHeader(b"Range", b"bytes=%d-" % offset)
            headers.addRawHeader(b"If-Range", str(validator).encode("latin-1"))
        response, where = await _get(connection, url, headers, stall)
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
        if code == 206 and (
            ranges is None
            or int(ranges.group(1) or -1) != offset
            or (validator is not None and not _same_version(response, validator))
        ):
            # Not the range asked for, or of another version of the file
            # (a server that ignored If-Range).
            await _drain(response)
            part.restart()
            continue
        if code not in (200, 206):
            await _drain(response)
            phrase = response.phrase.decode("latin-1", "replace")
            raise KojiHTTPError(
                f"{where} answered the download with HTTP {code} {phrase}",
                where,
                status=code,
                reason=phrase,
            )
        if code == 200 and offset:
            part.restart()
            offset = 0
        if code == 200:
            found = _validator(response)
            if found:
                part.remember({"url": url, "validator": found})
        if part.size is None and response.length is not UNKNOWN_LENGTH:
            part.size = offset + response.length
        writer = _ToFile(part, where, connection.clock, stall)
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
        (not yet verified); the partial file is closed either way (and
        removed after a failure when it holds nothing to resume).
    """

    part.run_in_thread = lambda job: in_thread(connection, job)

    def closed(outcome: Any) -> defer.Deferred[Any]:
        failed = isinstance(outcome, Failure)

        def close(_: Any) -> Any:
            try:
                part.close(failed=failed)
            except Exception:
                # Writing out the last bytes failed: that is the error,
                # unless the transfer had failed already.
                if not failed:
                    raise
            return outcome

        # Every write must be done before the file is closed; a write that
        # failed in a thread fails the close with its error.
        return part.flush().addBoth(close)

    return retried(connection, attempt, what).addBoth(closed)


def fetch(
    connection: Any,
    url: str,
    part: PartialFile,
    what: str,
    stall_timeout: float | None = None,
) -> defer.Deferred[Any]:
    """Fill ``part`` from ``url`` (see :func:`fill`), failing an attempt
    that receives nothing for the stall timeout (see
    :func:`stall_seconds`)."""
    stall = stall_seconds(connection, stall_timeout)

    def attempt() -> defer.Deferred[Any]:
        return defer.Deferred.fromCoroutine(_attempt(connection, url, part, stall))

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
    stall_timeout: float | None = None,
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
    :param overwrite: replace an existing file (a symbolic link there is
        replaced, never written through).
    :param stall_timeout: seconds without data after which an attempt
        fails (and is retried, resuming); default: the profile's
        ``timeout``.
    :returns: a Deferred firing with the :class:`~pathlib.Path` written.
        It fails with ``DestinationExists``, ``UnsafePathError`` (also for
        a symbolic link or special file at the temporary file's name),
        ``ChecksumMismatch`` (also as soon as more than the expected size
        arrives; nothing is kept), ``KojiHTTPError`` (e.g. 404, a refused
        redirect), ``KojiTimeoutError`` for a stalled transfer, or a
        transport error once retries are used up (the partial file is kept
        for a resume when it holds something).  Cancelling it stops the
        transfer and keeps the partial file.
    """
    try:
        url = file_url(connection, url_or_path)
        target = destination_for(url, dest)
        part = PartialFile(
            target, overwrite=overwrite, checksum=checksum, size=size, progress=progress
        )
    except Exception:
        return defer.fail()
    d = fetch(connection, url, part, f"download of {target.name}", stall_timeout)
    return d.addCallback(lambda _: part.finish())
