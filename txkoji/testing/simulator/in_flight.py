"""The RPM builds of a hub's data that are under way, for the simulator
to carry on with."""

from __future__ import annotations

from typing import Any

from txkoji.testing.records import BUILD_STATES, FINISHED_TASK_STATES, TASK_STATES
from txkoji.testing.state import HubState

Record = dict[str, Any]


def builds_in_flight(st: HubState) -> list[tuple[Record, Record, tuple[str, ...]]]:
    """Return ``(build task, BUILDING build, buildArch arches)`` for each
    open ``build`` task whose subtasks left to run are all ``buildArch``
    (it waits on them), by task id."""
    children: dict[int, list[Record]] = {}
    for task in sorted(st.tasks.values(), key=lambda t: t["id"]):
        if task["parent"] is not None:
            children.setdefault(task["parent"], []).append(task)
    found = []
    for build in sorted(st.builds.values(), key=lambda b: b["task_id"] or 0):
        root = st.tasks.get(build["task_id"])
        if (
            build["state"] != BUILD_STATES["BUILDING"]
            or root is None
            or root["method"] != "build"
            or root["state"] != TASK_STATES["OPEN"]
        ):
            continue
        kids = children.get(root["id"], [])
        arches = tuple(k["arch"] for k in kids if k["method"] == "buildArch")
        if arches and all(
            k["method"] == "buildArch" or k["state"] in FINISHED_TASK_STATES
            for k in kids
        ):
            found.append((root, build, arches))
    return found
