"""Building blocks of XML-RPC decoding: the converters of the scalar types,
the plans saying which structs become records, and the walk converting a
parsed ``<value>`` element into its Python value."""

from __future__ import annotations

import math
import re
from base64 import b64decode
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

_DATETIME = re.compile(
    r"\s*([0-9]{4})-?([0-9]{2})-?([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\s*\Z"
)


class Plan:
    """Which class the structs at one place of a value are built as.

    :ivar struct_class: the class of a struct found here.
    :ivar items: the plan for the items of an array found here.
    :ivar members: the plan for the member values of a struct found here.
    """

    __slots__ = ("struct_class", "items", "members")

    def __init__(
        self,
        struct_class: type[dict[str, Any]],
        items: Plan | None = None,
        members: Plan | None = None,
    ) -> None:
        self.struct_class = struct_class
        self.items = self if items is None else items
        self.members = self if members is None else members


#: Shapes ``"multicall/<shape>"``: every entry is an answer of ``<shape>``.
MULTICALL_PREFIX = "multicall/"


def plan_for(record_class: type | None, shape: str, struct_class: type) -> Plan:
    """Return the :class:`Plan` for a top-level value.

    :param record_class: the class records are built as, or None.
    :param shape: ``"one"``, ``"list"`` or ``"descendents"`` (see
        :class:`~txkoji.codec.ResponseDecoder`), or one of those after
        ``"multicall/"`` for the answer to a multicall of one method; any
        other shape builds no records.
    :param struct_class: the class of every other struct.
    """
    plain = Plan(struct_class)
    if record_class is None:
        return plain
    if shape == "one":
        return Plan(record_class, plain, plain)
    if shape == "list":
        return Plan(struct_class, Plan(record_class, plain, plain), plain)
    if shape == "descendents":
        children = Plan(struct_class, Plan(record_class, plain, plain), plain)
        return Plan(struct_class, plain, children)
    if shape.startswith(MULTICALL_PREFIX):
        # A multicall answer: a list of one-item lists (or fault structs),
        # each item shaped as one answer of the method.
        answer = plan_for(record_class, shape[len(MULTICALL_PREFIX) :], struct_class)
        return Plan(struct_class, Plan(struct_class, answer, plain), plain)
    return plain


# Converters of the text of the scalar types: each raises ValueError for
# text that is not a value of its type.


def _int(text: str) -> int:
    if text.isascii() and "_" not in text:
        return int(text)
    raise ValueError(text)


def _boolean(text: str) -> bool:
    return _BOOLEANS[text.strip()]


def _double(text: str) -> float:
    if text.isascii() and "_" not in text:
        value = float(text)
        if math.isfinite(value):
            return value
    raise ValueError(text)


def _datetime(text: str) -> datetime:
    match = _DATETIME.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second = map(int, match.groups())
    return datetime(year, month, day, hour, minute, second)


def _base64(text: str) -> bytes:
    return b64decode("".join(text.split()), validate=True)


def _nil(text: str) -> None:
    return None


def _string(text: str) -> str:
    return text


_BOOLEANS = {"1": True, "0": False}

LEAVES = {
    "string": _string,
    "int": _int,
    "i4": _int,
    "i8": _int,
    "boolean": _boolean,
    "double": _double,
    "dateTime.iso8601": _datetime,
    "base64": _base64,
    "nil": _nil,
}

MISMATCHES = {
    _int: "is not an integer",
    _boolean: "is neither 0 nor 1",
    _double: "is not a finite number",
    _datetime: "is not a date and time",
    _base64: "is not base64",
}


def leaf_for(tag: str) -> Any:
    """Return the converter of scalar type ``tag`` (None for another)."""
    leaf = LEAVES.get(tag)
    if leaf is None and tag[-4:] == "}nil":
        return _nil
    return leaf


# -- the walk: converting a parsed <value> -------------------------------

#: How deeply arrays and structs may nest (deeper would exhaust the stack).
MAX_DEPTH = 100


