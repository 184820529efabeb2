"""The decoder's fast path (txkoji._codec_fast) against the full decoder:
for every document, split into chunks anywhere, the same value of the
same classes, or the same error; and the fast path really taking the
hub's own layout."""

from __future__ import annotations

import re
import xmlrpc.client
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from koji import xmlrpcplus
from munch import Munch

from txkoji._codec_decode import ResponseDecoder, TreeResponseDecoder
from txkoji._codec_fast import RETAIN_BYTES, Declined, unescape
from txkoji._codec_values import plan_for
from txkoji.build import Build
from txkoji.codec import encode_response
from txkoji.exceptions import KojiException

# -- helpers ------------------------------------------------------------------


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(body) + 1) for cut in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(body[start:point])
        start = point
    pieces.append(body[start:])
    return [piece for piece in pieces if piece] or [b""]


def _outcome(decoder: Any, chunks: list[bytes]) -> tuple[str, Any]:
    try:
        for chunk in chunks:
            decoder.feed(chunk)
        return "value", decoder.close()
    except KojiException as error:
        return type(error).__name__, str(error)


def _classes(value: Any) -> Any:
    """The value with the class of every container beside it."""
    if isinstance(value, dict):
        return type(value), {key: _classes(item) for key, item in value.items()}
    if isinstance(value, list):
        return list, [_classes(item) for item in value]
    return type(value), value


def _both(
    chunks: list[bytes], record_class: type | None = None, shape: str = "one"
) -> tuple[ResponseDecoder, tuple[str, Any], tuple[str, Any]]:
    fast = ResponseDecoder("m", record_class, shape)
    full = TreeResponseDecoder("m", plan_for(record_class, shape, Munch))
    return fast, _outcome(fast, chunks), _outcome(full, chunks)


def _assert_same(
    chunks: list[bytes], record_class: type | None = None, shape: str = "one"
) -> ResponseDecoder:
    decoder, got, expected = _both(chunks, record_class, shape)
    assert got[0] == expected[0]
    if got[0] == "value":
        assert _classes(got[1]) == _classes(expected[1])
    else:
        assert got[1] == expected[1]
    return decoder


def _took_fast_path(decoder: ResponseDecoder) -> bool:
    return decoder._tree is None


# -- values -------------------------------------------------------------------

_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\r\ufffe\uffff",
        min_codepoint=0x09,
    ).filter(lambda c: c >= " " or c in "\t\n")
)
_SCALARS = (
    _TEXT
    | st.integers(-(2**63), 2**63 - 1)
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.none()
    | st.binary(max_size=40)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=6) | st.dictionaries(_TEXT, inner, max_size=6)
    ),
    max_leaves=40,
)
_CUTS = st.lists(st.integers(0, 10**6), max_size=8)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(value=_VALUES, cuts=_CUTS)
def test_our_encoding_decodes_the_same_on_the_fast_path(value, cuts):
    body = encode_response(value)
    decoder = _assert_same(_split(body, cuts))
    assert _took_fast_path(decoder)


