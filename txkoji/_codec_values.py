"""Building blocks of XML-RPC decoding: the converters of the scalar types,
and the plans saying which structs become records."""

from __future__ import annotations

import math
import re
from base64 import b64decode
from datetime import datetime
from typing import Any

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
        self, struct_class: type, items: Plan | None = None, members: Plan | None = None
    ) -> None:
        self.struct_class = struct_class
        self.items = self if items is None else items
        self.members = self if members is None else members


def plan_for(record_class: type | None, shape: str, struct_class: type) -> Plan:
    """Return the :class:`Plan` for a top-level value.

    :param record_class: the class records are built as, or None.
    :param shape: ``"one"``, ``"list"`` or ``"descendents"`` (see
        :class:`~txkoji.codec.ResponseDecoder`); any other shape builds no
        records.
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
    return datetime(*map(int, match.groups()))


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
