"""Session state and the ordering of a session's calls (no network)."""

from __future__ import annotations

import pytest
from twisted.internet import defer

from txkoji.exceptions import (
    GenericError,
    KojiConnectionError,
    KojiLoginException,
)
from txkoji.session import Session, SessionOrder

KEY = "7-abcdefghijklmnopqrst"


def session(header_auth: bool = True) -> Session:
    return Session(42, KEY, header_auth, "ssl")


def test_call_numbers_start_at_zero_and_grow_by_one() -> None:
    s = session()
    assert [s.next_callnum() for _ in range(3)] == [0, 1, 2]
    assert s.callnum == 3


def test_header_auth_sends_the_three_session_headers() -> None:
    url, headers = session().credentials("https://hub/kojihub", 5)
    assert url == "https://hub/kojihub"
    assert headers == {
        b"Koji-Session-Id": b"42",
        b"Koji-Session-Key": KEY.encode(),
        b"Koji-Session-Callnum": b"5",
    }


def test_legacy_hub_gets_the_query_string() -> None:
    url, headers = session(header_auth=False).credentials("https://hub/kojihub?a=b", 5)
    assert headers == {}
    assert url == f"https://hub/kojihub?a=b&session-id=42&session-key={KEY}&callnum=5"


def test_repr_never_shows_the_key() -> None:
    text = repr(session())
    assert KEY not in text
    assert "42" in text


def test_login_answer_builds_a_session() -> None:
    s = Session.from_login(
        {"session-id": 3, "session-key": KEY, "header-auth": True}, "gssapi"
    )
    assert (s.session_id, s.key, s.header_auth, s.authtype) == (3, KEY, True, "gssapi")


@pytest.mark.parametrize(
    "reply", [None, [], {"session-id": 3}, {"session-id": "3", "session-key": KEY}]
)
def test_malformed_login_answer_is_a_login_error(reply) -> None:
    with pytest.raises(KojiLoginException, match="ssl login"):
        Session.from_login(reply, "ssl")


def test_renewal_of_the_same_session_keeps_numbering() -> None:
    s = session()
    s.next_callnum()
    s.next_callnum()
    s.renew(Session(42, "7-newkey", True, "ssl"))
    assert (s.key, s.callnum) == ("7-newkey", 2)


def test_renewal_into_a_new_session_numbers_from_zero() -> None:
    s = session()
    s.next_callnum()
    s.renew(Session(43, "7-newkey", False, "ssl"))
    assert (s.session_id, s.callnum, s.header_auth) == (43, 0, False)


class FakeHub:
    """Records what the order sends; each request answers when told."""

    def __init__(self) -> None:
        self.sent: list = []
        self.requests: list[defer.Deferred] = []

    def alone(self, name: str):
        def send() -> defer.Deferred:
            self.sent.append(name)
            d = defer.Deferred()
            self.requests.append(d)
            return d

        return send

    def batch(self, calls) -> defer.Deferred:
        self.sent.append([method for method, _ in calls])
        d = defer.Deferred()
        self.requests.append(d)
        return d


def submit(order: SessionOrder, hub: FakeHub, name: str, alone: bool = False):
    params = None if alone else [name]
    return order.submit(name, params, 10, hub.alone(name))


def results(deferreds) -> list:
    out = []
    for d in deferreds:
        d.addBoth(out.append)
    return out


def test_one_call_goes_at_once_alone() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch)
    d = submit(order, hub, "a")
    assert hub.sent == ["a"]
    hub.requests[0].callback("A")
    assert d.result == "A"


def test_calls_behind_one_in_flight_go_as_one_multicall() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch)
    ds = [submit(order, hub, name) for name in "abcd"]
    assert hub.sent == ["a"]
    assert order.pending == 3
    hub.requests[0].callback("A")
    assert hub.sent == ["a", ["b", "c", "d"]]
    hub.requests[1].callback(["B", GenericError("no"), "D"])
    got = results(ds)
    assert got[:2] == ["A", "B"] and got[3] == "D"
    assert got[2].check(GenericError)
    assert order.requests_sent == 2


