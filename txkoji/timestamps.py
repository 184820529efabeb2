"""Times in hub records, as timezone-aware UTC datetimes.

Koji records pair a time string (``start_time``: ``2026-11-20
10:31:02.123456+00:00``) with a float (``start_ts``).  The float is exact
and cheap, so it wins; the string is the fallback for records that lack it
(older hubs, message bodies).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any


def from_ts(ts: float) -> datetime:
    """Return the UTC datetime of ``ts`` seconds since the epoch."""
    return datetime.fromtimestamp(ts, timezone.utc)


def parse_time(text: str) -> datetime | None:
    """Return the UTC datetime of a hub time string, or ``None`` when
    ``text`` is not one.

    Strings without an offset are UTC (what the hub's database stores).
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except (TypeError, ValueError, AttributeError):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def record_time(record: Mapping[str, Any], name: str) -> datetime | None:
    """Return the time ``name`` of a hub record.

    :param name: the field pair's stem, e.g. ``"start"`` for ``start_ts``
        and ``start_time``, ``"create"`` for a task's ``create_ts``.
    :returns: a UTC datetime from ``<name>_ts``, else parsed from
        ``<name>_time``, or ``None`` when the record has neither (the event
        has not happened).
    """
    ts = record.get(f"{name}_ts")
    if isinstance(ts, (int, float)) and not isinstance(ts, bool):
        return from_ts(ts)
    text = record.get(f"{name}_time")
    if text is None:
        return None
    return parse_time(text)


def now(clock: Any = None) -> datetime:
    """Return the current UTC time.

    :param clock: an ``IReactorTime`` (a reactor, or
        ``twisted.internet.task.Clock`` in tests); the system clock when
        ``None``.
    """
    seconds = clock.seconds() if clock is not None else time.time()
    return from_ts(seconds)


def connection_now(connection: Any) -> datetime:
    """Return the current UTC time by ``connection.clock`` (else its
    ``reactor``; the system clock when there is no connection or clock)."""
    clock = getattr(connection, "clock", None)
    return now(clock if clock is not None else getattr(connection, "reactor", None))
