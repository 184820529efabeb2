"""The fast path of XML-RPC decoding: answers written the way Koji's hub
writes them, decoded a whole member or item at a time.

The hub's answers are regular: no attributes, no comments, no character
references, tags in fixed patterns (see the protocol reference, 2.1).
:class:`FastDecoder` matches each scalar ``<member>`` or array item with
one regular expression and converts it at once, building no element tree.
It accepts a strict subset of what the full decoder
(:class:`~txkoji._codec_decode.TreeDecoder`) accepts, and for that subset
returns exactly what the full decoder would.  At the first thing outside
the subset (anything else the XML allows, and everything malformed or
invalid) it *declines*: the full decoder takes over, from the start of the
document while the fast path still holds it (up to :data:`RETAIN_BYTES`),
else from where the fast path stopped (:attr:`FastDecoder.frames` and
:meth:`FastDecoder.rest`).
Every check of the full decoder therefore still applies to every answer,
and every error is the full decoder's.
"""

from __future__ import annotations

import re
from typing import Any

from txkoji._codec_values import LEAVES, MAX_DEPTH, Plan

#: How many bytes of a document the fast path keeps, so that the full
#: decoder can start it again from its first byte when the fast path
#: declines.  Past this (a large answer), the full decoder resumes from
#: where the fast path stopped instead.
RETAIN_BYTES = 256 * 1024

#: The most text the fast path holds waiting for the end of one member or
#: item; a longer one is left to the full decoder.
MAX_PENDING = 1024 * 1024

#: The most text before the answer's value starts (its ``<value>``).
MAX_START = 1024

_WS = "[ \t\n]*+"
# Text: a carriage return or control character never gets here (a chunk
# holding one is declined before matching).
_TEXT = "[^<]*+"
# After <value>: a typed scalar, <nil/>, or untyped text, then </value>.
# (Possessive quantifiers: nothing they take is ever given back.)
_SCALAR = (
    f"(?:{_WS}<(?!struct>|array>)([a-zA-Z0-9.]++)>({_TEXT})</\\{{type}}>{_WS}|{_WS}<(nil)/>{_WS}"
    f"|({_TEXT}))</value>"
)
# After <value>: the start of a struct, or of an array and its <data>.
_CONTAINER = f"{_WS}(?:<(struct)>|<array>{_WS}<data>)"
_MEMBER_START = f"{_WS}<member>{_WS}<name>({_TEXT})</name>{_WS}<value>"
_TOP_START = (
    "(?:<\\?xml version=(['\"])1\\.0\\1"
    "(?: encoding=(['\"])(?:utf-8|UTF-8)\\2)?\\?>)?"
    f"{_WS}<methodResponse>{_WS}<params>{_WS}<param>{_WS}<value>"
)
_TOP_END = f"{_WS}</param>{_WS}</params>{_WS}</methodResponse>{_WS}"


def _scalar_after(groups_before: int) -> str:
    """Return :data:`_SCALAR` for a pattern with ``groups_before`` groups
    before it (its back reference numbered to match)."""
    return _SCALAR.replace("{type}", str(groups_before + 1))


#: A member whose value is a scalar: groups name, type, typed text, nil,
#: untyped text.
_MEMBER = re.compile(f"{_MEMBER_START}{_scalar_after(1)}{_WS}</member>")
#: A member whose value is an array or struct: groups name, "struct".
_MEMBER_OPEN = re.compile(f"{_MEMBER_START}{_CONTAINER}")
#: An array item that is a scalar: groups type, typed text, nil, untyped.
_ITEM = re.compile(f"{_WS}<value>{_scalar_after(0)}")
#: An array item that is an array or struct: group "struct".
_ITEM_OPEN = re.compile(f"{_WS}<value>{_CONTAINER}")
_TOP = re.compile(_TOP_START)
_TOP_SCALAR = re.compile(f"{_TOP_START}{_scalar_after(2)}")
_TOP_END_RE = re.compile(_TOP_END)
_TOP_OPEN = re.compile(f"{_TOP_START}{_CONTAINER}")

