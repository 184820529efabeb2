"""Telling which entries of a ``system.multicall`` answer did not change,
without decoding them (see :meth:`txkoji.hub_client.HubClient.multicall_digests`).

:class:`DigestingDecoder` collects the answer's bytes (the transport bounds
their size), finds the byte span of each entry's value (the array or struct
directly inside the answer's top array), and digests each span.  An entry
whose digest is one of those the caller says it already holds is replaced,
before decoding, by an empty array: the rest of the document is decoded by
the ordinary :class:`~txkoji.codec.ResponseDecoder`, every check
and bound included.  Skipping an entry is safe because the decoder refuses
comments, CDATA sections, processing instructions and DOCTYPEs: every
``<`` inside the document starts a tag, so an entry's bytes mean the same
wherever they stand, and bytes equal to those of an entry decoded before
decode to an equal value.  When the spans cannot be found exactly (a
container tag written in an unusual way, an answer that is not a list of
one container per call), nothing is skipped.
"""

from __future__ import annotations

import re
from hashlib import blake2b
from typing import Any

from txkoji.codec import ResponseDecoder

#: The container tags, as the scan recognizes them.
_CONTAINER = re.compile(rb"<(/?)(array|struct)(/?)>")

#: What an entry known to the caller is replaced with before decoding.
_SKIPPED = b"<array><data></data></array>"


class _Unchanged:
    """The type of :data:`UNCHANGED`."""

    def __repr__(self) -> str:
        return "UNCHANGED"


#: The outcome given for an entry left undecoded: its bytes are those of
#: the entry whose digest the caller gave.
UNCHANGED = _Unchanged()

#: The length of an entry's digest, in bytes.
DIGEST_SIZE = 16


def entry_spans(body: bytes) -> list[tuple[int, int]] | None:
    """Return the ``(start, end)`` byte offsets of the value of each entry
    of the multicall answer ``body`` (the containers directly inside its
    top array), or ``None`` when they cannot be told for sure."""
    matches = list(_CONTAINER.finditer(body))
    written = sum(
        body.count(tag) for tag in (b"<array", b"</array", b"<struct", b"</struct")
    )
    if len(matches) != written or not matches:
        return None
    first = matches[0]
    if first.group(1) or first.group(3) or first.group(2) != b"array":
        return None  # not an answer whose top value is an array
    spans: list[tuple[int, int]] = []
    depth, start = 1, 0
    for match in matches[1:]:
        closing, self_closing = match.group(1), match.group(3)
        if self_closing:
            if depth == 1:
                spans.append((match.start(), match.end()))
            continue
        if closing:
            depth -= 1
            if depth == 1:
                spans.append((start, match.end()))
            elif depth < 1:
                return None if depth < 0 or match is not matches[-1] else spans
        else:
            if depth == 1:
                start = match.start()
            depth += 1
    return None


def digest(span: bytes) -> bytes:
    """The digest of one entry's bytes."""
    return blake2b(span, digest_size=DIGEST_SIZE).digest()


class DigestingDecoder:
    """Decodes a ``system.multicall`` answer, skipping the entries whose
    digest is in ``known``.

    :param method: the method named in errors (``system.multicall``).
    :param record_class: as :class:`~txkoji.codec.ResponseDecoder`.
    :param shape: as :class:`~txkoji.codec.ResponseDecoder`.
    :param known: per call, the digest of the entry the caller holds (or
        ``None``).
    :ivar digests: after :meth:`close`, the digest of each entry (``None``
        for all when the entries could not be told apart).
    :ivar skipped: after :meth:`close`, the indexes of the entries skipped.
    """

    def __init__(
        self,
        method: str,
        record_class: type | None,
        shape: str,
        known: list[bytes | None],
    ) -> None:
        self._decoder = ResponseDecoder(method, record_class, shape)
        self._known = known
        self._chunks: list[bytes] = []
        self.digests: list[bytes | None] = [None] * len(known)
        self.skipped: set[int] = set()

    def feed(self, data: bytes) -> None:
        """Hold ``data``, the next chunk of the body."""
        self._chunks.append(data)

    def close(self) -> Any:
        """Decode the answer (the known entries replaced by an empty array)
        and return its value; raise as
        :meth:`~txkoji.codec.ResponseDecoder.close` does."""
        body = b"".join(self._chunks)
        self._chunks = []
        spans = entry_spans(body)
        if spans is not None and len(spans) == len(self._known):
            pieces, position = [], 0
            for index, (start, end) in enumerate(spans):
                value = digest(body[start:end])
                self.digests[index] = value
                if value == self._known[index]:
                    pieces += [body[position:start], _SKIPPED]
                    position = end
                    self.skipped.add(index)
            pieces.append(body[position:])
            body = b"".join(pieces)
        self._decoder.feed(body)
        return self._decoder.close()
