"""ConcurrencyLimit: at most N at once, FIFO, and a cancelled waiter never
starts."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer

from txkoji.limit import ConcurrencyLimit


def starter(started: list[Any], name: str) -> Any:
    def operation() -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        started.append((name, d))
        return d

    return operation


def test_at_most_limit_run_and_the_rest_start_in_order() -> None:
    limit = ConcurrencyLimit(2)
    started: list[Any] = []
    results = [limit.run(starter(started, name)) for name in "abcd"]
    assert [name for name, _ in started] == ["a", "b"]
    assert (limit.running, limit.waiting) == (2, 2)
    started[1][1].callback("B")
    assert [name for name, _ in started] == ["a", "b", "c"]
    started[0][1].callback("A")
    started[2][1].callback("C")
    started[3][1].callback("D")
    got: list[Any] = []
    for d in results:
        d.addCallback(got.append)
    assert got == ["A", "B", "C", "D"]
    assert (limit.running, limit.waiting) == (0, 0)


def test_cancelled_waiter_never_starts_and_frees_no_slot() -> None:
    limit = ConcurrencyLimit(1)
    started: list[Any] = []
    first = limit.run(starter(started, "a"))
    second = limit.run(starter(started, "b"))
    third = limit.run(starter(started, "c"))
    second.cancel()
    failures: list[Any] = []
    second.addErrback(failures.append)
    assert failures[0].check(defer.CancelledError)
    assert limit.waiting == 1
    started[0][1].callback(None)
    assert [name for name, _ in started] == ["a", "c"]
    started[1][1].callback(None)
    assert first.called and third.called
    assert limit.running == 0


def test_cancelling_a_running_operation_cancels_its_deferred() -> None:
    limit = ConcurrencyLimit(1)
    started: list[Any] = []
    d = limit.run(starter(started, "a"))
    d.cancel()
    d.addErrback(lambda f: f.trap(defer.CancelledError))
    assert started[0][1].called
    assert limit.running == 0


def test_failure_and_synchronous_raise_free_the_slot() -> None:
    limit = ConcurrencyLimit(1)

    def boom() -> defer.Deferred[Any]:
        raise RuntimeError("boom")

    failures: list[Any] = []
    limit.run(boom).addErrback(failures.append)
    assert failures[0].check(RuntimeError)
    limit.run(lambda: defer.fail(ValueError("no"))).addErrback(failures.append)
    assert failures[1].check(ValueError)
    assert limit.running == 0


def test_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ConcurrencyLimit(0)
