"""Changes to hub data, made as a Koji hub makes them.

Each function changes the records of a :class:`~txkoji.testing.state.HubState`
the way the hub call it stands for does (``make_task``, the scheduler's
assignment, ``openTask``, ``closeTask``/``failTask``, ``taskSetWait``,
``taskUnwait``, ``cancelTask``, ``initBuild``, ``completeBuild``/``failBuild``,
``tagBuild``/``untagBuild``), at the hub's current time, and makes one new
event per change (:meth:`HubState.new_event
<txkoji.testing.state.HubState.new_event>`).
"""

from __future__ import annotations

from typing import Any

from txkoji.exceptions import TagError
from txkoji.testing.records import (
    BUILD_STATES,
    FINISHED_TASK_STATES,
    TASK_STATES,
    build_record,
    task_row,
    time_pair,
)
from txkoji.testing.state import HubState, active_listing

Record = dict[str, Any]


def _set_time(record: Record, stem: str, ts: float | None) -> None:
    record[f"{stem}_time"], record[f"{stem}_ts"] = time_pair(ts)


def create_task(
    st: HubState,
    method: str,
    request: list[Any],
    owner: int,
    *,
    arch: str = "noarch",
    label: str | None = None,
    parent: Record | None = None,
    channel_id: int = 1,
    priority: int = 20,
    weight: float = 1.0,
) -> Record:
    """Create a FREE task (a subtask when ``parent`` is given: it inherits
    the parent's channel, one step more urgent) and return its record."""
    if parent is not None:
        channel_id = parent["channel_id"]
        priority = parent["priority"] - 1
    task_id = st.next_id("tasks")
    task = task_row(
        task_id,
        method,
        "FREE",
        owner,
        request,
        st.now(),
        arch=arch,
        label=label,
        parent=None if parent is None else parent["id"],
        channel_id=channel_id,
        priority=priority,
        weight=weight,
    )
    st.tasks[task_id] = task
    st.new_event()
    return task


def assign_task(st: HubState, task: Record, host_id: int) -> None:
    """The scheduler hands a FREE task to a host: ASSIGNED, ``host_id`` set."""
    task["state"] = TASK_STATES["ASSIGNED"]
    task["host_id"] = host_id
    st.new_event()


def open_task(st: HubState, task: Record) -> None:
    """The host starts the task: OPEN, with its start time."""
    task["state"] = TASK_STATES["OPEN"]
    _set_time(task, "start", st.now())
    st.new_event()


def finish_task(st: HubState, task: Record, state: str, result: Any = None) -> None:
    """Close (``CLOSED``, with ``result``), fail (``FAILED``, ``result``
    is the ``{faultCode, faultString}``) or cancel (``CANCELED``) a task,
    setting its completion time."""
    task["state"] = TASK_STATES[state]
    task["result"] = result
    _set_time(task, "completion", st.now())
    st.new_event()


def set_waiting(st: HubState, parent: Record, children: list[Record]) -> None:
    """The parent waits on ``children``: ``waiting`` on it, ``awaited`` on
    them (no change, and no event, when they are so already)."""
    if parent["waiting"] and all(child["awaited"] for child in children):
        return
    parent["waiting"] = True
    for child in children:
        child["awaited"] = True
    st.new_event()


def unwait(st: HubState, parent: Record, children: list[Record]) -> None:
    """The parent's wait on ``children`` is over: ``waiting`` and their
    ``awaited`` become false."""
    parent["waiting"] = False
    for child in children:
        child["awaited"] = False
    st.new_event()


def cancel_task(st: HubState, task: Record, recurse: bool = True) -> list[int]:
    """Cancel ``task`` as ``cancelTask`` does: it (and with ``recurse``
    every unfinished descendant) becomes CANCELED, and a BUILDING build of
    a canceled task becomes CANCELED.  A finished task is left alone.

    :returns: the ids of the tasks canceled.
    """
    if task["state"] in FINISHED_TASK_STATES:
        return []
    finish_task(st, task, "CANCELED")
    for build in st.builds.values():
        if (
            build["task_id"] == task["id"]
            and build["state"] == BUILD_STATES["BUILDING"]
        ):
            finish_build(st, build, "CANCELED")
    canceled = [task["id"]]
    for child in sorted(st.tasks.values(), key=lambda t: t["id"]):
        if recurse and child["parent"] == task["id"]:
            canceled += cancel_task(st, child)
    return canceled


def create_build(
    st: HubState,
    package: Record,
    version: str,
    release: str,
    owner_id: int,
    task_id: int,
    source: str,
    original_url: str,
) -> Record:
    """``initBuild``: a BUILDING rpm build of the task, created and started
    now, and return it (the caller makes sure that its NVR is new)."""
    build_id = st.next_id("builds")
    build = build_record(
        build_id,
        package,
        version,
        release,
        "BUILDING",
        st.users[owner_id],
        st.now(),
        None,
        task_id=task_id,
        source=source,
        extra={"source": {"original_url": original_url}},
    )
    build["creation_event_id"] = st.new_event()
    st.builds[build_id] = build
    st.build_types[build_id] = ["rpm"]
    return build


def finish_build(st: HubState, build: Record, state: str) -> None:
    """Complete, fail or cancel a build (``COMPLETE``, ``FAILED``,
    ``CANCELED``), setting its completion time."""
    build["state"] = BUILD_STATES[state]
    _set_time(build, "completion", st.now())
    st.new_event()


def active_entry(st: HubState, tag_id: int, build_id: int) -> Record | None:
    """Return the ``tag_listing`` entry in force for the build in the tag."""
    for entry in st.tagged_builds:
        if (
            entry["build_id"] == build_id
            and entry["tag_id"] == tag_id
            and active_listing(entry)
        ):
            return entry
    return None


def tag_build(st: HubState, tag_id: int, build_id: int, user_id: int) -> int:
    """Tag a build (a new ``tag_listing`` entry; the caller makes sure it
    is not tagged there yet) and return the event."""
    event = st.new_event()
    st.tagged_builds.append(
        {
            "tag_id": tag_id,
            "build_id": build_id,
            "owner_id": user_id,
            "create_event": event,
            "revoke_event": None,
            "revoker_id": None,
        }
    )
    return event


def untag_build(st: HubState, tag_id: int, build_id: int, user_id: int) -> int:
    """Untag a build (revoke its active ``tag_listing`` entry) and return
    the event.

    :raises TagError: when it is not tagged there.
    """
    entry = active_entry(st, tag_id, build_id)
    if entry is None:
        nvr = st.builds[build_id]["nvr"]
        raise TagError(f"build {nvr} not in tag {st.tags[tag_id]['name']}")
    entry["revoke_event"] = st.new_event()
    entry["revoker_id"] = user_id
    return entry["revoke_event"]
