"""Tests for txkoji.codec: Koji's XML-RPC dialect, encoding and streaming
decoding."""

from __future__ import annotations

import enum
import math
import tracemalloc
import xmlrpc.client
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from munch import Munch

from txkoji.codec import (
    ResponseDecoder,
    decode_call,
    decode_response,
    encode_call,
    encode_fault,
    encode_response,
    pack_params,
    unpack_params,
)
from txkoji.exceptions import (
    AuthError,
    KojiFault,
    KojiProtocolError,
    ParameterError,
)

HEAD = b"<?xml version='1.0'?>\n"


def answer(value_xml: str) -> bytes:
    """A methodResponse whose one param is ``value_xml``."""
    return (
        HEAD
        + b"<methodResponse><params><param>"
        + value_xml.encode()
        + b"</param></params></methodResponse>"
    )


def roundtrip(value):
    return decode_response(encode_response(value), "m")


def protocol_error(body: bytes, method: str = "getBuild") -> KojiProtocolError:
    with pytest.raises(KojiProtocolError) as info:
        decode_response(body, method)
    return info.value


class Build(Munch):
    """A record class for the shape tests."""


class Color(enum.IntEnum):
    RED = 1


# -- encoding ---------------------------------------------------------


def test_encode_call_starts_with_xml_declaration_and_names_method():
    body = encode_call("getBuild", [1])
    assert body.startswith(b"<?xml version='1.0'?>")
    assert b"<methodName>getBuild</methodName>" in body
    assert xmlrpc.client.loads(body) == ((1,), "getBuild")


def test_encode_none_is_nil():
    assert b"<value><nil/></value>" in encode_response(None)


def test_encode_bool_is_boolean_not_int():
    assert b"<boolean>1</boolean>" in encode_response(True)
    assert b"<boolean>0</boolean>" in encode_response(False)


@pytest.mark.parametrize("value", [0, -(2**31), 2**31 - 1])
def test_encode_32_bit_int_is_int(value):
    assert f"<int>{value}</int>".encode() in encode_response(value)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**63 - 1, -(2**63)])
def test_encode_64_bit_int_is_i8(value):
    assert f"<i8>{value}</i8>".encode() in encode_response(value)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1])
def test_encode_int_beyond_64_bits_is_overflow_naming_value(value):
    with pytest.raises(OverflowError, match=str(value)):
        encode_response(value)


def test_encode_int_enum_as_int():
    assert b"<int>1</int>" in encode_response(Color.RED)


def test_encode_float_round_trips_exactly():
    value = 0.1 + 0.2
    assert roundtrip(value) == value
    assert roundtrip(1e300) == 1e300


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_encode_nan_and_inf_refused_naming_value(value):
    with pytest.raises(ValueError, match=repr(value)):
        encode_response(value)


def test_encode_string_escapes_markup_and_carriage_return():
    body = encode_response("a & b < c > d\r\n\t")
    assert b"a &amp; b &lt; c &gt; d&#13;\n\t" in body
    assert roundtrip("a & b < c > d\r\n\t") == "a & b < c > d\r\n\t"


@pytest.mark.parametrize("char", ["\x00", "\x1f", "\x0b", "\ud800", "\ufffe", "\uffff"])
def test_encode_unrepresentable_character_refused(char):
    with pytest.raises(ValueError, match="XML 1.0 cannot represent"):
        encode_response(f"ab{char}")


def test_encode_bytes_and_bytearray_as_base64():
    assert b"<base64>AP8=</base64>" in encode_response(b"\x00\xff")
    assert roundtrip(bytearray(b"\x00\xff")) == b"\x00\xff"


def test_encode_datetime_as_iso8601():
    body = encode_response(datetime(2026, 11, 20, 10, 31, 2, 5000))
    assert b"<dateTime.iso8601>20261120T10:31:02</dateTime.iso8601>" in body


def test_encode_list_and_tuple_as_array():
    assert roundtrip((1, [2, "x"])) == [1, [2, "x"]]