def _with_binary(value: Any) -> Any:
    # The hub's marshaller writes bytes given as xmlrpc Binary.
    if isinstance(value, dict):
        return {key: _with_binary(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_binary(item) for item in value]
    if isinstance(value, bytes):
        return xmlrpc.client.Binary(value)
    return value


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(value=_VALUES, cuts=_CUTS)
def test_the_hubs_encoding_decodes_the_same_on_the_fast_path(value, cuts):
    # Written by the hub's own marshaller (koji.xmlrpcplus, the standard
    # library's with <i8>), one member per line.
    body = xmlrpcplus.dumps(
        (_with_binary(value),), methodresponse=True, allow_none=True
    ).encode()
    decoder = _assert_same(_split(body, cuts))
    assert _took_fast_path(decoder)


def test_a_member_named_struct_holding_an_array_stays_an_array():
    decoder = _assert_same([encode_response({"struct": [1], "array": {"a": []}})])
    assert _took_fast_path(decoder)


def test_records_are_built_as_the_full_decoder_builds_them():
    builds = [
        {"build_id": n, "nvr": f"b-1-{n}", "extra": {"a": [1, {"b": None}]}}
        for n in range(50)
    ]
    body = encode_response(builds)
    decoder = _assert_same([body], Build, "list")
    assert _took_fast_path(decoder)
    multicall = encode_response([[build] for build in builds])
    decoder = _assert_same([multicall], Build, "multicall/one")
    assert _took_fast_path(decoder)


# -- layouts the fast path leaves to the full decoder ------------------------

_CANONICAL = encode_response(
    {"a": [1, "x", None, {"b": 2.5}], "c": "d&e<f", "g": True, "h": [[]]}
)

#: Rewrites of the canonical document: each valid or not, each decoded the
#: same either way.
_REWRITES = [
    (b"<int>1</int>", b"<i4>1</i4>"),
    (b"<int>1</int>", b"<int> 1 </int>"),
    (b"<int>1</int>", b"<int>&#49;</int>"),
    (b"<int>1</int>", b"<int>1_0</int>"),
    (b"<int>1</int>", b"<int>\xd9\xa1</int>"),
    (b"<int>1</int>", b"<int>x</int>"),
    (b"<int>1</int>", b"<int/>"),
    (b"<int>1</int>", b"<struct>1</struct>"),
    (b"<int>1</int>", b"<foo>1</foo>"),
    (b"<string>x</string>", b"x"),
    (b"<string>x</string>", b"<string/>"),
    (b"<value><string>x</string></value>", b"<value/>"),
    (b"<string>x</string>", b"<string><![CDATA[x]]></string>"),
    (b"<string>x</string>", b"<string>x]]>y</string>"),
    (b"<string>x</string>", b"<string>a\rb</string>"),
    (b"<string>x</string>", b"<string>a\r\nb</string>"),
    (b"<string>x</string>", b"<string>&#65;&#x42;&#13;</string>"),
    (b"<string>x</string>", b"<string>&#0;</string>"),
    (b"<string>x</string>", b"<string>&#xFFFE;</string>"),
    (b"<string>x</string>", b"<string>&nbsp;</string>"),
    (b"<string>x</string>", b"<string>a & b</string>"),
    (b"<string>x</string>", b"<string>\x01</string>"),
    (b"<string>x</string>", b"<string>\xef\xbf\xbe</string>"),
    (b"<string>x</string>", b"<string>\xff</string>"),
    (b"<string>x</string>", b"<string>x</strin>"),
    (b"<string>x</string>", b"<string a='1'>x</string>"),
    (b"<nil/>", b"<nil></nil>"),
    (
        b"<nil/>",
        b'<ex:nil xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"/>',
    ),
    (b"<boolean>1</boolean>", b"<boolean>2</boolean>"),
    (b"<double>2.5</double>", b"<double>inf</double>"),
    (b"<name>a</name>", b"<name>&#97;</name>"),
    (b"<name>a</name>", b"<name/>"),
    (b"<name>a</name>", b""),
    (b"<member>", b"<member>junk"),
    (b"<struct>", b"<struct> \n\t "),
    (b"<struct>", b"<struct>text"),
    (b"<data>", b"<data><!-- a comment -->"),
    (b"<data>", b"<data><?pi x?>"),
    (b"<array><data></data></array>", b"<array/>"),
    (b"<array><data></data></array>", b"<array></array>"),
    (b"</data>", b"</data><data></data>"),
    (b"<?xml version='1.0'?>", b'<?xml version="1.0" encoding="UTF-8"?>'),
    (b"<?xml version='1.0'?>", b"<?xml version='1.0' encoding='latin-1'?>"),
    (b"<?xml version='1.0'?>", b""),
    (b"<?xml version='1.0'?>", b"\xef\xbb\xbf<?xml version='1.0'?>"),
    (b"<?xml version='1.0'?>", b"<!DOCTYPE x [<!ENTITY e 'y'>]>"),
    (b"<params>", b"<fault>"),
    (b"</methodResponse>", b"</methodResponse>  \n"),
    (b"</methodResponse>", b"</methodResponse><!-- after -->"),
    (b"</methodResponse>", b"</methodResponse>junk"),
    (b"</methodResponse>", b""),
    (b"</params>", b"</params><params>"),
]


@pytest.mark.parametrize("old, new", _REWRITES)
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_every_rewrite_decodes_as_the_full_decoder_decodes_it(old, new, chunk):
    assert old in _CANONICAL
    body = _CANONICAL.replace(old, new, 1)
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    _assert_same(chunks)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    where=st.integers(0, len(_CANONICAL)),
    what=st.sampled_from(
        [
            b" ",
            b"\n",
            b"<",
            b">",
            b"&",
            b"/",
            b"x",
            b"]]>",
            b"\r",
            b"\x00",
            b"<value>",
            b"</value>",
            b"<member>",
            b"</data>",
            b"<nil/>",
            b"&amp;",
        ]
    ),
    cuts=_CUTS,
)
def test_any_insertion_decodes_as_the_full_decoder_decodes_it(where, what, cuts):
    body = _CANONICAL[:where] + what + _CANONICAL[where:]
    _assert_same(_split(body, cuts))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=300), cuts=_CUTS)
def test_any_bytes_decode_as_the_full_decoder_decodes_them(body, cuts):
    _assert_same(_split(b"<?xml version='1.0'?><methodResponse>" + body, cuts))


# -- large answers: the full decoder resumes where the fast path stopped ------


def _problem(message: str) -> str:
    return re.sub(r"line \d+, column \d+", "", message.split(", near ")[0])


def _large_list(late: bytes) -> list[bytes]:
    items = [{"id": n, "name": f"pkg-{n}", "tags": ["a", "b"]} for n in range(12000)]
    body = encode_response(items)
    assert len(body) > 2 * RETAIN_BYTES
    # The change sits well past what the fast path keeps to start again.
    anchor = b"<value><string>pkg-11000</string></value>"
    assert anchor in body
    body = body.replace(anchor, late, 1)
    return [body[i : i + 65536] for i in range(0, len(body), 65536)]


