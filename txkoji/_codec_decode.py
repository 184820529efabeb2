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
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from munch import Munch

from txkoji._codec_values import LEAVES, MISMATCHES, Plan, leaf_for, plan_for
from txkoji.exceptions import KojiProtocolError, fault_for

#: How many characters of the document an error message quotes.
EXCERPT_CHARS = 100

#: How deeply arrays and structs may nest (deeper would exhaust the stack).
MAX_DEPTH = 100

_TAIL_BYTES = 256


def _without_collection(function: Callable[..., Any], *args: Any) -> Any:
    """Return ``function(*args)``, run with the cyclic garbage collector
    paused.

    Decoding allocates elements and containers by the hundred thousand,
    none of them in reference cycles; collections triggered by those
    allocations would only scan them in vain (about 15% of a large
    decode).  The collector's state is restored on the way out.
    """
    if not gc.isenabled():
        return function(*args)
    gc.disable()
    try:
        return function(*args)
    finally:
        gc.enable()


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


class _Invalid(Exception):
    """An element that is well-formed XML but not valid XML-RPC."""

    def __init__(self, problem: str, element: Element) -> None:
        super().__init__(problem)
        self.problem = problem
        self.element = element


_CONTAINERS = frozenset(("struct", "array"))


def _expect(element: Element, tag: str, children: int | None = 1) -> None:
    if element.tag != tag:
        raise _Invalid(f"expected <{tag}>, found <{element.tag}>", element)
    if children is not None and len(element) != children:
        raise _Invalid(f"<{tag}> must hold {children} element(s)", element)


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
        self._lines = 0
        self._error: KojiProtocolError | None = None
        self._top: Element | None = None
        self._depth = 0

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

    def fail_element(self, invalid: _Invalid) -> KojiProtocolError:
        """Return (and remember) the protocol error for ``invalid``, quoting
        the offending element."""
        return self._fail(invalid.problem, _excerpt_of(invalid.element))

    # -- parsing --------------------------------------------------------

    def _check_prolog(self, data: bytes) -> None:
        prolog = self._prolog + data if self._prolog else data
        self._prolog = prolog
        if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
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
        try:
            self._parser.feed(data)
        except ParseError as error:
            first_line = 1 + self._lines - self._tail.count(b"\n")
            raise self._fail_at(
                str(error), self._tail + data, first_line, error.position
            )
        self._lines += data.count(b"\n")
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
            first_line = 1 + self._lines - self._tail.count(b"\n")
            raise self._fail_at(str(error), self._tail, first_line, error.position)
        if not len(self._document):
            raise self._fail("empty document", "")
        return self._document[0]

    # -- converting -----------------------------------------------------

    def value(self, value: Element, plan: Plan) -> Any:
        """Return the Python value of the ``<value>`` element ``value``."""
        count = len(value)
        if not count:
            return value.text or ""
        if count != 1:
            raise _Invalid("<value> must hold one element", value)
        typed = value[0]
        tag = typed.tag
        if not len(typed):
            if tag == "string":
                return typed.text or ""
            leaf = LEAVES.get(tag) or leaf_for(tag)
            if leaf is not None:
                try:
                    return leaf(typed.text or "")
                except (ValueError, KeyError):
                    raise _Invalid(f"<{tag}> {MISMATCHES[leaf]}", typed)
        if tag in _CONTAINERS:
            self._depth += 1
            try:
                return self._container(typed, plan)
            finally:
                self._depth -= 1
        if leaf_for(tag) is not None:
            raise _Invalid(f"<{tag}> cannot hold elements", typed)
        raise _Invalid(f"unknown type <{tag}>", typed)

    def _container(self, typed: Element, plan: Plan) -> Any:
        if self._depth > MAX_DEPTH:
            raise _Invalid(f"values nest deeper than {MAX_DEPTH} levels", typed)
        if typed.tag == "struct":
            obj = self._partial.pop(typed, None)
            if obj is None:
                obj = plan.struct_class.__new__(plan.struct_class)
            self._fill_struct(typed, obj, plan.members)
            return obj
        if len(typed) != 1:
            raise _Invalid("<array> must hold one <data>", typed)
        data = typed[0]
        _expect(data, "data", None)
        items = self._partial.pop(data, None)
        if items is None:
            items = []
        self._fill_array(data, items, plan.items)
        return items

    def _fill_struct(self, members: Any, obj: Any, plan: Plan) -> None:
        value_of = self.value
        leaves = LEAVES
        for member in members:
            if len(member) != 2:
                raise _Invalid("<member> must hold <name> and <value>", member)
            name, value = member
            if name.tag != "name" or value.tag != "value" or len(name):
                raise _Invalid("<member> must hold <name> and <value>", member)
            # Most members are scalars: convert those here, sparing a call
            # of value(), which handles everything else (and explains any
            # scalar that does not convert).
            if len(value) == 1:
                typed = value[0]
                leaf = leaves.get(typed.tag)
                if leaf is not None and not len(typed):
                    try:
                        obj[name.text or ""] = leaf(typed.text or "")
                        continue
                    except (ValueError, KeyError):
                        pass
            obj[name.text or ""] = value_of(value, plan)

    def _fill_array(self, items: Any, out: list, plan: Plan) -> None:
        value_of = self.value
        append = out.append
        for item in items:
            if item.tag != "value":
                raise _Invalid(f"expected <value>, found <{item.tag}>", item)
            append(value_of(item, plan))

    def convert_complete(self, value: Element, plan: Plan) -> None:
        """Convert and drop the complete parts of ``value``, which is still
        being parsed: along the open path from ``value`` down, every child
        of an array or struct but the last is complete."""
        partial = self._partial
        try:
            while len(value) == 1:
                typed = value[0]
                if typed.tag == "array":
                    if len(typed) != 1 or typed[0].tag != "data":
                        return
                    data = typed[0]
                    done = len(data) - 1
                    if done > 0:
                        items = partial.get(data)
                        if items is None:
                            items = partial[data] = []
                        self._fill_array(data[:done], items, plan.items)
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
                        self._fill_struct(typed[:done], obj, plan.members)
                        del typed[:done]
                    if done < 0 or len(typed[-1]) != 2:
                        return
                    value, plan = typed[-1][1], plan.members
                else:
                    return
        except _Invalid as invalid:
            raise self.fail_element(invalid)


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
        super().__init__(method, plan_for(record_class, shape, struct_class))
        self._fault_plan = Plan(dict)

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
        _without_collection(self._feed, data)

    def _feed(self, data: bytes) -> None:
        self.feed_xml(data)
        top = self._top_value()
        if top is not None:
            self.convert_complete(top, self._plan)

    def close(self) -> Any:
        """Finish decoding and return the answer's value.

        :raises KojiFault: the exception for the hub's fault (chosen with
            :func:`~txkoji.exceptions.fault_for`, the method attached).
        :raises KojiProtocolError: when the document was truncated,
            malformed, or not a valid answer.
        """
        return _without_collection(self._finish)

    def _finish(self) -> Any:
        root = self.close_xml()
        try:
            _expect(root, "methodResponse")
            body = root[0]
            if body.tag == "fault":
                _expect(body, "fault")
                _expect(body[0], "value", None)
                fault = self.value(body[0], self._fault_plan)
            else:
                _expect(body, "params")
                _expect(body[0], "param")
                _expect(body[0][0], "value", None)
                return self.value(body[0][0], self._plan)
        except _Invalid as invalid:
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


def decode_call(body: bytes) -> tuple[str, list]:
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
        _expect(root, "methodCall", None)
        if not len(root) or len(root) > 2:
            raise _Invalid("<methodCall> holds <methodName> and <params>", root)
        _expect(root[0], "methodName", 0)
        method = (root[0].text or "").strip()
        if not method:
            raise _Invalid("<methodName> is empty", root[0])
        params = []
        if len(root) == 2:
            _expect(root[1], "params", None)
            for param in root[1]:
                _expect(param, "param")
                _expect(param[0], "value", None)
                params.append(decoder.value(param[0], plan))
    except _Invalid as invalid:
        raise decoder.fail_element(invalid)
    return method, params