def test_encode_any_mapping_as_struct():
    assert roundtrip(OrderedDict(a=1)) == {"a": 1}


def test_encode_non_string_struct_key_is_type_error_naming_key():
    with pytest.raises(TypeError, match="42"):
        encode_response({42: "x"})


def test_encode_unsupported_type_is_type_error_naming_type():
    with pytest.raises(TypeError, match="set"):
        encode_response({1, 2})


def test_encode_fault_is_a_standard_fault():
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(encode_fault(1019, "bad arguments"))
    assert info.value.faultCode == 1019
    assert info.value.faultString == "bad arguments"


# -- params -------------------------------------------------------------


def test_pack_params_without_kwargs_is_args():
    assert pack_params((1, "a"), {}) == [1, "a"]


def test_pack_params_appends_starstar_struct():
    params = pack_params((42,), {"state": 1, "queryOpts": {"limit": 3}})
    assert params == [42, {"state": 1, "queryOpts": {"limit": 3}, "__starstar": True}]


def test_unpack_params_strips_true_starstar_struct():
    assert unpack_params([42, {"state": 1, "__starstar": True}]) == ([42], {"state": 1})


def test_unpack_params_keeps_struct_without_true_starstar():
    params = [{"a": 1}, {"__starstar": False}]
    assert unpack_params(params) == (params, {})


def test_decode_call_returns_method_and_params():
    body = encode_call("listBuilds", pack_params([], {"packageID": 42}))
    assert decode_call(body) == ("listBuilds", [{"packageID": 42, "__starstar": True}])


def test_decode_call_without_params():
    body = HEAD + b"<methodCall><methodName>getAPIVersion</methodName></methodCall>"
    assert decode_call(body) == ("getAPIVersion", [])


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<methodResponse/>",
        b"<methodCall><params/></methodCall>",
        b"<methodCall><methodName>x</methodName><params><param/></params></methodCall>",
        b"<methodCall><methodName>x</methodName>",
    ],
)
def test_decode_call_malformed_is_protocol_error(body):
    with pytest.raises(KojiProtocolError):
        decode_call(body)


# -- decoding values ------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "value"),
    [
        ("<value><int>7</int></value>", 7),
        ("<value><i4>-7</i4></value>", -7),
        ("<value><i8>9000000000</i8></value>", 9000000000),
        ("<value><boolean>1</boolean></value>", True),
        ("<value><boolean>0</boolean></value>", False),
        ("<value><string>a&amp;b&#13;</string></value>", "a&b\r"),
        ("<value>bare text</value>", "bare text"),
        ("<value></value>", ""),
        ("<value><string/></value>", ""),
        ("<value><double>-1.5</double></value>", -1.5),
        ("<value><base64>AP8=\n</base64></value>", b"\x00\xff"),
        ("<value><nil/></value>", None),
        ("<value><array><data/></array></value>", []),
        ("<value><struct/></value>", Munch()),
    ],
)
def test_decode_every_type(xml, value):
    result = decode_response(answer(xml), "m")
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize("text", ["20261120T10:31:02", "2026-11-20T10:31:02"])
def test_decode_datetime_both_forms(text):
    xml = f"<value><dateTime.iso8601>{text}</dateTime.iso8601></value>"
    assert decode_response(answer(xml), "m") == datetime(2026, 11, 20, 10, 31, 2)


def test_decode_namespaced_nil():
    body = (
        b"<methodResponse xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/"
        b"extensions'><params><param><value><ex:nil/></value></param></params>"
        b"</methodResponse>"
    )
    assert decode_response(body, "m") is None


def test_decode_ignores_whitespace_between_elements():
    body = answer(
        "<value>\n <struct>\n  <member>\n   <name>a</name>\n   <value><array>"
        " <data>\n <value><int>1</int></value>\n </data> </array></value>\n"
        "  </member>\n </struct>\n</value>\n"
    )
    assert decode_response(body, "m") == {"a": [1]}


