"""Hypothesis fuzzing of the typed layers above the codec: result types,
message parsing and the name cache.  Whatever well-formed values they get,
they succeed or raise txkoji's own exceptions, never TypeError,
AttributeError, KeyError, ValueError or OverflowError from inside."""

from __future__ import annotations

import itertools
import json
import math
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.python.failure import Failure

from tests.fake_connection import FakeConnection
from tests.test_messages import PROTON
from txkoji.cache import Cache
from txkoji.exceptions import KojiException, KojiProtocolError
from txkoji.messages import MalformedMessage, Message, parse_frame, parse_message
from txkoji.results import RESULT_TYPES, KojiRecord, result_type

#: Values a hub could send: XML-RPC's types (``i8`` integers beyond 32
#: bits, and beyond 64 bits as a hostile hub's ``<int>`` would give).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
hub_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
#: JSON values, NaN included (Python's json reads and writes it).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
#: Records as typed methods answer them, with fields of any type: ids,
#: names and states where a record's helpers look.
record_fields = st.sampled_from(
    ["id", "build_id", "name", "state", "owner", "package_id", "tag_name"]
)
records = st.dictionaries(record_fields | st.text(max_size=6), hub_values, max_size=6)
answers = (
    hub_values
    | records
    | st.lists(records | hub_values, max_size=4)
    | st.dictionaries(
        st.integers(1, 99).map(str), st.lists(records | hub_values, max_size=3)
    )
)
params = st.sampled_from(
    [
        None,
        [1],
        [[1, 2]],
        [{"queryOpts": {"countOnly": True}, "__starstar": True}],
        [{"queryOpts": {"asList": True}, "__starstar": True}],
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(RESULT_TYPES)), params, answers)
def test_result_types_type_any_answer_or_refuse_it(method, call_params, answer):
    rtype = result_type(method, call_params)
    connection = SimpleNamespace(weburl="https://koji.example.com/koji")
    for convert in (rtype.finish, rtype.convert):
        try:
            typed = convert(json.loads(json.dumps(answer)), connection)
        except KojiProtocolError as error:
            assert error.method == method
            continue
        cls = rtype.record_class
        items = typed if isinstance(typed, list) else [typed]
        for item in items:
            if cls is not None and isinstance(item, dict):
                assert type(item) is cls and item.connection is connection
                url = item.url
                assert url is None or url.startswith(connection.weburl)


def _mutations(kind: str):
    """A message of ``kind`` with one field, header or nested field
    replaced by any JSON value (or removed)."""
    props, body = PROTON[kind]
    paths = [("properties", key) for key in props] + [("body", key) for key in body]
    paths += [
        ("body", key, inner)
        for key, value in body.items()
        if isinstance(value, dict)
        for inner in value
    ]
    return st.tuples(st.sampled_from(paths), json_values | st.just(KeyError))


def _mutated(kind: str, path: tuple, value) -> dict:
    props, body = PROTON[kind]
    message = {"properties": dict(props), "body": json.loads(json.dumps(body))}
    target = message[path[0]]
    for key in path[1:-1]:
        target = target[key]
    if value is KeyError:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return message


def _use(message: Message) -> None:
    """Read everything a consumer of ``message`` reads."""
    url = message.url
    assert url is None or url.startswith("https://")
    for name in ("user", "tag"):
        method = getattr(message, name, None)
        if callable(method):
            outcome = []
            method().addBoth(outcome.append)
            if isinstance(outcome[0], Failure):
                outcome[0].trap(KojiException)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_messages_parse_any_field_value_or_refuse_it(data):
    kind = data.draw(st.sampled_from(sorted(PROTON)))
    path, value = data.draw(_mutations(kind))
    message = _mutated(kind, path, value)
    connection = FakeConnection(
        {"getUser": {"id": 1, "name": "alice"}, "getTag": {"id": 2, "name": "t"}}
    )
    for form in ("text", "decoded"):
        if form == "text":
            try:
                message["body"] = json.dumps(message["body"])
            except ValueError:
                continue
        try:
            parsed = parse_message(message, connection)
        except MalformedMessage:
            continue
        _use(parsed)


@settings(max_examples=100, deadline=None)
@given(json_values, json_values)
def test_messages_of_any_shape_are_parsed_or_refused(headers, body):
    class Frame:
        pass

    frame = Frame()
    frame.headers = headers
    frame.body = json.dumps(body)
    for parse, message in (
        (parse_frame, frame),
        (parse_message, {"properties": headers, "body": body}),
    ):
        try:
            _use(parse(message, FakeConnection()))
        except MalformedMessage:
            pass


_OBJECT_IDS = itertools.count(1)


@pytest.fixture(scope="module")
def cache_directory(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from(["user", "tag"]), answer=answers)
def test_name_cache_stores_a_name_or_refuses_the_answer(cache_directory, kind, answer):
    method = {"user": "getUser", "tag": "getTag"}[kind]
    cache = Cache(FakeConnection({method: answer}), cache_directory)
    lookup = cache.user_name if kind == "user" else cache.tag_name
    outcome = []
    lookup(next(_OBJECT_IDS)).addBoth(outcome.append)
    (name,) = outcome
    if isinstance(name, Failure):
        name.trap(KojiProtocolError)
        assert name.value.method == method
    elif name is not None:
        assert isinstance(name, str) and name
        assert isinstance(answer, dict) and answer["name"] == name


def test_records_keep_the_connection_out_of_their_data():
    record = result_type("getBuild").convert({"id": 1, "nan": math.inf}, "conn")
    assert isinstance(record, KojiRecord) and "connection" not in record