class Invalid(Exception):
    """An element that is well-formed XML but not valid XML-RPC."""

    def __init__(self, problem: str, element: Element) -> None:
        super().__init__(problem)
        self.problem = problem
        self.element = element


def expect(element: Element, tag: str, children: int | None = 1) -> None:
    """Refuse ``element`` unless it is a ``<tag>`` holding ``children``
    elements (any number for None)."""
    if element.tag != tag:
        raise Invalid(f"expected <{tag}>, found <{element.tag}>", element)
    if children is not None and len(element) != children:
        raise Invalid(f"<{tag}> must hold {children} element(s)", element)


def value_of(
    value: Element, plan: Plan, depth: int, partial: dict[Element, Any]
) -> Any:
    """Return the Python value of the ``<value>`` element ``value``.

    :param plan: the classes of the structs at this place.
    :param depth: how many arrays and structs hold ``value``.
    :param partial: the values of the arrays and structs already partly
        converted (by :meth:`TreeDecoder.convert_complete`), by element.
    """
    count = len(value)
    if count != 1:
        if count:
            raise Invalid("<value> must hold one element", value)
        return value.text or ""
    typed = value[0]
    tag = typed.tag
    leaf = LEAVES.get(tag) or leaf_for(tag)
    if leaf is not None:
        if len(typed):
            raise Invalid(f"<{tag}> cannot hold elements", typed)
        try:
            return leaf(typed.text or "")
        except (ValueError, KeyError):
            raise Invalid(f"<{tag}> {MISMATCHES[leaf]}", typed) from None
    if depth >= MAX_DEPTH:
        raise Invalid(f"values nest deeper than {MAX_DEPTH} levels", typed)
    if tag == "struct":
        obj = partial.pop(typed, None) if partial else None
        if obj is None:
            cls = plan.struct_class
            obj = cls.__new__(cls)
        fill_struct(typed, obj, plan.members, depth + 1, partial)
        return obj
    if tag == "array":
        if len(typed) != 1:
            raise Invalid("<array> must hold one <data>", typed)
        data = typed[0]
        if data.tag != "data":
            raise Invalid(f"expected <data>, found <{data.tag}>", data)
        items = partial.pop(data, None) if partial else None
        if items is None:
            items = []
        fill_array(data, items, plan.items, depth + 1, partial)
        return items
    raise Invalid(f"unknown type <{tag}>", typed)


_MEMBER = "<member> must hold <name> and <value>"


def fill_struct(
    members: Iterable[Element],
    obj: Any,
    plan: Plan,
    depth: int,
    partial: dict[Element, Any],
) -> None:
    """Set the ``<member>`` elements ``members`` in ``obj``, their values
    converted as ``plan`` says."""
    leaves = LEAVES
    for member in members:
        if len(member) != 2:
            raise Invalid(_MEMBER, member)
        name = member[0]
        value = member[1]
        if name.tag != "name" or value.tag != "value" or len(name):
            raise Invalid(_MEMBER, member)
        # Most members are scalars: convert those here, sparing a call of
        # value_of(), which handles everything else (and explains any
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
        obj[name.text or ""] = value_of(value, plan, depth, partial)


def fill_array(
    items: Iterable[Element],
    out: list[Any],
    plan: Plan,
    depth: int,
    partial: dict[Element, Any],
) -> None:
    """Append the values of the ``<value>`` elements ``items`` to ``out``,
    converted as ``plan`` says."""
    leaves = LEAVES
    append = out.append
    for item in items:
        if item.tag != "value":
            raise Invalid(f"expected <value>, found <{item.tag}>", item)
        if len(item) == 1:
            typed = item[0]
            leaf = leaves.get(typed.tag)
            if leaf is not None and not len(typed):
                try:
                    append(leaf(typed.text or ""))
                    continue
                except (ValueError, KeyError):
                    pass
        append(value_of(item, plan, depth, partial))