def test_decode_structs_are_munch():
    result = decode_response(
        answer(
            "<value><struct><member><name>a</name>"
            "<value><struct/></value></member></struct>"
            "</value>"
        ),
        "m",
    )
    assert type(result) is Munch and type(result.a) is Munch


def test_decode_matches_stdlib_on_hub_style_document():
    value = {"id": 1, "nested": [None, 5, "x", {"y": 1.25}], "ok": True}
    body = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True)
    assert decode_response(body.encode(), "m") == value


# -- faults -----------------------------------------------------------------


def test_known_fault_code_raises_its_class_with_method():
    with pytest.raises(ParameterError) as info:
        decode_response(encode_fault(1019, "wrong arguments"), "listBuilds")
    assert info.value.faultCode == 1019
    assert info.value.faultString == "wrong arguments"
    assert info.value.method == "listBuilds"


def test_fault_subclass_is_caught_by_parent_class():
    with pytest.raises(AuthError):
        decode_response(encode_fault(1007, "expired"), "getLoggedInUser")


def test_unknown_fault_code_raises_plain_fault_keeping_code():
    with pytest.raises(KojiFault) as info:
        decode_response(encode_fault(4242, "odd"), "m")
    assert type(info.value) is KojiFault
    assert info.value.faultCode == 4242
    assert info.value.method == "m"


def test_fault_without_code_is_protocol_error():
    body = (
        HEAD + b"<methodResponse><fault><value><struct><member><name>"
        b"faultString</name><value>x</value></member></struct></value>"
        b"</fault></methodResponse>"
    )
    protocol_error(body)


# -- records and shapes -------------------------------------------------


def shaped(value, shape):
    return decode_response(encode_response(value), "m", record_class=Build, shape=shape)


def test_shape_one_builds_top_struct_as_record():
    result = shaped({"id": 1, "extra": {"a": 1}}, "one")
    assert type(result) is Build and type(result.extra) is Munch
    assert result == Build({"id": 1, "extra": {"a": 1}})


def test_shape_list_builds_top_array_items_as_records():
    result = shaped([{"id": 1, "extra": {"a": 1}}, 5, [{"id": 2}]], "list")
    assert type(result[0]) is Build and type(result[0].extra) is Munch
    assert result[1] == 5 and type(result[2][0]) is Munch


def test_shape_list_leaves_top_struct_plain():
    result = shaped({"x": [{"id": 1}]}, "list")
    assert type(result) is Munch and type(result.x[0]) is Munch


def test_shape_descendents_builds_items_of_member_arrays():
    result = shaped({"7": [{"id": 8, "extra": {}}], "9": []}, "descendents")
    assert type(result) is Munch
    assert type(result["7"][0]) is Build and type(result["7"][0].extra) is Munch


@pytest.mark.parametrize("shape", ["timedelta", "other"])
def test_other_shapes_build_no_records(shape):
    assert type(shaped({"a": 1}, shape)) is Munch


def test_no_record_class_builds_no_records():
    result = decode_response(encode_response([{"id": 1}]), "m", shape="list")
    assert type(result[0]) is Munch


def test_struct_class_is_configurable():
    result = decode_response(encode_response({"a": {}}), "m", struct_class=dict)
    assert type(result) is dict and type(result["a"]) is dict


def test_records_survive_chunked_streaming():
    value = [{"id": n, "tags": [{"n": n}]} for n in range(50)]
    body = encode_response(value)
    decoder = ResponseDecoder("listBuilds", Build, "list")
    for start in range(0, len(body), 7):
        decoder.feed(body[start : start + 7])
    result = decoder.close()
    assert result == value
    assert all(type(item) is Build for item in result)
    assert all(type(item.tags[0]) is Munch for item in result)


# -- streaming -------------------------------------------------------------


def test_split_at_every_offset_gives_same_result():
    value = {"a": [1, "x&y", None, {"b": 2**40}], "c": b"\x01", "d": 1.5}
    body = encode_response(value)
    for cut in range(len(body) + 1):
        decoder = ResponseDecoder("m")
        decoder.feed(body[:cut])
        decoder.feed(body[cut:])
        assert decoder.close() == value


