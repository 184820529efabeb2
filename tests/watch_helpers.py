"""Helpers for the watcher tests: move the fake hub's tasks and builds as
a hub would (state, timestamps, new children), and count its requests."""

from __future__ import annotations

import copy
from typing import Any

from txkoji.testing.records import BUILD_STATES, TASK_STATES, time_pair

MULTICALLS = ("system.multicall", "multiCall")


def set_task(hub: Any, task_id: int, state: str, at: float) -> None:
    """Move task ``task_id`` to ``state`` at hub time ``at`` (epoch s)."""
    task = hub.state.tasks[task_id]
    task["state"] = TASK_STATES[state]
    if state == "OPEN" and task["start_ts"] is None:
        task["start_time"], task["start_ts"] = time_pair(at)
    if state in ("CLOSED", "FAILED", "CANCELED"):
        task["completion_time"], task["completion_ts"] = time_pair(at)
        if state == "FAILED":
            task["result"] = {"faultCode": 1005, "faultString": "mock failed"}
        elif state == "CLOSED" and task["result"] is None:
            task["result"] = {"logs": []}


def add_child(hub: Any, parent: int, new_id: int, like: int, state: str, at: float):
    """Add task ``new_id`` under ``parent``, a copy of task ``like``,
    created at ``at`` and already in ``state``."""
    task = copy.deepcopy(hub.state.tasks[like])
    task.update(id=new_id, parent=parent, result=None)
    task["create_time"], task["create_ts"] = time_pair(at)
    task["start_time"], task["start_ts"] = time_pair(None)
    task["completion_time"], task["completion_ts"] = time_pair(None)
    task["state"] = TASK_STATES["FREE"]
    hub.state.tasks[new_id] = task
    if state != "FREE":
        set_task(hub, new_id, "OPEN", at)
        set_task(hub, new_id, state, at)
    return task


def set_build(hub: Any, build_id: int, state: str, at: float) -> None:
    """Move build ``build_id`` to ``state`` at hub time ``at``."""
    build = hub.state.builds[build_id]
    build["state"] = BUILD_STATES[state]
    build["completion_time"], build["completion_ts"] = time_pair(at)


def multicalls(hub: Any) -> int:
    """How many multicall requests the hub answered so far."""
    return sum(1 for method in hub.calls if method in MULTICALLS)


class Recorder:
    """An ``on_event`` handler keeping ``(id, old, new)`` of each event and
    the events themselves."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def transitions(self) -> list[tuple[int, str | None, str]]:
        """``(id, old, new)`` per event, in order."""
        out = []
        for event in self.events:
            record = getattr(event, "task", None) or event.build
            out.append((record["id"], event.old, event.event))
        return out

    def clear(self) -> None:
        """Forget the events so far."""
        self.events.clear()


def record_args(hub: Any, method: str) -> list[tuple[tuple, dict]]:
    """Make ``hub`` record the arguments of every call of ``method``
    (the method still runs); return the list they are appended to."""
    original = hub.methods.lookup(method)
    seen: list[tuple[tuple, dict]] = []

    def recording(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((args, kwargs))
        return original.func(ctx, *args, **kwargs)

    hub.methods.register(recording, method, original.write)
    return seen
