"""Streaming XML-RPC decoding in Koji's dialect (the decoding half of
:mod:`txkoji.codec`).

The C-accelerated ElementTree parser builds elements as the bytes arrive;
after every :data:`CONVERT_BYTES` of the document the decoder walks the
path of open elements: it refuses any element out of place there, and
nesting beyond :data:`~txkoji._codec_values.MAX_DEPTH`, and converts the
elements that are complete (every child of an open array or struct but
the last) into Python values and deletes them.  So the tree never holds
more than about one such stretch of the document beside the open path,
whatever the document, and the values are built once, straight into their
final classes.
"""

from __future__ import annotations

import gc
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from munch import Munch

from txkoji._codec_encode import escape_text
from txkoji._codec_fast import Declined, FastDecoder, Frame
from txkoji._codec_open_path import convert_open_path
from txkoji._codec_prolog import PrologCheck
from txkoji._codec_values import (
    Invalid,
    Plan,
    expect,
    plan_for,
    value_of,
)
from txkoji.exceptions import KojiProtocolError, fault_for

#: How many characters of the document an error message quotes.
EXCERPT_CHARS = 100

_TAIL_BYTES = 256


#: The size from which a chunk is parsed and converted with the cyclic
#: garbage collector paused.  Such a chunk allocates elements and
#: containers by the thousand, none of them in reference cycles:
#: collections triggered by those allocations would only scan them in vain
#: (a quarter of the CPU time of a 10 MB answer).  Smaller chunks, the whole
#: of most answers, leave the collector alone.
PAUSE_GC_BYTES = 16384

#: How much of an answer is parsed before the open elements are checked,
#: its finished values converted, and the parsed elements dropped (a larger
#: chunk is parsed in pieces of this size).
CONVERT_BYTES = 64 * 1024


def _excerpt_of(element: Element) -> str:
    """Return the start of ``element``, re-serialized (its start tags and
    texts, up to about :data:`EXCERPT_CHARS`)."""
    parts, size = [], 0
    for node in element.iter():
        part = f"<{node.tag}>{node.text or ''}"
        parts.append(part)
        size += len(part)
        if size >= EXCERPT_CHARS:
            break
    return "".join(parts)