def test_byte_by_byte_feeding():
    value = [{"k": "v", "n": [1, 2, [3, {"z": None}]]}, "\u00e9\u4e2d"]
    body = encode_response(value)
    decoder = ResponseDecoder("m")
    for index in range(len(body)):
        decoder.feed(body[index : index + 1])
    assert decoder.close() == value


def test_error_raised_again_on_close_after_feed_failed():
    decoder = ResponseDecoder("m")
    with pytest.raises(KojiProtocolError):
        decoder.feed(b"<methodResponse><params><<<")
    with pytest.raises(KojiProtocolError):
        decoder.close()


# -- refusals -----------------------------------------------------------------


def test_doctype_refused_at_feed_before_close():
    decoder = ResponseDecoder("m")
    with pytest.raises(KojiProtocolError, match="DOCTYPE"):
        decoder.feed(b"<?xml version='1.0'?>\n<!DOCTYPE methodResponse>")


def test_entity_declaration_refused_even_split_across_chunks():
    doc = (
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]>"
        b"<methodResponse><params><param><value>&a;</value></param></params>"
        b"</methodResponse>"
    )
    decoder = ResponseDecoder("m")
    decoder.feed(doc[:26])
    with pytest.raises(KojiProtocolError, match="DOCTYPE"):
        decoder.feed(doc[26:])


def test_utf16_document_refused():
    protocol_error(answer("<value>x</value>").decode().encode("utf-16"))


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "no element found"),
        (b"not xml", "not a UTF-8 XML document"),
        (b"<methodResponse><params>", "no element found"),
        (answer("<value><int>1</int></value>")[:-10], "unclosed token"),
        (b"<methodCall><params/></methodCall>", "methodResponse"),
        (b"<methodResponse></methodResponse>", "methodResponse"),
        (b"<methodResponse><params></params></methodResponse>", "params"),
        (
            b"<methodResponse><params><param><value>1</value></param><param>"
            b"<value>2</value></param></params></methodResponse>",
            "params",
        ),
        (answer("<value><int>x1</int></value>"), "not an integer"),
        (answer("<value><int>1_0</int></value>"), "not an integer"),
        (answer("<value><int></int></value>"), "not an integer"),
        (answer("<value><boolean>2</boolean></value>"), "neither 0 nor 1"),
        (answer("<value><base64>A</base64></value>"), "not base64"),
        (answer("<value><base64>@@@@</base64></value>"), "not base64"),
        (answer("<value><double>nan</double></value>"), "finite"),
        (answer("<value><dateTime.iso8601>x</dateTime.iso8601></value>"), "date"),
        (answer("<value><foo>1</foo></value>"), "unknown type"),
        (answer("<value><int>1</int><int>2</int></value>"), "one element"),
        (answer("<value><string><b/></string></value>"), "cannot hold"),
        (answer("<value><array/></value>"), "one <data>"),
        (answer("<value><array><data><int>1</int></data></array></value>"), "<value>"),
        (
            answer("<value><struct><member><name>a</name></member></struct></value>"),
            "<member>",
        ),
        (answer("<value><undeclared:nil/></value>"), "unbound prefix"),
        (answer("<value>&nbsp;</value>"), "undefined entity"),
    ],
)
def test_malformed_answer_is_protocol_error(body, problem):
    error = protocol_error(body, "getBuild")
    assert problem in str(error)
    assert "getBuild" in str(error)
    assert error.method == "getBuild"
    assert len(error.excerpt) <= 100


@pytest.mark.parametrize("chunk", [None, 100])
def test_absurd_nesting_is_protocol_error_not_recursion_error(chunk):
    depth = 5000
    body = answer("<value><array><data>" * depth + "</data></array></value>" * depth)
    decoder = ResponseDecoder("m")
    with pytest.raises(KojiProtocolError, match="nest deeper"):
        for start in range(0, len(body), chunk or len(body)):
            decoder.feed(body[start : start + (chunk or len(body))])
        decoder.close()


