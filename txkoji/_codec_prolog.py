"""The check of what comes before a document's root element (its prolog),
chunk by chunk, in time linear in its size."""

from __future__ import annotations

import re

#: The most bytes a document may have before its root element.
MAX_PROLOG = 64 * 1024

#: How many bytes of the document's start an error message quotes.
EXCERPT_BYTES = 100

_WHITESPACE = b" \t\r\n"

#: A whole prolog (byte order mark, whitespace, processing instructions
#: such as the XML declaration, comments), then the start of the root
#: element.
_PROLOG_THEN_ROOT = re.compile(
    rb"(?:\xef\xbb\xbf)?(?:[ \t\r\n]|<\?.*?\?>|<!--.*?-->)*+<(?=[^!?])", re.DOTALL
)
_BOM = b"\xef\xbb\xbf"


class PrologCheck:
    """Refuses a DOCTYPE or entity declaration, a document that is not
    UTF-8 XML, and a prolog longer than :data:`MAX_PROLOG`.

    Each chunk is looked at once: only the document's first bytes (for
    error messages), its last few (a declaration may straddle two chunks),
    and its start while too short to tell whether it is XML are kept.
    """

    __slots__ = ("_first", "_tail", "_undecided", "_size")

    def __init__(self) -> None:
        self._first = b""
        self._tail = b""
        self._undecided: bytes | None = b""
        self._size = 0

    @property
    def excerpt(self) -> str:
        """The start of the document, to quote in an error message."""
        return self._first.decode("utf-8", "replace")

    def check(self, data: bytes) -> str | None:
        """Look at ``data``, the next chunk of the document.

        :returns: what is wrong, or None.
        """
        if self._tail:
            window = self._tail + data
            if len(self._first) < EXCERPT_BYTES:
                self._first += data[: EXCERPT_BYTES - len(self._first)]
        else:
            window = data
            self._first = data[:EXCERPT_BYTES]
        self._tail = window[-8:]
        # Both declarations start with "<!": one scan rules them out.
        if b"<!" in window and (b"<!DOCTYPE" in window or b"<!ENTITY" in window):
            return "a DOCTYPE or entity declaration is refused"
        if self._undecided is not None and not self._starts_as_xml(data):
            return "not a UTF-8 XML document"
        return None

    def root_offset(self, data: bytes) -> int:
        """Return where the root element starts in ``data``, the first chunk
        of the document, or -1 when that chunk ends before it does (or is
        not XML)."""
        match = _PROLOG_THEN_ROOT.match(data)
        return match.end() - 1 if match else -1

    def count(self, size: int) -> str | None:
        """Count ``size`` more bytes parsed before the root element.

        :returns: what is wrong (the prolog is too long), or None.
        """
        self._size += size
        if self._size > MAX_PROLOG:
            return f"more than {MAX_PROLOG} bytes before the root element"
        return None

    def _starts_as_xml(self, data: bytes) -> bool:
        """Tell whether the document, ``data`` its latest chunk, may be
        UTF-8 XML: after any whitespace and byte order mark, a ``<`` not
        followed by a NUL (as UTF-16 would have it).  Too short to tell
        yet counts as yes."""
        start = self._undecided + data if self._undecided else data
        if start[:1] != b"<":
            start = start.lstrip(_WHITESPACE)
            if _BOM.startswith(start):
                self._undecided = start
                return True
            start = start.removeprefix(_BOM)
        if start[:1] not in (b"", b"<") or start[1:2] == b"\x00":
            return False
        self._undecided = start if len(start) < 2 else None
        return True
