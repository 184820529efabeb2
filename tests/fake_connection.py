"""A small stand-in for :class:`txkoji.Connection` for unit tests of the
rich result objects: canned hub answers (hub-shaped, mostly from the fake
hub's data set), typed by the real result registry, and a MultiCall double.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from twisted.internet import defer
from twisted.internet.task import Clock

from txkoji.exceptions import KojiException
from txkoji.multicall import KojiMultiCallIterator
from txkoji.results import result_type
from txkoji.testing.dataset import load_dataset
from txkoji.testing.records import TASK_FIELDS, at

WEBURL = "https://koji.example.com/koji"
#: "Now" in the data set: just after its last event.
NOW = at("2026-11-20 10:45:00.500000")


@lru_cache(maxsize=1)
def _dataset() -> dict[str, Any]:
    return load_dataset()


def dataset() -> dict[str, Any]:
    """A fresh copy of the fake hub's data set."""
    return copy.deepcopy(_dataset())


def build_record(build_id: int) -> dict[str, Any]:
    """The ``getBuild`` record of a data set build."""
    return next(b for b in dataset()["builds"] if b["id"] == build_id)


def task_record(task_id: int, request: bool = True) -> dict[str, Any]:
    """The ``getTaskInfo`` record of a data set task."""
    task = next(t for t in dataset()["tasks"] if t["id"] == task_id)
    record = {key: task[key] for key in TASK_FIELDS}
    if request:
        record["request"] = task["request"]
    return record


def descendents_of(task_id: int, request: bool = False) -> dict[str, list]:
    """``getTaskDescendents`` of a data set task: children lists keyed by
    string parent id."""
    tasks = dataset()["tasks"]
    answer: dict[str, list] = {}
    pending = [task_id]
    while pending:
        parent = pending.pop()
        children = [
            task_record(t["id"], request) for t in tasks if t["parent"] == parent
        ]
        answer[str(parent)] = children
        pending.extend(child["id"] for child in children)
    return answer


class FakeConnection:
    """Answers hub calls from ``answers``: method name to a value, an
    exception instance, or a function of the call's arguments returning
    either.  Records every call in :attr:`calls`."""

    def __init__(
        self,
        answers: dict[str, Any] | None = None,
        *,
        weburl: str | None = WEBURL,
        profile: str | None = "fake",
        now: float = NOW,
    ) -> None:
        self.answers = dict(answers or {})
        self.calls: list[tuple[str, tuple, dict]] = []
        self.multicalls = 0
        self.weburl = weburl
        self.profile = profile
        self.url = "https://koji.example.com/kojihub"
        self.reactor = Clock()
        self.reactor.advance(now)
        self.clock = self.reactor

    def answer(self, method: str, args: tuple, kwargs: dict) -> Any:
        self.calls.append((method, args, kwargs))
        handler = self.answers[method]
        value = handler(*args, **kwargs) if callable(handler) else handler
        if isinstance(value, Exception):
            raise value
        return result_type(method).convert(copy.deepcopy(value), self)

    def call(self, method: str, *args: Any, **kwargs: Any) -> defer.Deferred:
        try:
            return defer.succeed(self.answer(method, args, kwargs))
        except Exception:
            return defer.fail()

    def methods_called(self) -> list[str]:
        return [method for method, _, _ in self.calls]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def MultiCall(self) -> FakeMultiCall:
        return FakeMultiCall(self)


class FakeMultiCall:
    """Queues calls; calling it answers them all as one multicall."""

    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.queued: list[tuple[str, tuple, dict]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.queued.append((name, args, kwargs))

    def __call__(self) -> defer.Deferred:
        self.connection.multicalls += 1
        outcomes = []
        for method, args, kwargs in self.queued:
            try:
                outcomes.append(self.connection.answer(method, args, kwargs))
            except KojiException as e:
                outcomes.append(e)
        return defer.succeed(KojiMultiCallIterator(outcomes))