def test_nesting_within_limit_decodes():
    value = [[[[[[[[[[{"a": [[[[[{"b": 1}]]]]]}]]]]]]]]]]
    assert roundtrip(value) == value


def test_excerpt_of_large_invalid_element_is_short():
    items = "".join(f"<value><int>{n}</int></value>" for n in range(10000))
    body = answer(f"<value><array><data>{items}</data><data/></array></value>")
    error = protocol_error(body)
    assert "one <data>" in str(error)
    assert len(error.excerpt) <= 100
    assert len(str(error)) < 300


def test_error_message_quotes_excerpt_near_problem():
    filler = "".join(f"<value><int>{n}</int></value>" for n in range(200))
    body = answer(
        f"<value><array><data>{filler}<value><int>oops</int></value>"
        f"{filler}</data></array></value>"
    )
    error = protocol_error(body)
    assert "oops" in error.excerpt
    assert repr(error.excerpt) in str(error)


def test_syntax_error_excerpt_is_near_the_problem():
    filler = "".join(f"<value><int>{n}</int></value>\n" for n in range(200))
    body = answer(
        f"<value><array><data>{filler}<value><int>1</in></value>"
        f"{filler}</data></array></value>"
    )
    decoder = ResponseDecoder("m")
    with pytest.raises(KojiProtocolError) as info:
        for start in range(0, len(body), 1000):
            decoder.feed(body[start : start + 1000])
    assert "</in>" in info.value.excerpt


# -- properties ---------------------------------------------------------------

xml_text = st.text(
    st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"
    ).filter(lambda c: c in "\t\n\r" or c >= " ")
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | xml_text
    | st.binary()
    | st.datetimes(min_value=datetime(1000, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    )
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(xml_text, inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_decode_of_encode_is_identity(value):
    assert roundtrip(value) == value


@settings(max_examples=100, deadline=None)
@given(values, st.integers(1, 50))
def test_chunked_decode_equals_whole_decode(value, size):
    body = encode_response(value)
    decoder = ResponseDecoder("m", Build, "list")
    for start in range(0, len(body), size):
        decoder.feed(body[start : start + size])
    assert decoder.close() == decode_response(body, "m")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=20), st.lists(values, max_size=3))
def test_decode_call_of_encode_call_is_identity(method, params):
    method = "m" + "".join(c for c in method if c.isalnum())
    assert decode_call(encode_call(method, params)) == (method, params)


@settings(max_examples=150, deadline=None)
@given(values, st.data())
def test_any_truncation_is_protocol_error(value, data):
    body = encode_response(value)
    # The last ``</methodResponse>\n``'s newline is optional.
    cut = data.draw(st.integers(0, len(body) - 2))
    with pytest.raises(KojiProtocolError):
        decode_response(body[:cut], "m")


@settings(max_examples=300, deadline=None)
@given(values, st.data())
def test_mangled_document_raises_only_koji_errors(value, data):
    body = bytearray(encode_response(value))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(body) - 1))
        body[index] = data.draw(st.integers(0, 255))
    try:
        decode_response(bytes(body), "m")
    except (KojiProtocolError, KojiFault):
        pass


# -- garbage collector and records ---------------------------------------------


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("valid", [True, False])
def test_large_chunk_leaves_collector_as_it_was(enabled, valid):
    import gc

    body = encode_response([{"id": n, "name": "x" * 20} for n in range(2000)])
    assert len(body) > 16384
    if not valid:
        body = body.replace(b"<int>1999</int>", b"<int>oops</int>")
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        decoder = ResponseDecoder("listBuilds", Build, "list")
        try:
            decoder.feed(body)
            decoder.close()
        except KojiProtocolError:
            assert not valid
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_records_equal_records_built_from_plain_dicts():
    value = [{"id": n, "extra": {"a": [n]}, "epoch": None} for n in range(3)]
    result = shaped(value, "list")
    assert result == [Build(item) for item in value]
    assert all(type(item) is Build and dict(item) == item for item in result)


