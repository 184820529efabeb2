"""Checksums of transferred files, by the names and numbers Koji uses.

Koji records archive checksums as ``checksum_type`` 0 (md5), 1 (sha1) or
2 (sha256); raw uploads are checked with Adler-32 (starting value 1,
rendered as 8 lower-case hex digits), and ``checkUpload`` can also give
md5 or sha256.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any, Protocol

from txkoji.exceptions import KojiFileError

#: Koji's ``checksum_type`` numbers.
CHECKSUM_TYPES = {0: "md5", 1: "sha1", 2: "sha256"}


class Hasher(Protocol):
    """What a checksum object offers (a subset of hashlib's)."""

    def update(self, data: bytes) -> None:
        """Add ``data``."""

    def hexdigest(self) -> str:
        """Return the checksum so far as hex digits."""


class Adler32:
    """A hashlib-like Adler-32, as Koji's uploads use it."""

    name = "adler32"

    def __init__(self, data: bytes = b"") -> None:
        self.value = zlib.adler32(data)

    def update(self, data: bytes) -> None:
        """Add ``data``."""
        self.value = zlib.adler32(data, self.value)

    def hexdigest(self) -> str:
        """Return the checksum as 8 lower-case hex digits."""
        return f"{self.value:08x}"


#: Adler-32's modulus.
_ADLER_BASE = 65521


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """Return the Adler-32 of two pieces of data joined, from the Adler-32
    of each (``first``, ``second``) and the second's length, without
    reading the data again."""
    sum_a = (first & 0xFFFF) + (second & 0xFFFF) - 1
    sum_b = (first >> 16) + (second >> 16) + second_length * ((first & 0xFFFF) - 1)
    return (sum_b % _ADLER_BASE) << 16 | sum_a % _ADLER_BASE


def adler32_hex(data: bytes) -> str:
    """Return the Adler-32 of ``data`` as Koji renders it."""
    return f"{zlib.adler32(data):08x}"


def new_hasher(kind: Any) -> Hasher:
    """Return a new checksum object for ``kind``: ``"adler32"``,
    ``"md5"``, ``"sha1"``, ``"sha256"``, or a Koji ``checksum_type``
    number.

    :raises KojiFileError: for a kind Koji does not use.
    """
    name = CHECKSUM_TYPES.get(kind, kind) if isinstance(kind, int) else kind
    if name == "adler32":
        return Adler32()
    if name in ("md5", "sha1"):
        return hashlib.new(name, usedforsecurity=False)
    if name == "sha256":
        return hashlib.sha256()
    raise KojiFileError(
        f"unknown checksum type {kind!r} (expected adler32, md5, sha1, sha256 "
        "or a Koji checksum_type 0, 1, 2)"
    )
