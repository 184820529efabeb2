"""Unit tests of txkoji.retry: the policy's rules, driven by a Clock."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.logger import LogLevel, capturedLogs, formatEvent
from twisted.python.failure import Failure

from txkoji.exceptions import (
    AuthError,
    GenericError,
    KojiConnectionClosed,
    KojiConnectionError,
    KojiHTTPError,
    KojiProtocolError,
    KojiProxyRefused,
    KojiResponseTooLarge,
    KojiTimeoutError,
    KojiTLSError,
    RetryError,
    ServerOffline,
)
from txkoji.retry import RetryPolicy, RetryStop, Verdict, is_transient

URL = "https://koji.example.com/kojihub"


def refused() -> KojiConnectionError:
    return KojiConnectionError(f"{URL} refused the connection", URL)


def http(status: int) -> KojiHTTPError:
    return KojiHTTPError(f"HTTP {status}", URL, status=status)


class Hub:
    """A scripted attempt callable: each call pops the next outcome (an
    exception fails the attempt; ``None`` leaves it pending)."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.attempts = 0
        self.pending: list[defer.Deferred] = []

    def __call__(self) -> defer.Deferred:
        self.attempts += 1
        outcome = self.outcomes.pop(0)
        if outcome is None:
            d: defer.Deferred = defer.Deferred()
            self.pending.append(d)
            return d
        if isinstance(outcome, BaseException):
            return defer.fail(outcome)
        return defer.succeed(outcome)


def result_of(d: defer.Deferred) -> Any:
    """The value ``d`` has fired with, or the Failure it failed with."""
    box: list[Any] = []
    d.addBoth(box.append)
    assert box, "the Deferred has not fired"
    return box[0]


def not_fired(d: defer.Deferred) -> bool:
    box: list[Any] = []
    d.addBoth(lambda outcome: box.append(outcome) or outcome)
    return not box


def run(policy: RetryPolicy, hub: Hub, clock: Clock, logged_in: bool = False):
    return policy.run(hub, clock=clock, method="getBuild", logged_in=logged_in)


@pytest.mark.parametrize(
    "error",
    [refused(), KojiTimeoutError("slow", URL), http(502), http(503), http(504)],
)
def test_transient_failures(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        KojiTLSError("untrusted certificate", URL),
        http(500),
        http(400),
        http(404),
        KojiProtocolError("not XML", "getBuild"),
        KojiResponseTooLarge("too big", "getBuild"),
        GenericError("Invalid method: nope", 1000),
        ServerOffline("server is offline", 1014),
        defer.CancelledError(),
        ValueError("a bug"),
    ],
)
def test_permanent_failures_are_never_retried(error: Exception) -> None:
    assert not is_transient(error)
    policy = RetryPolicy(anon_retry=True)
    assert policy.verdict(error, logged_in=True) is Verdict.GIVE_UP


def test_anonymous_calls_are_not_retried_without_anon_retry() -> None:
    clock = Clock()
    hub = Hub(refused(), "ok")
    failure = result_of(run(RetryPolicy(), hub, clock))
    assert isinstance(failure, Failure) and failure.check(KojiConnectionError)
    assert hub.attempts == 1


def test_anonymous_calls_are_retried_with_anon_retry() -> None:
    clock = Clock()
    hub = Hub(http(503), "ok")
    d = run(RetryPolicy(anon_retry=True), hub, clock)
    clock.advance(0)
    assert result_of(d) == "ok"
    assert hub.attempts == 2


def test_logged_in_calls_are_retried_without_anon_retry() -> None:
    clock = Clock()
    hub = Hub(KojiTimeoutError("slow", URL), "ok")
    d = run(RetryPolicy(), hub, clock, logged_in=True)
    clock.advance(0)
    assert result_of(d) == "ok"


def test_first_retry_is_immediate_later_ones_wait_retry_interval() -> None:
    clock = Clock()
    hub = Hub(refused(), refused(), refused(), "ok")
    d = run(RetryPolicy(retry_interval=20, anon_retry=True), hub, clock)
    assert hub.attempts == 1
    clock.advance(0)
    assert hub.attempts == 2
    clock.advance(19.9)
    assert hub.attempts == 2
    clock.advance(0.1)
    assert hub.attempts == 3
    clock.advance(19.9)
    assert hub.attempts == 3 and not_fired(d)
    clock.advance(0.1)
    assert result_of(d) == "ok"
    assert clock.seconds() == pytest.approx(40)