def test_multicall_shape_builds_each_entrys_records():
    class Record(Munch):
        pass

    body = encode_response([[{"id": 1}], {"faultCode": 1000, "faultString": "no"}])
    entries = decode_response(
        body, "system.multicall", record_class=Record, shape="multicall/one"
    )
    assert type(entries[0][0]) is Record and entries[0][0] == {"id": 1}
    assert type(entries[1]) is Munch and entries[1].faultCode == 1000


def test_multicall_list_shape_builds_records_inside_each_list():
    class Record(Munch):
        pass

    body = encode_response([[[{"id": 1}, {"id": 2}]]])
    entries = decode_response(
        body, "system.multicall", record_class=Record, shape="multicall/list"
    )
    assert [type(item) for item in entries[0][0]] == [Record, Record]


def _large_answer() -> tuple[list, bytes]:
    """An answer of several times CONVERT_BYTES: records with nested
    structs and arrays, so conversion happens while it streams."""
    from txkoji._codec_decode import CONVERT_BYTES

    records = [
        {
            "id": index,
            "nvr": f"pkg-{index}-1.fc40",
            "extra": {"sizes": [index, 2**40 + index], "note": None},
            "tags": [f"tag-{index % 7}", "f40"],
        }
        for index in range(1200)
    ]
    body = encode_response(records)
    assert len(body) > 3 * CONVERT_BYTES
    return records, body


@pytest.mark.parametrize("chunk", [1000, 4096, 65536])
def test_large_answer_fed_in_chunks_decodes_like_the_whole(chunk):
    class Record(Munch):
        pass

    records, body = _large_answer()
    decoder = ResponseDecoder("listBuilds", Record, "list")
    for start in range(0, len(body), chunk):
        decoder.feed(body[start : start + chunk])
    value = decoder.close()
    assert value == records
    assert all(type(item) is Record for item in value)
    assert all(type(item.extra) is Munch for item in value)


def test_invalid_value_in_a_large_answer_is_refused_while_streaming():
    _, body = _large_answer()
    broken = body.replace(b"<int>600</int>", b"<int>six hundred</int>", 1)
    decoder = ResponseDecoder("listBuilds")
    with pytest.raises(KojiProtocolError, match="six hundred"):
        for start in range(0, len(broken), 4096):
            decoder.feed(broken[start : start + 4096])


# -- bounded memory and work against hostile answers --------------------------

#: Hostile answers, each a start and a unit repeated without end: what the
#: decoder must say about them while they stream in.
_ENDLESS = [
    (b"<value>", b"<array><data><value>", "nest deeper"),
    (b"<value>", b"<struct><member><name>a</name><value>", "nest deeper"),
    (b"<value><string>", b"<a/>", "<string> cannot hold elements"),
    (b"<value><i4>", b"<a>1</a>", "<i4> cannot hold elements"),
    (b"<value><foo>", b"<a/>", "unknown type <foo>"),
    (b"<value><array>", b"<x/>", "one <data>"),
    (b"<value><array><data>", b"<value>1</value><x/>", "expected <value>"),
    (b"<value><array><data><value>", b"<a/>", "<value> must hold one element"),
    (b"<value><struct><member><name>", b"<a/>", "<member> must hold"),
    (b"<value><struct>", b"<member><x/></member>", "<member> must hold"),
]


