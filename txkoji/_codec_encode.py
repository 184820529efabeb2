"""XML-RPC serialization in Koji's dialect (the encoding half of
:mod:`txkoji.codec`).

Values become ``<value>`` elements appended, as strings, to one list that is
joined once at the end.  Koji's extensions: ``<nil/>`` for None and ``<i8>``
for integers beyond signed 32 bits.
"""

from __future__ import annotations

import math
import re
from base64 import b64encode
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from txkoji._codec_values import MAX_DEPTH

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Characters XML 1.0 cannot carry at all, not even as character references:
# the C0 controls other than tab, newline and carriage return, lone
# surrogates, and the two non-characters U+FFFE and U+FFFF.
_UNREPRESENTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_Writer = Callable[[Any, list[str], int], None]


def escape_text(text: str) -> str:
    """Return ``text`` escaped for XML character data.

    ``\\r`` becomes ``&#13;`` because a parser turns a literal carriage
    return into a newline.

    :raises ValueError: when ``text`` holds a character XML 1.0 cannot
        represent.
    """
    bad = _UNREPRESENTABLE.search(text)
    if bad is not None:
        raise ValueError(
            f"cannot encode {bad.group()!r} at index {bad.start()} of a string:"
            " XML 1.0 cannot represent that character"
        )
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


_TRUE = "<value><boolean>1</boolean></value>"
_FALSE = "<value><boolean>0</boolean></value>"


def _nil(value: None, out: list[str], depth: int) -> None:
    out.append("<value><nil/></value>")


def _bool(value: bool, out: list[str], depth: int) -> None:
    out.append(_TRUE if value else _FALSE)


def _int(value: int, out: list[str], depth: int) -> None:
    if INT32_MIN <= value <= INT32_MAX:
        out.append(f"<value><int>{value:d}</int></value>")
    elif INT64_MIN <= value <= INT64_MAX:
        out.append(f"<value><i8>{value:d}</i8></value>")
    else:
        raise OverflowError(
            f"cannot encode {value:d}: XML-RPC (with Koji's i8) carries at most"
            " signed 64-bit integers"
        )


def _float(value: float, out: list[str], depth: int) -> None:
    if not math.isfinite(value):
        raise ValueError(f"cannot encode {value!r}: XML-RPC has no NaN or infinity")
    out.append(f"<value><double>{float.__repr__(value)}</double></value>")


def _str(value: str, out: list[str], depth: int) -> None:
    out.append(f"<value><string>{escape_text(value)}</string></value>")


def _bytes(value: bytes, out: list[str], depth: int) -> None:
    out.append(f"<value><base64>{b64encode(value).decode('ascii')}</base64></value>")


def _datetime(value: datetime, out: list[str], depth: int) -> None:
    out.append(
        f"<value><dateTime.iso8601>{value.year:04d}{value.month:02d}"
        f"{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        "</dateTime.iso8601></value>"
    )


def _nesting(depth: int) -> int:
    if depth >= MAX_DEPTH:
        raise ValueError(
            f"cannot encode values nested deeper than {MAX_DEPTH} levels"
            " (or a list or dict that contains itself)"
        )
    return depth + 1


def _array(value: list[Any] | tuple[Any, ...], out: list[str], depth: int) -> None:
    inner = _nesting(depth)
    out.append("<value><array><data>")
    for item in value:
        # Lists of ids are common and long: their items written here.
        if type(item) is int and INT32_MIN <= item <= INT32_MAX:
            out.append(f"<value><int>{item:d}</int></value>")
        else:
            write_value(item, out, inner)
    out.append("</data></array></value>")


def _struct(value: Mapping[Any, Any], out: list[str], depth: int) -> None:
    inner = _nesting(depth)
    out.append("<value><struct>")
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(
                f"cannot encode struct key {key!r} ({type(key).__name__}):"
                " XML-RPC struct keys are strings"
            )
        out.append(f"<member><name>{escape_text(key)}</name>")
        write_value(item, out, inner)
        out.append("</member>")
    out.append("</struct></value>")


# Exact types first (one dict lookup); subclasses fall through to the
# isinstance checks in _writer_for, in an order that puts bool before int.
_WRITERS: dict[type, _Writer] = {
    type(None): _nil,
    bool: _bool,
    int: _int,
    float: _float,
    str: _str,
    bytes: _bytes,
    bytearray: _bytes,
    datetime: _datetime,
    list: _array,
    tuple: _array,
    dict: _struct,
}

_SUPERTYPES: tuple[tuple[type, _Writer], ...] = (
    (bool, _bool),
    (int, _int),
    (float, _float),
    (str, _str),
    (bytes, _bytes),
    (bytearray, _bytes),
    (datetime, _datetime),
    (list, _array),
    (tuple, _array),
    (Mapping, _struct),
)


def _writer_for(value: Any) -> _Writer:
    for supertype, writer in _SUPERTYPES:
        if isinstance(value, supertype):
            return writer
    raise TypeError(f"cannot encode a {type(value).__qualname__} as XML-RPC")


def write_value(value: Any, out: list[str], depth: int = 0) -> None:
    """Append the ``<value>`` element for ``value`` to ``out``.

    :param depth: how many arrays and structs hold ``value``.

    :raises TypeError: for a type XML-RPC cannot carry, or a non-string
        struct key.
    :raises OverflowError: for an integer beyond signed 64 bits.
    :raises ValueError: for NaN, infinities, strings XML cannot carry, and
        arrays and structs nested deeper than ``MAX_DEPTH`` (which a value
        that contains itself would be).
    """
    writer = _WRITERS.get(type(value))
    if writer is None:
        writer = _writer_for(value)
    writer(value, out, depth)