def test_exhausted_retries_raise_the_last_error() -> None:
    clock = Clock()
    errors = [refused(), http(502), KojiTimeoutError("slow", URL), http(504)]
    hub = Hub(*errors, "never reached")
    d = run(RetryPolicy(max_retries=3, retry_interval=5, anon_retry=True), hub, clock)
    clock.pump([0, 5, 5])
    failure = result_of(d)
    assert isinstance(failure, Failure)
    assert failure.value is errors[-1]
    assert hub.attempts == 4
    assert not clock.getDelayedCalls()


def test_zero_max_retries_means_one_attempt() -> None:
    clock = Clock()
    hub = Hub(refused(), "ok")
    failure = result_of(run(RetryPolicy(max_retries=0), hub, clock, logged_in=True))
    assert failure.check(KojiConnectionError)
    assert hub.attempts == 1


@pytest.mark.parametrize(
    "fault", [GenericError("boom", 1000), AuthError("no", 1002), RetryError("x", 1009)]
)
def test_faults_are_not_retried(fault: Exception) -> None:
    clock = Clock()
    hub = Hub(fault, "ok")
    policy = RetryPolicy(anon_retry=True, offline_retry=True)
    failure = result_of(run(policy, hub, clock, logged_in=True))
    assert failure.value is fault
    assert hub.attempts == 1


def test_server_offline_without_offline_retry_is_raised() -> None:
    clock = Clock()
    hub = Hub(ServerOffline("server is offline", 1014), "ok")
    failure = result_of(run(RetryPolicy(anon_retry=True), hub, clock, logged_in=True))
    assert failure.check(ServerOffline)
    assert hub.attempts == 1


def test_server_offline_with_offline_retry_waits_and_does_not_count() -> None:
    clock = Clock()
    offline = [ServerOffline("server is offline", 1014) for _ in range(5)]
    hub = Hub(*offline, "ok")
    policy = RetryPolicy(max_retries=1, offline_retry=True, offline_retry_interval=7)
    d = run(policy, hub, clock)
    clock.advance(6.9)
    assert hub.attempts == 1
    clock.advance(0.1)
    assert hub.attempts == 2
    clock.pump([7, 7, 7])
    assert hub.attempts == 5 and not_fired(d)
    clock.advance(7)
    assert result_of(d) == "ok"
    assert hub.attempts == 6
    assert clock.seconds() == pytest.approx(35)


def test_offline_answer_restarts_the_count_of_retries() -> None:
    clock = Clock()
    offline = ServerOffline("database outage", 1014)
    hub = Hub(refused(), offline, refused(), "ok")
    policy = RetryPolicy(
        max_retries=1, retry_interval=20, offline_retry=True, offline_retry_interval=3
    )
    d = run(policy, hub, clock, logged_in=True)
    clock.advance(0)  # the first retry of the refusal
    clock.advance(3)  # the offline wait; the next refusal retries at once
    clock.advance(0)
    assert result_of(d) == "ok"
    assert hub.attempts == 4


def test_cancelling_during_a_wait_stops_retrying() -> None:
    clock = Clock()
    hub = Hub(refused(), refused(), "ok")
    d = run(RetryPolicy(retry_interval=20, anon_retry=True), hub, clock)
    clock.advance(0)
    assert hub.attempts == 2
    d.cancel()
    failure = result_of(d)
    assert failure.check(defer.CancelledError)
    assert not clock.getDelayedCalls()
    clock.advance(100)
    assert hub.attempts == 2


def test_cancelling_during_an_attempt_cancels_it_and_stops() -> None:
    clock = Clock()
    hub = Hub(None, "ok")
    d = run(RetryPolicy(anon_retry=True), hub, clock, logged_in=True)
    d.cancel()
    assert result_of(d).check(defer.CancelledError)
    assert hub.pending[0].called
    clock.advance(100)
    assert hub.attempts == 1


def test_every_attempt_calls_the_attempt_callable_again() -> None:
    """A logged-in call resends its own request (and callnum): the policy
    makes a fresh attempt by calling the same callable, nothing else."""
    clock = Clock()
    sent: list[int] = []
    callnum = 41

    def attempt() -> defer.Deferred:
        sent.append(callnum)
        return defer.fail(refused()) if len(sent) < 3 else defer.succeed("ok")

    d = RetryPolicy(retry_interval=1).run(
        attempt, clock=clock, method="tagBuild", logged_in=True
    )
    clock.pump([0, 1])
    assert result_of(d) == "ok"
    assert sent == [41, 41, 41]


