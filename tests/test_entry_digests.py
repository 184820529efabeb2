"""Leaving unchanged multicall entries undecoded
(``txkoji.entry_digests``, ``Connection.multicall_digests``): the spans
found, the entries skipped, and every other part of the answer still
decoded and checked."""

from __future__ import annotations

import pytest
import pytest_twisted

from tests.watch_helpers import set_task
from txkoji.codec import decode_response, encode_fault, encode_response
from txkoji.entry_digests import (
    UNCHANGED,
    DigestingDecoder,
    digest,
    entry_spans,
)
from txkoji.exceptions import KojiProtocolError

ENTRIES = [
    [[{"id": 1, "state": 1, "name": "a<b"}, None]],
    {"faultCode": 1000, "faultString": "no such task"},
    [[]],
    [{"nested": [{"x": [1, 2]}, {}]}],
]


#: One value as a whole answer.
WRAPPED = (
    b"<methodResponse><params><param><value>%s</value></param></params>"
    b"</methodResponse>"
)


def answer(entries=ENTRIES) -> bytes:
    return encode_response(entries)


def decode(body: bytes, known: list) -> tuple[object, DigestingDecoder]:
    decoder = DigestingDecoder("system.multicall", None, "plain", known)
    decoder.feed(body[:7])
    decoder.feed(body[7:])
    return decoder.close(), decoder


def test_spans_are_each_entry_value():
    body = answer()
    spans = entry_spans(body)
    assert spans is not None and len(spans) == len(ENTRIES)
    for (start, end), entry in zip(spans, ENTRIES, strict=True):
        span = body[start:end]
        tag = b"struct" if isinstance(entry, dict) else b"array"
        assert span.startswith(b"<" + tag) and span.endswith(b"</" + tag + b">")
        assert decode_response(WRAPPED % span, "x") == entry


@pytest.mark.parametrize(
    "body",
    [
        answer().replace(b"<struct>", b"<struct >", 1),  # a tag written oddly
        answer().replace(b"</array>", b"</array\n>", 1),
        encode_response({"not": "a list"}),
        encode_response("text"),
        encode_fault(1000, "no"),
        answer()[: answer().rindex(b"</array>")],  # the top array never closes
    ],
)
def test_spans_are_not_guessed(body):
    assert entry_spans(body) is None


def test_known_entries_are_skipped_and_the_rest_decoded():
    body = answer()
    value, first = decode(body, [None] * 4)
    assert value == ENTRIES and first.skipped == set()
    assert all(d is not None for d in first.digests)
    known = [first.digests[0], None, first.digests[2], b"another answer's"]
    value, second = decode(body, known)
    assert second.skipped == {0, 2}
    assert second.digests == first.digests
    assert value == [[], ENTRIES[1], [], ENTRIES[3]]


def test_a_changed_entry_is_decoded():
    before = answer()
    changed = [[[{"id": 1, "state": 2, "name": "a<b"}, None]], *ENTRIES[1:]]
    _, first = decode(before, [None] * 4)
    value, second = decode(answer(changed), first.digests)
    assert second.skipped == {1, 2, 3}
    assert value[0] == changed[0]
    assert second.digests[0] != first.digests[0]


def test_the_rest_of_the_answer_is_still_checked():
    body = answer()
    _, first = decode(body, [None] * 4)
    start, _ = entry_spans(body)[3]
    # An invalid value outside the skipped entries still fails the answer.
    bad = body[:start] + body[start:].replace(b"<int>1</int>", b"<int>one</int>", 1)
    with pytest.raises(KojiProtocolError):
        decode(bad, first.digests[:3] + [None])
    # A document the spans cannot be told in is decoded whole, as ever.
    odd = body.replace(b"<array>", b"<array >")
    value, decoder = decode(odd, first.digests)
    assert value == ENTRIES and decoder.skipped == set()
    assert decoder.digests == [None] * 4


def test_unchanged_bytes_only_match_their_own_digest():
    assert digest(b"<array><data></data></array>") != digest(b"<array/>")


@pytest_twisted.ensureDeferred
async def test_multicall_digests_skips_what_did_not_change(koji, hub_server):
    calls = [
        ("getTaskInfo", ([50100, 50102],), {}),
        ("getTaskInfo", (99999999,), {"strict": True}),
        ("listTasks", ({"parent": 50100},), {}),
    ]
    plain = await koji.multicall(calls)
    first, digests = await koji.multicall_digests(calls, [None] * 3)
    assert [type(o) for o in first] == [type(o) for o in plain]
    assert first[0] == plain[0] and first[2] == plain[2]
    assert all(d is not None for d in digests)
    second, again = await koji.multicall_digests(calls, digests)
    assert second == [UNCHANGED, UNCHANGED, UNCHANGED] and again == digests
    set_task(hub_server.hub, 50102, "CLOSED", 1795172000.0)
    third, moved = await koji.multicall_digests(calls, digests)
    assert third[1] is UNCHANGED  # the children listed changed too
    assert third[2] == (await koji.multicall(calls[2:]))[0]
    assert third[0][1]["state"] == 2
    assert third[0] == (await koji.multicall(calls[:1]))[0]
    assert moved[0] != digests[0]


@pytest_twisted.ensureDeferred
async def test_multicall_digests_wants_one_digest_per_call(koji, hub_server):
    with pytest.raises(ValueError, match="1 digests given for 2 calls"):
        await koji.multicall_digests([("getTaskInfo", (1,)), ("echo", (2,))], [None])
    assert await koji.multicall_digests([], []) == ([], [])