# The end of a container, by whether it is a struct and whether it is a
# member's value (else an array item, or the answer's value).
_ENDS = {
    (True, True): re.compile(f"{_WS}</struct>{_WS}</value>{_WS}</member>"),
    (True, False): re.compile(f"{_WS}</struct>{_WS}</value>"),
    (False, True): re.compile(f"{_WS}</data>{_WS}</array>{_WS}</value>{_WS}</member>"),
    (False, False): re.compile(f"{_WS}</data>{_WS}</array>{_WS}</value>"),
}

#: Byte by byte: 0 for a byte outside the subset (a control character or
#: a carriage return), 2 for one that may start something outside it
#: (``]`` of ``]]>``, refused in character data; the lead byte of U+FFFE
#: and U+FFFF), 1 for the rest.
_BYTE_CLASSES = bytes(
    0 if byte < 0x20 and byte not in (0x09, 0x0A) else 2 if byte in (0x5D, 0xEF) else 1
    for byte in range(256)
)
_ENTITY = re.compile("&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_WHITESPACE_ONLY = re.compile(_WS + "\\Z")
_STRAY_AMPERSAND = re.compile("&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")


_TAG_NAMES = (
    "methodResponse params param value struct member name array data "
    "string int i4 i8 boolean double dateTime.iso8601 base64 nil"
).split()
#: Every tag the subset has.
_TAGS = frozenset(
    [f"<{name}>" for name in _TAG_NAMES]
    + [f"</{name}>" for name in _TAG_NAMES]
    + ["<nil/>"]
)
#: Each ``<`` with what follows up to its ``>`` (or up to the next ``<``,
#: or the end).
_TAG_OR_START = re.compile("<[^<>]*+>?")
#: More complete tags than any one member, item or end of a container has
#: (so more cannot be waiting for text).
_MOST_TAGS = 12


def _after(text: str, first: str, then: str) -> bool:
    """Return whether ``then`` is in ``text`` after a ``first``."""
    at = text.find(first)
    return at >= 0 and then in text[at:]


def _unit_complete(text: str, decoder: FastDecoder) -> bool:
    """Return whether the text left over holds the whole of the next
    member, item or container end, so that its not matching was not for
    want of text."""
    if decoder.frames:
        frame = decoder.frames[-1]
        if "<struct>" in text or "<data>" in text:
            return True
        if frame.is_struct:
            if "</member>" in text:
                return True
            return not frame.in_member and _after(text, "</struct>", "</value>")
        if "</data>" in text:
            if frame.in_member:
                return "</member>" in text
            return _after(text, "</data>", "</value>")
        return "</value>" in text
    if not decoder.done:
        return "</value>" in text or "<struct>" in text or "<data>" in text
    return "</methodResponse>" in text


class Declined(Exception):
    """The document is outside the fast path's subset (at this point)."""


def _character(match: re.Match[str]) -> str:
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        return _NAMED[name]
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    # A reference may stand for any character XML 1.0 has (a carriage
    # return included); a reference to any other is left to the full
    # decoder, to refuse.
    if code < 0x20 and code not in (0x09, 0x0A, 0x0D):
        raise Declined
    if 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF) or code > 0x10FFFF:
        raise Declined
    return chr(code)


def _outside_subset(data: bytes) -> bool:
    """Return whether the UTF-8 ``data`` holds a character or sequence
    outside the subset."""
    classes = data.translate(_BYTE_CLASSES)
    if 0 in classes:
        return True
    return 2 in classes and (
        b"]]>" in data or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data
    )


def unescape(text: str) -> str:
    """Return character data ``text`` with its entity and character
    references replaced.

    :raises Declined: for any other ``&``, or a reference to a character
        outside the subset.
    """
    if _STRAY_AMPERSAND.search(text):
        raise Declined
    return _ENTITY.sub(_character, text)


def _convert(kind: str, text: str) -> Any:
    """Return the value of a scalar ``<kind>`` other than a string."""
    try:
        return LEAVES[kind](text)
    except (ValueError, KeyError):
        raise Declined from None


