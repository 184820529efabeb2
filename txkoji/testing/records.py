"""Builders for hub records shaped as a Koji 1.35 hub returns them.

The bundled data set (:mod:`txkoji.testing.dataset`) is written with these
helpers so that every record carries the same fields, times come as a
string (``2026-11-20 10:31:02.123456+00:00``) paired with a ``_ts`` float,
and event ids grow with time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

#: Build states, by name (Koji's numbering).
BUILD_STATES = {"BUILDING": 0, "COMPLETE": 1, "DELETED": 2, "FAILED": 3, "CANCELED": 4}
#: Task states, by name (Koji's numbering).
TASK_STATES = {
    "FREE": 0,
    "OPEN": 1,
    "CLOSED": 2,
    "CANCELED": 3,
    "ASSIGNED": 4,
    "FAILED": 5,
}
#: Task states in which a task is finished.
FINISHED_TASK_STATES = frozenset(
    TASK_STATES[name] for name in ("CLOSED", "CANCELED", "FAILED")
)

_EVENT_ORIGIN = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
_EVENT_BASE = 900000


def at(text: str) -> float:
    """Return the epoch seconds of ``text``, a UTC time such as
    ``2026-11-20 10:31:02.123456``."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def time_pair(ts: float | None) -> tuple[str | None, float | None]:
    """Return ``(time string, ts)`` for a time field pair; ``(None, None)``
    for a time that did not happen."""
    if ts is None:
        return None, None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(sep=" "), ts


def event_at(ts: float) -> int:
    """Return the id of the hub event at epoch seconds ``ts`` (one event a
    minute since 2026-01-01, starting at 900000)."""
    return _EVENT_BASE + int((ts - _EVENT_ORIGIN) // 60)


def event_time(event_id: int) -> float:
    """Return the epoch seconds of the bundled data set's event
    ``event_id`` (the inverse of :func:`event_at`)."""
    return _EVENT_ORIGIN + (event_id - _EVENT_BASE) * 60.0


def user_record(
    uid: int,
    name: str,
    usertype: int = 0,
    status: int = 0,
    principals: Iterable[str] = (),
) -> dict[str, Any]:
    """Return a ``getUser`` record."""
    return {
        "id": uid,
        "name": name,
        "status": status,
        "usertype": usertype,
        "krb_principals": list(principals),
    }


def build_record(
    build_id: int,
    package: dict[str, Any],
    version: str,
    release: str,
    state: str,
    owner: dict[str, Any],
    start: float | None,
    completion: float | None,
    task_id: int | None = None,
    source: str | None = None,
    extra: dict[str, Any] | None = None,
    cg: tuple[int, str] | None = None,
) -> dict[str, Any]:
    """Return a ``getBuild`` record.

    The build is created when it starts (or, for an import without a start
    time, when it completes).
    """
    created = start if start is not None else completion
    assert created is not None, "a build record needs a start or completion"
    creation_time, creation_ts = time_pair(created)
    start_time, start_ts = time_pair(start)
    completion_time, completion_ts = time_pair(completion)
    return {
        "build_id": build_id,
        "id": build_id,
        "package_id": package["id"],
        "package_name": package["name"],
        "name": package["name"],
        "version": version,
        "release": release,
        "epoch": None,
        "nvr": f"{package['name']}-{version}-{release}",
        "state": BUILD_STATES[state],
        "task_id": task_id,
        "owner_id": owner["id"],
        "owner_name": owner["name"],
        "creation_event_id": event_at(created),
        "creation_time": creation_time,
        "creation_ts": creation_ts,
        "start_time": start_time,
        "start_ts": start_ts,
        "completion_time": completion_time,
        "completion_ts": completion_ts,
        "volume_id": 0,
        "volume_name": "DEFAULT",
        "source": source,
        "extra": extra,
        "cg_id": cg[0] if cg else None,
        "cg_name": cg[1] if cg else None,
        "draft": False,
        "promoter_id": None,
        "promoter_name": None,
        "promotion_time": None,
        "promotion_ts": None,
    }


def task_row(
    task_id: int,
    method: str,
    state: str,
    owner: int,
    request: list[Any],
    created: float,
    started: float | None = None,
    completed: float | None = None,
    *,
    arch: str = "noarch",
    label: str | None = None,
    parent: int | None = None,
    host_id: int | None = None,
    channel_id: int = 1,
    priority: int = 20,
    weight: float = 0.2,
    waiting: bool | None = None,
    awaited: bool | None = None,
    result: Any = None,
) -> dict[str, Any]:
    """Return a stored task: the ``getTaskInfo`` fields plus ``request``
    (the parameter list) and ``result`` (the value, or a
    ``{faultCode, faultString}`` struct for a FAILED task)."""
    create_time, create_ts = time_pair(created)
    start_time, start_ts = time_pair(started)
    completion_time, completion_ts = time_pair(completed)
    return {
        "id": task_id,
        "state": TASK_STATES[state],
        "create_time": create_time,
        "create_ts": create_ts,
        "start_time": start_time,
        "start_ts": start_ts,
        "completion_time": completion_time,
        "completion_ts": completion_ts,
        "channel_id": channel_id,
        "host_id": host_id,
        "parent": parent,
        "label": label,
        "waiting": waiting,
        "awaited": awaited,
        "owner": owner,
        "method": method,
        "arch": arch,
        "priority": priority,
        "weight": weight,
        "request": request,
        "result": result,
    }


#: The fields of a task record as ``getTaskInfo`` returns it without
#: ``request``.
TASK_FIELDS = (
    "id",
    "state",
    "create_time",
    "create_ts",
    "start_time",
    "start_ts",
    "completion_time",
    "completion_ts",
    "channel_id",
    "host_id",
    "parent",
    "label",
    "waiting",
    "awaited",
    "owner",
    "method",
    "arch",
    "priority",
    "weight",
)