def test_only_one_request_is_in_flight_at_a_time() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch, max_batch=1)
    ds = [submit(order, hub, name) for name in "abc"]
    for index, name in enumerate("abc"):
        assert hub.sent == list("abc"[: index + 1])
        hub.requests[index].callback(name)
    assert results(ds) == ["a", "b", "c"]


def test_batches_respect_max_batch() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch, max_batch=2)
    for name in "abcde":
        submit(order, hub, name)
    hub.requests[0].callback(None)
    hub.requests[1].callback([1, 2])
    assert hub.sent == ["a", ["b", "c"], ["d", "e"]]


def test_batches_respect_max_batch_bytes() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch, max_batch_bytes=25)
    for name in "abcde":
        submit(order, hub, name)
    hub.requests[0].callback(None)
    assert hub.sent == ["a", ["b", "c"]]


def test_solitary_calls_go_alone_and_split_batches() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch)
    submit(order, hub, "a")
    submit(order, hub, "b")
    submit(order, hub, "c")
    submit(order, hub, "mc", alone=True)
    order.submit("logout", ["x"], 10, hub.alone("logout"))
    submit(order, hub, "d")
    for request in range(4):
        hub.requests[request].callback([None, None] if request == 1 else None)
    assert hub.sent == ["a", ["b", "c"], "mc", "logout", "d"]


def test_a_failed_multicall_fails_each_of_its_calls() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch)
    ds = [submit(order, hub, name) for name in "abc"]
    hub.requests[0].callback("A")
    hub.requests[1].errback(KojiConnectionError("lost"))
    got = results(ds)
    assert got[0] == "A"
    assert all(f.check(KojiConnectionError) for f in got[1:])


def test_the_queue_moves_on_after_a_failure() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch)
    first = submit(order, hub, "a")
    second = submit(order, hub, "b")
    hub.requests[0].errback(GenericError("no"))
    assert hub.sent == ["a", "b"]
    hub.requests[1].callback("B")
    assert results([first, second])[1] == "B"
    first.addErrback(lambda f: None)


def test_a_send_that_raises_fails_only_its_call() -> None:
    order = SessionOrder(lambda calls: defer.succeed([]))

    def broken() -> defer.Deferred:
        raise ValueError("boom")

    d = order.submit("a", ["a"], 10, broken)
    later = order.submit("b", ["b"], 10, lambda: defer.succeed("B"))
    assert results([d])[0].check(ValueError)
    assert later.result == "B"


def test_cancelling_a_queued_call_removes_it() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch)
    submit(order, hub, "a")
    b = submit(order, hub, "b")
    submit(order, hub, "c")
    b.cancel()
    assert results([b])[0].check(defer.CancelledError)
    hub.requests[0].callback(None)
    assert hub.sent == ["a", "c"]


def test_cancelling_a_call_sent_alone_cancels_its_request() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch)
    a = submit(order, hub, "a")
    b = submit(order, hub, "b")
    a.cancel()
    assert results([a])[0].check(defer.CancelledError)
    assert hub.requests[0].called
    hub.requests[0].addErrback(lambda f: None)
    assert hub.sent == ["a", "b"]
    hub.requests[1].callback("B")
    assert b.result == "B"


def test_cancelling_a_call_in_a_multicall_drops_its_answer() -> None:
    hub = FakeHub()
    order = SessionOrder(hub.batch)
    submit(order, hub, "a")
    b = submit(order, hub, "b")
    c = submit(order, hub, "c")
    hub.requests[0].callback(None)
    b.cancel()
    hub.requests[1].callback(["B", "C"])
    assert results([b])[0].check(defer.CancelledError)
    assert c.result == "C"


def test_max_batch_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        SessionOrder(lambda calls: defer.succeed([]), max_batch=0)