class TreeDecoder:
    """Parses one XML-RPC document fed in chunks and converts its values.

    :param method: the hub method, named in error messages.
    :param plan: where the top-level value builds records.
    """

    def __init__(self, method: str | None, plan: Plan) -> None:
        self.method = method
        self._plan = plan
        self._builder = TreeBuilder()
        # The document's root becomes a child of this element, so the
        # decoder can reach the tree while it is being built.
        self._document = self._builder.start("document", {})
        self._parser = XMLParser(target=self._builder)
        self._partial: dict[Element, Any] = {}
        # Checks the bytes before the root element, until it starts.
        self._prolog: PrologCheck | None = PrologCheck()
        self._tail = b""
        # Lines before the last chunk fed (which is counted only when the
        # next one comes: most answers arrive whole).
        self._lines = 0
        self._last = b""
        # Bytes parsed so far, and where the line holding the tail's first
        # byte starts (both counted from the document's start): expat's
        # column counts from there when the line began before the tail.
        self._parsed = 0
        self._tail_line_start = 0
        self._error: KojiProtocolError | None = None

    # -- errors ---------------------------------------------------------

    def _fail(self, problem: str, excerpt: str) -> KojiProtocolError:
        what = f"answer to {self.method}" if self.method else "call"
        excerpt = excerpt[:EXCERPT_CHARS]
        self._error = KojiProtocolError(
            f"malformed XML-RPC {what}: {problem}, near {excerpt!r}",
            self.method,
            excerpt,
        )
        return self._error

    def _fail_at(
        self, problem: str, window: bytes, first_line: int, position: tuple[int, int]
    ) -> KojiProtocolError:
        line, column = position
        if line == first_line:
            # The line began before the window, where the tail's line did.
            window_start = self._parsed - len(self._tail)
            offset = max(0, column - (window_start - self._tail_line_start))
        else:
            offset = 0
            for _ in range(line - first_line):
                offset = window.find(b"\n", offset) + 1
            offset += column
        start = max(0, offset - EXCERPT_CHARS // 2)
        text = window[start : start + EXCERPT_CHARS].decode("utf-8", "replace")
        return self._fail(problem, text)

    def fail_element(self, invalid: Invalid) -> KojiProtocolError:
        """Return (and remember) the protocol error for ``invalid``, quoting
        the offending element."""
        return self._fail(invalid.problem, _excerpt_of(invalid.element))

    # -- parsing --------------------------------------------------------

    def feed_xml(self, data: bytes) -> None:
        """Parse ``data``, the next chunk of the document.

        :raises KojiProtocolError: when the document cannot be XML-RPC, has
            more than :data:`~txkoji._codec_prolog.MAX_PROLOG` bytes before
            its root element, or
            holds a comment, CDATA section or processing instruction inside
            its root element (none of which XML-RPC needs, and each a token
            the parser would scan again and again while it grows).
        """
        if self._error is not None:
            raise self._error
        prolog = self._prolog
        if prolog is not None:
            problem = prolog.check(data)
            if problem:
                raise self._fail(problem, prolog.excerpt)
            root = prolog.root_offset(data) if not self._last else -1
            if root < 0:
                data = self._parse_prolog(prolog, data)
            else:
                # The usual first chunk: the prolog, then the root element.
                self._refuse_other_markup(data, root)
                self._parse(data)
                if len(self._document):
                    self._prolog = None
                return
        if data:
            self._refuse_other_markup(data, 0)
            self._parse(data)

    def _refuse_other_markup(self, data: bytes, start: int) -> None:
        """Refuse ``<!`` or ``<?`` in ``data`` from ``start`` on, the inside
        of the root element."""
        at = -1
        if data.find(b"!", start) >= 0 or data.find(b"?", start) >= 0:
            found = [data.find(b"<!", start), data.find(b"<?", start)]
            at = min((offset for offset in found if offset >= 0), default=-1)
        if (
            at < 0
            and not start
            and self._tail[-1:] == b"<"
            and data[:1] in (b"!", b"?")
        ):
            at = 0
        if at >= 0:
            raise self._fail(
                "a comment, CDATA section or processing instruction is refused "
                "inside the document",
                data[at : at + EXCERPT_CHARS].decode("utf-8", "replace"),
            )

    def _parse_prolog(self, prolog: PrologCheck, data: bytes) -> bytes:
        """Parse ``data`` up to the end of the root element's start tag, one
        ``>`` at a time, and return the rest (empty while the root has not
        started)."""
        start = 0
        while start < len(data):
            end = data.find(b">", start) + 1 or len(data)
            self._parse(data[start:end] if start or end < len(data) else data)
            if len(self._document):
                self._prolog = None
                return data[end:]
            problem = prolog.count(end - start)
            if problem:
                raise self._fail(problem, prolog.excerpt)
            start = end
        return b""

    def _parse(self, data: bytes) -> None:
        if self._last:
            self._lines += self._last.count(b"\n")
        try:
            self._parser.feed(data)
        except ParseError as error:
            first_line = 1 + self._lines - self._tail.count(b"\n")
            raise self._fail_at(
                str(error), self._tail + data, first_line, error.position
            )
        self._last = data
        self._move_tail(data)

    def _move_tail(self, data: bytes) -> None:
        # Keep the last bytes parsed, and the start of the line holding
        # the first of them.
        tail = self._tail
        before = len(tail) + len(data) - min(_TAIL_BYTES, len(tail) + len(data))
        newline = -1
        if before > len(tail):
            newline = data.rfind(b"\n", 0, before - len(tail))
            if newline >= 0:
                self._tail_line_start = self._parsed + newline + 1
        if newline < 0:
            newline = tail.rfind(b"\n", 0, min(before, len(tail)))
            if newline >= 0:
                self._tail_line_start = self._parsed - len(tail) + newline + 1
        self._parsed += len(data)
        self._tail = (tail + data[-_TAIL_BYTES:])[-_TAIL_BYTES:]

    def close_xml(self) -> Element:
        """Finish parsing and return the document's root element.

        :raises KojiProtocolError: when the document is truncated or not XML.
        """
        if self._error is not None:
            raise self._error
        self._builder.end("document")
        try:
            self._parser.close()
        except ParseError as error:
            lines = self._lines + self._last.count(b"\n")
            first_line = 1 + lines - self._tail.count(b"\n")
            raise self._fail_at(str(error), self._tail, first_line, error.position)
        if not len(self._document):
            raise self._fail("empty document", "")
        return self._document[0]

    # -- converting -----------------------------------------------------

    def check_open_path(self) -> None:
        """Check the open elements of the document, and convert and drop
        the complete parts of its value (see
        :func:`~txkoji._codec_open_path.convert_open_path`).

        :raises KojiProtocolError: for the first element out of place.
        """
        try:
            convert_open_path(self._document, self._plan, _FAULT_PLAN, self._partial)
        except Invalid as invalid:
            raise self.fail_element(invalid) from None


#: The plans of the fault struct, and of the answers decoded so far.
_FAULT_PLAN = Plan(dict)
_PLANS: dict[tuple[type | None, str, type], Plan] = {}


class TreeResponseDecoder(TreeDecoder):
    """Decodes one ``methodResponse`` while its body streams in, through
    an element tree: every rule, every answer (see
    :class:`ResponseDecoder`, which uses it where its fast path declines).

    Feed each chunk of the HTTP body to :meth:`feed` as it arrives (it is
    parsed, and its complete values converted, at once); then
    :meth:`close` returns the value.

    :param method: the hub method called, for fault exceptions and error
        messages.
    :param plan: where the value builds records.
    """

    def __init__(self, method: str, plan: Plan) -> None:
        super().__init__(method, plan)
        self._unconverted = 0
        self._held: list[bytes] = []
        self._held_size = 0
        self._hold_limit = CONVERT_BYTES

    def feed(self, data: bytes) -> None:
        """Parse ``data``, the next chunk of the body.

        :raises KojiProtocolError: as soon as the document cannot be a valid
            answer (a DOCTYPE, malformed XML, an invalid value, nesting too
            deep).
        """
        # Check the open elements, and convert (and drop) the finished parts
        # of the tree, only once enough has piled up: memory stays flat on
        # large answers, and a small answer is walked once, whole, at
        # close().  A large chunk is parsed in pieces, each checked.
        for start in range(0, len(data), CONVERT_BYTES):
            piece = data
            if len(data) > CONVERT_BYTES:
                piece = data[start : start + CONVERT_BYTES]
            if b"<" in piece or self._prolog is not None:
                self._hold_limit = CONVERT_BYTES
            else:
                # Text, or the inside of one long tag, which the parser would
                # scan again from its start at every chunk: held, and parsed
                # in batches twice as large each time.
                self._held.append(piece)
                self._held_size += len(piece)
                if self._held_size < self._hold_limit:
                    continue
                self._hold_limit *= 2
                piece = b""
            if self._held:
                piece = b"".join([*self._held, piece])
                self._held.clear()
                self._held_size = 0
            self._parse_piece(piece)

    def _parse_piece(self, piece: bytes) -> None:
        self.feed_xml(piece)
        self._unconverted += len(piece)
        if self._unconverted >= CONVERT_BYTES:
            self._unconverted = 0
            self.check_open_path()

    def resume(self, frames: list[Frame], ended: bool) -> None:
        """Start where the fast path declined, past the start of a large
        answer: parse the open elements ``frames`` stand for, and take
        their values as partly converted.  Feed the bytes the fast path
        had not decoded next.

        With no ``frames``, the answer's value was complete: a placeholder
        stands for it (the caller keeps the value itself), and the root
        element is closed too if it had ``ended``.
        """
        parts = ["<?xml version='1.0'?><methodResponse><params><param><value>"]
        if not frames:
            parts.append("<nil/></value>")
            if ended:
                parts.append("</param></params></methodResponse>")
        for index, frame in enumerate(frames):
            parts.append("<struct>" if frame.is_struct else "<array><data>")
            if index + 1 < len(frames):
                inner = frames[index + 1]
                if frame.is_struct:
                    parts.append(f"<member><name>{escape_text(inner.name)}</name>")
                else:
                    # The item is appended again once complete.
                    frame.value.pop()
                parts.append("<value>")
        self.feed("".join(parts).encode())
        if not frames:
            return
        value = self._document[0][0][0][0]
        for frame in frames:
            typed = value[-1]
            if frame.is_struct:
                self._partial[typed] = frame.value
                if len(typed):
                    value = typed[-1][1]
            else:
                data = typed[0]
                self._partial[data] = frame.value
                if len(data):
                    value = data[-1]

    def close(self) -> Any:
        """Finish decoding and return the answer's value.

        :raises KojiFault: the exception for the hub's fault (chosen with
            :func:`~txkoji.exceptions.fault_for`, the method attached).
        :raises KojiProtocolError: when the document was truncated,
            malformed, or not a valid answer.
        """
        if self._held:
            self._parse_piece(b"".join(self._held))
            self._held.clear()
        root = self.close_xml()
        try:
            expect(root, "methodResponse")
            body = root[0]
            if body.tag == "fault":
                expect(body, "fault")
                expect(body[0], "value", None)
                fault = value_of(body[0], _FAULT_PLAN, 0, self._partial)
            else:
                expect(body, "params")
                expect(body[0], "param")
                expect(body[0][0], "value", None)
                return value_of(body[0][0], self._plan, 0, self._partial)
        except Invalid as invalid:
            raise self.fail_element(invalid)
        if not isinstance(fault, dict):
            raise self._fail("a fault must be a struct", _excerpt_of(root))
        code = fault.get("faultCode")
        string = fault.get("faultString")
        if type(code) is not int or not isinstance(string, str):
            raise self._fail(
                "a fault needs an int faultCode and a string faultString",
                _excerpt_of(root),
            )
        raise fault_for(code, string, self.method)


class ResponseDecoder:
    """Decodes one ``methodResponse`` while its body streams in.

    Feed each chunk of the HTTP body to :meth:`feed` as it arrives; then
    :meth:`close` returns the value.  Answers laid out as the hub lays
    them out are decoded a member at a time by the fast path
    (``txkoji._codec_fast.FastDecoder``); everything else, and
    every error, by ``TreeResponseDecoder``, which takes over where
    the fast path declines.  Either way the value, and every exception,
    are the same.

    :param method: the hub method called, for fault exceptions and error
        messages.
    :param record_class: the class records are built as, or None for no
        records.
    :param shape: where the records sit: ``"one"``, the top-level value
        when it is a struct; ``"list"``, the structs that are items of the
        top-level array; ``"descendents"``, the structs in the arrays that
        are the member values of the top-level struct.  Any other shape
        builds no records.
    :param struct_class: the class of every struct that is not a record.

    Records and structs are built as ordinary instances of their classes,
    equal to ``cls(plain_dict)``: made with ``cls.__new__`` and filled item
    by item, without calling ``__init__``.

    """

    __slots__ = ("method", "_plan", "_fast", "_tree", "_fast_value")

    def __init__(
        self,
        method: str,
        record_class: type | None = None,
        shape: str = "one",
        struct_class: type = Munch,
    ) -> None:
        key = (record_class, shape, struct_class)
        plan = _PLANS.get(key)
        if plan is None:
            plan = plan_for(record_class, shape, struct_class)
            if len(_PLANS) < 256:
                _PLANS[key] = plan
        self.method = method
        self._plan = plan
        self._fast: FastDecoder | None = FastDecoder(plan)
        self._tree: TreeResponseDecoder | None = None
        self._fast_value: tuple[Any] | None = None

    def feed(self, data: bytes) -> None:
        """Decode ``data``, the next chunk of the body.

        :raises KojiProtocolError: as soon as the document cannot be a valid
            answer (a DOCTYPE, malformed XML, an invalid value, nesting too
            deep).
        """
        if len(data) < PAUSE_GC_BYTES or not gc.isenabled():
            self._feed(data)
            return
        gc.disable()
        try:
            self._feed(data)
        finally:
            gc.enable()

    def _feed(self, data: bytes) -> None:
        fast = self._fast
        if fast is None:
            assert self._tree is not None
            self._tree.feed(data)
            return
        try:
            fast.feed(data)
        except Declined:
            self._take_over(fast)

    def _take_over(self, fast: FastDecoder) -> None:
        # The full decoder goes on from where the fast path declined.
        self._fast = None
        tree = self._tree = TreeResponseDecoder(self.method, self._plan)
        if fast.retained is not None:
            for chunk in fast.retained:
                tree.feed(chunk)
            return
        if fast.done:
            self._fast_value = (fast.value,)
        tree.resume(fast.frames, fast.ended)
        tree.feed(fast.rest())

    def close(self) -> Any:
        """Finish decoding and return the answer's value.

        :raises KojiFault: the exception for the hub's fault (chosen with
            :func:`~txkoji.exceptions.fault_for`, the method attached).
        :raises KojiProtocolError: when the document was truncated,
            malformed, or not a valid answer.
        """
        fast = self._fast
        if fast is not None:
            try:
                return fast.close()
            except Declined:
                self._take_over(fast)
        assert self._tree is not None
        value = self._tree.close()
        if self._fast_value is not None:
            return self._fast_value[0]
        return value


def decode_call(body: bytes) -> tuple[str, list[Any]]:
    """Parse a ``methodCall`` document.

    :returns: ``(method, params)``, structs as plain dicts.
    :raises KojiProtocolError: when ``body`` is not a valid call (the same
        rules as :class:`ResponseDecoder`).
    """
    plan = Plan(dict)
    decoder = TreeDecoder(None, plan)
    decoder.feed_xml(body)
    root = decoder.close_xml()
    try:
        expect(root, "methodCall", None)
        if not len(root) or len(root) > 2:
            raise Invalid("<methodCall> holds <methodName> and <params>", root)
        expect(root[0], "methodName", 0)
        method = (root[0].text or "").strip()
        if not method:
            raise Invalid("<methodName> is empty", root[0])
        params = []
        if len(root) == 2:
            expect(root[1], "params", None)
            for param in root[1]:
                expect(param, "param")
                expect(param[0], "value", None)
                params.append(value_of(param[0], plan, 0, {}))
    except Invalid as invalid:
        raise decoder.fail_element(invalid)
    return method, params
