"""txkoji.transport.HubTransport on its own: reading answers, the size
limit, resending once on a dead keep-alive connection, the timeout,
cancellation, and close().  Requests go to a scripted twisted.web resource
through txkoji.testing's in-memory agent (time is a Clock), except where
the pooled default agent itself is under test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet import error as neterror
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.web import client as webclient
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from tests.loopback import until
from txkoji.codec import ResponseDecoder, encode_fault, encode_response
from txkoji.exceptions import (
    GenericError,
    KojiConnectionError,
    KojiHTTPError,
    KojiProtocolError,
    KojiResponseTooLarge,
    KojiTimeoutError,
)
from txkoji.testing import MemoryAgent
from txkoji.tls import HubTLSPolicy
from txkoji.transport import HubTransport
from txkoji.transport_errors import mask_url, translate_failure

URL = "http://koji.test/kojihub"
SECRET_URL = URL + "?session-id=7&session-key=7-SECRETKEY&callnum=3"
ANSWER = encode_response({"id": 1, "name": "bash", "arches": "x86_64 aarch64"})

Handler = Callable[[Request], Any]


class Scripted(Resource):
    """Answers every POST with ``handler(request)``; records the request
    bodies and the requests whose connection was lost before they
    finished."""

    isLeaf = True

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler
        self.bodies: list[bytes] = []
        self.pending: list[Request] = []
        self.lost: list[Failure] = []

    def render_POST(self, request: Request) -> Any:
        self.bodies.append(request.content.read())
        request.notifyFinish().addErrback(self.lost.append)
        return self.handler(request)


def answer(body: bytes = ANSWER, chunks: int = 1, status: int = 200) -> Handler:
    """A handler writing ``body`` in ``chunks`` pieces, with a
    ``Koji-Version`` header."""

    def handle(request: Request) -> Any:
        request.setResponseCode(status)
        request.setHeader(b"Koji-Version", b"1.35.3")
        request.setHeader(b"Content-Length", str(len(body)).encode())
        step = -(-len(body) // chunks)
        for start in range(0, len(body), step):
            request.write(body[start : start + step])
        request.finish()
        return NOT_DONE_YET

    return handle


def cut_after(size: int) -> Handler:
    """A handler announcing ANSWER, sending its first ``size`` bytes, then
    closing the connection."""

    def handle(request: Request) -> Any:
        request.setHeader(b"Content-Length", str(len(ANSWER)).encode())
        request.write(ANSWER[:size])
        request.transport.unregisterProducer()
        request.transport.loseConnection()
        return NOT_DONE_YET

    return handle


def hold(request: Request) -> Any:
    """A handler that keeps the request open until the test finishes it."""
    scripted = request.site.resource
    scripted.pending.append(request)
    return NOT_DONE_YET


class Setup:
    """A transport whose requests a :class:`Scripted` resource answers in
    memory, on a Clock."""

    def __init__(self, handler: Handler, agent: Any = None, **options: Any) -> None:
        self.clock = Clock()
        self.resource = Scripted(handler)
        self.memory = MemoryAgent(self.resource, self.clock)
        self.transport = HubTransport(
            self.memory.reactor,
            HubTLSPolicy(),
            clock=self.clock,
            agent=agent(self.memory) if agent else self.memory,
            **options,
        )

    def post(self, url: str = URL, method: str = "getTag") -> defer.Deferred[Any]:
        body = b"<methodCall/>"
        return self.transport.post(url, body, ResponseDecoder(method), method=method)


def fired(d: defer.Deferred[Any]) -> list[Any]:
    """A list that holds what ``d`` fires with, once it fires."""
    outcomes: list[Any] = []
    d.addBoth(outcomes.append)
    return outcomes


def result_of(d: defer.Deferred[Any]) -> Any:
    outcomes = fired(d)
    assert outcomes, "the Deferred has not fired"
    return outcomes[0]


def failure_of(d: defer.Deferred[Any], kind: type[BaseException]) -> Any:
    outcome = result_of(d)
    assert isinstance(outcome, Failure), outcome
    assert outcome.check(kind), outcome
    return outcome.value


# Reading answers


@pytest.mark.parametrize("chunks", [1, 7, len(ANSWER)])
def test_an_answer_is_decoded_however_it_arrives(chunks):
    setup = Setup(answer(chunks=chunks))
    value = result_of(setup.post())
    assert value == {"id": 1, "name": "bash", "arches": "x86_64 aarch64"}
    assert setup.transport.hub_version == "1.35.3"


def test_a_fault_fails_with_its_class():
    setup = Setup(answer(encode_fault(1000, "no such tag")))
    error = failure_of(setup.post(), GenericError)
    assert error.method == "getTag"


def test_a_malformed_answer_fails_with_a_protocol_error():
    setup = Setup(answer(b"<methodResponse><params><param>"))
    error = failure_of(setup.post(), KojiProtocolError)
    assert error.method == "getTag"


def test_an_http_error_keeps_the_start_of_the_body_and_masks_secrets():
    setup = Setup(answer(b"busy " * 1000, status=503))
    error = failure_of(setup.post(SECRET_URL), KojiHTTPError)
    assert error.status == 503
    assert error.method == "getTag"
    assert "busy busy" in str(error)
    assert len(str(error)) < 600
    assert "SECRETKEY" not in str(error) + error.url
    assert "session-key=***" in error.url


def test_a_connection_lost_mid_answer_says_how_much_arrived():
    setup = Setup(cut_after(20))
    error = failure_of(setup.post(SECRET_URL), KojiConnectionError)
    assert "after 20 bytes of the answer to getTag" in str(error)
    assert error.method == "getTag"
    assert "SECRETKEY" not in str(error)


# The size limit


def test_an_answer_over_the_size_limit_is_refused_and_its_reading_stopped():
    def start_answering(request: Request) -> Any:
        request.setHeader(b"Content-Length", b"100000")
        request.write(b"<methodResponse>" + b" " * 100)
        return NOT_DONE_YET

    setup = Setup(start_answering, max_response_size=40)
    error = failure_of(setup.post(), KojiResponseTooLarge)
    assert "max_response_size (40 bytes)" in str(error)
    assert error.method == "getTag"
    # The client closed the connection without waiting for the rest (the
    # hub sees it on the next turn of the memory agent's clock).
    setup.clock.advance(0)
    assert len(setup.resource.lost) == 1


def test_an_answer_of_exactly_the_size_limit_is_read():
    setup = Setup(answer(), max_response_size=len(ANSWER))
    assert result_of(setup.post())["id"] == 1


# Resending once on a dead keep-alive connection


def dead_connection() -> Failure:
    """How a request on a keep-alive connection the hub just closed fails."""
    return Failure(
        webclient.ResponseNeverReceived([Failure(neterror.ConnectionDone())])
    )


class FailingFirst:
    """An agent that fails the first ``len(failures)`` requests with
    ``failures`` (sending nothing), then passes requests to ``agent``."""

    def __init__(self, agent: Any, failures: list[Failure]) -> None:
        self.agent = agent
        self.failures = list(failures)
        self.requests = 0

    def request(self, *args: Any) -> defer.Deferred[Any]:
        self.requests += 1
        if self.failures:
            return defer.fail(self.failures.pop(0))
        return self.agent.request(*args)


def test_a_request_on_a_dead_keep_alive_connection_is_sent_again():
    agents: list[FailingFirst] = []

    def wrap(memory: MemoryAgent) -> FailingFirst:
        agents.append(FailingFirst(memory, [dead_connection()]))
        return agents[0]

    setup = Setup(answer(), agent=wrap)
    assert result_of(setup.post())["id"] == 1
    assert agents[0].requests == 2
    assert len(setup.resource.bodies) == 1


def test_it_is_sent_again_only_once():
    def wrap(memory: MemoryAgent) -> FailingFirst:
        return FailingFirst(memory, [dead_connection(), dead_connection()])

    setup = Setup(answer(), agent=wrap)
    error = failure_of(setup.post(), KojiConnectionError)
    assert error.method == "getTag"
    assert setup.resource.bodies == []


def test_a_refused_connection_is_not_sent_again():
    refused = Failure(neterror.ConnectionRefusedError())
    agents: list[FailingFirst] = []

    def wrap(memory: MemoryAgent) -> FailingFirst:
        agents.append(FailingFirst(memory, [refused]))
        return agents[0]

    setup = Setup(answer(), agent=wrap)
    error = failure_of(setup.post(), KojiConnectionError)
    assert "refused the connection" in str(error)
    assert error.method == "getTag"
    assert agents[0].requests == 1


# The timeout


def test_a_call_past_the_timeout_fails_and_its_request_is_aborted():
    setup = Setup(hold, timeout=30)
    outcomes = fired(setup.post(SECRET_URL))
    setup.clock.advance(29.9)
    assert outcomes == []
    setup.clock.advance(0.1)
    error = outcomes[0].value
    assert isinstance(error, KojiTimeoutError)
    assert "getTag" in str(error) and "30 s" in str(error)
    assert error.method == "getTag"
    assert "SECRETKEY" not in str(error)
    assert len(setup.resource.lost) == 1


def part_then_hold(request: Request) -> Any:
    """A handler announcing ANSWER, sending its first 100 bytes, then
    keeping the request open."""
    request.setHeader(b"Content-Length", str(len(ANSWER)).encode())
    request.write(ANSWER[:100])
    return hold(request)


@pytest.mark.parametrize("stop", ["timeout", "cancel"])
def test_a_call_stopped_while_its_answer_arrives_stops_the_reading(stop):
    setup = Setup(part_then_hold, timeout=30)
    d = setup.post()
    outcomes = fired(d)
    setup.clock.advance(0)
    assert outcomes == [] and len(setup.resource.pending) == 1
    if stop == "timeout":
        setup.clock.advance(30)
        assert isinstance(outcomes[0].value, KojiTimeoutError)
    else:
        d.cancel()
        assert outcomes[0].check(defer.CancelledError)
    setup.clock.advance(0)
    # The answer's connection was aborted, no timer is left, and the call
    # no longer counts as under way.
    assert len(setup.resource.lost) == 1
    assert setup.clock.getDelayedCalls() == []
    assert fired(setup.transport.close()) == [None]


def test_an_answer_in_time_cancels_the_timer():
    setup = Setup(answer(), timeout=30)
    assert result_of(setup.post())["id"] == 1
    assert setup.clock.getDelayedCalls() == []


# Cancellation


class Stalled:
    """An agent whose requests never get a connection; cancelling one makes
    it fail as a cancelled name resolution can (with a DNS error)."""

    def __init__(self, _: Any) -> None:
        self.requests = 0

    def request(self, *args: Any) -> defer.Deferred[Any]:
        self.requests += 1

        def cancel(d: defer.Deferred[Any]) -> None:
            d.errback(neterror.DNSLookupError("lookup cancelled"))

        return defer.Deferred(cancel)


def test_cancelling_before_the_request_is_written_fails_with_cancelled():
    agents: list[Stalled] = []

    def wrap(memory: MemoryAgent) -> Stalled:
        agents.append(Stalled(memory))
        return agents[0]

    setup = Setup(answer(), agent=wrap)
    d = setup.post()
    d.cancel()
    failure_of(d, defer.CancelledError)
    # Not taken for a transient error and sent again.
    assert agents[0].requests == 1
    assert setup.resource.bodies == []


def test_cancelling_after_the_request_was_written_aborts_it():
    setup = Setup(hold)
    d = setup.post()
    assert len(setup.resource.bodies) == 1
    d.cancel()
    failure_of(d, defer.CancelledError)
    setup.clock.advance(0)
    assert len(setup.resource.lost) == 1


def test_cancelling_after_the_answer_changes_nothing():
    setup = Setup(answer())
    d = setup.post()
    d.cancel()
    assert result_of(d)["id"] == 1


# close()


def test_close_waits_for_the_requests_under_way():
    setup = Setup(hold)
    first, second = setup.post(), setup.post()
    closed = fired(setup.transport.close())
    assert closed == []
    answer()(setup.resource.pending[0])
    # The memory agent moves bytes written from outside on the next turn.
    setup.clock.advance(0)
    assert result_of(first)["id"] == 1
    assert closed == []
    answer()(setup.resource.pending[1])
    setup.clock.advance(0)
    assert result_of(second)["id"] == 1
    assert closed == [None]


def test_close_refuses_later_posts_without_sending():
    setup = Setup(answer())
    assert result_of(setup.transport.close()) is None
    error = failure_of(setup.post(SECRET_URL), KojiConnectionError)
    assert "closed" in str(error)
    assert error.method == "getTag"
    assert "SECRETKEY" not in str(error)
    assert setup.resource.bodies == []


def test_close_with_an_unanswered_request_fires_once_it_fails():
    setup = Setup(hold, timeout=5)
    d = setup.post()
    closed = fired(setup.transport.close())
    setup.clock.advance(5)
    failure_of(d, KojiTimeoutError)
    assert closed == [None]


@pytest_twisted.ensureDeferred
async def test_the_pooled_transport_closes_its_connections(hub_server):
    from twisted.internet import reactor

    transport = HubTransport(reactor, HubTLSPolicy())
    body = b"<methodCall><methodName>getAPIVersion</methodName></methodCall>"
    value = await transport.post(hub_server.url, body, ResponseDecoder("getAPIVersion"))
    assert value == 1
    assert hub_server.open_connections == 1
    await transport.close()
    await until(lambda: hub_server.open_connections == 0, turns=100)


# Failure translation (txkoji.transport_errors)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (neterror.ConnectionRefusedError(), "refused the connection"),
        (neterror.DNSLookupError("no such host"), "cannot resolve the host"),
        (neterror.TimeoutError(), "connecting to"),
        (
            webclient.ResponseNeverReceived([Failure(neterror.ConnectionLost())]),
            "failed during getTag",
        ),
    ],
)
def test_connection_failures_become_connection_errors(error, expected):
    with pytest.raises(KojiConnectionError, match=expected) as caught:
        translate_failure(Failure(error), SECRET_URL, "getTag", HubTLSPolicy())
    assert caught.value.method == "getTag"
    assert caught.value.url == mask_url(SECRET_URL)
    assert "SECRETKEY" not in str(caught.value)


def test_a_nested_cancellation_stays_a_cancellation():
    nested = webclient.ResponseNeverReceived([Failure(defer.CancelledError())])
    translated = translate_failure(Failure(nested), URL, "getTag", HubTLSPolicy())
    assert translated.check(defer.CancelledError)


def test_mask_url_masks_only_session_parameters():
    masked = mask_url(SECRET_URL + "&other=1")
    assert masked == (URL + "?session-id=***&session-key=***&callnum=***&other=1")
    assert mask_url(URL) == URL


# The login exchange (through treq, on the transport's agent)


def test_a_login_answer_comes_back_whole_with_its_status_and_headers():
    setup = Setup(answer(b"<methodResponse/>", chunks=3, status=401))
    login = setup.transport.login(URL, b"<methodCall/>", {b"X-Extra": b"1"}, 30)
    status, headers, body = result_of(login)
    assert (status, body) == (401, b"<methodResponse/>")
    assert headers.getRawHeaders(b"koji-version") == [b"1.35.3"]
    assert setup.resource.bodies == [b"<methodCall/>"]


def test_a_login_answer_over_its_limit_is_refused():
    setup = Setup(answer(b"x" * 100_000, chunks=10))
    setup.transport.max_login_answer = 50_000
    login = setup.transport.login(URL, b"<methodCall/>", None, 30)
    setup.clock.advance(0)
    error = failure_of(login, KojiResponseTooLarge)
    assert "50000 bytes" in str(error)
