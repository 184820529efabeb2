"""Fault injection: make a fake hub misbehave on chosen calls.

::

    hub.faults.add(method="getBuild", offline=True)           # next getBuild
    hub.faults.add(delay=2.0, times=None)                     # every call, late
    hub.faults.add(method="listBuilds", drop=True, times=3)   # 3 cut replies

Each rule applies to the next call(s) whose method matches (``method=None``
matches every call; a multicall matches as ``system.multicall`` or
``multiCall``, its sub-calls are not matched).  The first matching rule
with uses left wins.  A rule has at most one effect, optionally preceded
by a ``delay``:

``drop``
    the hub runs the call, sends the headers and half the body, then closes
    the connection (as if the reply was lost after the call committed).
``http_status``
    the call is not run; the answer is that HTTP status (a proxy's 502,
    503, 504, or a 500) with a small HTML body.
``malformed``
    the hub runs the call and answers HTTP 200 with XML that is not
    well-formed.
``offline``
    the call is not run; the answer is fault 1014 ServerOffline
    ``server is offline``.
``fault``
    the call is not run; the answer is the fault ``(code, string)``.
``answer``
    the call is not run; the answer is this value (any value the codec can
    encode, ``None`` included), e.g. an int where a struct is expected.
``raw_answer``
    the call is not run; the answer is HTTP 200 with these bytes as the
    body, e.g. a ``methodResponse`` holding an integer beyond 64 bits.

A rule with only a ``delay`` answers normally, late.  Delays run on the
hub's reactor (or ``Clock``), and are cancelled when the client goes away
or the server stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_PROXY_STATUSES = (500, 502, 503, 504)


class _NoAnswer:
    """The ``answer`` of a rule that does not replace the answer."""

    def __repr__(self) -> str:
        return "NO_ANSWER"


#: The default ``answer``: the rule does not replace the answer.
NO_ANSWER: Any = _NoAnswer()


@dataclass
class FaultRule:
    """One fault injection rule (see the module docs).

    :ivar times: uses left; None for unlimited.
    :ivar hits: how many calls the rule has applied to.
    """

    method: str | None = None
    delay: float = 0.0
    drop: bool = False
    http_status: int | None = None
    malformed: bool = False
    offline: bool = False
    fault: tuple[int, str] | None = None
    times: int | None = 1
    hits: int = 0
    answer: Any = NO_ANSWER
    raw_answer: bytes | None = None

    def __post_init__(self) -> None:
        effects = [
            self.drop,
            self.http_status is not None,
            self.malformed,
            self.offline,
        ]
        effects.append(self.fault is not None)
        effects.append(self.answer is not NO_ANSWER)
        effects.append(self.raw_answer is not None)
        if sum(effects) > 1:
            raise ValueError("a fault rule has at most one effect besides delay")
        if not any(effects) and self.delay <= 0:
            raise ValueError("a fault rule needs an effect or a positive delay")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.http_status is not None and self.http_status not in _PROXY_STATUSES:
            raise ValueError(f"http_status must be one of {_PROXY_STATUSES}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or None for always")

    def matches(self, method: str) -> bool:
        """Whether the rule applies to a call of ``method``."""
        return self.method is None or self.method == method


class FaultInjector:
    """The fault rules of one hub, consumed as matching calls arrive."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def add(
        self,
        method: str | None = None,
        *,
        delay: float = 0.0,
        drop: bool = False,
        http_status: int | None = None,
        malformed: bool = False,
        offline: bool = False,
        fault: tuple[int, str] | None = None,
        times: int | None = 1,
        answer: Any = NO_ANSWER,
        raw_answer: bytes | None = None,
    ) -> FaultRule:
        """Add a rule for the next ``times`` calls of ``method`` (every
        method when None) and return it.

        :raises ValueError: for contradictory or out-of-range options.
        """
        rule = FaultRule(
            method,
            delay,
            drop,
            http_status,
            malformed,
            offline,
            fault,
            times,
            answer=answer,
            raw_answer=raw_answer,
        )
        self._rules.append(rule)
        return rule

    def take(self, method: str) -> FaultRule | None:
        """Return the rule for a call of ``method``, using it up once, or
        None when no rule applies."""
        for rule in self._rules:
            if rule.matches(method):
                rule.hits += 1
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                return rule
        return None

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def __len__(self) -> int:
        """The number of rules with uses left."""
        return len(self._rules)
