"""The fake hub's raw ("fast") upload endpoint.

A POST to the hub URL with ``Content-Type: application/octet-stream`` is
an upload: the query string names the file (``filename``, ``filepath``,
``offset``, ``fileverify``, ``overwrite``, ``volume``), the body is the
chunk, and the answer is an ordinary XML-RPC response
``{size, fileverify, offset, hexdigest}`` (section 7.1 of the protocol
notes):

* the caller must be logged in (ActionNotAllowed otherwise); the session
  is checked as for calls, but an upload's call number is never stored;
* the first uploader of a directory owns it; others get GenericError;
* ``offset=0`` onto an existing file without ``overwrite`` is refused;
  ``overwrite`` (any non-empty value) truncates at ``offset``; without it
  the file's length must be ``offset`` + the chunk's length afterwards;
  ``offset=-1`` appends;
* one upload to a file at a time: another one meanwhile gets LockError.

Fault rules for method :data:`UPLOAD_METHOD` apply: ``drop`` writes the
first half of the chunk and closes the connection without an answer (a
transfer cut mid-stream); ``malformed`` writes the chunk and answers XML
that is not well-formed; ``delay`` holds the file's lock while it waits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from txkoji.exceptions import ActionNotAllowed, GenericError
from txkoji.files.checksums import Adler32
from txkoji.testing.dispatch import CallContext, HubServices
from txkoji.testing.state import HubState

if TYPE_CHECKING:
    from pathlib import Path

    from twisted.web.server import Request

#: The name fault rules use for raw uploads.
UPLOAD_METHOD = "upload"


#: The checksums ``fileverify`` and ``checkUpload(verify=...)`` accept.
VERIFIERS: dict[str, Callable[[], Any]] = {
    "adler32": Adler32,
    "md5": lambda: hashlib.md5(usedforsecurity=False),
    "sha256": hashlib.sha256,
}


def verifier(name: str | None) -> Any:
    """Return a new checksum object for ``name``, or None for no check.

    :raises GenericError: for a name the hub does not know.
    """
    if not name:
        return None
    try:
        return VERIFIERS[name]()
    except KeyError:
        raise GenericError(f"Unsupported verify type: {name}") from None


def _query(request: Request) -> dict[str, str]:
    raw = request.uri.partition(b"?")[2].decode("utf-8", "replace")
    return {
        key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()
    }


class UploadEndpoint:
    """Handles the raw uploads of one :class:`~txkoji.testing.hub.FakeHub`
    (``hub``, serving ``state``).

    :ivar received: how many upload requests arrived (for tests).
    """

    def __init__(self, hub: HubServices, state: HubState) -> None:
        self._hub = hub
        self._state = state
        self.received = 0

    def open(self, request: Request) -> tuple[Path, dict[str, Any]]:
        """Check an upload request and lock its target.

        :returns: the target file and the parsed parameters.
        :raises KojiFault: the fault to answer with (nothing was written).
        """
        self.received += 1
        hub = self._hub
        ctx = CallContext(hub, self._state, request, UPLOAD_METHOD)
        hub.sessions.begin(ctx)
        if ctx.session is None:
            raise ActionNotAllowed("you must be logged-in to upload")
        query = _query(request)
        name = query.get("filename")
        if not name:
            raise GenericError("upload request without a filename")
        try:
            offset = int(query.get("offset") or 0)
        except ValueError:
            raise GenericError(f"Invalid upload offset: {query['offset']!r}") from None
        params: dict[str, Any] = {
            "name": name,
            "filepath": query.get("filepath", ""),
            "offset": offset,
            "overwrite": bool(query.get("overwrite")),
            "fileverify": query.get("fileverify") or "",
        }
        verifier(params["fileverify"])
        target = hub.files.upload_path(params["filepath"], name, ctx.session.user_id)
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise GenericError(f"destination not a file: {params['filepath']}/{name}")
        hub.files.lock(target)
        return target, params

    def write(
        self, target: Path, params: dict[str, Any], chunk: bytes
    ) -> dict[str, Any]:
        """Write a chunk as the hub does; the caller holds the lock.

        :returns: the upload's answer.
        :raises GenericError: for an existing file at offset 0 without
            overwrite, or a file of the wrong length afterwards.
        """
        offset, overwrite = params["offset"], params["overwrite"]
        if offset == 0 and target.exists() and not overwrite:
            raise GenericError(
                f"upload path exists: {params['filepath']}/{params['name']}"
            )
        mode = "r+b" if target.exists() else "w+b"
        with open(target, mode) as handle:
            if offset == -1:
                offset = handle.seek(0, 2)
            else:
                if overwrite:
                    handle.truncate(offset)
                handle.seek(offset)
            handle.write(chunk)
            length = handle.seek(0, 2)
        if not overwrite and params["offset"] != -1 and length != offset + len(chunk):
            raise GenericError(
                f"Incorrect upload length for {params['filepath']}/{params['name']} - "
                f"Expected {offset + len(chunk)}, actual {length}"
            )
        answer: dict[str, Any] = {
            "size": len(chunk),
            "fileverify": params["fileverify"],
            "offset": offset,
        }
        check = verifier(params["fileverify"])
        if check is not None:
            check.update(chunk)
            answer["hexdigest"] = check.hexdigest()
        return answer

    def write_partial(self, target: Path, params: dict[str, Any], chunk: bytes) -> None:
        """Write the first half of a chunk, as a hub does when the client's
        connection breaks mid-body (no checks, no answer)."""
        offset = params["offset"]
        mode = "r+b" if target.exists() else "w+b"
        with open(target, mode) as handle:
            if offset == -1:
                handle.seek(0, 2)
            else:
                if params["overwrite"]:
                    handle.truncate(offset)
                handle.seek(offset)
            handle.write(chunk[: len(chunk) // 2])