def _endless(start: bytes, unit: bytes, head: bytes = b"") -> Iterator[bytes]:
    """Yield the chunks (4 KiB) of an answer that is ``start`` followed by
    ``unit`` for ever (up to 16 MB)."""
    head = head or HEAD + b"<methodResponse><params><param>"
    yield head + start
    piece = unit * (4096 // len(unit) + 1)
    for _ in range(16_000_000 // len(piece)):
        yield piece


def _fed_until_refused(decoder: ResponseDecoder, chunks: Iterable[bytes]) -> int:
    """Feed ``chunks`` until the decoder refuses one; return how many bytes
    it took."""
    fed = 0
    with pytest.raises(KojiProtocolError) as raised:
        for chunk in chunks:
            fed += len(chunk)
            decoder.feed(chunk)
    _fed_until_refused.error = raised.value
    return fed


@pytest.mark.parametrize(("start", "unit", "problem"), _ENDLESS)
def test_hostile_answer_is_refused_while_streaming(start, unit, problem):
    from txkoji._codec_decode import CONVERT_BYTES

    fed = _fed_until_refused(ResponseDecoder("getBuild"), _endless(start, unit))
    # Refused at the first check after it went wrong: what was parsed but
    # not yet checked is bounded.
    assert fed <= 2 * CONVERT_BYTES
    assert problem in str(_fed_until_refused.error)
    assert "getBuild" in str(_fed_until_refused.error)


@pytest.mark.parametrize(
    ("head", "unit", "problem"),
    [
        (HEAD + b"<methodResponse>", b"<x/>", "<methodResponse> may hold one of"),
        (HEAD + b"<methodResponse><params>", b"<x/>", "<params> may hold one of"),
        (HEAD + b"<methodResponse><fault><value><string>", b"<a/>", "cannot hold"),
        (HEAD + b"<methodResponse><params><param><value>1</value>", b"<a/>", "may"),
        (HEAD + b"<methodCall>", b"<a/>", "may hold one of <methodResponse>"),
    ],
)
def test_elements_out_of_place_above_the_value_are_refused_while_streaming(
    head, unit, problem
):
    from txkoji._codec_decode import CONVERT_BYTES

    fed = _fed_until_refused(ResponseDecoder("m"), _endless(b"", unit, head))
    assert fed <= 2 * CONVERT_BYTES
    assert problem in str(_fed_until_refused.error)


@pytest.mark.parametrize(("start", "unit", "problem"), _ENDLESS[:3])
def test_hostile_answer_in_one_chunk_is_refused_within_bounded_memory(
    start, unit, problem
):
    body = b"".join(_endless(start, unit))[:4_000_000]
    tracemalloc.start()
    try:
        with pytest.raises(KojiProtocolError, match=problem):
            decode_response(body, "m")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Generous: the elements of 4 MB would take hundreds of MB.
    assert peak < 16 * 1024 * 1024


def test_decoding_memory_stays_near_the_size_of_the_result():
    records, body = _large_answer()
    tracemalloc.start()
    try:
        value = decode_response(body, "listBuilds", shape="list")
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert value == records
    # The parsed tree, at most a stretch of the answer at a time, is not
    # kept: the peak stays near what the result itself holds.
    assert peak < 2 * held


@pytest.mark.parametrize(
    ("filler", "chunk"), [(b" ", 4096), (b"\n", 65536), (b"<!-- c -->", 1000)]
)
def test_prolog_is_bounded(filler, chunk):
    from txkoji._codec_prolog import MAX_PROLOG

    decoder = ResponseDecoder("m")
    piece = filler * (chunk // len(filler))
    fed = _fed_until_refused(decoder, (piece for _ in range(10_000_000 // chunk)))
    assert fed <= MAX_PROLOG + chunk
    assert f"more than {MAX_PROLOG} bytes before the root element" in str(
        _fed_until_refused.error
    )


def test_prolog_under_the_bound_decodes_whatever_its_chunks():
    root = answer("<value>7</value>").removeprefix(HEAD)
    body = b" \n" * 10_000 + b"<!-- a comment -->" * 1000 + root
    for chunk in (1, 7, 4096, len(body)):
        decoder = ResponseDecoder("m")
        for start in range(0, len(body), chunk):
            decoder.feed(body[start : start + chunk])
        assert decoder.close() == "7"


def test_byte_order_mark_and_utf16_are_told_apart_byte_by_byte():
    body = b"\xef\xbb\xbf" + answer("<value>x</value>")
    decoder = ResponseDecoder("m")
    for byte in body:
        decoder.feed(bytes([byte]))
    assert decoder.close() == "x"
    decoder = ResponseDecoder("m")
    decoder.feed(b"  <")
    with pytest.raises(KojiProtocolError, match="not a UTF-8 XML document"):
        decoder.feed(b"\x00m")


def test_doctype_split_anywhere_across_chunks_is_refused():
    doc = b"<?xml version='1.0'?>\n<!DOCTYPE methodResponse>"
    for cut in range(23, len(doc)):
        decoder = ResponseDecoder("m")
        with pytest.raises(KojiProtocolError, match="DOCTYPE"):
            decoder.feed(doc[:cut])
            decoder.feed(doc[cut:])


@pytest.mark.parametrize(
    "markup", ["<!-- a comment -->", "<![CDATA[x]]>", "<?pi data?>"]
)
@pytest.mark.parametrize("cut", [None, 0, 1])
def test_other_markup_inside_the_document_is_refused(markup, cut):
    body = answer(
        f"<value><array><data>{markup}<value>1</value></data></array></value>"
    )
    at = body.index(markup.encode())
    decoder = ResponseDecoder("m")
    with pytest.raises(KojiProtocolError, match="comment, CDATA section or processing"):
        if cut is None:
            decoder.feed(body)
        else:
            # Split right before the markup, or inside its "<!" or "<?".
            decoder.feed(body[: at + cut])
            decoder.feed(body[at + cut :])


def test_comments_before_the_root_element_are_allowed():
    root = answer("<value>7</value>").removeprefix(HEAD)
    assert decode_response(HEAD + b"<!-- <a> -->\n<?pi x?>" + root, "m") == "7"


@pytest.mark.parametrize("chunk", [1000, 65536, 300_000])
def test_long_texts_fed_in_chunks_decode_whole(chunk):
    value = {"log": "x" * 1_000_000, "blob": b"\\0\\1" * 300_000, "n": [1, 2]}
    body = encode_response(value)
    decoder = ResponseDecoder("m")
    for start in range(0, len(body), chunk):
        decoder.feed(body[start : start + chunk])
    assert decoder.close() == value


def test_truncated_long_text_is_refused_at_close():
    body = HEAD + b"<methodResponse><params><param><value><string>" + b"y" * 500_000
    decoder = ResponseDecoder("m")
    for start in range(0, len(body), 4096):
        decoder.feed(body[start : start + 4096])
    with pytest.raises(KojiProtocolError, match="no element found"):
        decoder.close()


def test_encoding_refuses_nesting_past_the_decoders_limit():
    value: list = []
    for _ in range(99):
        value = [value]
    assert decode_call(encode_call("m", [value]))[1] == [value]
    with pytest.raises(ValueError, match="nested deeper than 100 levels"):
        encode_call("m", [[value]])
    cycle: list = []
    cycle.append({"again": cycle})
    with pytest.raises(ValueError, match="contains itself"):
        encode_response(cycle)


@pytest.mark.parametrize("chunk", [1000, 4096, 65536])
@pytest.mark.parametrize("full_decoder", [False, True])
def test_an_error_far_into_one_long_line_quotes_the_text_there(chunk, full_decoder):
    from txkoji._codec_decode import TreeResponseDecoder
    from txkoji._codec_values import plan_for

    body = (
        b"<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
        + b"<value><string>pkg</string></value>" * 20000
        + b"<value><string>culprit</strin></value></data></array></value>"
        + b"</param></params></methodResponse>"
    )
    decoder = (
        TreeResponseDecoder("m", plan_for(None, "one", Munch))
        if full_decoder
        else ResponseDecoder("m")
    )
    with pytest.raises(KojiProtocolError, match="mismatched tag") as raised:
        for start in range(0, len(body), chunk):
            decoder.feed(body[start : start + chunk])
        decoder.close()
    assert "culprit</strin>" in str(raised.value)