@pytest.mark.parametrize(
    "late",
    [
        b"<value><int>&#49;1000</int></value>",
        b"<value ><string>pkg-11000</string></value >",
        b"<value><string><![CDATA[x]]></string></value>",
        b"<value><string>x</string></value><!-- c -->",
        b"<value><int>x</int></value>",
        b"<value><string>x</strin></value>",
        b"<value><string>\x01</string></value>",
        b"<value><string>\xff</string></value>",
        b"<value><struct><member><name>deep</name><value><array><data>"
        b"<value><i8>&#49;</i8></value></data></array></value></member></struct></value>",
    ],
)
def test_a_large_answer_is_resumed_by_the_full_decoder(late):
    chunks = _large_list(late)
    decoder, got, expected = _both(chunks)
    assert decoder._tree is not None
    assert got[0] == expected[0]
    if got[0] == "value":
        assert _classes(got[1]) == _classes(expected[1])
    else:
        # The same problem; the position expat gives (and so the text
        # quoted) counts from where the full decoder resumed.
        assert _problem(got[1]) == _problem(expected[1])


def _cut_inside_e_acute(chunks: list[bytes]) -> list[bytes]:
    # Three chunks: more than the fast path keeps to start again, then up
    # to between the two bytes of the last "é", then the rest.
    body = b"".join(chunks)
    cut = body.rindex(b"\xc3\xa9") + 1
    first = 2 * RETAIN_BYTES
    assert first < cut
    return [body[:first], body[first:cut], body[cut:]]


@pytest.mark.parametrize("late", [b"\x01\xc3\xa9", b"\xff\xc3\xa9"])
def test_a_large_answer_declined_inside_a_character_loses_no_byte(late):
    chunks = _cut_inside_e_acute(
        _large_list(b"<value><string>" + late + b"</string></value>")
    )
    decoder, got, expected = _both(chunks)
    assert decoder._tree is not None
    assert got[0] == expected[0] == "KojiProtocolError"
    assert _problem(got[1]) == _problem(expected[1])


def test_a_large_answer_cut_inside_a_character_stays_on_the_fast_path():
    chunks = _cut_inside_e_acute(
        _large_list(b"<value><string>\xc3\xa9</string></value>")
    )
    decoder = _assert_same(chunks)
    assert _took_fast_path(decoder)


def test_a_large_answer_resumed_inside_a_character_loses_no_byte():
    # The fast path declines at the <int> (valid, but a reference), in the
    # chunk that ends inside the "é" that follows it.
    body = b"".join(_large_list(b"<value><string>\xc3\xa9</string></value>"))
    body = body.replace(b"<int>11000</int>", b"<int>&#49;1000</int>", 1)
    decoder = _assert_same(_cut_inside_e_acute([body]))
    assert decoder._tree is not None


def test_a_large_answer_after_its_value_is_resumed_by_the_full_decoder():
    items = [{"id": n, "name": f"pkg-{n}"} for n in range(20000)]
    body = encode_response(items)
    for tail in [b"\n\n", b"<!-- c -->", b"junk", b"<?pi x?>"]:
        whole = body + tail
        chunks = [whole[i : i + 65536] for i in range(0, len(whole), 65536)]
        decoder, got, expected = _both(chunks)
        assert got[0] == expected[0]
        if got[0] == "value":
            assert got[1] == expected[1] == items
        else:
            assert decoder._tree is not None
            assert _problem(got[1]) == _problem(expected[1])


def test_a_large_answer_with_a_record_shape_is_resumed_with_its_records():
    builds = [{"build_id": n, "nvr": f"b-1-{n}"} for n in range(20000)]
    body = encode_response(builds).replace(b"<int>19000</int>", b"<int>&#49;9000</int>")
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    decoder, got, expected = _both(chunks, Build, "list")
    assert decoder._tree is not None
    assert _classes(got[1]) == _classes(expected[1])
    assert all(type(build) is Build for build in got[1])


# -- the pieces ---------------------------------------------------------------


def test_unescape_replaces_the_references_xml_defines():
    assert unescape("a&amp;b&lt;&gt;&quot;&apos;&#65;&#x42;") == "a&b<>\"'AB"


@pytest.mark.parametrize(
    "text", ["&", "a & b", "&nbsp;", "&#0;", "&#xD800;", "&#1114112;"]
)
def test_unescape_declines_anything_else(text):
    with pytest.raises(Declined):
        unescape(text)


def test_datetimes_and_base64_take_the_fast_path():
    value = {"when": datetime(2024, 3, 11, 8, 15, 2), "blob": b"\x00\xff" * 50}
    body = xmlrpc.client.dumps(
        (
            {
                "when": xmlrpc.client.DateTime(value["when"]),
                "blob": xmlrpc.client.Binary(value["blob"]),
            },
        ),
        methodresponse=True,
    ).encode()
    decoder = _assert_same([body])
    assert _took_fast_path(decoder)
