"""XML-RPC in Koji's dialect, with no I/O.

Requests are encoded to bytes with :func:`encode_call`; answers are decoded
while they stream in with :class:`ResponseDecoder`.  The dialect is XML-RPC
1.0 plus ``<nil/>`` for None and ``<i8>`` for integers beyond 32 bits; Koji
passes keyword arguments as a trailing struct marked ``__starstar``
(:func:`pack_params`, :func:`unpack_params`).  :func:`encode_response`,
:func:`encode_fault` and :func:`decode_call` serve the hub's side (the fake
hub in :mod:`txkoji.testing`).

Decoding refuses any DOCTYPE or entity declaration, and reports every
malformed document as :class:`~txkoji.exceptions.KojiProtocolError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from txkoji._codec_decode import ResponseDecoder, decode_call
from txkoji._codec_encode import escape_text, write_value

__all__ = [
    "ResponseDecoder",
    "decode_call",
    "decode_response",
    "encode_call",
    "encode_fault",
    "encode_response",
    "pack_params",
    "unpack_params",
]

_XML_DECLARATION = "<?xml version='1.0'?>\n"

#: The member that marks a trailing struct of keyword arguments.
STARSTAR = "__starstar"


def encode_call(method: str, params: Sequence[Any]) -> bytes:
    """Return the UTF-8 ``methodCall`` document calling ``method``.

    :param method: the hub method name.
    :param params: the positional parameters (see :func:`pack_params` for
        keyword arguments).
    :raises TypeError: for a value XML-RPC cannot carry, or a struct key
        that is not a string.
    :raises OverflowError: for an integer beyond signed 64 bits.
    :raises ValueError: for NaN, infinities, text XML cannot carry, or
        arrays and structs nested deeper than 100 levels (a list or dict
        that contains itself is refused so).
    """
    out = [
        _XML_DECLARATION,
        "<methodCall>\n<methodName>",
        escape_text(method),
        "</methodName>\n<params>\n",
    ]
    for param in params:
        out.append("<param>")
        write_value(param, out)
        out.append("</param>\n")
    out.append("</params>\n</methodCall>\n")
    return "".join(out).encode("utf-8")


def encode_response(value: Any) -> bytes:
    """Return the UTF-8 ``methodResponse`` document answering ``value``.

    :raises: as :func:`encode_call` for values XML-RPC cannot carry.
    """
    out = [_XML_DECLARATION, "<methodResponse>\n<params>\n<param>"]
    write_value(value, out)
    out.append("</param>\n</params>\n</methodResponse>\n")
    return "".join(out).encode("utf-8")


def encode_fault(code: int, string: str) -> bytes:
    """Return the UTF-8 ``methodResponse`` document of a fault.

    :param code: the ``faultCode``.
    :param string: the ``faultString``.
    """
    out = [_XML_DECLARATION, "<methodResponse>\n<fault>\n"]
    write_value({"faultCode": code, "faultString": string}, out)
    out.append("\n</fault>\n</methodResponse>\n")
    return "".join(out).encode("utf-8")


def pack_params(args: Sequence[Any], kwargs: Mapping[str, Any]) -> list[Any]:
    """Return the XML-RPC params for a call with ``args`` and ``kwargs``.

    Koji's convention: keyword arguments travel as one more struct, holding
    them and ``"__starstar": True``; without keyword arguments the params
    are just ``args``.
    """
    params = list(args)
    if kwargs:
        params.append({**kwargs, STARSTAR: True})
    return params


def unpack_params(params: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """Split XML-RPC params into positional and keyword arguments (the hub's
    side of :func:`pack_params`).

    :returns: ``(args, kwargs)``: a trailing struct whose ``__starstar`` is
        true becomes ``kwargs`` (without that marker); otherwise ``kwargs``
        is empty.
    """
    if params and isinstance(params[-1], dict) and params[-1].get(STARSTAR) is True:
        kwargs = dict(params[-1])
        del kwargs[STARSTAR]
        return list(params[:-1]), kwargs
    return list(params), {}


def decode_response(body: bytes, method: str, **kwargs: Any) -> Any:
    """Decode a whole ``methodResponse`` body at once.

    :param kwargs: ``record_class``, ``shape``, ``struct_class``, as for
        :class:`ResponseDecoder`.
    :returns: the answer's value.
    :raises: as :meth:`ResponseDecoder.close`.
    """
    decoder = ResponseDecoder(method, **kwargs)
    decoder.feed(body)
    return decoder.close()