class Frame:
    """An array or struct still open, and where it sits.

    :ivar value: the list or struct being filled.
    :ivar plan: the plan for the values it holds.
    :ivar is_struct: whether it is a struct (else an array).
    :ivar in_member: whether it is a member's value (else an array item,
        or the answer's value).
    :ivar name: its member name, when it is a member's value.
    """

    __slots__ = ("value", "plan", "is_struct", "in_member", "name")

    def __init__(
        self, value: Any, plan: Plan, is_struct: bool, in_member: bool, name: str
    ) -> None:
        self.value = value
        self.plan = plan
        self.is_struct = is_struct
        self.in_member = in_member
        self.name = name


class FastDecoder:
    """Decodes a ``methodResponse`` holding a value (not a fault) in the
    hub's own layout, chunk by chunk.

    :meth:`feed` and :meth:`close` raise :class:`Declined` where the
    document leaves the subset; then :attr:`retained` holds the whole
    document so far, or (for a large one) :attr:`frames` and :meth:`rest`
    say where to resume.

    :param plan: where the value builds records.
    :ivar frames: the arrays and structs open, outermost first.
    :ivar done: whether the answer's value is complete.
    :ivar ended: whether the document's root element has ended too.
    :ivar value: the answer's value (complete once :attr:`done`).
    :ivar retained: every chunk fed so far, until the document is past
        :data:`RETAIN_BYTES` and its value has started (then None).
    """

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._text = ""
        self._undecoded = b""
        self._last = b""
        self._wait_for = 0
        self._retained_size = 0
        self.retained: list[bytes] | None = []
        self.frames: list[Frame] = []
        self.done = False
        self.ended = False
        self.value: Any = None
        self._started = False
        self._names: dict[str, str] = {}

    def feed(self, data: bytes) -> None:
        """Decode ``data``, the next chunk of the document.

        :raises Declined: where the document leaves the subset.
        """
        retained = self.retained
        if retained is not None:
            retained.append(data)
            self._retained_size += len(data)
        undecoded = self._undecoded + data if self._undecoded else data
        try:
            chunk = undecoded.decode()
            self._undecoded = b""
        except UnicodeDecodeError as error:
            # A character cut at the end waits for the next chunk.
            if error.reason != "unexpected end of data":
                self._undecoded = undecoded
                raise Declined from None
            chunk = undecoded[: error.start].decode()
            self._undecoded = undecoded[error.start :]
        text = self._text
        if _outside_subset(data) or (
            self._last and _outside_subset(self._last + data[:2])
        ):
            self._undecoded = chunk.encode() + self._undecoded
            raise Declined
        self._last = data[-2:] if len(data) >= 2 else (self._last + data)[-2:]
        text = text + chunk if text else chunk
        if len(text) < self._wait_for:
            self._text = text
            return
        self._run(text)
        if self._text:
            self._check_left_over()
        # A member or item still incomplete is matched again only once the
        # text held has doubled: a long one is not scanned at every chunk.
        self._wait_for = 2 * len(self._text) if len(self._text) > 4096 else 0
        if (
            retained is not None
            and self._retained_size > RETAIN_BYTES
            and (self.frames or self.done)
        ):
            self.retained = None

    def close(self) -> Any:
        """Return the answer's value.

        :raises Declined: when the document is incomplete, or ends outside
            the subset.
        """
        if self._undecoded:
            # The document ends inside a character.
            raise Declined
        if not self.ended:
            self._run(self._text)
        if not self.ended or (self._text and not _WHITESPACE_ONLY.match(self._text)):
            raise Declined
        return self.value

    def _check_left_over(self) -> None:
        # Decline as soon as the text left over cannot be the start of what
        # may come next (so that errors are raised at once, by the full
        # decoder): a tag outside the subset, a unit complete yet not
        # matched, or too much text.
        text = self._text
        if len(text) > MAX_PENDING or (
            len(text) > MAX_START and not self._started and _TOP.match(text) is None
        ):
            raise Declined
        tags = _TAG_OR_START.findall(text)
        last = len(tags) - 1
        for index, tag in enumerate(tags):
            if tag in _TAGS:
                continue
            if index == 0 and tag.startswith("<?xml ") and not self._started:
                continue
            if index == last and tag[-1] != ">" and text.endswith(tag):
                if any(known.startswith(tag) for known in _TAGS):
                    continue
                if not self._started and "<?xml ".startswith(tag[:6]):
                    continue
            raise Declined
        if len(tags) > _MOST_TAGS or _unit_complete(text, self):
            raise Declined

    def rest(self) -> bytes:
        """Return the bytes fed but not decoded yet."""
        return self._text.encode() + self._undecoded

    def _run(self, text: str) -> None:
        # Decode what can be from the start of ``text``; keep the rest
        # (also when declining: what was decoded is in the values).
        pos = self._decode(text)
        self._text = text[pos:] if pos else text

    def _open(
        self, match: re.Match[str], plan: Plan, in_member: bool, name: str = ""
    ) -> Any:
        # Start the array or struct ``match`` opened; return its value.
        if len(self.frames) >= MAX_DEPTH - 1:
            raise Declined
        value: Any
        # The last group of each opening pattern is "struct" or None.
        if match.group(match.re.groups) is not None:
            cls = plan.struct_class
            value = cls.__new__(cls)
            self.frames.append(Frame(value, plan.members, True, in_member, name))
        else:
            value = []
            self.frames.append(Frame(value, plan.items, False, in_member, name))
        return value

    def _decode(self, text: str) -> int:
        pos = 0
        frames = self.frames
        member_match = _MEMBER.match
        item_match = _ITEM.match
        names = self._names
        try:
            while True:
                if not frames:
                    if self.done:
                        if self.ended:
                            return pos
                        match = _TOP_END_RE.match(text, pos)
                        if match is None:
                            return pos
                        self.ended = True
                        return match.end()
                    match = _TOP_SCALAR.match(text, pos)
                    if match is not None:
                        kind, typed, nil, untyped = match.groups()[-4:]
                        self.value = _scalar(kind, typed, nil, untyped)
                        self.done = True
                        pos = match.end()
                        continue
                    match = _TOP_OPEN.match(text, pos)
                    if match is None:
                        return pos
                    self.value = self._open(match, self._plan, False)
                    self._started = True
                    pos = match.end()
                    continue
                frame = frames[-1]
                container = frame.value
                if frame.is_struct:
                    match = member_match(text, pos)
                    while match is not None:
                        name, kind, typed, nil, untyped = match.groups()
                        if "&" in name:
                            name = unescape(name)
                        # One string object per member name: records
                        # share their keys, as the hub's own do.
                        key = names.get(name)
                        if key is None:
                            names[name] = key = name
                        name = key
                        if kind == "string":
                            container[name] = unescape(typed) if "&" in typed else typed
                        elif kind == "int" and typed.isdigit() and typed.isascii():
                            # The common int, at once; any other is
                            # converted (or refused) by _int.
                            container[name] = int(typed)
                        elif kind:
                            container[name] = _convert(kind, typed)
                        elif nil:
                            container[name] = None
                        else:
                            container[name] = (
                                unescape(untyped) if "&" in untyped else untyped
                            )
                        pos = match.end()
                        match = member_match(text, pos)
                    match = _MEMBER_OPEN.match(text, pos)
                    if match is not None:
                        name = match.group(1)
                        if "&" in name:
                            name = unescape(name)
                        container[name] = self._open(match, frame.plan, True, name)
                        pos = match.end()
                        continue
                else:
                    append = container.append
                    match = item_match(text, pos)
                    while match is not None:
                        kind, typed, nil, untyped = match.groups()
                        if kind == "string":
                            append(unescape(typed) if "&" in typed else typed)
                        else:
                            append(_scalar(kind, typed, nil, untyped))
                        pos = match.end()
                        match = item_match(text, pos)
                    match = _ITEM_OPEN.match(text, pos)
                    if match is not None:
                        append(self._open(match, frame.plan, False))
                        pos = match.end()
                        continue
                match = _ENDS[frame.is_struct, frame.in_member].match(text, pos)
                if match is None:
                    return pos
                frames.pop()
                pos = match.end()
                if not frames:
                    self.done = True
        except Declined:
            self._text = text[pos:]
            raise


def _scalar(kind: str | None, typed: str, nil: str | None, untyped: str) -> Any:
    """Return the value of a scalar matched as (type, typed text, nil,
    untyped text)."""
    if kind is None:
        if nil is not None:
            return None
        return unescape(untyped) if "&" in untyped else untyped
    if kind == "string":
        return unescape(typed) if "&" in typed else typed
    return _convert(kind, typed)
