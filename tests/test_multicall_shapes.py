"""Multicall answers of the wrong shape fail with KojiProtocolError naming
the method, never TypeError, for MultiCall(), Connection.multicall() and
the batches of a logged-in session alike."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from txkoji.codec import encode_response
from txkoji.connection import Connection
from txkoji.exceptions import GenericError, KojiFault, KojiProtocolError
from txkoji.multicall import entry_outcome, settle_entries
from txkoji.requester import Requester
from txkoji.retry import RetryPolicy
from txkoji.session import Session
from txkoji.session_calls import SessionClient


class CannedTransport:
    """Answers every post with the same XML-RPC response body."""

    def __init__(self, answer: Any) -> None:
        self.body = encode_response(answer)
        self.posts: list[tuple[str, bytes]] = []

    def post(self, url, body, decoder, *, method="", headers=None):
        self.posts.append((method, body))
        try:
            decoder.feed(self.body)
            return defer.succeed(decoder.close())
        except Exception:
            return defer.fail()

    def close(self):
        return defer.succeed(None)


def outcome_of(d: defer.Deferred) -> Any:
    got: list[Any] = []
    d.addBoth(got.append)
    assert got, "the Deferred did not fire"
    return got[0]


#: Answers that are not one entry per call: the whole multicall fails.
WRONG_ANSWERS = [
    pytest.param(3, id="int"),
    pytest.param(None, id="nil"),
    pytest.param("abcd", id="string"),
    pytest.param({"a": 1}, id="struct"),
    pytest.param([[1]], id="one entry for two calls"),
    pytest.param([[None], [None], [None]], id="three entries for two calls"),
]

#: A malformed second entry: only the second call fails.
WRONG_ENTRIES = [
    pytest.param(5, id="entry not a list"),
    pytest.param([1, 2], id="entry of two values"),
    pytest.param([7], id="a task answered as an int"),
    pytest.param({"faultCode": [1], "faultString": "x"}, id="array code"),
    pytest.param({"faultCode": {"a": 1}, "faultString": "x"}, id="struct code"),
    pytest.param({"faultCode": "x", "faultString": "x"}, id="string code"),
    pytest.param({"faultCode": 1000, "faultString": 5}, id="int string"),
]

CALLS = [("getBuild", [1]), ("getTaskInfo", [2])]


def connection(answer: Any) -> tuple[Connection, CannedTransport]:
    transport = CannedTransport(answer)
    koji = Connection(server="http://hub.invalid/kojihub", transport=transport)
    return koji, transport


@pytest.mark.parametrize("answer", WRONG_ANSWERS)
def test_connection_multicall_wrong_shape_is_protocol_error(answer) -> None:
    koji, _ = connection(answer)
    failure = outcome_of(koji.multicall(CALLS))
    assert failure.check(KojiProtocolError), failure
    assert failure.value.method == "system.multicall"


@pytest.mark.parametrize("entry", WRONG_ENTRIES)
def test_connection_multicall_malformed_entry_fails_only_its_call(entry) -> None:
    koji, _ = connection([[None], entry])
    build, error = outcome_of(koji.multicall(CALLS))
    assert build is None
    assert isinstance(error, KojiProtocolError)
    assert error.method == "getTaskInfo"


@pytest.mark.parametrize("entry", WRONG_ENTRIES)
def test_multicall_object_malformed_entry_raises_from_its_handle(entry) -> None:
    koji, _ = connection([[None], entry])
    mc = koji.MultiCall()
    first = mc.getBuild(1)
    second = mc.getTaskInfo(2)
    outcome_of(mc())
    assert first.result is None
    with pytest.raises(KojiProtocolError, match="getTaskInfo"):
        _ = second.result


@pytest.mark.parametrize("answer", WRONG_ANSWERS)
def test_multicall_object_wrong_shape_is_protocol_error(answer) -> None:
    koji, _ = connection(answer)
    mc = koji.MultiCall()
    mc.getBuild(1)
    mc.getTaskInfo(2)
    failure = outcome_of(mc())
    assert failure.check(KojiProtocolError), failure


@pytest.mark.parametrize("answer", WRONG_ANSWERS)
def test_session_batch_wrong_shape_fails_each_call_with_protocol_error(
    answer,
) -> None:
    transport = CannedTransport(answer)
    requester = Requester(
        transport, RetryPolicy(max_retries=0), Clock(), 4, "http://hub.invalid/"
    )
    client = SessionClient(requester, None, {}, None, max_batch=10)
    client.session = Session(1, "1-key", True, "ssl")
    blocker: defer.Deferred = defer.Deferred()
    # The first call holds the session's turn, so the next two queue up and
    # go together as one multicall.
    first = client.order.submit("getBuild", None, 0, lambda: blocker)
    second = client.call("getBuild", [1], b"x", _plain())
    third = client.call("getTaskInfo", [2], b"x", _plain())
    blocker.callback("done")
    assert outcome_of(first) == "done"
    for d in (second, third):
        failure = outcome_of(d)
        assert failure.check(KojiProtocolError), failure
    assert [method for method, _ in transport.posts] == ["system.multicall"]


def _plain():
    from txkoji.results import result_type

    return result_type("getBuild")


def test_string_fault_code_is_the_same_error_as_for_a_single_call() -> None:
    error = entry_outcome({"faultCode": "x", "faultString": "no"}, "getTag", [], None)
    assert isinstance(error, KojiProtocolError)
    assert "int faultCode" in str(error) and error.method == "getTag"


def test_well_formed_entries_settle_to_values_and_fault_instances() -> None:
    fault = {"faultCode": 1000, "faultString": "no"}
    settled = settle_entries([[None], fault], [("getTag", [1]), ("getTag", [2])], None)
    assert settled[0] is None
    assert isinstance(settled[1], GenericError) and isinstance(settled[1], KojiFault)
    assert settled[1].method == "getTag"


def test_empty_multicall_sends_nothing() -> None:
    koji, transport = connection([])
    assert outcome_of(koji.multicall([])) == []
    assert transport.posts == []


def test_multicall_with_keyword_arguments_and_typed_records() -> None:
    koji, transport = connection([[{"id": 1, "nvr": "a-1-1"}], [[{"id": 2}]]])
    build, tasks = outcome_of(
        koji.multicall([("getBuild", [1]), ("listTasks", [], {"opts": {"parent": 1}})])
    )
    assert type(build).__name__ == "Build" and build.connection is koji
    assert type(tasks[0]).__name__ == "Task"
    assert b"__starstar" in transport.posts[0][1]


def test_multicall_with_an_unencodable_argument_fails_the_deferred() -> None:
    koji, transport = connection([])
    failure = outcome_of(koji.multicall([("getBuild", [object()])]))
    assert failure.check(TypeError)
    assert transport.posts == []
