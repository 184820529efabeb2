"""Estimated completion and progress of watched tasks and builds, from
durations the :mod:`txkoji.estimates` module fetches once per key."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from txkoji.estimates import (
    HubCall,
    build_duration_call,
    duration_from_answer,
    task_duration_call,
)


@dataclass(frozen=True)
class Estimate:
    """When something should finish, and how far along it is.

    :ivar eta: the estimated (or, once finished, real) completion time,
        UTC; ``None`` when there is no history to estimate from.
    :ivar progress: elapsed over estimated duration, from 0.0 to 1.0
        (1.0 once finished, and while overdue); ``None`` with no estimate.
    """

    eta: datetime | None = None
    progress: float | None = None

    def remaining(self, now: datetime) -> timedelta | None:
        """Time left until ``eta`` (never negative), or ``None``."""
        if self.eta is None:
            return None
        return max(self.eta - now, timedelta(0))


UNKNOWN = Estimate()


def estimate(
    began: datetime | None,
    duration: timedelta | None,
    finished: datetime | None,
    now: datetime,
) -> Estimate:
    """Return the :class:`Estimate` of work that began at ``began`` (or has
    not begun: ``None``) and usually takes ``duration``.

    :param finished: when it finished, or ``None`` while it runs.
    :param now: the current time.
    """
    if finished is not None:
        return Estimate(finished, 1.0)
    if duration is None:
        return UNKNOWN
    if began is None:
        return Estimate(now + duration, 0.0)
    seconds = duration.total_seconds()
    elapsed = (now - began).total_seconds()
    fraction = 1.0 if seconds <= 0 else min(max(elapsed / seconds, 0.0), 1.0)
    return Estimate(began + duration, fraction)


class Durations:
    """Typical durations by key (``("build", package)`` or
    ``("task", method)``), each fetched from the hub once.

    ``want()`` records keys; :meth:`calls` hands out the hub calls for
    the keys not yet asked, to go into a poll's multicall;
    :meth:`settle` takes their answers.
    """

    def __init__(self) -> None:
        self._known: dict[Hashable, timedelta | None] = {}
        self._wanted: dict[Hashable, HubCall] = {}

    def want_build(self, package: str) -> tuple[str, str]:
        """Ask for the build duration of ``package``; return its key."""
        key = ("build", package)
        self._want(key, build_duration_call(package))
        return key

    def want_task(self, method: str) -> tuple[str, str]:
        """Ask for the average duration of ``method`` tasks; return its
        key."""
        key = ("task", method)
        self._want(key, task_duration_call(method))
        return key

    def _want(self, key: Hashable, call: HubCall) -> None:
        if key not in self._known:
            self._wanted.setdefault(key, call)

    def calls(self) -> list[tuple[Hashable, HubCall]]:
        """Return ``(key, call)`` for every key wanted and not yet asked
        (they stay wanted until :meth:`settle`)."""
        return list(self._wanted.items())

    def settle(self, key: Hashable, answer: Any) -> None:
        """Record the answer to ``key``'s call (a fault instance leaves the
        key wanted, to ask again next time)."""
        if isinstance(answer, Exception):
            return
        method = self._wanted.pop(key)[0]
        self._known[key] = duration_from_answer(method, answer)

    def get(self, key: Hashable | None) -> timedelta | None:
        """Return the duration of ``key``, or ``None`` when unknown."""
        return None if key is None else self._known.get(key)
