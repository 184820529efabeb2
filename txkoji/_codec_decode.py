"""Streaming XML-RPC decoding in Koji's dialect (the decoding half of
:mod:`txkoji.codec`).

The C-accelerated ElementTree parser builds elements as the bytes arrive;
after every chunk the decoder converts the elements that are complete
(every child of an open array or struct but the last) into Python values
and deletes them, so the tree never holds more than about one chunk of the
document, and the values are built once, straight into their final classes.
"""

from __future__ import annotations

import gc
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from munch import Munch

from txkoji._codec_values import (
    MAX_DEPTH,
    Invalid,
    Plan,
    expect,
    fill_array,
    fill_struct,
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

#: How much of an answer is parsed before its finished values are converted
#: and the parsed elements dropped.
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
        self._prolog: bytes | None = b""
        self._tail = b""
        # Lines before the last chunk fed (which is counted only when the
        # next one comes: most answers arrive whole).
        self._lines = 0
        self._last = b""
        self._error: KojiProtocolError | None = None
        self._top: Element | None = None

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

    def _check_prolog(self, data: bytes) -> None:
        prolog = self._prolog + data if self._prolog else data
        self._prolog = prolog
        # Both declarations start with "<!": one scan rules them out.
        if b"<!" in prolog and (b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog):
            problem = "a DOCTYPE or entity declaration is refused"
        else:
            start = prolog
            if start[:1] != b"<":
                start = start.lstrip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf")
            if start[:1] in (b"", b"<") and start[1:2] != b"\x00":
                return
            problem = "not a UTF-8 XML document"
        raise self._fail(problem, prolog[:EXCERPT_CHARS].decode("utf-8", "replace"))

    def feed_xml(self, data: bytes) -> None:
        """Parse ``data``, the next chunk of the document.

        :raises KojiProtocolError: when the document cannot be XML-RPC.
        """
        if self._error is not None:
            raise self._error
        if self._prolog is not None:
            self._check_prolog(data)
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
        self._tail = (self._tail + data[-_TAIL_BYTES:])[-_TAIL_BYTES:]
        if self._prolog is not None and len(self._document):
            self._prolog = None

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

    def convert_complete(self, value: Element, plan: Plan) -> None:
        """Convert and drop the complete parts of ``value``, which is still
        being parsed: along the open path from ``value`` down, every child
        of an array or struct but the last is complete."""
        partial = self._partial
        depth = 0
        try:
            while len(value) == 1 and depth < MAX_DEPTH:
                typed = value[0]
                depth += 1
                if typed.tag == "array":
                    if len(typed) != 1 or typed[0].tag != "data":
                        return
                    data = typed[0]
                    done = len(data) - 1
                    if done > 0:
                        items = partial.get(data)
                        if items is None:
                            items = partial[data] = []
                        fill_array(data[:done], items, plan.items, depth, partial)
                        del data[:done]
                    if done < 0:
                        return
                    value, plan = data[-1], plan.items
                elif typed.tag == "struct":
                    done = len(typed) - 1
                    if done > 0:
                        obj = partial.get(typed)
                        if obj is None:
                            cls = plan.struct_class
                            obj = partial[typed] = cls.__new__(cls)
                        fill_struct(typed[:done], obj, plan.members, depth, partial)
                        del typed[:done]
                    if done < 0 or len(typed[-1]) != 2:
                        return
                    value, plan = typed[-1][1], plan.members
                else:
                    return
        except Invalid as invalid:
            raise self.fail_element(invalid) from None


#: The plans of the fault struct, and of the answers decoded so far.
_FAULT_PLAN = Plan(dict)
_PLANS: dict[tuple[type | None, str, type], Plan] = {}


class ResponseDecoder(TreeDecoder):
    """Decodes one ``methodResponse`` while its body streams in.

    Feed each chunk of the HTTP body to :meth:`feed` as it arrives (it is
    parsed, and its complete values converted, at once); then
    :meth:`close` returns the value.

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
        super().__init__(method, plan)
        self._unconverted = 0

    def _top_value(self) -> Element | None:
        if self._top is None:
            node = self._document
            for tag in ("methodResponse", "params", "param", "value"):
                if not len(node) or node[0].tag != tag:
                    return None
                node = node[0]
            self._top = node
        return self._top

    def feed(self, data: bytes) -> None:
        """Parse ``data``, the next chunk of the body.

        :raises KojiProtocolError: as soon as the document cannot be a valid
            answer (a DOCTYPE, malformed XML, an invalid value).
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
        self.feed_xml(data)
        # Convert (and drop) the finished parts of the tree only once enough
        # has piled up: memory stays flat on large answers, and a small
        # answer is walked once, whole, at close().
        self._unconverted += len(data)
        if self._unconverted >= CONVERT_BYTES:
            top = self._top_value()
            if top is not None:
                self._unconverted = 0
                self.convert_complete(top, self._plan)

    def close(self) -> Any:
        """Finish decoding and return the answer's value.

        :raises KojiFault: the exception for the hub's fault (chosen with
            :func:`~txkoji.exceptions.fault_for`, the method attached).
        :raises KojiProtocolError: when the document was truncated,
            malformed, or not a valid answer.
        """
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