class SessionRequest(Hub):
    """An attempt that, like a logged-in request, holds the session key."""

    def __init__(self, key: str, *outcomes: Any) -> None:
        super().__init__(*outcomes)
        self.headers = {b"Koji-Session-Key": key.encode()}

    def __repr__(self) -> str:
        return f"<request with headers {self.headers!r}>"


def test_each_retry_is_logged_with_method_attempt_and_error() -> None:
    clock = Clock()
    secret = "7-Xq3VbPz0sEcrEtKeY"
    masked = KojiConnectionError(
        f"{URL}?session-id=***&session-key=*** refused the connection", URL
    )
    hub = SessionRequest(secret, masked, http(503), "ok")
    with capturedLogs() as events:
        d = run(RetryPolicy(retry_interval=2), hub, clock, logged_in=True)
        clock.pump([0, 2])
    assert result_of(d) == "ok"
    retries = [e for e in events if e.get("method") == "getBuild"]
    assert [e["attempt"] for e in retries] == [2, 3]
    assert all(e["log_level"] is LogLevel.info for e in retries)
    texts = [formatEvent(e) for e in retries]
    assert "getBuild" in texts[0] and "attempt 2" in texts[0]
    assert "refused the connection" in texts[0]
    assert "in 0 s" in texts[0] and "in 2 s" in texts[1]
    assert "HTTP 503" in texts[1]
    assert all(secret not in text for text in texts)
    assert all(secret not in repr(e) for e in retries)


def test_from_config_reads_the_profile_options() -> None:
    config = {
        "max_retries": 4,
        "retry_interval": 9,
        "anon_retry": True,
        "offline_retry": True,
        "offline_retry_interval": 11,
        "timeout": 60,
    }
    assert RetryPolicy.from_config(config) == RetryPolicy(4, 9, True, True, 11)


def test_defaults_are_the_official_clients() -> None:
    assert RetryPolicy() == RetryPolicy(
        max_retries=30,
        retry_interval=20,
        anon_retry=False,
        offline_retry=False,
        offline_retry_interval=20,
    )


def closed(method: str) -> KojiConnectionClosed:
    return KojiConnectionClosed(f"cannot call {method}: closed", URL, method)


def test_a_stop_fails_a_call_waiting_for_its_retry_at_once() -> None:
    clock, stop = Clock(), RetryStop()
    hub = Hub(refused(), refused(), "never")
    d = RetryPolicy().run(
        hub, clock=clock, method="getBuild", logged_in=True, stop=stop
    )
    clock.advance(0)  # the first retry, at once; the second waits 20 s
    assert hub.attempts == 2 and not_fired(d)
    stop.stop(closed)
    error = result_of(d)
    assert isinstance(error.value, KojiConnectionClosed)
    assert "cannot call getBuild" in str(error.value)
    clock.advance(20)
    assert hub.attempts == 2  # the wait ended: no further attempt


def test_a_stop_lets_the_attempt_under_way_finish_without_retry() -> None:
    clock, stop = Clock(), RetryStop()
    hub = Hub(None, None)
    answered = RetryPolicy().run(
        hub, clock=clock, method="getBuild", logged_in=True, stop=stop
    )
    failing = RetryPolicy().run(
        hub, clock=clock, method="getBuild", logged_in=True, stop=stop
    )
    stop.stop(closed)
    assert not_fired(answered) and not_fired(failing)
    hub.pending[0].callback("answer")
    hub.pending[1].errback(refused())
    assert result_of(answered) == "answer"
    assert isinstance(result_of(failing).value, KojiConnectionError)
    assert hub.attempts == 2 and not clock.getDelayedCalls()


@pytest.mark.parametrize(
    "error",
    [
        KojiConnectionClosed("closed", URL),
        KojiProxyRefused("proxy refused: HTTP 407", URL, status=407),
    ],
)
def test_closed_connections_and_refusing_proxies_are_not_retried(error) -> None:
    assert not is_transient(error)
    policy = RetryPolicy(anon_retry=True)
    assert policy.verdict(error, logged_in=True) is Verdict.GIVE_UP
